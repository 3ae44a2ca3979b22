package io.github.foldnd.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.ThreadMXBean;
import io.github.foldnd.Harness;
import io.github.foldnd.Harness.DType;
import io.github.foldnd.conv.ConvReference.Conv;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * ConvNd's overloads that write into a caller's heap arrays: the allocating overloads' bits on every
 * path a heap array takes (a tiled pass in parts, a direct pass in one critical region or in
 * parts; staged through scratch without the native engine), nothing written past the result, inputs unchanged, bad outputs
 * refused before anything is written, and no output allocated per call.
 */
class ConvNdIntoArraysTest {
    /** A value no result holds, in the elements past a result, which must stay as they were. */
    private static final double SENTINEL = -12345.5;

    private static final int TAIL = 3;

    @Test
    void writeTheAllocatingOverloadsBitsIntoTheCallersArrays() {
        Random rnd = new Random(2026_11_28L);
        List<Conv> layers = new ArrayList<>();
        for (int d = 1; d <= 3; d++) {
            for (int i = 0; i < 6; i++) layers.add(ConvHarness.randomConv(rnd, d, true));
        }
        // a tiled pass long enough to run in parts on heap arrays (TiledConvolutionTest counts them)
        layers.add(conv(4, 64, 64, 1, 32, 3, 1, 1));
        // depthwise: a direct pass in one critical region (about 3 MiB in all) ...
        layers.add(conv(8, 64, 64, 64, 28, 3, 1, 1));
        // ... and one over NativeContract.CRITICAL_BYTES (x and y 8 MiB each in float), in parts
        layers.add(conv(4, 128, 128, 128, 64, 3, 1, 1));
        for (Conv c : layers) {
            for (DType type : DType.values()) {
                Harness.DType t = type;
                ConvHarness.Data v = ConvHarness.Data.random(rnd, t, c, rnd.nextBoolean());
                assertIntoMatches(t, c, v);
            }
        }
    }

    private static void assertIntoMatches(DType type, Conv c, ConvHarness.Data v) {
        ConvGeometry g = ConvGeometryTest.geometry(c);
        long[] xs = c.xShape(), ws = c.weightShape(), ys = c.yShape();
        Object x = typed(type, v.x()), w = typed(type, v.w()), b = typed(type, v.b()), gy = typed(type, v.gy());
        Object x0 = copy(x), w0 = copy(w), b0 = copy(b), gy0 = copy(gy);
        String what = type + " " + c;

        Object y = sentinels(type, ConvHarness.length(ys) + TAIL);
        Object gx = sentinels(type, ConvHarness.length(xs) + TAIL);
        Object gw = sentinels(type, ConvHarness.length(ws) + TAIL);
        Object gb = sentinels(type, c.outChannels() + TAIL);
        Object gwOnly = sentinels(type, ConvHarness.length(ws));
        Object expectedY, expectedGx;
        ConvNd.WeightGradients<?> expectedG;
        if (type == DType.FLOAT) {
            expectedY = ConvNd.forward((float[]) x, xs, (float[]) w, ws, (float[]) b, g);
            ConvNd.forward((float[]) x, xs, (float[]) w, ws, (float[]) b, g, (float[]) y);
            expectedGx = ConvNd.backwardInput((float[]) gy, ys, (float[]) w, ws, c.size(), g);
            ConvNd.backwardInput((float[]) gy, ys, (float[]) w, ws, c.size(), g, (float[]) gx);
            expectedG = ConvNd.backwardWeight((float[]) x, xs, (float[]) gy, ys, g);
            ConvNd.backwardWeight((float[]) x, xs, (float[]) gy, ys, g, (float[]) gw, (float[]) gb);
            ConvNd.backwardWeight((float[]) x, xs, (float[]) gy, ys, g, (float[]) gwOnly, null);
        } else {
            expectedY = ConvNd.forward((double[]) x, xs, (double[]) w, ws, (double[]) b, g);
            ConvNd.forward((double[]) x, xs, (double[]) w, ws, (double[]) b, g, (double[]) y);
            expectedGx = ConvNd.backwardInput((double[]) gy, ys, (double[]) w, ws, c.size(), g);
            ConvNd.backwardInput((double[]) gy, ys, (double[]) w, ws, c.size(), g, (double[]) gx);
            expectedG = ConvNd.backwardWeight((double[]) x, xs, (double[]) gy, ys, g);
            ConvNd.backwardWeight((double[]) x, xs, (double[]) gy, ys, g, (double[]) gw, (double[]) gb);
            ConvNd.backwardWeight((double[]) x, xs, (double[]) gy, ys, g, (double[]) gwOnly, null);
        }
        assertResult(expectedY, y, "y " + what);
        assertResult(expectedGx, gx, "gradX " + what);
        assertResult(expectedG.weight(), gw, "gradWeight " + what);
        assertResult(expectedG.bias(), gb, "gradBias " + what);
        assertResult(expectedG.weight(), gwOnly, "gradWeight without gradBias " + what);
        assertBits(x0, x, "x unchanged " + what);
        assertBits(w0, w, "weight unchanged " + what);
        assertBits(b0, b, "bias unchanged " + what);
        assertBits(gy0, gy, "gradY unchanged " + what);
    }

