package io.github.foldnd.bench;

import io.github.foldnd.FoldNd;
import io.github.foldnd.conv.ConvNd;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.BoolPointer;
import org.bytedeco.javacpp.FloatPointer;
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
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * ConvNd's three products on ResNet-like layers (float32, batch 8, default threads), against
 * PyTorch's convolution and its autograd backward (at::convolution / at::convolution_backward,
 * each gradient asked for alone) and ND4J's conv2d, in the same run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx8g"})
public class ConvBenchmark {
    /** A layer: batch, channels in and out, image size, kernel, stride; padding keeps 3x3 "same". */
    public enum Layer {
        RES2_64(8, 64, 64, 56, 3, 1),
        RES3_DOWN_128(8, 64, 128, 56, 3, 2),
        RES4_256(8, 256, 256, 14, 3, 1),
        RES5_512(8, 512, 512, 7, 3, 1);
        final int batch, in, out, size, kernel, stride;

        Layer(int batch, int in, int out, int size, int kernel, int stride) {
            this.batch = batch;
            this.in = in;
            this.out = out;
            this.size = size;
            this.kernel = kernel;
            this.stride = stride;
        }

        int outSize() {
            return (size + 2 * (kernel / 2) - kernel) / stride + 1;
        }

        long[] xShape() {
            return new long[] {batch, in, size, size};
        }

        long[] wShape() {
            return new long[] {out, in, kernel, kernel};
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
        @Param({"RES2_64", "RES3_DOWN_128", "RES4_256", "RES5_512"})
        public Layer layer;

        ByteBuffer xm, wm, bm, gym;
        FloatBuffer x, w, b, gy, y, gx, gw, gb;
        final int[] one = {1, 1};

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
            inputOnly = mask(true, false, false);
            weightOnly = mask(false, true, true);
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

        @Setup(Level.Trial)
        public void setUp(Problem p) {
            Layer l = p.layer;
            x = Nd4j.rand(DataType.FLOAT, l.xShape());
            w = Nd4j.rand(DataType.FLOAT, l.wShape());
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
                    .weightsFormat(WeightsFormat.OIYX)
                    .build();
        }
    }

    @Benchmark
    public Object foldndForward(Problem p) {
        ConvNd.forward(
                p.x,
                p.layer.xShape(),
                p.w,
                p.layer.wShape(),
                p.b,
                p.layer.stride2(),
                p.layer.padding2(),
                p.one,
                1,
                p.y);
        return p.y;
    }

    @Benchmark
    public Object foldndBackwardInput(Problem p) {
        ConvNd.backwardInput(
                p.gy,
                p.layer.yShape(),
                p.w,
                p.layer.wShape(),
                new int[] {p.layer.size, p.layer.size},
                p.layer.stride2(),
                p.layer.padding2(),
                p.one,
                1,
                p.gx);
        return p.gx;
    }

    @Benchmark
    public Object foldndBackwardWeight(Problem p) {
        ConvNd.backwardWeight(
                p.x,
                p.layer.xShape(),
                p.gy,
                p.layer.yShape(),
                new int[] {p.layer.kernel, p.layer.kernel},
                p.layer.stride2(),
                p.layer.padding2(),
                p.one,
                1,
                p.gw,
                p.gb);
        return p.gw;
    }

    @Benchmark
    public Object pytorchForward(TorchPeer t) {
        return torch.convolution(
                t.x, t.w, new TensorOptional(t.b), t.stride, t.padding, t.dilation, false, t.outputPadding, 1);
    }

    @Benchmark
    public Object pytorchBackwardInput(TorchPeer t) {
        return torch.convolution_backward(
                t.gy,
                t.x,
                t.w,
                new long[] {t.b.size(0)},
                t.stride,
                t.padding,
                t.dilation,
                false,
                t.outputPadding,
                1,
                t.inputOnly);
    }

    @Benchmark
    public Object pytorchBackwardWeight(TorchPeer t) {
        return torch.convolution_backward(
                t.gy,
                t.x,
                t.w,
                new long[] {t.b.size(0)},
                t.stride,
                t.padding,
                t.dilation,
                false,
                t.outputPadding,
                1,
                t.weightOnly);
    }

    @Benchmark
    public Object nd4jForward(Nd4jPeer n) {
        return Nd4j.cnn().conv2d(n.x, n.w, n.b, n.config);
    }
}
