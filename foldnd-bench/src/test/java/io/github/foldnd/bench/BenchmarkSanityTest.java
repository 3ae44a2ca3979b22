package io.github.foldnd.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.github.foldnd.ElementType;
import io.github.foldnd.Engine;
import io.github.foldnd.Reduce;
import io.github.foldnd.conv.ConvNd;
import java.nio.FloatBuffer;
import java.util.function.Function;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs every benchmark body once, on every case, and checks that what it computes is right, so a
 * benchmark never measures broken code: foldnd's engines and memory kinds agree bit for bit with
 * each other and with PyTorch, and ND4J's result (whose 6-d columns have the same memory order as
 * PyTorch's) agrees within rounding. No timing is measured or asserted here.
 */
class BenchmarkSanityTest {
    @ParameterizedTest
    @EnumSource(value = Case.class, names = "VOLUME_3D", mode = EnumSource.Mode.EXCLUDE)
    void foldBenchmarkBodiesAgree(Case c) {
        FoldBenchmark b = new FoldBenchmark();
        Problem p = problem(c);
        foldndAndPyTorchAgree(
                p,
                p.image,
                b::javaArray,
                b::nativeArray,
                b::nativeArrayInto,
                b::nativeBuffer,
                b::nativePointer,
                b::pytorch);

        Problem.Nd4j n = new Problem.Nd4j();
        n.setUp(p);
        INDArray nd = (INDArray) b.nd4j(n);
        float[] ours =
                Engine.selected().fold(p.geometry, n.peer.columns.dup().data().asFloat(), Reduce.SUM, null);
        assertClose(ours, nd.dup().data().asFloat(), c + " ND4J");
    }

    @ParameterizedTest
    @EnumSource(value = Case.class, names = "VOLUME_3D", mode = EnumSource.Mode.EXCLUDE)
    void unfoldBenchmarkBodiesAgree(Case c) {
        UnfoldBenchmark b = new UnfoldBenchmark();
        Problem p = problem(c);
        foldndAndPyTorchAgree(
                p,
                p.columns,
                b::javaArray,
                b::nativeArray,
                b::nativeArrayInto,
                b::nativeBuffer,
                b::nativePointer,
                b::pytorch);

        Problem.Nd4j n = new Problem.Nd4j();
        n.setUp(p);
        INDArray nd = (INDArray) b.nd4j(n);
        float[] ours =
                Engine.selected().unfold(p.geometry, n.peer.image.dup().data().asFloat());
        assertArrayEquals(ours, nd.dup().data().asFloat(), c + " ND4J (a copy: exact)");
    }

    /** FoldBenchmark's and UnfoldBenchmark's problem for case c, set up as JMH sets it up. */
    private static Problem problem(Case c) {
        Problem p = new Problem();
        p.shape = c;
        p.setUp();
        return p;
    }

    /**
     * Runs the foldnd bodies of FoldBenchmark or UnfoldBenchmark (the allocating array bodies, the one
     * into the problem's own array, which holds other data before, then those that write into output,
     * zeroed before each), then PyTorch's into the same memory, and checks that
     * every one gives what the pure-Java array body gives.
     */
    private static void foldndAndPyTorchAgree(
            Problem p,
            FloatBuffer output,
            Function<Problem, Object> javaArray,
            Function<Problem, Object> nativeArray,
            Function<Problem, Object> nativeArrayInto,
            Function<Problem, Object> nativeBuffer,
            Function<Problem, Object> nativePointer,
            Function<Problem.Torch, Object> pytorch) {
        Case c = p.shape;
        float[] expected = (float[]) javaArray.apply(p);
        assertArrayEquals(expected, (float[]) nativeArray.apply(p), c + " native array");
        float[] into = (float[]) nativeArrayInto.apply(p);
        assertArrayEquals(expected, into, c + " native array, into the caller's");
        nativeBuffer.apply(p);
        assertArrayEquals(expected, read(output), c + " native buffer");
        output.clear(); // from element 0 again, whatever the body did to the position
        zero(output);
        nativePointer.apply(p);
        assertArrayEquals(expected, read(output), c + " native pointer");

        Problem.Torch t = new Problem.Torch();
        t.setUp(p);
        zero(output);
        assertNotNull((Tensor) pytorch.apply(t));
        assertArrayEquals(expected, read(output), c + " PyTorch into the same memory");
    }

