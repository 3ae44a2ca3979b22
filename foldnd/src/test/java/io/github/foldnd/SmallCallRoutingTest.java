package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Engine.selected() sends calls of at most NativeEngine.SMALL_ELEMENTS elements to the Java
 * kernels, and Engine.nativeEngine() never does; either way the results are the same bit for bit,
 * on every memory kind, on both sides of the bound.
 */
class SmallCallRoutingTest {
    @Test
    void onlyTheSelectedEngineRoutesSmallCallsAndResultsAreIdentical() {
        NativeEngine all = NativeEngine.instance().orElse(null);
        assumeTrue(all != null, "no native engine on this platform");
        NativeEngine selected = NativeEngine.selectedInstance().orElseThrow();
        assumeTrue(Engine.selected() == selected, "foldnd.engine forces an engine here");
        assertNotSame(all, selected);
        assertEquals("native", selected.name());

        FoldGeometry seed = FoldGeometry.builder().kernelSize(2, 2).forFold(new long[] {1, 4, 9}, 4, 4);
        assertTrue(selected.small(seed), "the (1, 4, 9) -> 4x4 fold: 52 elements");
        assertTrue(((NativeEngine) selected.withThreads(1)).small(seed), "withThreads keeps the routing");
        assertFalse(all.small(seed), "nativeEngine() runs every call in C++");

        Random rnd = new Random(3);
        boolean sawSmall = false, sawLarge = false;
        for (int n = 2; n <= 9; n++) { // a 3x3 fold, padding 1, of one n x n plane: 10 n^2 elements
            FoldGeometry g = FoldGeometry.builder()
                    .kernelSize(3, 3)
                    .padding(1, 1)
                    .forFold(new long[] {1, 9, (long) n * n}, n, n);
            FoldGeometry u =
                    FoldGeometry.builder().kernelSize(3, 3).padding(1, 1).forUnfold(1, 1, n, n);
            sawSmall |= selected.small(g);
            sawLarge |= !selected.small(g);
            assertEquals(g.columnLength() + g.imageLength() <= NativeEngine.SMALL_ELEMENTS, selected.small(g));
            for (Harness.DType t : Harness.DType.values()) {
                double[] cols = Harness.random(rnd, t, (int) g.columnLength());
                double[] image = Harness.random(rnd, t, (int) u.imageLength());
                for (Harness.Memory m : Harness.Memory.values()) {
                    for (Reduce r : Reduce.values()) {
                        Harness.assertBitwise(
                                Harness.fold(all, t, m, g, cols, r, null),
                                Harness.fold(selected, t, m, g, cols, r, null),
                                "fold n=" + n + " " + t + " " + m + " " + r);
                    }
                    Harness.assertBitwise(
                            Harness.unfold(all, t, m, u, image),
                            Harness.unfold(selected, t, m, u, image),
                            "unfold n=" + n + " " + t + " " + m);
                }
            }
        }
        assertTrue(sawSmall && sawLarge, "the cases straddle the bound");
    }
}
