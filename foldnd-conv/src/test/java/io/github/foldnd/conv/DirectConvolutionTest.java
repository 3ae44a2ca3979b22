package io.github.foldnd.conv;

import static io.github.foldnd.conv.ConvHarness.randomConv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldNd;
import io.github.foldnd.conv.ConvReference.Conv;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Depthwise and small-group layers run the direct kernels (Convolution's class comment): the right
 * layers take that path, and its results do not depend on the thread count, bit for bit. Their
 * agreement with the definition and with PyTorch is ConvNdTest's and ConvNdPyTorchTest's, whose random
 * layers include them (ConvHarness.randomConv: groups 2 and 3, depthwise).
 */
@Isolated // changes FoldNd's thread count
class DirectConvolutionTest {
    private static ConvShape shape(int batch, int in, int out, int groups, int... size) {
        long[] x = new long[2 + size.length], w = new long[2 + size.length];
        x[0] = batch;
        x[1] = in;
        w[0] = out;
        w[1] = in / groups;
        int[] ones = new int[size.length], zeros = new int[size.length];
        for (int i = 0; i < size.length; i++) {
            x[2 + i] = size[i];
            w[2 + i] = 3;
            ones[i] = 1;
        }
        return ConvShape.of(x, w, ones, zeros, ones, groups);
    }

    @Test
    void depthwiseAndSmallGroupLayersRunDirect() {
        assumeTrue(Engine.nativeEngine().isPresent(), "the direct kernels are native");
        assertTrue(Convolution.direct(shape(2, 128, 128, 128, 28, 28)), "depthwise");
        assertTrue(Convolution.direct(shape(2, 32, 64, 32, 28, 28)), "depthwise, channel multiplier 2");
        assertTrue(Convolution.direct(shape(2, 64, 64, 16, 8)), "4 input channels per group");
        assertTrue(!Convolution.direct(shape(2, 64, 64, 8, 8)), "8 input channels per group: GEMM");
        assertTrue(!Convolution.direct(shape(2, 3, 64, 1, 8, 8)), "groups 1: GEMM");
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        assumeTrue(Engine.nativeEngine().isPresent(), "the direct kernels are native");
        int before = FoldNd.threads();
        Random rnd = new Random(2026_11_27L);
        int direct = 0;
        try {
            for (int trial = 0; trial < 40; trial++) {
                Conv s = randomConv(rnd, 1 + trial % 3, true);
                if (s.groups() < 2 || s.inChannels() / s.groups() > Convolution.DIRECT_MAX_IN_PER_GROUP) continue;
                direct++;
                ConvHarness.assertSameOnAnyThreadCount(rnd, s);
            }
        } finally {
            FoldNd.setThreads(before);
        }
        assertTrue(direct >= 10, "too few small-group layers drawn: " + direct);
        assertEquals(before, FoldNd.threads());
    }
}
