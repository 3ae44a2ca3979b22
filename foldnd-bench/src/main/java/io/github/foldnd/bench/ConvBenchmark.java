package io.github.foldnd.bench;

import io.github.foldnd.FoldNd;
import io.github.foldnd.conv.ConvGeometry;
import io.github.foldnd.conv.ConvNd;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.BoolPointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * ConvNd's three products on ResNet-like layers (float32, batch 8, default threads), against
 * PyTorch's convolution and its autograd backward (at::convolution / at::convolution_backward,
 * each gradient asked for alone) and ND4J's conv2d, in the same run.
 */
@Fork(jvmArgsAppend = "-Xmx8g")
public class ConvBenchmark extends SuiteBenchmark {
    /**
     * A layer: batch, channels in and out, spatial dimensions, image size and kernel (the same in each
     * dimension), stride, groups; padding is kernel / 2 ("same" for odd kernels at stride 1).
     */
    public enum Layer {
        RES2_64(8, 64, 64, 2, 56, 3, 1, 1),
        RES3_DOWN_128(8, 64, 128, 2, 56, 3, 2, 1),
        RES4_256(8, 256, 256, 2, 14, 3, 1, 1),
        RES5_512(8, 512, 512, 2, 7, 3, 1, 1),
        /** ResNet's stem: 7x7 at stride 2 on 224x224 RGB. */
        STEM_7X7(8, 3, 64, 2, 224, 7, 2, 1),
        /** MobileNet-style depthwise 3x3 on 128 channels of 28x28 (groups = channels). */
        DEPTHWISE_128(8, 128, 128, 2, 28, 3, 1, 128),
        /** A 1-d layer (audio, sequences): kernel 5 over 4096 samples. */
        CONV1D_64(8, 64, 64, 1, 4096, 5, 1, 1),
        /** A 3-d layer (video, volumes): 3x3x3 on 32^3. */
        CONV3D_16(8, 16, 32, 3, 32, 3, 1, 1),
        /** RES2_64 on one sample (inference). */
        RES2_64_BATCH1(1, 64, 64, 2, 56, 3, 1, 1),
        /** A 1x1 layer (ResNet bottleneck's expansion): a plain GEMM, reported but not targeted. */
        POINTWISE_64_256(8, 64, 256, 2, 56, 1, 1, 1);
        final int batch, in, out, dims, size, kernel, stride, groups;

        Layer(int batch, int in, int out, int dims, int size, int kernel, int stride, int groups) {
            this.batch = batch;
            this.in = in;
            this.out = out;
            this.dims = dims;
            this.size = size;
            this.kernel = kernel;
            this.stride = stride;
            this.groups = groups;
        }

        int outSize() {
            return (size + 2 * (kernel / 2) - kernel) / stride + 1;
        }

        private long[] shape(long first, long second, long spatial) {
            long[] s = new long[2 + dims];
            s[0] = first;
            s[1] = second;
            for (int i = 0; i < dims; i++) s[2 + i] = spatial;
            return s;
        }

        long[] xShape() {
            return shape(batch, in, size);
        }

        long[] wShape() {
            return shape(out, in / groups, kernel);
        }

        long[] yShape() {
            return shape(batch, out, outSize());
        }

        int[] each(int v) {
            int[] a = new int[dims];
            java.util.Arrays.fill(a, v);
            return a;
        }

        long[] eachLong(int v) {
            long[] a = new long[dims];
            java.util.Arrays.fill(a, v);
            return a;
        }
    }

    @State(Scope.Benchmark)
    public static class Problem {
        @Param({
            "RES2_64",
            "RES3_DOWN_128",
            "RES4_256",
            "RES5_512",
            "STEM_7X7",
            "DEPTHWISE_128",
            "CONV1D_64",
            "CONV3D_16",
            "RES2_64_BATCH1",
            "POINTWISE_64_256"
        })
        public Layer layer;

        ByteBuffer xm, wm, bm, gym;
        FloatBuffer x, w, b, gy, y, gx, gw, gb;
        float[] xa, wa, ba, gya; // the same values on the heap, for the array API
        float[] ya, gxa, gwa, gba; // heap outputs the into-array API writes, call after call
        ConvGeometry geometry; // the layer, for the ConvGeometry overloads
        int[] one;
        // The layer's arguments to ConvNd, made once here rather than on every measured call.
        long[] xShape, wShape, yShape;
        int[] stride, padding, inputSize, kernelSize;

