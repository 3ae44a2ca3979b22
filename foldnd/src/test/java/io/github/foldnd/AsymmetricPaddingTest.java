package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Padding as 2d values in ONNX {@code pads} order (every start, then every end). The random shapes
 * of ConformanceTest, PropertiesTest and the C++ tests include asymmetric padding on every engine
 * and memory kind; this test pins the form, the grid formula and the refusals.
 */
class AsymmetricPaddingTest {
    private static final int[] ONE = {1};

    @Test
    void oneZeroBeforeNoneAfter() {
        // 1..4 with one zero before: blocks of 2 start at -1, 0, 1, 2.
        float[] image = {1, 2, 3, 4};
        for (Engine engine : Engine.available()) {
            FoldGeometry g = FoldGeometry.forUnfold(new long[] {1, 4}, new int[] {2}, ONE, new int[] {1, 0}, ONE);
            assertArrayEquals(new long[] {2, 4}, g.columnShape(), engine.name());
            float[] columns = engine.unfold(g, image);
            assertArrayEquals(new float[] {0, 1, 2, 3, 1, 2, 3, 4}, columns, engine.name());
            assertArrayEquals(image, engine.fold(g, columns, Reduce.MEAN, null), engine.name());
            // The mirror image: no zero before, one after.
            FoldGeometry h = FoldGeometry.forUnfold(new long[] {1, 4}, new int[] {2}, ONE, new int[] {0, 1}, ONE);
            assertArrayEquals(new float[] {1, 2, 3, 4, 2, 3, 4, 0}, engine.unfold(h, image), engine.name());
        }
    }

    @Test
    void gridCountsBothEnds() {
        // (n + b + e - δ(k - 1) - 1) / s + 1 per dimension: (5 + 0 + 2 - 2 - 1) / 2 + 1 = 3 and
        // (6 + 3 + 0 - 2 - 1) / 1 + 1 = 7.
        FoldGeometry g = FoldGeometry.builder()
                .kernelSize(3, 2)
                .dilation(1, 2)
                .stride(2, 1)
                .padding(0, 3, 2, 0)
                .forUnfold(1, 1, 5, 6);
        assertArrayEquals(new long[] {3, 7}, g.blockGrid());
        assertArrayEquals(new int[] {0, 3, 2, 0}, g.padding());
        assertArrayEquals(new int[] {0, 3}, g.paddingBegin());
        assertArrayEquals(new int[] {2, 0}, g.paddingEnd());
        assertFalse(g.symmetricPadding());
        assertTrue(g.toString().contains("padding [0, 3, 2, 0]"), g.toString());
        // The same geometry again through fold, with the padding it reports.
        FoldGeometry f = FoldGeometry.forFold(
                g.columnShape(), new int[] {5, 6}, g.kernelSize(), g.dilation(), g.padding(), g.stride());
        assertEquals(g.blocks(), f.blocks());
    }

    @Test
    void equalEndsAreSymmetric() {
        FoldGeometry a = FoldGeometry.builder().kernelSize(3, 3).padding(1, 2).forUnfold(2, 3, 8, 8);
        FoldGeometry b =
                FoldGeometry.builder().kernelSize(3, 3).padding(1, 2, 1, 2).forUnfold(2, 3, 8, 8);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertArrayEquals(new int[] {1, 2}, b.padding(), "one form per geometry");
        assertTrue(b.symmetricPadding());
    }

    @Test
    void refusals() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> FoldNd.unfoldShape(
                        new long[] {1, 1, 4, 4}, new int[] {2, 2}, new int[] {1, 1}, new int[] {0, 0, 1}, new int[] {
                            1, 1
                        }));
        assertEquals(
                "padding must have 2 elements (one per spatial dimension, as kernelSize [2, 2]) or 4 (ONNX pads order: "
                        + "the start of each dimension, then the end of each), got [0, 0, 1]",
                e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> FoldGeometry.builder()
                        .kernelSize(2)
                        .padding(0, 0, 0, 0, 0)
                        .forUnfold(1, 4));
        assertTrue(e.getMessage().startsWith("padding must have 1 elements"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> FoldGeometry.builder().kernelSize(2).padding(0, -1).forUnfold(1, 4));
        assertEquals("padding must be non-negative, got [0, -1]", e.getMessage());
        // No block fits 1 + 0 + 1 = 2 < 3 in dimension 0; the message names both ends.
        e = assertThrows(
                IllegalArgumentException.class,
                () -> FoldGeometry.builder().kernelSize(3).padding(0, 1).forUnfold(1, 1));
        assertTrue(e.getMessage().contains("1 + 0 + 1 = 2, smaller than the dilated kernel"), e.getMessage());
        // Fold with the wrong number of blocks for the asymmetric grid (4 blocks, not 3).
        e = assertThrows(
                IllegalArgumentException.class,
                () -> FoldNd.fold(
                        new float[6], new long[] {2, 3}, new int[] {4}, new int[] {2}, ONE, new int[] {1, 0}, ONE));
        assertTrue(e.getMessage().contains("expected 4 = 4, got 3"), e.getMessage());
    }
}
