package io.github.foldnd.conv;

import static io.github.foldnd.conv.ConvHarness.withinRounding;

import io.github.foldnd.Harness;
import io.github.foldnd.Harness.DType;
import io.github.foldnd.Reference;
import io.github.foldnd.conv.ConvHarness.Data;
import io.github.foldnd.conv.ConvHarness.Run;
import io.github.foldnd.conv.ConvReference.Conv;
import java.util.Arrays;
import java.util.Random;
import org.bytedeco.javacpp.BoolPointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * ConvNd against PyTorch's conv1d/2d/3d (at::convolution) and its autograd gradients
 * (at::convolution_backward: input, weight, bias), float and double, random geometries with groups
 * and dilation. Tolerance from the summation: PyTorch's own convolution of the magnitudes, in double,
 * gives Σ|term| for each element, and both results must lie within 2 (n + 2) u Σ|term| of each
 * other (n the number of terms, u the unit roundoff).
 */
class ConvNdPyTorchTest {
    @ParameterizedTest
    @EnumSource(DType.class)
    void agreesWithPyTorchAndItsGradients(DType type) {
        Random rnd = new Random(1234 + type.ordinal());
        for (int trial = 0; trial < 30; trial++) {
            Conv s = ConvHarness.randomConv(rnd, 1 + trial % 3);
            Data v = Data.random(rnd, type, s, true);
            String what = type + " " + s;
            Run ours = new Run(type, trial % 2 == 0, s);
            double[][] torchValues = pyTorch(s, type, v);
            // Magnitudes: the same operations on |values|, in double.
            double[][] magnitude = pyTorch(s, DType.DOUBLE, new Data(abs(v.x()), abs(v.w()), abs(v.b()), abs(v.gy())));

            int kv = Reference.product(s.kernel()),
                    inPer = s.inChannels() / s.groups(),
                    outPer = s.outChannels() / s.groups();
            double[] y = ours.forward(v.x(), v.w(), v.b());
            withinRounding(torchValues[0], magnitude[0], i -> inPer * kv + 1, y, type, "forward " + what);
            double[] gx = ours.backwardInput(v.gy(), v.w());
            withinRounding(torchValues[1], magnitude[1], i -> outPer * kv, gx, type, "gradInput " + what);
            double[][] gw = ours.backwardWeight(v.x(), v.gy());
            int nl = s.batch() * Reference.product(s.grid());
            withinRounding(torchValues[2], magnitude[2], i -> nl, gw[0], type, "gradWeight " + what);
            withinRounding(torchValues[3], magnitude[3], i -> nl, gw[1], type, "gradBias " + what);
        }
    }

    /**
     * PyTorch's results for s on v's values as tensors of the type: y (at::convolution), then the
     * gradients of x, weight and bias from gradY (at::convolution_backward), read back as double.
     */
    private static double[][] pyTorch(Conv s, DType type, Data v) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = tensor(type, v.x(), s.xShape()),
                    w = tensor(type, v.w(), s.weightShape()),
                    b = tensor(type, v.b(), new long[] {s.outChannels()});
            Tensor y = torch.convolution(
                    x,
                    w,
                    new TensorOptional(b),
                    longs(s.stride()),
                    longs(s.padding()),
                    longs(s.dilation()),
                    false,
                    new long[s.dims()],
                    s.groups());
            T_TensorTensorTensor_T grads = torch.convolution_backward(
                    tensor(type, v.gy(), s.yShape()),
                    x,
                    w,
                    new long[] {s.outChannels()},
                    longs(s.stride()),
                    longs(s.padding()),
                    longs(s.dilation()),
                    false,
                    new long[s.dims()],
                    s.groups(),
                    allThree());
            return new double[][] {read(y), read(grads.get0()), read(grads.get1()), read(grads.get2())};
        }
    }

    private static BoolPointer allThree() {
        BoolPointer m = new BoolPointer(3);
        for (int i = 0; i < 3; i++) m.put(i, true);
        return m;
    }

    private static Tensor tensor(DType t, double[] values, long[] shape) {
        Pointer data = t == DType.FLOAT ? new FloatPointer(Harness.toFloat(values)) : new DoublePointer(values);
        TensorOptions options = new TensorOptions(t == DType.FLOAT ? torch.ScalarType.Float : torch.ScalarType.Double);
        return torch.from_blob(data, shape, options).clone();
    }

    private static double[] read(Tensor out) {
        Tensor c = out.contiguous().to(torch.ScalarType.Double);
        double[] v = new double[(int) c.numel()];
        c.data_ptr_double().get(v);
        return v;
    }

    private static double[] abs(double[] v) {
        return Arrays.stream(v).map(Math::abs).toArray();
    }

    private static long[] longs(int[] v) {
        return Arrays.stream(v).asLongStream().toArray();
    }
}