        @Setup(Level.Trial)
        public void setUp() {
            xm = filled(length(layer.xShape()), 1);
            wm = filled(length(layer.wShape()), 2);
            bm = filled(layer.out, 3);
            gym = filled(length(layer.yShape()), 4);
            x = xm.asFloatBuffer();
            w = wm.asFloatBuffer();
            b = bm.asFloatBuffer();
            gy = gym.asFloatBuffer();
            y = Data.direct(length(layer.yShape()), 4).asFloatBuffer();
            gx = Data.direct(length(layer.xShape()), 4).asFloatBuffer();
            gw = Data.direct(length(layer.wShape()), 4).asFloatBuffer();
            gb = Data.direct(layer.out, 4).asFloatBuffer();
            xShape = layer.xShape();
            wShape = layer.wShape();
            yShape = layer.yShape();
            xa = Data.randomFloats(length(layer.xShape()), 1);
            wa = Data.randomFloats(length(layer.wShape()), 2);
            ba = Data.randomFloats(layer.out, 3);
            gya = Data.randomFloats(length(layer.yShape()), 4);
            ya = new float[(int) length(layer.yShape())];
            gxa = new float[(int) length(layer.xShape())];
            gwa = new float[(int) length(layer.wShape())];
            gba = new float[layer.out];
            one = layer.each(1);
            stride = layer.each(layer.stride);
            padding = layer.each(layer.kernel / 2);
            inputSize = layer.each(layer.size);
            kernelSize = layer.each(layer.kernel);
            geometry = ConvGeometry.builder()
                    .kernelSize(kernelSize)
                    .stride(stride)
                    .padding(padding)
                    .groups(layer.groups)
                    .build();
        }

        static long length(long[] shape) {
            long n = 1;
            for (long v : shape) n *= v;
            return n;
        }

        static ByteBuffer filled(long n, long seed) {
            ByteBuffer b = Data.direct(n, 4);
            b.asFloatBuffer().put(Data.randomFloats(n, seed));
            return b;
        }
    }

    @State(Scope.Benchmark)
    public static class TorchPeer {
        Tensor x, w, b, gy;
        long[] stride, padding, dilation, outputPadding;
        BoolPointer inputOnly, weightOnly;
        long groups;

        @Setup(Level.Trial)
        public void setUp(Problem p) {
            torch.set_num_threads(FoldNd.threads());
            TensorOptions f = new TensorOptions(torch.ScalarType.Float);
            x = torch.from_blob(new FloatPointer(p.x), p.layer.xShape(), f);
            w = torch.from_blob(new FloatPointer(p.w), p.layer.wShape(), f);
            b = torch.from_blob(new FloatPointer(p.b), new long[] {p.layer.out}, f);
            gy = torch.from_blob(new FloatPointer(p.gy), p.layer.yShape(), f);
            stride = p.layer.eachLong(p.layer.stride);
            padding = p.layer.eachLong(p.layer.kernel / 2);
            dilation = p.layer.eachLong(1);
            outputPadding = p.layer.eachLong(0);
            groups = p.layer.groups;
            inputOnly = mask(true, false, false);
            weightOnly = mask(false, true, true);
        }

        /** at::convolution_backward from gy, computing the gradients that outputMask asks for. */
        T_TensorTensorTensor_T backward(BoolPointer outputMask) {
            return torch.convolution_backward(
                    gy,
                    x,
                    w,
                    new long[] {b.size(0)},
                    stride,
                    padding,
                    dilation,
                    false,
                    outputPadding,
                    groups,
                    outputMask);
        }
    }

    /** at::convolution_backward's output_mask: which of (input, weight, bias) gradients to compute. */
    static BoolPointer mask(boolean input, boolean weight, boolean bias) {
        BoolPointer m = new BoolPointer(3);
        m.put(0, input);
        m.put(1, weight);
        m.put(2, bias);
        return m;
    }

    @State(Scope.Benchmark)
    public static class Nd4jPeer {
        INDArray x, w, b;
        Conv2DConfig config;
        boolean depthwise; // groups = channels: ND4J's depthWiseConv2d, weights (kH, kW, C_in, C_out / C_in)

