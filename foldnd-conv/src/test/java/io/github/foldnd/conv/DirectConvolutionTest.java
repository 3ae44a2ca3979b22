package io.github.foldnd.conv;

import static io.github.foldnd.conv.ConvHarness.randomConv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldNd;
import io.github.foldnd.Harness;
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

    /**
     * Heap arrays go to the direct kernels in place (no staging copies), in parts of about 16 MiB of
     * arrays, each its own critical region (one part for the 8 x 128 x 28^2 layer's 6.4 MB, two for
     * 8 x 64 x 64^2's 16.8 MB): the buffers' bits, and the inputs left as they were.
     */
    @Test
    void heapArraysRunInPlaceInPartsAndMatchTheBuffers() {
        assumeTrue(Engine.nativeEngine().isPresent(), "the direct kernels are native");
        FloatConvolution f = FloatConvolution.INSTANCE;
        assertTrue(f.onArrays(shape(8, 128, 128, 128, 28, 28)), "8 x 128 x 28^2 depthwise: in place");
        assertTrue(f.onArrays(shape(8, 64, 64, 64, 64, 64)), "8 x 64 x 64^2 depthwise: in place too");
        assertEquals(1, Convolution.directParts(16L << 20), "16 MiB: one region");
        assertEquals(2, Convolution.directParts((16L << 20) + 1), "a byte more: two");
        assertEquals(2, Convolution.directParts(4L * (2 * 8 * 64 * 64 * 64 + 64 * 9)), "x and y of 8 MiB each, w");
        ConvShape tiled = shape(2, 64, 64, 8, 8);
        assertEquals(f.tiled(tiled), f.onArrays(tiled), "8 input channels per group: tiled, in parts");
        Random rnd = new Random(2026_11_28L);
        Conv[] layers = {
            new Conv(3, 6, 12, 6, new int[] {9, 11}, new int[] {3, 3}, new int[] {1, 2}, new int[] {1, 0}, new int[] {
                1, 1
            }),
            new Conv(2, 8, 8, 4, new int[] {13}, new int[] {5}, new int[] {1}, new int[] {2}, new int[] {2}),
            // x and y of 8 x 64 x 64^2 floats each: 16 MiB and more, so in two parts
            new Conv(
                    8, 64, 64, 64, new int[] {64, 64}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {
                        1, 1
                    })
        };
        for (Conv s : layers) {
            for (Harness.DType type : Harness.DType.values()) {
                ConvHarness.Data v = ConvHarness.Data.random(rnd, type, s, true);
                double[] x = v.x().clone(), w = v.w().clone(), b = v.b().clone(), gy = v.gy().clone();
                ConvHarness.Run arrays = new ConvHarness.Run(type, false, s),
                        buffers = new ConvHarness.Run(type, true, s);
                String what = type + " " + s;
                assertArrayEquals(buffers.forward(x, w, b), arrays.forward(x, w, b), "forward " + what);
                assertArrayEquals(buffers.backwardInput(gy, w), arrays.backwardInput(gy, w), "backwardInput " + what);
                double[][] expected = buffers.backwardWeight(x, gy), actual = arrays.backwardWeight(x, gy);
                assertArrayEquals(expected[0], actual[0], "gradWeight " + what);
                assertArrayEquals(expected[1], actual[1], "gradBias " + what);
                assertArrayEquals(v.x(), x, "x unchanged");
                assertArrayEquals(v.gy(), gy, "gradY unchanged");
            }
        }
    }

    /**
     * A direct pass on heap arrays in any number of parts (1, 2, 3, 7 and more parts than some
     * kernels have items) gives the whole pass's bits: y, gradX, gradWeight and gradBias, float and
     * double, bias included.
     */
    @Test
    void directPassesInPartsGiveTheWholePassesBits() {
        assumeTrue(Engine.nativeEngine().isPresent(), "the direct kernels are native");
        Random rnd = new Random(7);
        Conv[] layers = {
            new Conv(3, 6, 12, 6, new int[] {9, 11}, new int[] {3, 3}, new int[] {1, 2}, new int[] {1, 0}, new int[] {
                1, 1
            }),
            new Conv(2, 8, 8, 4, new int[] {13}, new int[] {5}, new int[] {1}, new int[] {2}, new int[] {2}),
            new Conv(
                    1,
                    4,
                    4,
                    4,
                    new int[] {5, 6, 7},
                    new int[] {3, 3, 3},
                    new int[] {1, 1, 1},
                    new int[] {1, 1, 1},
                    new int[] {1, 1, 1})
        };
        for (Conv c : layers) {
            ConvShape s = ConvShape.of(c.xShape(), c.weightShape(), c.stride(), c.padding(), c.dilation(), c.groups());
            assertTrue(Convolution.direct(s), c + " runs direct");
            ConvHarness.Data v = ConvHarness.Data.random(rnd, Harness.DType.FLOAT, c, true);
            float[] x = Harness.toFloat(v.x()), w = Harness.toFloat(v.w()), b = Harness.toFloat(v.b());
            float[] gy = Harness.toFloat(v.gy());
            float[] y1 = null, gx1 = null, gw1 = null, gb1 = null;
            for (int parts : new int[] {1, 2, 3, 7, 40}) {
                float[] y = new float[gy.length], gx = new float[x.length], gw = new float[w.length];
                float[] gb = new float[b.length];
                FloatConvolution.INSTANCE.directOnArrays(s, Convolution.FORWARD, x, w, b, y, parts);
                FloatConvolution.INSTANCE.directOnArrays(s, Convolution.BACKWARD_INPUT, gy, w, null, gx, parts);
                FloatConvolution.INSTANCE.directOnArrays(s, Convolution.BACKWARD_WEIGHT, x, gy, gb, gw, parts);
                if (y1 == null) {
                    y1 = y;
                    gx1 = gx;
                    gw1 = gw;
                    gb1 = gb;
                    continue;
                }
                String what = c + " in " + parts + " parts";
                assertArrayEquals(y1, y, "y " + what);
                assertArrayEquals(gx1, gx, "gradX " + what);
                assertArrayEquals(gw1, gw, "gradWeight " + what);
                assertArrayEquals(gb1, gb, "gradBias " + what);
            }
        }
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
