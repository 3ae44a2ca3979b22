package io.github.foldnd.conv;

import static io.github.foldnd.conv.ConvHarness.randomConv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.foldnd.FoldNd;
import io.github.foldnd.conv.ConvReference.Conv;
import io.github.foldnd.internal.NativeContract;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
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

    private static FloatBuffer floats(int n) {
        FloatBuffer b =
                ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
        Random rnd = new Random(n);
        for (int i = 0; i < n; i++) b.put(i, rnd.nextFloat() - 0.5f);
        return b;
    }
}