    @Test
    void smallBenchmarksRunAndAgree() throws Exception {
        TinyCallBenchmark tiny = new TinyCallBenchmark();
        tiny.setUp();
        float[] expected = (float[]) tiny.javaArray();
        assertArrayEquals(expected, (float[]) tiny.staticArray());
        assertArrayEquals(expected, (float[]) tiny.nativeArray());
        tiny.nativeBuffer();
        assertArrayEquals(expected, read(tiny.imageBuffer));
        tiny.javaBuffer();
        assertArrayEquals(expected, read(tiny.imageBuffer));
        tiny.nativePointer();
        float[] fromPointer = new float[16];
        tiny.imagePointer.get(fromPointer);
        assertArrayEquals(expected, fromPointer);

        for (int n : new int[] {2, 256}) {
            CrossoverBenchmark x = new CrossoverBenchmark();
            x.n = n;
            x.setUp();
            x.javaBuffer();
            float[] java = read(x.image);
            x.nativeBuffer();
            assertArrayEquals(java, read(x.image), "crossover n=" + n);
        }

        CopyFloorBenchmark copy = new CopyFloorBenchmark();
        copy.setUp();
        try {
            copy.copy();
        } finally {
            copy.tearDown();
        }
        // Every thread's run arrived: the first and last element of each, and one in the middle.
        for (int t = 0; t < copy.threads; t++) {
            long begin = CopyFloorBenchmark.ELEMENTS * t / copy.threads;
            long end = CopyFloorBenchmark.ELEMENTS * (t + 1) / copy.threads;
            for (long i : new long[] {begin, (begin + end) / 2, end - 1})
                assertEquals(copy.from.get(i), copy.to.get(i), "copy floor, element " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Reduce.class,
            names = {"SUM", "MEAN"})
    void moreKindsBenchmarkBodiesAgree(Reduce r) {
        for (Case c : new Case[] {Case.RES2_3X3, Case.VOLUME_3D}) {
            MoreKindsBenchmark m = new MoreKindsBenchmark();
            m.shape = c;
            m.reduce = r;
            m.setUp();
            double[] expected = (double[]) m.foldJavaDoubleArray();
            assertArrayEquals(expected, (double[]) m.foldNativeDoubleArray());
            m.foldNativeDoubleBuffer();
            double[] buffer = new double[expected.length];
            m.imageB.get(0, buffer);
            assertArrayEquals(expected, buffer);
            m.foldNativeDoublePointer();
            double[] pointer = new double[expected.length];
            m.imageP.get(pointer);
            assertArrayEquals(expected, pointer);
            m.foldJavaFloatBuffer();
            float[] java = read(m.imageF);
            m.foldNativeFloatPointer();
            float[] nat = new float[java.length];
            m.imageFP.get(nat);
            assertArrayEquals(java, nat);
            assertArrayEquals(
                    (double[]) m.unfoldJavaDoubleArray(), readD(MoreKindsBenchmark.unfoldNativeDoubleBuffer(m)));
        }
    }

    private static double[] readD(java.nio.DoubleBuffer b) {
        double[] v = new double[b.remaining()];
        b.get(b.position(), v);
        return v;
    }

    private static float[] read(FloatBuffer b) {
        float[] v = new float[b.limit() - b.position()];
        b.get(b.position(), v);
        return v;
    }

    private static void zero(FloatBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) b.put(i, 0f);
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = 1e-5 * (1 + Math.abs(expected[i])) * 64; // up to K terms, summed in another order
            if (Math.abs(expected[i] - actual[i]) > tolerance) {
                throw new AssertionError(
                        what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ConvBenchmark.Layer.class)
    void convolutionBenchmarkBodiesAgreeWithPyTorch(ConvBenchmark.Layer layer) {
        ConvBenchmark b = new ConvBenchmark();
        ConvBenchmark.Problem p = new ConvBenchmark.Problem();
        p.layer = layer;
        p.setUp();
        ConvBenchmark.TorchPeer t = new ConvBenchmark.TorchPeer();
        t.setUp(p);
        b.foldndForward(p);
        assertNear(tensor((Tensor) b.pytorchForward(t)), read(p.y), layer + " forward");
        b.foldndBackwardInput(p);
        assertNear(
                tensor(((org.bytedeco.pytorch.T_TensorTensorTensor_T) b.pytorchBackwardInput(t)).get0()),
                read(p.gx),
                layer + " gradInput");
        b.foldndBackwardWeight(p);
        org.bytedeco.pytorch.T_TensorTensorTensor_T g =
                (org.bytedeco.pytorch.T_TensorTensorTensor_T) b.pytorchBackwardWeight(t);
        assertNear(tensor(g.get1()), read(p.gw), layer + " gradWeight");
        assertNear(tensor(g.get2()), read(p.gb), layer + " gradBias");
        // The heap-array bodies: the same values, so the same bits as the buffer bodies.
        assertArrayEquals(read(p.y), (float[]) b.foldndForwardArrays(p), layer + " forward, arrays");
        assertArrayEquals(read(p.gx), (float[]) b.foldndBackwardInputArrays(p), layer + " gradInput, arrays");
        ConvNd.WeightGradients<?> arrays = (ConvNd.WeightGradients<?>) b.foldndBackwardWeightArrays(p);
        assertArrayEquals(read(p.gw), (float[]) arrays.weight(), layer + " gradWeight, arrays");
        assertArrayEquals(read(p.gb), (float[]) arrays.bias(), layer + " gradBias, arrays");
        assertArrayEquals(read(p.y), (float[]) b.foldndForwardIntoArrays(p), layer + " forward, into arrays");
        assertArrayEquals(read(p.gx), (float[]) b.foldndBackwardInputIntoArrays(p), layer + " gradInput, into arrays");
        assertArrayEquals(read(p.gw), (float[]) b.foldndBackwardWeightIntoArrays(p), layer + " gradWeight, into");
        assertArrayEquals(read(p.gb), p.gba, layer + " gradBias, into arrays");
        if (layer.dims != 2) return; // ND4J's conv2d is 2-d only
        ConvBenchmark.Nd4jPeer n = new ConvBenchmark.Nd4jPeer();
        n.setUp(p);
        assertArrayEquals(p.layer.yShape(), ((INDArray) b.nd4jForward(n)).shape(), layer + " ND4J output shape");
    }

    private static float[] tensor(Tensor t) {
        Tensor c = t.contiguous();
        float[] v = new float[(int) c.numel()];
        c.data_ptr_float().get(v);
        return v;
    }

    /** Relative to the largest magnitude: sums of up to ~10^5 float products in different orders. */
    private static void assertNear(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > 1e-4 * scale) {
                throw new AssertionError(what + ": element " + i + " PyTorch " + expected[i] + ", foldnd " + actual[i]);
            }
        }
    }

    /** ElementTypeBenchmark's bodies give the pure-Java engine's results on the same data. */
    @Test
    void elementTypeBenchmarkBodiesAgree() {
        ElementTypeBenchmark b = new ElementTypeBenchmark();
        b.shape = Case.FRAMES_1D;
        b.setUp();
        Engine java = Engine.pureJava();
        int c = (int) b.fold.columnLength(), n = (int) b.fold.imageLength();
        for (ElementType t : new ElementType[] {ElementType.FLOAT16, ElementType.BFLOAT16}) {
            ShortPointer cols = t == ElementType.FLOAT16 ? b.columnsH : b.columnsB;
            ShortPointer image = t == ElementType.FLOAT16 ? b.imageH : b.imageB;
            if (t == ElementType.FLOAT16) b.foldFloat16();
            else b.foldBfloat16();
            short[] in = new short[c], out = new short[n];
            cols.position(0).get(in);
            image.position(0).get(out);
            assertArrayEquals(java.fold(b.fold, in, t, Reduce.SUM, null), out, t.toString());
        }
        b.unfoldShort();
        short[] img = new short[n], cols = new short[c];
        b.imageH.position(0).get(img);
        b.columnsH.position(0).get(cols);
        assertArrayEquals(java.unfold(b.unfold, img), cols, "unfoldShort");
        b.unfoldByte();
        byte[] img8 = new byte[n], cols8 = new byte[c];
        b.image8.position(0).get(img8);
        b.columns8.position(0).get(cols8);
        assertArrayEquals(java.unfold(b.unfold, img8), cols8, "unfoldByte");
    }
}
