package io.github.foldnd.conv;

import static io.github.foldnd.conv.ConvHarness.randomConv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.foldnd.FoldNd;
import io.github.foldnd.Harness;
import io.github.foldnd.conv.ConvReference.Conv;
import io.github.foldnd.internal.NativeContract;
import java.lang.reflect.Array;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Layers that are neither depthwise nor small-group run the tiled passes where the native engine and
 * OpenBLAS are both here (Convolution's class comment, native/include/foldnd/conv_tiled.hpp): their
 * results do not depend on the thread count, bit for bit (the cut into tiles and units is the
 * problem's), and their native scratch stays within a tile per thread. Agreement with the definition
 * and PyTorch is ConvNdTest's and ConvNdPyTorchTest's, whose layers take this path; the C++ tests
 * check the passes against the definition with tiles of one block and a few.
 */
@Isolated // changes FoldNd's thread count and reads the process-wide scratch peak
class TiledConvolutionTest {
    private static boolean tiledHere() {
        return NativeContract.nativeAvailable() && FloatConvolution.INSTANCE.gemmAddress() != 0;
    }

    /** Layers cut into several tiles per sample (1-d rows cut too) and into channel blocks. */
    private static List<Conv> layers(Random rnd) {
        List<Conv> layers = new ArrayList<>();
        layers.add(
                new Conv(2, 32, 16, 1, new int[] {4096}, new int[] {5}, new int[] {1}, new int[] {2}, new int[] {1}));
        layers.add(new Conv(
                2, 64, 32, 1, new int[] {48, 48}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1
                }));
        layers.add(new Conv(
                1, 24, 16, 2, new int[] {40, 40}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {2, 1
                }));
        for (int trial = 0; trial < 45; trial++) layers.add(randomConv(rnd, 1 + trial % 3, true));
        return layers;
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        assumeTrue(tiledHere(), "the tiled passes need the native engine and OpenBLAS");
        int before = FoldNd.threads();
        Random rnd = new Random(2026_11_28L);
        int tiled = 0;
        try {
            for (Conv s : layers(rnd)) {
                ConvShape shape =
                        ConvShape.of(s.xShape(), s.weightShape(), s.stride(), s.padding(), s.dilation(), s.groups());
                if (!FloatConvolution.INSTANCE.tiled(shape)) continue;
                tiled++;
                ConvHarness.assertSameOnAnyThreadCount(rnd, s);
            }
        } finally {
            FoldNd.setThreads(before);
        }
        assertTrue(tiled >= 20, "too few tiled layers drawn: " + tiled);
        assertEquals(before, FoldNd.threads());
    }

    /**
     * The 64 -> 64 channel 3x3 layer on 56x56, batch 8 (ResNet's stage 2): its column matrix would be
     * 8 x 576 x 3136 floats (58 MB); each tiled pass holds at most threads x 8 MB of native scratch.
     */
    @Test
    void scratchStaysWithinATilePerThread() {
        assumeTrue(tiledHere(), "the tiled passes need the native engine and OpenBLAS");
        long[] xs = {8, 64, 56, 56}, ws = {64, 64, 3, 3}, ys = {8, 64, 56, 56};
        int[] one = {1, 1}, pad = {1, 1};
        FloatBuffer x = floats(8 * 64 * 56 * 56), w = floats(64 * 64 * 9), gy = floats(8 * 64 * 56 * 56);
        FloatBuffer y = floats(8 * 64 * 56 * 56), gx = floats(8 * 64 * 56 * 56), gw = floats(64 * 64 * 9);
        long limit = FoldNd.threads() * (8L << 20);
        ConvNd.releaseScratch(); // what earlier tests on this thread kept
        NativeContract.convScratchPeak(true);
        ConvNd.forward(x, xs, w, ws, null, one, pad, one, 1, y);
        long forward = NativeContract.convScratchPeak(true);
        ConvNd.backwardInput(gy, ys, w, ws, new int[] {56, 56}, one, pad, one, 1, gx);
        long input = NativeContract.convScratchPeak(true);
        ConvNd.backwardWeight(x, xs, gy, ys, new int[] {3, 3}, one, pad, one, 1, gw, null);
        long weight = NativeContract.convScratchPeak(true);
        for (long peak : new long[] {forward, input, weight}) {
            assertTrue(peak > 0 && peak <= limit, "peak " + peak + " bytes, limit " + limit);
        }
        assertEquals(0, ConvNd.retainedScratchBytes(), "no column matrix in Java scratch either");
    }

    /**
     * Heap arrays run the tiled passes in place, in parts (Convolution.tiledOnArrays, each part its own
     * JNI critical region): the parts give the whole pass's bits whatever their number, in both types,
     * on the layers that reach every form of conv_tiled.hpp (tiles per sample, sample groups, 1x1, the
     * chunked and column-block backwardWeight, backwardInput's transposed weights kept between parts);
     * the inputs are left as they were.
     */
    @Test
    void heapArraysRunInPartsWithTheWholePassesBits() {
        assumeTrue(tiledHere(), "the tiled passes need the native engine and OpenBLAS");
        Random rnd = new Random(2026_11_29L);
        List<Conv> layers = layers(rnd);
        // 128 channels on 8x8, 3x3: few blocks per sample and deep columns, so sample groups.
        layers.add(new Conv(
                4, 128, 32, 1, new int[] {8, 8}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1
                }));
        // The stem's shape, small: weights of 16 x 3 x 7 x 7, so the chunked backwardWeight.
        layers.add(new Conv(
                3, 3, 16, 1, new int[] {40, 40}, new int[] {7, 7}, new int[] {2, 2}, new int[] {3, 3}, new int[] {1, 1
                }));
        // 1x1 at stride 1: x is the columns.
        layers.add(new Conv(
                2, 24, 40, 1, new int[] {20, 20}, new int[] {1, 1}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1
                }));
        int checked = 0;
        for (Conv c : layers) {
            ConvShape s = ConvShape.of(c.xShape(), c.weightShape(), c.stride(), c.padding(), c.dilation(), c.groups());
            if (!FloatConvolution.INSTANCE.tiled(s)) continue;
            checked++;
            partsMatch(FloatConvolution.INSTANCE, s, rnd, c);
            partsMatch(DoubleConvolution.INSTANCE, s, rnd, c);
        }
        assertTrue(checked >= 20, "too few tiled layers drawn: " + checked);
    }

    private static <B extends Buffer, A> void partsMatch(Convolution<B, A> ops, ConvShape s, Random rnd, Conv c) {
        A x = random(ops, s.xLength(), rnd), w = random(ops, s.weightLength(), rnd);
        A bias = random(ops, s.outChannels, rnd), gy = random(ops, s.yLength(), rnd);
        A x0 = copy(x), w0 = copy(w), bias0 = copy(bias), gy0 = copy(gy);
        Object[] whole = null;
        for (int parts : new int[] {1, 2, 3, 7}) {
            A y = ops.newArray(s.yLength()), gx = ops.newArray(s.xLength());
            A gw = ops.newArray(s.weightLength()), gb = ops.newArray(s.outChannels);
            ops.tiledOnArrays(s, Convolution.FORWARD, x, w, bias, y, parts);
            ops.tiledOnArrays(s, Convolution.BACKWARD_INPUT, gy, w, null, gx, parts);
            ops.tiledOnArrays(s, Convolution.BACKWARD_WEIGHT, x, gy, gb, gw, parts);
            Object[] got = {y, gx, gw, gb};
            if (whole == null) whole = got;
            assertTrue(Objects.deepEquals(whole, got), c + " in " + parts + " parts: not the whole pass's bits");
        }
        assertTrue(
                Objects.deepEquals(new Object[] {x0, w0, bias0, gy0}, new Object[] {x, w, bias, gy}),
                c + ": an input changed");
    }

    private static <A> A random(Convolution<?, A> ops, long n, Random rnd) {
        A a = ops.newArray(n);
        for (int i = 0; i < n; i++) Array.setFloat(a, i, rnd.nextFloat() - 0.5f);
        return a;
    }

    @SuppressWarnings("unchecked")
    private static <A> A copy(A a) {
        int n = Array.getLength(a);
        Object b = Array.newInstance(a.getClass().getComponentType(), n);
        System.arraycopy(a, 0, b, 0, n);
        return (A) b;
    }

    /**
     * Through ConvNd's heap-array API, a layer long enough to run in several parts gives the direct
     * buffers' bits (their pass is one native call).
     */
    @Test
    void longPassesOnHeapArraysGiveTheBuffersBits() {
        assumeTrue(tiledHere(), "the tiled passes need the native engine and OpenBLAS");
        Conv c = new Conv(
                4, 64, 64, 1, new int[] {32, 32}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1
                });
        ConvShape s = ConvShape.of(c.xShape(), c.weightShape(), c.stride(), c.padding(), c.dilation(), c.groups());
        assertTrue(Convolution.regionParts(s) >= 3, "parts: " + Convolution.regionParts(s));
        Random rnd = new Random(2026_11_30L);
        for (Harness.DType type : io.github.foldnd.Harness.DType.values()) {
            ConvHarness.Data v = ConvHarness.Data.random(rnd, type, c, true);
            ConvHarness.Run arrays = new ConvHarness.Run(type, false, c), buffers = new ConvHarness.Run(type, true, c);
            assertArrayEquals(buffers.forward(v.x(), v.w(), v.b()), arrays.forward(v.x(), v.w(), v.b()), "forward");
            assertArrayEquals(
                    buffers.backwardInput(v.gy(), v.w()), arrays.backwardInput(v.gy(), v.w()), "backwardInput");
            double[][] expected = buffers.backwardWeight(v.x(), v.gy()), actual = arrays.backwardWeight(v.x(), v.gy());
            assertArrayEquals(expected[0], actual[0], "gradWeight " + type);
            assertArrayEquals(expected[1], actual[1], "gradBias " + type);
        }
    }

    private static FloatBuffer floats(int n) {
        FloatBuffer b =
                ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
        Random rnd = new Random(n);
        for (int i = 0; i < n; i++) b.put(i, rnd.nextFloat() - 0.5f);
        return b;
    }
}