    /**
     * Every refusal: a missing, short or aliased output is named, with what was expected, before
     * anything is written (the outputs keep their sentinels).
     */
    @Test
    void refuseBadOutputsBeforeWritingAnything() {
        Conv c = conv(2, 4, 6, 2, 5, 3, 1, 1);
        ConvGeometry g = ConvGeometryTest.geometry(c);
        long[] xs = c.xShape(), ws = c.weightShape(), ys = c.yShape();
        int nx = (int) ConvHarness.length(xs), nw = (int) ConvHarness.length(ws), ny = (int) ConvHarness.length(ys);
        Random rnd = new Random(5);
        float[] x = Harness.toFloat(Harness.random(rnd, DType.FLOAT, nx));
        float[] w = Harness.toFloat(Harness.random(rnd, DType.FLOAT, nw));
        float[] b = Harness.toFloat(Harness.random(rnd, DType.FLOAT, c.outChannels()));
        float[] gy = Harness.toFloat(Harness.random(rnd, DType.FLOAT, ny));
        float[] shortY = (float[]) sentinels(DType.FLOAT, ny - 1), shortGx = (float[]) sentinels(DType.FLOAT, nx - 1);
        float[] shortGw = (float[]) sentinels(DType.FLOAT, nw - 1), shortGb = (float[]) sentinels(DType.FLOAT, 5);
        float[] gw = (float[]) sentinels(DType.FLOAT, nw);
        float[][] inputs = {x.clone(), w.clone(), b.clone(), gy.clone()};

        refused(NullPointerException.class, "y", () -> ConvNd.forward(x, xs, w, ws, b, g, (float[]) null));
        refused(
                "y must hold at least " + ny + " elements (the result's), got " + (ny - 1),
                () -> ConvNd.forward(x, xs, w, ws, b, g, shortY));
        refused("y must not be the same array as x", () -> ConvNd.forward(x, xs, w, ws, b, g, x));
        refused("y must not be the same array as weight", () -> ConvNd.forward(x, xs, w, ws, b, g, w));
        refused("y must not be the same array as bias", () -> ConvNd.forward(x, xs, w, ws, b, g, b));

        refused(
                NullPointerException.class,
                "gradX",
                () -> ConvNd.backwardInput(gy, ys, w, ws, c.size(), g, (float[]) null));
        refused(
                "gradX must hold at least " + nx + " elements (the result's), got " + (nx - 1),
                () -> ConvNd.backwardInput(gy, ys, w, ws, c.size(), g, shortGx));
        refused(
                "gradX must not be the same array as gradY",
                () -> ConvNd.backwardInput(gy, ys, w, ws, c.size(), g, gy));
        refused(
                "gradX must not be the same array as weight",
                () -> ConvNd.backwardInput(gy, ys, w, ws, c.size(), g, w));

        refused(
                NullPointerException.class,
                "gradWeight",
                () -> ConvNd.backwardWeight(x, xs, gy, ys, g, (float[]) null, null));
        refused(
                "gradWeight must hold at least " + nw + " elements (the result's), got " + (nw - 1),
                () -> ConvNd.backwardWeight(x, xs, gy, ys, g, shortGw, null));
        refused(
                "gradBias must hold at least " + c.outChannels() + " elements (the result's), got 5",
                () -> ConvNd.backwardWeight(x, xs, gy, ys, g, gw, shortGb));
        refused(
                "gradWeight must not be the same array as gradBias",
                () -> ConvNd.backwardWeight(x, xs, gy, ys, g, gw, gw));
        refused("gradWeight must not be the same array as x", () -> ConvNd.backwardWeight(x, xs, gy, ys, g, x, null));
        refused(
                "gradWeight must not be the same array as gradY",
                () -> ConvNd.backwardWeight(x, xs, gy, ys, g, gy, null));
        refused("gradBias must not be the same array as gradY", () -> ConvNd.backwardWeight(x, xs, gy, ys, g, gw, gy));
        refused("gradBias must not be the same array as x", () -> ConvNd.backwardWeight(x, xs, gy, ys, g, gw, x));
        // the inputs are checked first, and named as the allocating overloads name them
        refused("x", () -> ConvNd.forward(Arrays.copyOf(x, nx - 1), xs, w, ws, b, g, new float[ny]));

        for (float[] out : new float[][] {shortY, shortGx, shortGw, gw, shortGb}) {
            for (float v : out) assertEquals((float) SENTINEL, v, "an output written by a refused call");
        }
        assertArrayEquals(inputs, new float[][] {x, w, b, gy}, "inputs unchanged by refused calls");
    }

