package io.github.foldnd.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.Harness;
import io.github.foldnd.Harness.DType;
import io.github.foldnd.Reference;
import io.github.foldnd.conv.ConvReference.Conv;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    static Conv randomConv(Random rnd, int d) {
        while (true) {
            int groups = new int[] {1, 1, 2, 3}[rnd.nextInt(4)];
            boolean depthwise = rnd.nextInt(4) == 0;
            int in = groups * (1 + rnd.nextInt(3)), out = groups * (1 + rnd.nextInt(3));
            if (depthwise) {
                groups = in;
                out = in;
            }
            int[] size = new int[d], k = new int[d], s = new int[d], p = new int[d], dil = new int[d];
            for (int i = 0; i < d; i++) {
                size[i] = 1 + rnd.nextInt(d == 1 ? 16 : d == 2 ? 8 : 5);
                k[i] = 1 + rnd.nextInt(3);
                s[i] = 1 + rnd.nextInt(2);
                p[i] = rnd.nextInt(3);
                dil[i] = 1 + rnd.nextInt(2);
            }
            Conv c = new Conv(1 + rnd.nextInt(3), in, out, groups, size, k, s, p, dil);
            if (java.util.Arrays.stream(c.grid()).allMatch(x -> x >= 1)) return c;
        }
    }

    @ParameterizedTest(name = "{0} buffers={1} d={2}")
    @MethodSource("cases")
    void matchesTheDefinition(DType type, boolean buffers, int d) {
        Random rnd = new Random(31L * d + type.ordinal() * 7 + (buffers ? 3 : 0));
        for (int trial = 0; trial < 10; trial++) {
            Conv s = randomConv(rnd, d);
            double[] x = Harness.random(rnd, type, s.batch() * s.inChannels() * Reference.product(s.size()));
            double[] w = Harness.random(
                    rnd, type, s.outChannels() * (s.inChannels() / s.groups()) * Reference.product(s.kernel()));
            double[] b = trial % 3 == 0 ? null : Harness.random(rnd, type, s.outChannels());
            double[] gy = Harness.random(rnd, type, s.batch() * s.outChannels() * Reference.product(s.grid()));
            String what = type + (buffers ? " buffers " : " arrays ") + s;

            Run run = new Run(type, buffers, s);
            within(ConvReference.forward(s, x, w, b), run.forward(x, w, b), type, "forward " + what);
            within(ConvReference.backwardInput(s, gy, w), run.backwardInput(gy, w), type, "backwardInput " + what);
            double[][] gw = run.backwardWeight(x, gy);
            within(ConvReference.backwardWeight(s, x, gy), gw[0], type, "backwardWeight " + what);
            within(ConvReference.backwardBias(s, gy), gw[1], type, "backwardBias " + what);
        }
    }

    /** Runs ConvNd on heap arrays or direct buffers of one type, values carried as double. */
    record Run(DType type, boolean buffers, Conv s) {
        int[] st() {
            return s.stride();
        }

        double[] forward(double[] x, double[] w, double[] b) {
            if (type == DType.DOUBLE) {
                if (!buffers)
                    return ConvNd.forward(
                            x.clone(),
                            s.xShape(),
                            w.clone(),
                            s.weightShape(),
                            b,
                            st(),
                            s.padding(),
                            s.dilation(),
                            s.groups());
                DoubleBuffer y = doubles(length(s.yShape()));
                ConvNd.forward(
                        doubles(x),
                        s.xShape(),
                        doubles(w),
                        s.weightShape(),
                        b == null ? null : doubles(b),
                        st(),
                        s.padding(),
                        s.dilation(),
                        s.groups(),
                        y);
                return read(y);
            }
            if (!buffers) {
                return Harness.toDouble(ConvNd.forward(
                        Harness.toFloat(x),
                        s.xShape(),
                        Harness.toFloat(w),
                        s.weightShape(),
                        b == null ? null : Harness.toFloat(b),
                        st(),
                        s.padding(),
                        s.dilation(),
                        s.groups()));
            }
            FloatBuffer y = floats(length(s.yShape()));
            ConvNd.forward(
                    floats(x),
                    s.xShape(),
                    floats(w),
                    s.weightShape(),
                    b == null ? null : floats(b),
                    st(),
                    s.padding(),
                    s.dilation(),
                    s.groups(),
                    y);
            return read(y);
        }

        double[] backwardInput(double[] gy, double[] w) {
            if (type == DType.DOUBLE) {
                if (!buffers)
                    return ConvNd.backwardInput(
                            gy, s.yShape(), w, s.weightShape(), s.size(), st(), s.padding(), s.dilation(), s.groups());
                DoubleBuffer gx = doubles(length(s.xShape()));
                ConvNd.backwardInput(
                        doubles(gy),
                        s.yShape(),
                        doubles(w),
                        s.weightShape(),
                        s.size(),
                        st(),
                        s.padding(),
                        s.dilation(),
                        s.groups(),
                        gx);
                return read(gx);
            }
            if (!buffers) {
                return Harness.toDouble(ConvNd.backwardInput(
                        Harness.toFloat(gy),
                        s.yShape(),
                        Harness.toFloat(w),
                        s.weightShape(),
                        s.size(),
                        st(),
                        s.padding(),
                        s.dilation(),
                        s.groups()));
            }
            FloatBuffer gx = floats(length(s.xShape()));
            ConvNd.backwardInput(
                    floats(gy),
                    s.yShape(),
                    floats(w),
                    s.weightShape(),
                    s.size(),
                    st(),
                    s.padding(),
                    s.dilation(),
                    s.groups(),
                    gx);
            return read(gx);
        }

        double[][] backwardWeight(double[] x, double[] gy) {
            if (type == DType.DOUBLE) {
                if (!buffers) {
                    ConvNd.WeightGradients<double[]> g = ConvNd.backwardWeight(
                            x, s.xShape(), gy, s.yShape(), s.kernel(), st(), s.padding(), s.dilation(), s.groups());
                    return new double[][] {g.weight(), g.bias()};
                }
                DoubleBuffer gw = doubles(length(s.weightShape())), gb = doubles(s.outChannels());
                ConvNd.backwardWeight(
                        doubles(x),
                        s.xShape(),
                        doubles(gy),
                        s.yShape(),
                        s.kernel(),
                        st(),
                        s.padding(),
                        s.dilation(),
                        s.groups(),
                        gw,
                        gb);
                return new double[][] {read(gw), read(gb)};
            }
            if (!buffers) {
                ConvNd.WeightGradients<float[]> g = ConvNd.backwardWeight(
                        Harness.toFloat(x),
                        s.xShape(),
                        Harness.toFloat(gy),
                        s.yShape(),
                        s.kernel(),
                        st(),
                        s.padding(),
                        s.dilation(),
                        s.groups());
                return new double[][] {Harness.toDouble(g.weight()), Harness.toDouble(g.bias())};
            }
            FloatBuffer gw = floats(length(s.weightShape())), gb = floats(s.outChannels());
            ConvNd.backwardWeight(
                    floats(x),
                    s.xShape(),
                    floats(gy),
                    s.yShape(),
                    s.kernel(),
                    st(),
                    s.padding(),
                    s.dilation(),
                    s.groups(),
                    gw,
                    gb);
            return new double[][] {read(gw), read(gb)};
        }
    }

    /** |actual - reference| <= 2 (n + 2) u Σ|term|, elementwise. */
    static void within(ConvReference.Result expected, double[] actual, DType type, String what) {
        double u = type == DType.FLOAT ? 0x1p-24 : 0x1p-53;
        assertEquals(expected.value().length, actual.length, what + ": length");
        for (int i = 0; i < actual.length; i++) {
            double bound = 2 * (expected.terms()[i] + 2) * u * expected.magnitude()[i];
            double err = Math.abs(actual[i] - expected.value()[i]);
            if (!(err <= bound)) {
                throw new AssertionError(
                        what + ": element " + i + " expected " + expected.value()[i] + " but was " + actual[i]
                                + " (error " + err + " > bound " + bound + " for " + expected.terms()[i] + " terms)");
            }
        }
    }

    static long length(long[] shape) {
        long n = 1;
        for (long v : shape) n *= v;
        return n;
    }

    static FloatBuffer floats(long n) {
        return ByteBuffer.allocateDirect((int) n * 4)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    static FloatBuffer floats(double[] v) {
        FloatBuffer b = floats(v.length);
        for (int i = 0; i < v.length; i++) b.put(i, (float) v[i]);
        return b;
    }

    static DoubleBuffer doubles(long n) {
        return ByteBuffer.allocateDirect((int) n * 8)
                .order(ByteOrder.nativeOrder())
                .asDoubleBuffer();
    }

    static DoubleBuffer doubles(double[] v) {
        return doubles(v.length).put(v).flip();
    }

    static double[] read(FloatBuffer b) {
        double[] v = new double[b.remaining()];
        for (int i = 0; i < v.length; i++) v[i] = b.get(b.position() + i);
        return v;
    }

    static double[] read(DoubleBuffer b) {
        double[] v = new double[b.remaining()];
        b.get(b.position(), v);
        return v;
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
            DoubleConvolution.INSTANCE.gemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c1, n);
            DoubleConvolution.javaGemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c2, n);
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
