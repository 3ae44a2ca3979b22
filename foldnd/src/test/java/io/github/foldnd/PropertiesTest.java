package io.github.foldnd;

import static io.github.foldnd.Harness.assertBitwise;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.foldnd.Harness.DType;
import io.github.foldnd.Harness.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Properties that hold whatever the geometry: adjointness, MEAN round trips, determinism. */
class PropertiesTest {
    static List<Arguments> enginesAndDims() {
        List<Arguments> out = new ArrayList<>();
        for (Engine e : Engine.available()) {
            for (int d = 1; d <= 4; d++) out.add(Arguments.of(e, d));
        }
        return out;
    }

    /** fold (SUM) is the adjoint of unfold: <unfold(x), y> = <x, fold(y)>, up to rounding. */
    @ParameterizedTest(name = "{0} d={1}")
    @MethodSource("enginesAndDims")
    void foldIsTheAdjointOfUnfold(Engine e, int d) {
        Random rnd = new Random(d);
        for (int trial = 0; trial < 20; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, d, false);
            FoldGeometry ug = Harness.unfoldGeometry(s, true), fg = Harness.foldGeometry(s, true);
            double[] x = Harness.random(rnd, DType.DOUBLE, (int) ug.imageLength());
            double[] y = Harness.random(rnd, DType.DOUBLE, (int) fg.columnLength());
            double left = dot(e.unfold(ug, x), y), right = dot(x, e.fold(fg, y, Reduce.SUM, null));
            assertEquals(left, right, 1e-12 * (1 + Math.abs(left)), ug.toString());
        }
    }

    /** MEAN of unfold returns the input wherever a block covers it, 0 elsewhere; exact on integers. */
    @ParameterizedTest(name = "{0} d={1}")
    @MethodSource("enginesAndDims")
    void meanOfUnfoldRecoversTheInput(Engine e, int d) {
        Random rnd = new Random(100 + d);
        for (int trial = 0; trial < 20; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, d, false);
            FoldGeometry ug = Harness.unfoldGeometry(s, true), fg = Harness.foldGeometry(s, true);
            float[] x = new float[(int) ug.imageLength()];
            for (int i = 0; i < x.length; i++) x[i] = rnd.nextInt(2001) - 1000;
            float[] back = e.fold(fg, e.unfold(ug, x), Reduce.MEAN, null);
            float[] covered = e.fold(fg, e.unfold(ug, ones(x.length)), Reduce.SUM, null);
            for (int i = 0; i < x.length; i++) {
                assertEquals(covered[i] > 0 ? x[i] : 0f, back[i], ug + " at " + i);
            }
        }
    }

    /** Results are bit-identical whatever the thread count, on problems large enough to split. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("io.github.foldnd.Harness#engines")
    void resultsDoNotDependOnTheThreadCount(Engine e) {
        int saved = FoldNd.threads();
        try {
            Random rnd = new Random(5);
            FoldGeometry ug =
                    FoldGeometry.builder().kernelSize(3, 3).padding(1, 1).forUnfold(2, 6, 40, 40);
            FoldGeometry fg =
                    FoldGeometry.builder().kernelSize(3, 3).padding(1, 1).forFold(ug.columnShape(), 40, 40);
            double[] x = Harness.random(rnd, DType.FLOAT, (int) ug.imageLength());
            double[] y = Harness.random(rnd, DType.FLOAT, (int) fg.columnLength());
            FoldNd.setThreads(1);
            double[] u1 = Harness.unfold(e, DType.FLOAT, Memory.DIRECT_BUFFER, ug, x);
            double[] f1 = Harness.fold(e, DType.FLOAT, Memory.HEAP_ARRAY, fg, y, Reduce.MEAN, null);
            for (int t : new int[] {2, 3, 8}) {
                FoldNd.setThreads(t);
                assertBitwise(u1, Harness.unfold(e, DType.FLOAT, Memory.DIRECT_BUFFER, ug, x), "unfold threads=" + t);
                assertBitwise(
                        f1,
                        Harness.fold(e, DType.FLOAT, Memory.HEAP_ARRAY, fg, y, Reduce.MEAN, null),
                        "fold threads=" + t);
            }
        } finally {
            FoldNd.setThreads(saved);
        }
    }

    /** Native and pure Java agree bit for bit on problems larger than the reference can afford. */
    @Test
    void enginesAgreeOnLargeProblems() {
        List<Engine> engines = Engine.available();
        org.junit.jupiter.api.Assumptions.assumeTrue(engines.size() > 1, "only one engine here");
        Random rnd = new Random(11);
        FoldGeometry[] cases = {
            FoldGeometry.builder().kernelSize(7, 7).stride(2, 2).padding(3, 3).forUnfold(2, 3, 64, 64),
            FoldGeometry.builder().kernelSize(3, 3).dilation(2, 2).padding(2, 2).forUnfold(1, 16, 30, 30),
            FoldGeometry.builder().kernelSize(16, 16).stride(8, 8).forUnfold(1, 1, 128, 128),
            FoldGeometry.builder().kernelSize(400).stride(100).forUnfold(1, 4000),
            FoldGeometry.builder().kernelSize(3, 3, 3).padding(1, 1, 1).forUnfold(1, 4, 12, 12, 12),
        };
        for (FoldGeometry ug : cases) {
            FoldGeometry fg = FoldGeometry.forFold(
                    ug.columnShape(), toInt(ug.imageSize()), ug.kernelSize(), ug.dilation(), ug.padding(), ug.stride());
            for (DType t : DType.values()) {
                double[] x = Harness.random(rnd, t, (int) ug.imageLength());
                double[] y = Harness.random(rnd, t, (int) fg.columnLength());
                double[] w = Harness.random(rnd, t, (int) fg.kernelVolume());
                double[] u = Harness.unfold(engines.get(0), t, Memory.HEAP_ARRAY, ug, x);
                assertBitwise(u, Harness.unfold(engines.get(1), t, Memory.DIRECT_BUFFER, ug, x), "unfold " + ug);
                for (Reduce r : Reduce.values()) {
                    assertBitwise(
                            Harness.fold(engines.get(0), t, Memory.DIRECT_BUFFER, fg, y, r, w),
                            Harness.fold(engines.get(1), t, Memory.HEAP_ARRAY, fg, y, r, w),
                            "fold " + r + " " + fg);
                }
            }
        }
    }

    /** NaN propagates through MAX/MIN and SUM; infinities merge as numbers; on every engine. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("io.github.foldnd.Harness#engines")
    void specialValuesMergeLikeTheDefinition(Engine e) {
        Reference.Shape s = new Reference.Shape(
                1, 2, new int[] {5, 5}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1});
        FoldGeometry g = Harness.foldGeometry(s, true);
        Random rnd = new Random(3);
        double[] y = Harness.random(rnd, DType.DOUBLE, (int) g.columnLength());
        double[] specials = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0};
        for (int i = 0; i < y.length; i += 7) y[i] = specials[(i / 7) % specials.length];
        for (DType t : DType.values()) {
            double[] yt = java.util.Arrays.stream(y).map(t::round).toArray();
            for (Reduce r : Reduce.values()) {
                assertBitwise(
                        Reference.fold(yt, s, r, null, t.arith),
                        Harness.fold(e, t, Memory.HEAP_ARRAY, g, yt, r, null),
                        r + " " + t);
            }
        }
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    private static int[] toInt(long[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) r[i] = (int) v[i];
        return r;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
