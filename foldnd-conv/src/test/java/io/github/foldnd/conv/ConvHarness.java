package io.github.foldnd.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.foldnd.Harness;
import io.github.foldnd.Harness.DType;
import io.github.foldnd.conv.ConvReference.Conv;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.function.IntUnaryOperator;

/**
 * What ConvNdTest (against the definition) and ConvNdPyTorchTest (against PyTorch) share: random
 * convolutions and their data, ConvNd run on heap arrays or direct buffers of either type, and the
 * rounding bound within which a result must lie.
 */
final class ConvHarness {
    private ConvHarness() {}

    /** A random convolution of d spatial dimensions with at least one output block: groups, depthwise, stride, padding, dilation. */
    static Conv randomConv(Random rnd, int d) {
        return randomConv(rnd, d, false);
    }

    /** As {@link #randomConv(Random, int)}; with asymmetricPadding, half the convolutions get 2d pads (ONNX order). */
    static Conv randomConv(Random rnd, int d, boolean asymmetricPadding) {
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
            if (asymmetricPadding && rnd.nextBoolean()) {
                p = java.util.Arrays.copyOf(p, 2 * d);
                for (int i = 0; i < d; i++) p[d + i] = rnd.nextInt(3);
            }
            Conv c = new Conv(1 + rnd.nextInt(3), in, out, groups, size, k, s, p, dil);
            if (java.util.Arrays.stream(c.grid()).allMatch(x -> x >= 1)) return c;
        }
    }

    /** The values of one trial: x, weight, bias (nullable) and gradY, as double. */
    record Data(double[] x, double[] w, double[] b, double[] gy) {
        /** Random values of the type for s, drawn in the order x, weight, bias (only withBias), gradY. */
        static Data random(Random rnd, DType type, Conv s, boolean withBias) {
            double[] x = Harness.random(rnd, type, (int) length(s.xShape()));
            double[] w = Harness.random(rnd, type, (int) length(s.weightShape()));
            double[] b = withBias ? Harness.random(rnd, type, s.outChannels()) : null;
            double[] gy = Harness.random(rnd, type, (int) length(s.yShape()));
            return new Data(x, w, b, gy);
        }
    }

    /**
     * Asserts that ConvNd gives the same bits on 1, 2 and 3 threads for s: every output (y, gradX,
     * gradWeight, gradBias), both types, heap arrays and direct buffers, random values from rnd. Leaves
     * FoldNd's thread count at 3; the caller restores it.
     */
    static void assertSameOnAnyThreadCount(Random rnd, Conv s) {
        for (DType type : DType.values()) {
            for (boolean buffers : new boolean[] {false, true}) {
                Data v = Data.random(rnd, type, s, true);
                Run run = new Run(type, buffers, s);
                double[][] first = null;
                for (int threads : new int[] {1, 2, 3}) {
                    io.github.foldnd.FoldNd.setThreads(threads);
                    double[][] weight = run.backwardWeight(v.x(), v.gy());
                    double[][] got = {
                        run.forward(v.x(), v.w(), v.b()), run.backwardInput(v.gy(), v.w()), weight[0], weight[1]
                    };
                    if (first == null) first = got;
                    for (int out = 0; out < got.length; out++) {
                        assertArrayEquals(
                                first[out],
                                got[out],
                                "output " + out + " " + type + (buffers ? " buffers " : " arrays ") + s + ", threads "
                                        + threads + " against 1");
                    }
                }
            }
        }
    }

    /**
     * Runs ConvNd on heap arrays or direct buffers of one type, values carried as double: one call of
     * each public overload, with the arguments read once from the convolution.
     */
    static final class Run {
        private final DType type;
        private final boolean buffers;
        private final long[] xShape, wShape, yShape;
        private final int[] size, kernel, stride, padding, dilation;
        private final int groups, outChannels;

        Run(DType type, boolean buffers, Conv s) {
            this.type = type;
            this.buffers = buffers;
            xShape = s.xShape();
            wShape = s.weightShape();
            yShape = s.yShape();
            size = s.size();
            kernel = s.kernel();
            stride = s.stride();
            padding = s.padding();
            dilation = s.dilation();
            groups = s.groups();
            outChannels = s.outChannels();
        }

        double[] forward(double[] x, double[] w, double[] b) {
            if (type == DType.DOUBLE) {
                if (!buffers)
                    return ConvNd.forward(x.clone(), xShape, w.clone(), wShape, b, stride, padding, dilation, groups);
                DoubleBuffer y = doubles(length(yShape));
                ConvNd.forward(
                        doubles(x), xShape, doubles(w), wShape, doubles(b), stride, padding, dilation, groups, y);
                return read(y);
            }
            if (!buffers) {
                return Harness.toDouble(ConvNd.forward(
                        toFloat(x), xShape, toFloat(w), wShape, toFloat(b), stride, padding, dilation, groups));
            }
            FloatBuffer y = floats(length(yShape));
            ConvNd.forward(floats(x), xShape, floats(w), wShape, floats(b), stride, padding, dilation, groups, y);
            return read(y);
        }

        double[] backwardInput(double[] gy, double[] w) {
            if (type == DType.DOUBLE) {
                if (!buffers)
                    return ConvNd.backwardInput(gy, yShape, w, wShape, size, stride, padding, dilation, groups);
                DoubleBuffer gx = doubles(length(xShape));
                ConvNd.backwardInput(
                        doubles(gy), yShape, doubles(w), wShape, size, stride, padding, dilation, groups, gx);
                return read(gx);
            }
            if (!buffers) {
                return Harness.toDouble(ConvNd.backwardInput(
                        toFloat(gy), yShape, toFloat(w), wShape, size, stride, padding, dilation, groups));
            }
            FloatBuffer gx = floats(length(xShape));
            ConvNd.backwardInput(floats(gy), yShape, floats(w), wShape, size, stride, padding, dilation, groups, gx);
            return read(gx);
        }

        /** dL/dweight and dL/dbias. */
        double[][] backwardWeight(double[] x, double[] gy) {
            if (type == DType.DOUBLE) {
                if (!buffers) {
                    ConvNd.WeightGradients<double[]> g =
                            ConvNd.backwardWeight(x, xShape, gy, yShape, kernel, stride, padding, dilation, groups);
                    return new double[][] {g.weight(), g.bias()};
                }
                DoubleBuffer gw = doubles(length(wShape)), gb = doubles(outChannels);
                ConvNd.backwardWeight(
                        doubles(x), xShape, doubles(gy), yShape, kernel, stride, padding, dilation, groups, gw, gb);
                return new double[][] {read(gw), read(gb)};
            }
            if (!buffers) {
                ConvNd.WeightGradients<float[]> g = ConvNd.backwardWeight(
                        toFloat(x), xShape, toFloat(gy), yShape, kernel, stride, padding, dilation, groups);
                return new double[][] {Harness.toDouble(g.weight()), Harness.toDouble(g.bias())};
            }
            FloatBuffer gw = floats(length(wShape)), gb = floats(outChannels);
            ConvNd.backwardWeight(
                    floats(x), xShape, floats(gy), yShape, kernel, stride, padding, dilation, groups, gw, gb);
            return new double[][] {read(gw), read(gb)};
        }
    }

    /**
     * Fails unless |actual - expected| <= 2 (n + 2) u Σ|term| at every element i, with Σ|term| =
     * magnitude[i], n = terms(i) and u the unit roundoff of type: how far a sum of n products computed
     * in any order may lie from another such sum (see ConvReference).
     */
    static void withinRounding(
            double[] expected, double[] magnitude, IntUnaryOperator terms, double[] actual, DType type, String what) {
        double u = type == DType.FLOAT ? 0x1p-24 : 0x1p-53;
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < actual.length; i++) {
            double bound = 2 * (terms.applyAsInt(i) + 2) * u * magnitude[i];
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= bound)) {
                throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]
                        + " (error " + err + " > bound " + bound + " for " + terms.applyAsInt(i) + " terms)");
            }
        }
    }

    static long length(long[] shape) {
        long n = 1;
        for (long v : shape) n *= v;
        return n;
    }

    /** Harness.toFloat, with null (no bias) staying null. */
    private static float[] toFloat(double[] v) {
        return v == null ? null : Harness.toFloat(v);
    }

    static FloatBuffer floats(long n) {
        return ByteBuffer.allocateDirect((int) n * 4)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    /** A direct copy of v as floats; null (no bias) stays null. */
    static FloatBuffer floats(double[] v) {
        if (v == null) return null;
        FloatBuffer b = floats(v.length);
        for (int i = 0; i < v.length; i++) b.put(i, (float) v[i]);
        return b;
    }

    static DoubleBuffer doubles(long n) {
        return ByteBuffer.allocateDirect((int) n * 8)
                .order(ByteOrder.nativeOrder())
                .asDoubleBuffer();
    }

    /** A direct copy of v; null (no bias) stays null. */
    static DoubleBuffer doubles(double[] v) {
        return v == null ? null : doubles(v.length).put(v).flip();
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
}