        @Setup(Level.Trial)
        public void setUp(Problem p) {
            Layer l = p.layer;
            if (l.dims != 2) throw new IllegalStateException("ND4J's conv2d takes 2-d layers only: " + l);
            depthwise = l.groups > 1;
            if (depthwise && l.groups != l.in) {
                throw new IllegalStateException("ND4J has depthwise, not grouped, convolution: " + l);
            }
            x = Nd4j.rand(DataType.FLOAT, l.xShape());
            w = depthwise
                    ? Nd4j.rand(DataType.FLOAT, l.kernel, l.kernel, l.in, l.out / l.in)
                    : Nd4j.rand(DataType.FLOAT, l.wShape());
            b = Nd4j.rand(DataType.FLOAT, l.out);
            config = Conv2DConfig.builder()
                    .kH(l.kernel)
                    .kW(l.kernel)
                    .sH(l.stride)
                    .sW(l.stride)
                    .pH(l.kernel / 2)
                    .pW(l.kernel / 2)
                    .dH(1)
                    .dW(1)
                    .dataFormat("NCHW")
                    .weightsFormat(depthwise ? WeightsFormat.YXIO : WeightsFormat.OIYX)
                    .build();
        }
    }

    @Benchmark
    public Object foldndForward(Problem p) {
        ConvNd.forward(p.x, p.xShape, p.w, p.wShape, p.b, p.stride, p.padding, p.one, p.layer.groups, p.y);
        return p.y;
    }

    @Benchmark
    public Object foldndBackwardInput(Problem p) {
        ConvNd.backwardInput(
                p.gy, p.yShape, p.w, p.wShape, p.inputSize, p.stride, p.padding, p.one, p.layer.groups, p.gx);
        return p.gx;
    }

    @Benchmark
    public Object foldndBackwardWeight(Problem p) {
        ConvNd.backwardWeight(
                p.x, p.xShape, p.gy, p.yShape, p.kernelSize, p.stride, p.padding, p.one, p.layer.groups, p.gw, p.gb);
        return p.gw;
    }

    @Benchmark
    public Object foldndForwardArrays(Problem p) {
        return ConvNd.forward(p.xa, p.xShape, p.wa, p.wShape, p.ba, p.stride, p.padding, p.one, p.layer.groups);
    }

    @Benchmark
    public Object foldndBackwardInputArrays(Problem p) {
        return ConvNd.backwardInput(
                p.gya, p.yShape, p.wa, p.wShape, p.inputSize, p.stride, p.padding, p.one, p.layer.groups);
    }

    @Benchmark
    public Object foldndBackwardWeightArrays(Problem p) {
        return ConvNd.backwardWeight(
                p.xa, p.xShape, p.gya, p.yShape, p.kernelSize, p.stride, p.padding, p.one, p.layer.groups);
    }

    /** Into the caller's heap arrays (ConvGeometry overloads): the array API without the output's allocation. */
    @Benchmark
    public Object foldndForwardIntoArrays(Problem p) {
        ConvNd.forward(p.xa, p.xShape, p.wa, p.wShape, p.ba, p.geometry, p.ya);
        return p.ya;
    }

    @Benchmark
    public Object foldndBackwardInputIntoArrays(Problem p) {
        ConvNd.backwardInput(p.gya, p.yShape, p.wa, p.wShape, p.inputSize, p.geometry, p.gxa);
        return p.gxa;
    }

    @Benchmark
    public Object foldndBackwardWeightIntoArrays(Problem p) {
        ConvNd.backwardWeight(p.xa, p.xShape, p.gya, p.yShape, p.geometry, p.gwa, p.gba);
        return p.gwa;
    }

    @Benchmark
    public Object pytorchForward(TorchPeer t) {
        return torch.convolution(
                t.x, t.w, new TensorOptional(t.b), t.stride, t.padding, t.dilation, false, t.outputPadding, t.groups);
    }

    @Benchmark
    public Object pytorchBackwardInput(TorchPeer t) {
        return t.backward(t.inputOnly);
    }

    @Benchmark
    public Object pytorchBackwardWeight(TorchPeer t) {
        return t.backward(t.weightOnly);
    }

    @Benchmark
    public Object nd4jForward(Nd4jPeer n) {
        return n.depthwise
                ? Nd4j.cnn().depthWiseConv2d(n.x, n.w, n.b, n.config)
                : Nd4j.cnn().conv2d(n.x, n.w, n.b, n.config);
    }
}