    /**
     * The point of the overloads: a loop that reuses its outputs allocates no output per call. Measured
     * with the JVM's count of the bytes this thread allocated, on a tiled layer in parts (the path of
     * every GEMM layer) and on a depthwise layer; the allocating forward, for scale, allocates y.
     */
    @Test
    void aLoopReusingItsOutputsAllocatesNoOutput() {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof ThreadMXBean, "needs HotSpot's allocation counter");
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (Conv c : List.of(conv(4, 64, 64, 1, 32, 3, 1, 1), conv(8, 64, 64, 64, 28, 3, 1, 1))) {
            ConvGeometry g = ConvGeometryTest.geometry(c);
            long[] xs = c.xShape(), ws = c.weightShape(), ys = c.yShape();
            Random rnd = new Random(11);
            float[] x = Harness.toFloat(Harness.random(rnd, DType.FLOAT, (int) ConvHarness.length(xs)));
            float[] w = Harness.toFloat(Harness.random(rnd, DType.FLOAT, (int) ConvHarness.length(ws)));
            float[] gy = Harness.toFloat(Harness.random(rnd, DType.FLOAT, (int) ConvHarness.length(ys)));
            float[] y = new float[gy.length], gx = new float[x.length], gw = new float[w.length];
            float[] gb = new float[c.outChannels()];
            Runnable step = () -> {
                ConvNd.forward(x, xs, w, ws, null, g, y);
                ConvNd.backwardInput(gy, ys, w, ws, c.size(), g, gx);
                ConvNd.backwardWeight(x, xs, gy, ys, g, gw, gb);
            };
            for (int i = 0; i < 3; i++) step.run(); // the geometry's and scratch's first use
            int steps = 5;
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < steps; i++) step.run();
            long perStep = (mx.getCurrentThreadAllocatedBytes() - before) / steps;
            long yBytes = 4L * y.length;
            before = mx.getCurrentThreadAllocatedBytes();
            ConvNd.forward(x, xs, w, ws, null, g);
            long allocating = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocating >= yBytes, "the allocating forward allocates y: " + allocating + " B");
            assertTrue(
                    perStep < yBytes / 16 && perStep < 64 * 1024,
                    c + ": a step into reused outputs allocated " + perStep + " B, y alone is " + yBytes + " B");
        }
    }

    private static Conv conv(int batch, int in, int out, int groups, int size, int k, int stride, int pad) {
        return new Conv(
                batch,
                in,
                out,
                groups,
                new int[] {size, size},
                new int[] {k, k},
                new int[] {stride, stride},
                new int[] {pad, pad},
                new int[] {1, 1});
    }

    private static void refused(String message, Executable call) {
        refused(IllegalArgumentException.class, message, call);
    }

    private static void refused(Class<? extends Throwable> kind, String message, Executable call) {
        Throwable t = assertThrows(kind, call);
        assertTrue(t.getMessage() != null && t.getMessage().contains(message), "message: " + t.getMessage());
    }

    private static Object typed(DType type, double[] v) {
        if (v == null) return null;
        return type == DType.FLOAT ? Harness.toFloat(v) : v.clone();
    }

    private static Object sentinels(DType type, long n) {
        double[] v = new double[(int) n];
        Arrays.fill(v, SENTINEL);
        return typed(type, v);
    }

    private static Object copy(Object a) {
        if (a == null) return null;
        return a instanceof float[] f ? f.clone() : ((double[]) a).clone();
    }

    /** The first expected.length elements of actual are expected's bits, and the rest keep the sentinel. */
    private static void assertResult(Object expected, Object actual, String what) {
        double[] e = values(expected), a = values(actual);
        assertArrayEquals(e, Arrays.copyOf(a, e.length), what); // assertArrayEquals on doubles compares bits
        for (int i = e.length; i < a.length; i++) assertEquals(SENTINEL, a[i], what + ": element " + i + " written");
    }

    private static void assertBits(Object expected, Object actual, String what) {
        if (expected == null) return;
        assertArrayEquals(values(expected), values(actual), what);
    }

    private static double[] values(Object a) {
        return a instanceof float[] f ? Harness.toDouble(f) : (double[]) a;
    }
}
