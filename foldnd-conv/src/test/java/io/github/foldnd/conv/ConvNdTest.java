package io.github.foldnd.conv;

import static io.github.foldnd.conv.ConvHarness.doubles;
import static io.github.foldnd.conv.ConvHarness.floats;
import static io.github.foldnd.conv.ConvHarness.randomConv;
import static io.github.foldnd.conv.ConvHarness.read;
import static io.github.foldnd.conv.ConvHarness.withinRounding;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.Harness;
import io.github.foldnd.Harness.DType;
import io.github.foldnd.conv.ConvHarness.Data;
import io.github.foldnd.conv.ConvHarness.Run;
import io.github.foldnd.conv.ConvReference.Conv;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ConvNd against the definition (ConvReference): forward, both gradients and the bias gradient,
 * in 1-d to 3-d with groups (depthwise included), dilation, stride and padding, float and double,
 * heap arrays and direct buffers; within the rounding bound of each sum (see ConvReference).
 */
class ConvNdTest {
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (DType t : DType.values()) {
            for (boolean buffers : new boolean[] {false, true}) {
                for (int d = 1; d <= 3; d++) out.add(Arguments.of(t, buffers, d));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} buffers={1} d={2}")
    @MethodSource("cases")
    void matchesTheDefinition(DType type, boolean buffers, int d) {
        Random rnd = new Random(31L * d + type.ordinal() * 7 + (buffers ? 3 : 0));
        for (int trial = 0; trial < 10; trial++) {
            Conv s = randomConv(rnd, d, true); // asymmetric padding in some: PyTorch's conv has none
            Data v = Data.random(rnd, type, s, trial % 3 != 0);
            String what = type + (buffers ? " buffers " : " arrays ") + s;

            Run run = new Run(type, buffers, s);
            within(
                    ConvReference.forward(s, v.x(), v.w(), v.b()),
                    run.forward(v.x(), v.w(), v.b()),
                    type,
                    "forward " + what);
            within(
                    ConvReference.backwardInput(s, v.gy(), v.w()),
                    run.backwardInput(v.gy(), v.w()),
                    type,
                    "backwardInput " + what);
            double[][] gw = run.backwardWeight(v.x(), v.gy());
            within(ConvReference.backwardWeight(s, v.x(), v.gy()), gw[0], type, "backwardWeight " + what);
            within(ConvReference.backwardBias(s, v.gy()), gw[1], type, "backwardBias " + what);
        }
    }

    /** |actual - reference| <= 2 (n + 2) u Σ|term|, elementwise. */
    static void within(ConvReference.Result expected, double[] actual, DType type, String what) {
        withinRounding(expected.value(), expected.magnitude(), i -> expected.terms()[i], actual, type, what);
    }

    /** The pure-Java product (used where OpenBLAS cannot load) agrees with OpenBLAS. */
    @Test
    void javaGemmAgreesWithOpenBlas() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Blas.available(), "OpenBLAS unavailable here");
        Random rnd = new Random(9);
        for (int trial = 0; trial < 20; trial++) {
            int m = 1 + rnd.nextInt(20), n = 1 + rnd.nextInt(20), k = 1 + rnd.nextInt(20);
            boolean ta = rnd.nextBoolean(), tb = rnd.nextBoolean();
            DoubleBuffer a = doubles(Harness.random(rnd, DType.DOUBLE, m * k)),
                    b = doubles(Harness.random(rnd, DType.DOUBLE, k * n));
            DoubleBuffer c1 = doubles(m * n), c2 = doubles(m * n);
            DoubleConvolution.INSTANCE.gemm(ta, tb, m, n, k, a, b, c1);
            DoubleConvolution.javaGemm(ta, tb, m, n, k, a, b, c2);
            double[] x = read(c1), y = read(c2);
            for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-12 * k, "gemm " + m + "x" + n + "x" + k);
        }
    }

    /** An empty batch gives empty outputs and zero weight gradients, as in PyTorch. */
    @Test
    void emptyBatch() {
        long[] x = {0, 2, 5, 5}, w = {3, 2, 3, 3}, y = {0, 3, 3, 3};
        int[] one = {1, 1}, zero = {0, 0};
        assertEquals(0, ConvNd.forward(new float[0], x, new float[54], w, new float[3], one, zero, one, 1).length);
        assertEquals(
                0,
                ConvNd.backwardInput(new double[0], y, new double[54], w, new int[] {5, 5}, one, zero, one, 1).length);
        ConvNd.WeightGradients<float[]> g =
                ConvNd.backwardWeight(new float[0], x, new float[0], y, new int[] {3, 3}, one, zero, one, 1);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[54], g.weight());
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[3], g.bias());
    }

    @Test
    void refusesBadShapesNamingTheArgument() {
        long[] x = {2, 4, 8, 8}, w = {6, 2, 3, 3};
        int[] one = {1, 1}, zero = {0, 0};
        float[] xs = new float[512], ws = new float[108];
        List<org.junit.jupiter.api.function.Executable> cases = List.of(
                () -> ConvNd.forward(xs, x, ws, w, null, one, zero, one, 3), // 4 channels, 3 groups
                () -> ConvNd.forward(
                        xs, x, ws, new long[] {6, 4, 3, 3}, null, one, zero, one, 2), // weight[1] != C_in / groups
                () -> ConvNd.forward(xs, x, ws, w, new float[5], one, zero, one, 2), // bias length
                () -> ConvNd.forward(new float[511], x, ws, w, null, one, zero, one, 2), // x length
                () -> ConvNd.forward(xs, x, ws, new long[] {6, 2, 3}, null, one, zero, one, 2), // weight rank
                () -> ConvNd.forward(xs, x, ws, w, null, one, zero, one, 0), // groups
                () -> ConvNd.forward(xs, new long[] {2, 4, 2, 2}, ws, w, null, one, zero, one, 2), // no block fits
                () -> ConvNd.backwardInput(
                        new float[216], new long[] {2, 6, 5, 5}, ws, w, new int[] {8, 8}, one, zero, one, 2),
                () -> ConvNd.backwardWeight(
                        xs, x, new float[432], new long[] {2, 6, 6, 7}, new int[] {3, 3}, one, zero, one, 2));
        String[] mentions = {
            "xShape[1] (C_in) must be divisible by groups = 3, got 4",
            "weightShape[1] must be C_in / groups = 4 / 2 = 2",
            "bias must have 6 elements",
            "x must have 512 elements",
            "xShape must be (N, C_in, *spatial) with 1 spatial",
            "groups must be positive, got 0",
            "no block fits",
            "gradYShape must be [2, 6, 6, 6]",
            "gradYShape must be [2, 6, 6, 6]"
        };
        for (int i = 0; i < cases.size(); i++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cases.get(i));
            String m = mentions[i];
            assertTrue(e.getMessage().contains(m), () -> "message lacks '" + m + "': " + e.getMessage());
        }
        assertThrows(NullPointerException.class, () -> ConvNd.forward(null, x, ws, w, null, one, zero, one, 2));
        assertThrows(
                IllegalArgumentException.class,
                () -> ConvNd.forward(
                        floats(512), x, floats(108), w, null, one, zero, one, 2, FloatBuffer.allocate(432)));
    }
}
