package io.github.foldnd;

import static io.github.foldnd.Harness.assertBitwise;

import io.github.foldnd.Harness.DType;
import io.github.foldnd.Harness.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every engine, element type and memory kind, in 1-d to 4-d, batched and unbatched, against the
 * definition (Reference), bit for bit: unfold, and fold with every merge, unweighted and weighted.
 */
class ConformanceTest {
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Arguments combo : Harness.combos()) {
            for (int d = 1; d <= 4; d++) {
                for (boolean batched : new boolean[] {true, false}) {
                    Object[] a = combo.get();
                    out.add(Arguments.of(a[0], a[1], a[2], d, batched));
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2} d={3} batched={4}")
    @MethodSource("cases")
    void unfoldAndFoldMatchTheDefinition(Engine engine, DType type, Memory memory, int d, boolean batched) {
        Random rnd = new Random(1000L * d + (batched ? 7 : 0) + type.ordinal() * 31 + memory.ordinal() * 131);
        for (int trial = 0; trial < 8; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, d, batched);
            if (!batched) {
                s = new Reference.Shape(1, s.channels(), s.size(), s.kernel(), s.dilation(), s.padding(), s.stride());
            }
            String what = engine + " " + type + " " + memory + " " + Harness.unfoldGeometry(s, batched);

            double[] image = Harness.random(rnd, type, s.batch() * s.channels() * s.plane());
            assertBitwise(
                    Reference.unfold(image, s),
                    Harness.unfold(engine, type, memory, Harness.unfoldGeometry(s, batched), image),
                    "unfold " + what);

            FoldGeometry g = Harness.foldGeometry(s, batched);
            double[] columns = Harness.random(rnd, type, (int) g.columnLength());
            double[] weights = Harness.random(rnd, type, s.kernelVolume());
            for (Reduce r : Reduce.values()) {
                for (double[] w : new double[][] {null, weights}) {
                    assertBitwise(
                            Reference.fold(columns, s, r, w, type.arith),
                            Harness.fold(engine, type, memory, g, columns, r, w),
                            "fold " + r + (w == null ? "" : " weighted") + " " + what);
                }
            }
        }
    }

    /** The most dimensions allowed, 64 (mostly size-1 axes), on every engine, against the definition. */
    @org.junit.jupiter.api.Test
    void sixtyFourDimensions() {
        int d = FoldGeometry.MAX_DIMS;
        int[] size = new int[d], k = new int[d], one = new int[d], zero = new int[d];
        java.util.Arrays.fill(size, 1);
        java.util.Arrays.fill(k, 1);
        java.util.Arrays.fill(one, 1);
        size[0] = 4;
        size[40] = 3;
        size[63] = 5;
        k[0] = 2;
        k[40] = 2;
        k[63] = 3;
        Reference.Shape s = new Reference.Shape(2, 2, size, k, one, zero, one);
        Random rnd = new Random(64);
        double[] image = Harness.random(rnd, DType.DOUBLE, 2 * 2 * s.plane());
        double[] columns = Harness.random(rnd, DType.DOUBLE, 2 * 2 * s.kernelVolume() * s.blocks());
        for (Engine e : Engine.available()) {
            assertBitwise(
                    Reference.unfold(image, s),
                    Harness.unfold(e, DType.DOUBLE, Memory.POINTER, Harness.unfoldGeometry(s, true), image),
                    "unfold " + e);
            assertBitwise(
                    Reference.fold(columns, s, Reduce.SUM, null, DType.DOUBLE.arith),
                    Harness.fold(
                            e,
                            DType.DOUBLE,
                            Memory.DIRECT_BUFFER,
                            Harness.foldGeometry(s, true),
                            columns,
                            Reduce.SUM,
                            null),
                    "fold " + e);
        }
    }

    /** The same, with the columns in the batch-fused layout (C·K, N·L). */
    @ParameterizedTest(name = "{0} {1} {2} d={3}")
    @MethodSource("fusedCases")
    void batchFusedLayoutMatchesTheDefinition(Engine engine, DType type, Memory memory, int d) {
        Random rnd = new Random(77L * d + type.ordinal() * 13 + memory.ordinal());
        for (int trial = 0; trial < 6; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, d, true);
            FoldGeometry ug = Harness.unfoldGeometry(s, true).withColumnLayout(ColumnLayout.BATCH_FUSED);
            int rows = s.channels() * s.kernelVolume(), blocks = s.blocks();
            String what = engine + " " + type + " " + memory + " " + ug;
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    new long[] {rows, (long) s.batch() * blocks}, ug.columnShape());

            double[] image = Harness.random(rnd, type, s.batch() * s.channels() * s.plane());
            assertBitwise(
                    Reference.fused(Reference.unfold(image, s), s.batch(), rows, blocks),
                    Harness.unfold(engine, type, memory, ug, image),
                    "unfold " + what);

            FoldGeometry fg = FoldGeometry.forFold(
                    ug.columnShape(),
                    s.size(),
                    s.kernel(),
                    s.dilation(),
                    s.padding(),
                    s.stride(),
                    ColumnLayout.BATCH_FUSED);
            org.junit.jupiter.api.Assertions.assertEquals(ug, fg);
            double[] perSample = Harness.random(rnd, type, (int) fg.columnLength());
            double[] weights = Harness.random(rnd, type, s.kernelVolume());
            for (Reduce r : Reduce.values()) {
                assertBitwise(
                        Reference.fold(perSample, s, r, weights, type.arith),
                        Harness.fold(
                                engine,
                                type,
                                memory,
                                fg,
                                Reference.fused(perSample, s.batch(), rows, blocks),
                                r,
                                weights),
                        "fold " + r + " " + what);
            }
        }
    }

    static List<Arguments> fusedCases() {
        List<Arguments> out = new ArrayList<>();
        for (Arguments combo : Harness.combos()) {
            for (int d = 1; d <= 3; d++) {
                Object[] a = combo.get();
                out.add(Arguments.of(a[0], a[1], a[2], d));
            }
        }
        return out;
    }
}
