package io.github.foldnd.conv;

import io.github.foldnd.Harness;
import io.github.foldnd.Harness.DType;
import io.github.foldnd.Reference;
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
            Conv s = ConvNdTest.randomConv(rnd, 1 + trial % 3);
            double[] x = Harness.random(rnd, type, (int) ConvNdTest.length(s.xShape()));
            double[] w = Harness.random(rnd, type, (int) ConvNdTest.length(s.weightShape()));
            double[] b = Harness.random(rnd, type, s.outChannels());
            double[] gy = Harness.random(rnd, type, (int) ConvNdTest.length(s.yShape()));
            String what = type + " " + s;
            ConvNdTest.Run ours = new ConvNdTest.Run(type, trial % 2 == 0, s);
            try (PointerScope scope = new PointerScope()) {
                Tensor tx = tensor(type, x, s.xShape()),
                        tw = tensor(type, w, s.weightShape()),
                        tb = tensor(type, b, new long[] {s.outChannels()});
                Tensor ty = torch.convolution(
                        tx,
                        tw,
                        new TensorOptional(tb),
                        longs(s.stride()),
                        longs(s.padding()),
                        longs(s.dilation()),
                        false,
                        new long[s.dims()],
                        s.groups());
                Tensor tgy = tensor(type, gy, s.yShape());
                T_TensorTensorTensor_T grads = torch.convolution_backward(
                        tgy,
                        tx,
                        tw,
                        new long[] {s.outChannels()},
                        longs(s.stride()),
                        longs(s.padding()),
                        longs(s.dilation()),
                        false,
                        new long[s.dims()],
                        s.groups(),
                        allThree());
                // Magnitudes: the same operations on |values|, in double.
                Tensor ax = tensor(DType.DOUBLE, abs(x), s.xShape()),
                        aw = tensor(DType.DOUBLE, abs(w), s.weightShape());
                Tensor ab = tensor(DType.DOUBLE, abs(b), new long[] {s.outChannels()}),
                        agy = tensor(DType.DOUBLE, abs(gy), s.yShape());
                Tensor my = torch.convolution(
                        ax,
                        aw,
                        new TensorOptional(ab),
                        longs(s.stride()),
                        longs(s.padding()),
                        longs(s.dilation()),
                        false,
                        new long[s.dims()],
                        s.groups());
                T_TensorTensorTensor_T mg = torch.convolution_backward(
                        agy,
                        ax,
                        aw,
                        new long[] {s.outChannels()},
                        longs(s.stride()),
                        longs(s.padding()),
                        longs(s.dilation()),
                        false,
                        new long[s.dims()],
                        s.groups(),
                        allThree());

                int kv = Reference.product(s.kernel()),
                        inPer = s.inChannels() / s.groups(),
                        outPer = s.outChannels() / s.groups();
                close(read(ty), read(my), inPer * kv + 1, ours.forward(x, w, b), type, "forward " + what);
                close(
                        read(grads.get0()),
                        read(mg.get0()),
                        outPer * kv,
                        ours.backwardInput(gy, w),
                        type,
                        "gradInput " + what);
                double[][] gw = ours.backwardWeight(x, gy);
                int nl = s.batch() * Reference.product(s.grid());
                close(read(grads.get1()), read(mg.get1()), nl, gw[0], type, "gradWeight " + what);
                close(read(grads.get2()), read(mg.get2()), nl, gw[1], type, "gradBias " + what);
            }
        }
    }

    static void close(double[] torchValues, double[] magnitude, int terms, double[] ours, DType type, String what) {
        double u = type == DType.FLOAT ? 0x1p-24 : 0x1p-53;
        if (torchValues.length != ours.length)
            throw new AssertionError(what + ": length " + ours.length + " vs " + torchValues.length);
        for (int i = 0; i < ours.length; i++) {
            double bound = 2 * (terms + 2) * u * magnitude[i];
            if (!(Math.abs(ours[i] - torchValues[i]) <= bound)) {
                throw new AssertionError(what + ": element " + i + " PyTorch " + torchValues[i] + ", foldnd " + ours[i]
                        + ", bound " + bound);
            }
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
