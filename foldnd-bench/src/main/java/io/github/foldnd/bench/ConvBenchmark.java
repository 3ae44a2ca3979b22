package io.github.foldnd.bench;

import io.github.foldnd.FoldNd;
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
     * A layer: batch, channels in and out, image size, kernel, stride, groups; padding keeps 3x3
     * "same".
     */
    public enum Layer {
        RES2_64(8, 64, 64, 56, 3, 1, 1),
        RES3_DOWN_128(8, 64, 128, 56, 3, 2, 1),
        RES4_256(8, 256, 256, 14, 3, 1, 1),
        RES5_512(8, 512, 512, 7, 3, 1, 1),
        /** MobileNet-style depthwise 3x3 on 128 channels of 28x28 (groups = channels). */
        DEPTHWISE_128(8, 128, 128, 28, 3, 1, 128);
        final int batch, in, out, size, kernel, stride, groups;

        Layer(int batch, int in, int out, int size, int kernel, int stride, int groups) {
            this.batch = batch;
            this.in = in;
            this.out = out;
            this.size = size;
            this.kernel = kernel;
            this.stride = stride;
            this.groups = groups;
        }

        int outSize() {
            return (size + 2 * (kernel / 2) - kernel) / stride + 1;
        }

        long[] xShape() {
            return new long[] {batch, in, size, size};
        }

        long[] wShape() {
            return new long[] {out, in / groups, kernel, kernel};
        }

        long[] yShape() {
            return new long[] {batch, out, outSize(), outSize()};
        }

        int[] stride2() {
            return new int[] {stride, stride};
        }

        int[] padding2() {
            return new int[] {kernel / 2, kernel / 2};
        }
    }

    @State(Scope.Benchmark)
    public static class Problem {
        @Param({"RES2_64", "RES3_DOWN_128", "RES4_256", "RES5_512", "DEPTHWISE_128"})
        public Layer layer;

        ByteBuffer xm, wm, bm, gym;
        FloatBuffer x, w, b, gy, y, gx, gw, gb;
        final int[] one = {1, 1};
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
            stride = layer.stride2();
            padding = layer.padding2();
            inputSize = new int[] {layer.size, layer.size};
            kernelSize = new int[] {layer.kernel, layer.kernel};
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
        long[] stride, padding, dilation = {1, 1}, outputPadding = {0, 0};
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
            stride = new long[] {p.layer.stride, p.layer.stride};
            padding = new long[] {p.layer.kernel / 2, p.layer.kernel / 2};
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
