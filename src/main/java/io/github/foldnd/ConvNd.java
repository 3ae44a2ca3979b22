package io.github.foldnd;

import java.nio.Buffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * N-dimensional convolution (d = 1, 2, 3, ... spatial dimensions) built from unfold, fold and one
 * GEMM per group (OpenBLAS), with PyTorch's shapes and semantics (cross-correlation):
 * <pre>
 *   x       (N, C_in, *n)
 *   weight  (C_out, C_in / groups, *k)
 *   bias    (C_out) or null
 *   y       (N, C_out, *grid),  grid[i] = (n[i] + 2 p[i] - δ[i] (k[i] - 1) - 1) / s[i] + 1
 *   y(n, o, *j) = bias(o) + Σ over c in o's group and kernel offsets κ of weight(o, c, *κ) x(n, c, *(j s - p + κ δ))
 * </pre>
 * {@code backwardInput} gives dL/dx from dL/dy (= gradY), {@code backwardWeight} dL/dweight and
 * dL/dbias, as PyTorch's autograd does. Columns use the batch-fused layout (C_in·K, N·L), so each
 * group is one matrix product for the whole batch; groups = C_in = C_out is a depthwise convolution.
 *
 * <p>A training step of one layer:
 * <pre>{@code
 * float[] y = ConvNd.forward(x, xShape, w, wShape, b, stride, padding, dilation, 1);
 * float[] gradY = lossGradient(y);
 * float[] gradX = ConvNd.backwardInput(gradY, yShape, w, wShape, inputSize, stride, padding, dilation, 1);
 * ConvNd.WeightGradients<float[]> gw = ConvNd.backwardWeight(x, xShape, gradY, yShape, kernelSize, stride, padding, dilation, 1);
 * for (int i = 0; i < w.length; i++) w[i] -= learningRate * gw.weight()[i];
 * }</pre>
 *
 * <p>Heap arrays are copied into per-thread native scratch (reused across calls; free it with
 * {@link #releaseScratch()}); direct buffers (native order) are used in place, results written to
 * caller-provided outputs, which must not overlap the inputs. Numerics: each output is a sum of
 * products in an order set by the GEMM, so results agree with PyTorch's to within the rounding of
 * such sums (see the tests), not bit for bit. Threads: FoldNd.threads() for the unfold/fold engine
 * and for OpenBLAS, which run one after the other and never nested. Bad shapes raise
 * IllegalArgumentException naming the argument, before any work.
 */
public final class ConvNd {
    private ConvNd() {}

    /** dL/dweight (C_out, C_in / groups, *k) and dL/dbias (C_out). */
    public record WeightGradients<A>(A weight, A bias) {}

    // ---- heap arrays ---------------------------------------------------------------------------

    /** The convolution of x (N, C_in, *n) with weight (C_out, C_in / groups, *k), plus bias (nullable): y (N, C_out, *grid). */
    public static float[] forward(float[] x, long[] xShape, float[] weight, long[] weightShape, float[] bias, int[] stride,
                                  int[] padding, int[] dilation, int groups) {
        ConvShape s = ConvShape.of(xShape, weightShape, stride, padding, dilation, groups);
        checkArrays(x, "x", s.xLength(), weight, "weight", s.weightLength(), bias, "bias", s.outChannels);
        ConvFloatOps ops = ConvFloatOps.INSTANCE;
        FloatBuffer y = ops.scratch(Convolution.STAGE_OUT, s.yLength());
        ops.forward(s, ops.stage(Convolution.STAGE_A, x), ops.stage(Convolution.STAGE_B, weight), ops.stage(Convolution.STAGE_C, bias), y);
        return ConvFloatOps.toArray(y, s.yLength());
    }

    /** double version of {@link #forward(float[], long[], float[], long[], float[], int[], int[], int[], int)}. */
    public static double[] forward(double[] x, long[] xShape, double[] weight, long[] weightShape, double[] bias, int[] stride,
                                   int[] padding, int[] dilation, int groups) {
        ConvShape s = ConvShape.of(xShape, weightShape, stride, padding, dilation, groups);
        checkArrays(x, "x", s.xLength(), weight, "weight", s.weightLength(), bias, "bias", s.outChannels);
        ConvDoubleOps ops = ConvDoubleOps.INSTANCE;
        DoubleBuffer y = ops.scratch(Convolution.STAGE_OUT, s.yLength());
        ops.forward(s, ops.stage(Convolution.STAGE_A, x), ops.stage(Convolution.STAGE_B, weight), ops.stage(Convolution.STAGE_C, bias), y);
        return ConvDoubleOps.toArray(y, s.yLength());
    }

    /** dL/dx (N, C_in, *inputSpatialSize) from gradY = dL/dy (N, C_out, *grid). */
    public static float[] backwardInput(float[] gradY, long[] gradYShape, float[] weight, long[] weightShape, int[] inputSpatialSize,
                                        int[] stride, int[] padding, int[] dilation, int groups) {
        ConvShape s = ConvShape.forGradInput(gradYShape, weightShape, inputSpatialSize, stride, padding, dilation, groups);
        checkArrays(gradY, "gradY", s.yLength(), weight, "weight", s.weightLength(), null, "", 0);
        ConvFloatOps ops = ConvFloatOps.INSTANCE;
        FloatBuffer gradX = ops.scratch(Convolution.STAGE_OUT, s.xLength());
        ops.backwardInput(s, ops.stage(Convolution.STAGE_A, gradY), ops.stage(Convolution.STAGE_B, weight), gradX);
        return ConvFloatOps.toArray(gradX, s.xLength());
    }

    /** double version of {@link #backwardInput(float[], long[], float[], long[], int[], int[], int[], int[], int)}. */
    public static double[] backwardInput(double[] gradY, long[] gradYShape, double[] weight, long[] weightShape, int[] inputSpatialSize,
                                         int[] stride, int[] padding, int[] dilation, int groups) {
        ConvShape s = ConvShape.forGradInput(gradYShape, weightShape, inputSpatialSize, stride, padding, dilation, groups);
        checkArrays(gradY, "gradY", s.yLength(), weight, "weight", s.weightLength(), null, "", 0);
        ConvDoubleOps ops = ConvDoubleOps.INSTANCE;
        DoubleBuffer gradX = ops.scratch(Convolution.STAGE_OUT, s.xLength());
        ops.backwardInput(s, ops.stage(Convolution.STAGE_A, gradY), ops.stage(Convolution.STAGE_B, weight), gradX);
        return ConvDoubleOps.toArray(gradX, s.xLength());
    }

    /** dL/dweight (C_out, C_in / groups, *kernelSize) and dL/dbias (C_out) from x and gradY = dL/dy. */
    public static WeightGradients<float[]> backwardWeight(float[] x, long[] xShape, float[] gradY, long[] gradYShape, int[] kernelSize,
                                                          int[] stride, int[] padding, int[] dilation, int groups) {
        ConvShape s = ConvShape.forGradWeight(xShape, gradYShape, kernelSize, stride, padding, dilation, groups);
        checkArrays(x, "x", s.xLength(), gradY, "gradY", s.yLength(), null, "", 0);
        ConvFloatOps ops = ConvFloatOps.INSTANCE;
        FloatBuffer gw = ops.scratch(Convolution.STAGE_OUT, s.weightLength()), gb = ops.scratch(Convolution.STAGE_C, s.outChannels);
        ops.backwardWeight(s, ops.stage(Convolution.STAGE_A, x), ops.stage(Convolution.STAGE_B, gradY), gw, gb);
        return new WeightGradients<>(ConvFloatOps.toArray(gw, s.weightLength()), ConvFloatOps.toArray(gb, s.outChannels));
    }

    /** double version of {@link #backwardWeight(float[], long[], float[], long[], int[], int[], int[], int[], int)}. */
    public static WeightGradients<double[]> backwardWeight(double[] x, long[] xShape, double[] gradY, long[] gradYShape, int[] kernelSize,
                                                           int[] stride, int[] padding, int[] dilation, int groups) {
        ConvShape s = ConvShape.forGradWeight(xShape, gradYShape, kernelSize, stride, padding, dilation, groups);
        checkArrays(x, "x", s.xLength(), gradY, "gradY", s.yLength(), null, "", 0);
        ConvDoubleOps ops = ConvDoubleOps.INSTANCE;
        DoubleBuffer gw = ops.scratch(Convolution.STAGE_OUT, s.weightLength()), gb = ops.scratch(Convolution.STAGE_C, s.outChannels);
        ops.backwardWeight(s, ops.stage(Convolution.STAGE_A, x), ops.stage(Convolution.STAGE_B, gradY), gw, gb);
        return new WeightGradients<>(ConvDoubleOps.toArray(gw, s.weightLength()), ConvDoubleOps.toArray(gb, s.outChannels));
    }

    // ---- direct buffers, caller-provided outputs ------------------------------------------------

    /** forward between direct buffers (native order, read from their positions); bias nullable; writes y. */
    public static void forward(FloatBuffer x, long[] xShape, FloatBuffer weight, long[] weightShape, FloatBuffer bias, int[] stride,
                               int[] padding, int[] dilation, int groups, FloatBuffer y) {
        ConvShape s = ConvShape.of(xShape, weightShape, stride, padding, dilation, groups);
        checkBuffers(x, "x", s.xLength(), weight, "weight", s.weightLength(), bias, "bias", s.outChannels, y, "y", s.yLength());
        ConvFloatOps.INSTANCE.forward(s, x, weight, bias, y);
    }

    /** forward between direct buffers; double. */
    public static void forward(DoubleBuffer x, long[] xShape, DoubleBuffer weight, long[] weightShape, DoubleBuffer bias, int[] stride,
                               int[] padding, int[] dilation, int groups, DoubleBuffer y) {
        ConvShape s = ConvShape.of(xShape, weightShape, stride, padding, dilation, groups);
        checkBuffers(x, "x", s.xLength(), weight, "weight", s.weightLength(), bias, "bias", s.outChannels, y, "y", s.yLength());
        ConvDoubleOps.INSTANCE.forward(s, x, weight, bias, y);
    }

    /** backwardInput between direct buffers; writes gradX (N, C_in, *inputSpatialSize). */
    public static void backwardInput(FloatBuffer gradY, long[] gradYShape, FloatBuffer weight, long[] weightShape, int[] inputSpatialSize,
                                     int[] stride, int[] padding, int[] dilation, int groups, FloatBuffer gradX) {
        ConvShape s = ConvShape.forGradInput(gradYShape, weightShape, inputSpatialSize, stride, padding, dilation, groups);
        checkBuffers(gradY, "gradY", s.yLength(), weight, "weight", s.weightLength(), null, "", 0, gradX, "gradX", s.xLength());
        ConvFloatOps.INSTANCE.backwardInput(s, gradY, weight, gradX);
    }

    /** backwardInput between direct buffers; double. */
    public static void backwardInput(DoubleBuffer gradY, long[] gradYShape, DoubleBuffer weight, long[] weightShape, int[] inputSpatialSize,
                                     int[] stride, int[] padding, int[] dilation, int groups, DoubleBuffer gradX) {
        ConvShape s = ConvShape.forGradInput(gradYShape, weightShape, inputSpatialSize, stride, padding, dilation, groups);
        checkBuffers(gradY, "gradY", s.yLength(), weight, "weight", s.weightLength(), null, "", 0, gradX, "gradX", s.xLength());
        ConvDoubleOps.INSTANCE.backwardInput(s, gradY, weight, gradX);
    }

    /** backwardWeight between direct buffers; writes gradWeight, and gradBias unless it is null. */
    public static void backwardWeight(FloatBuffer x, long[] xShape, FloatBuffer gradY, long[] gradYShape, int[] kernelSize, int[] stride,
                                      int[] padding, int[] dilation, int groups, FloatBuffer gradWeight, FloatBuffer gradBias) {
        ConvShape s = ConvShape.forGradWeight(xShape, gradYShape, kernelSize, stride, padding, dilation, groups);
        checkBuffers(x, "x", s.xLength(), gradY, "gradY", s.yLength(), null, "", 0, gradWeight, "gradWeight", s.weightLength());
        if (gradBias != null) Check.output(gradBias, "gradBias", s.outChannels);
        ConvFloatOps.INSTANCE.backwardWeight(s, x, gradY, gradWeight, gradBias);
    }

    /** backwardWeight between direct buffers; double. */
    public static void backwardWeight(DoubleBuffer x, long[] xShape, DoubleBuffer gradY, long[] gradYShape, int[] kernelSize, int[] stride,
                                      int[] padding, int[] dilation, int groups, DoubleBuffer gradWeight, DoubleBuffer gradBias) {
        ConvShape s = ConvShape.forGradWeight(xShape, gradYShape, kernelSize, stride, padding, dilation, groups);
        checkBuffers(x, "x", s.xLength(), gradY, "gradY", s.yLength(), null, "", 0, gradWeight, "gradWeight", s.weightLength());
        if (gradBias != null) Check.output(gradBias, "gradBias", s.outChannels);
        ConvDoubleOps.INSTANCE.backwardWeight(s, x, gradY, gradWeight, gradBias);
    }

    /** Frees the calling thread's scratch memory (it is otherwise kept for the next call). */
    public static void releaseScratch() {
        ConvFloatOps.releaseScratch();
        ConvDoubleOps.releaseScratch();
    }

    // ---- checks ---------------------------------------------------------------------------------

    private static void checkArrays(Object a, String aName, long aLength, Object b, String bName, long bLength,
                                    Object bias, String biasName, long biasLength) {
        Check.length(aName, java.lang.reflect.Array.getLength(Check.notNull(a, aName)), aLength);
        Check.length(bName, java.lang.reflect.Array.getLength(Check.notNull(b, bName)), bLength);
        if (bias != null) Check.length(biasName, java.lang.reflect.Array.getLength(bias), biasLength);
    }

    private static void checkBuffers(Buffer a, String aName, long aLength, Buffer b, String bName, long bLength, Buffer bias,
                                     String biasName, long biasLength, Buffer out, String outName, long outLength) {
        Check.input(a, aName, aLength);
        Check.input(b, bName, bLength);
        if (bias != null) Check.input(bias, biasName, biasLength);
        Check.output(out, outName, outLength);
        Check.distinct(a, out);
        Check.distinct(b, out);
        if (bias != null) Check.distinct(bias, out);
    }
}
