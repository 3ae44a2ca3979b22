package io.github.foldnd.conv;

import io.github.foldnd.internal.Check;
import io.github.foldnd.internal.NativeMemory;
import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * N-dimensional convolution (d = 1, 2, 3, ... spatial dimensions) built from unfold, fold and one
 * GEMM per group (OpenBLAS), with PyTorch's shapes and semantics (cross-correlation):
 * <pre>
 *   x       (N, C_in, *n)
 *   weight  (C_out, C_in / groups, *k)
 *   bias    (C_out) or null
 *   y       (N, C_out, *grid),  grid[i] = (n[i] + b[i] + e[i] - δ[i] (k[i] - 1) - 1) / s[i] + 1
 *   y(n, o, *j) = bias(o) + Σ over c in o's group and kernel offsets κ of weight(o, c, *κ) x(n, c, *(j s - b + κ δ))
 * </pre>
 * Padding is d values p (b = e = p, PyTorch's) or 2d values in ONNX {@code pads} order, every
 * start b[0..d) then every end e[0..d): asymmetric, as ONNX Conv and TF's "SAME" padding need.
 * {@code backwardInput} gives dL/dx from dL/dy (= gradY), {@code backwardWeight} dL/dweight and
 * dL/dbias, as PyTorch's autograd does; groups = C_in = C_out is a depthwise convolution. With the
 * native engine and OpenBLAS, each pass cuts the work into cache-sized tiles of columns that every
 * thread unfolds and multiplies at once (native/include/foldnd/conv_tiled.hpp); 1x1 layers at stride 1
 * without padding multiply x in place; depthwise and small-group layers run direct kernels; elsewhere
 * the columns use the batch-fused layout (C_in·K, N·L), one matrix product per group for the batch.
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
 * <p>Every method also takes the layer's parameters as one {@link ConvGeometry}, set by name, in place
 * of {@code stride, padding, dilation, groups} (and of backwardWeight's kernelSize): with int arrays
 * in PyTorch's order here and in {@code FoldNd}'s (dilation, padding, stride) there, a swap would
 * compile. The same step:
 * <pre>{@code
 * ConvGeometry layer = ConvGeometry.builder().kernelSize(3, 3).padding(1, 1).build();
 * float[] y = ConvNd.forward(x, xShape, w, wShape, b, layer);
 * float[] gradX = ConvNd.backwardInput(gradY, yShape, w, wShape, inputSize, layer);
 * ConvNd.WeightGradients<float[]> gw = ConvNd.backwardWeight(x, xShape, gradY, yShape, layer);
 * }</pre>
 * Each runs the positional overload with the geometry's values, so the results are the same bit for
 * bit; where it also takes weightShape, weightShape's spatial sizes must be the geometry's kernelSize.
 *
 * <p>Heap arrays are used in place: a tiled pass (native engine and OpenBLAS here) in parts of about
 * 2^26 multiply-adds, each in its own JNI critical region, so the collector never waits long; the
 * direct kernels of depthwise and small-group layers in parts of about 16 MiB of arrays (about a
 * millisecond of work), each a share of the kernels' items. Passes without the native engine (and
 * GEMM layers without OpenBLAS) copy the arrays through per-thread native scratch. Each pass on heap arrays
 * also writes into arrays the caller keeps (the ConvGeometry overloads ending in the outputs): a
 * training loop then allocates no output per step, where a new array costs the JVM a zeroing pass on
 * one thread before the kernels write it. Direct buffers (native order) are used in place, results
 * written to caller-provided outputs. Numerics: each output is a sum of products in
 * an order set by the GEMM, so results agree with PyTorch's to within the rounding of such sums (see
 * the tests), not bit for bit, and the same bits on any thread count (the work is cut by the
 * problem, not by the threads). Threads: FoldNd.threads(); on the tiled path each runs its own
 * single-threaded GEMMs (OpenBLAS is held to one thread meanwhile). Bad shapes raise
 * IllegalArgumentException naming the argument, before any work.
 *
 * <p>Buffers: each buffer argument is read once, on entry, as {@code buffer.slice()}: the call then
 * works on that private view of [position, limit), so another thread moving the buffer's position
 * or limit meanwhile cannot move the memory the call reads or writes, and the caller's position and
 * limit are never changed. An output must not share a byte with an input or with another output
 * (the kernels do not work in place; a bias gradient written over x would corrupt x): such calls are
 * refused with IllegalArgumentException naming both arguments. Where JavaCPP's native library is
 * missing (no addresses can be read), only the same buffer object passed twice is detected.
 *
 * <p>Scratch: the tiled passes hold one tile of columns per thread (about 1 MiB; the C++ side's,
 * freed when the call returns). Without them, the column matrix (C_in·K, N·L) and the reordered
 * output live in per-thread native scratch, as do the native copies of heap arrays that are staged,
 * taken with malloc and freed explicitly. A thread keeps
 * at most 16 MiB of it between calls, for the next
 * call; anything beyond is freed when the call returns, and {@link #releaseScratch()} frees the rest.
 * One scratch block is used through one ByteBuffer view, so it holds at most 2147483647 bytes
 * (2^31 - 1): without the tiled passes, a convolution whose column matrix needs more is refused with
 * IllegalArgumentException (split the batch); a failed native allocation is an OutOfMemoryError
 * saying how much was asked for and why.
 */
public final class ConvNd {
    private ConvNd() {}

    /** dL/dweight (C_out, C_in / groups, *k) and dL/dbias (C_out). */
    public record WeightGradients<A>(A weight, A bias) {}

    // ---- heap arrays ---------------------------------------------------------------------------
    // Each element type has its public overload; both run the one generic body below them.

    /** The convolution of x (N, C_in, *n) with weight (C_out, C_in / groups, *k), plus bias (nullable): y (N, C_out, *grid). */
    public static float[] forward(
            float[] x,
            long[] xShape,
            float[] weight,
            long[] weightShape,
            float[] bias,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups) {
        return forwardArrays(
                FloatConvolution.INSTANCE,
                x,
                xShape,
                weight,
                weightShape,
                bias,
                stride,
                padding,
                dilation,
                groups,
                null);
    }

    /** double version of {@link #forward(float[], long[], float[], long[], float[], int[], int[], int[], int)}. */
    public static double[] forward(
            double[] x,
            long[] xShape,
            double[] weight,
            long[] weightShape,
            double[] bias,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups) {
        return forwardArrays(
                DoubleConvolution.INSTANCE,
                x,
                xShape,
                weight,
                weightShape,
                bias,
                stride,
                padding,
                dilation,
                groups,
                null);
    }

    /**
     * The convolution of x (N, C_in, *n) with weight (C_out, C_in / groups, *kernelSize), plus bias
     * (C_out, nullable), for the layer {@code geometry}: y (N, C_out, *geometry.outputSize(n)). As
     * {@link #forward(float[], long[], float[], long[], float[], int[], int[], int[], int)} with the
     * geometry's stride, padding, dilation and groups.
     *
     * @throws NullPointerException if geometry (or x, xShape, weight, weightShape) is null
     * @throws IllegalArgumentException if weightShape's spatial sizes are not geometry's kernelSize, or
     *     as the positional overload
     */
    public static float[] forward(
            float[] x, long[] xShape, float[] weight, long[] weightShape, float[] bias, ConvGeometry geometry) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        return forward(x, xShape, weight, weightShape, bias, g.stride, g.padding, g.dilation, g.groups);
    }

    /** double version of {@link #forward(float[], long[], float[], long[], float[], ConvGeometry)}. */
    public static double[] forward(
            double[] x, long[] xShape, double[] weight, long[] weightShape, double[] bias, ConvGeometry geometry) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        return forward(x, xShape, weight, weightShape, bias, g.stride, g.padding, g.dilation, g.groups);
    }

    /**
     * forward on heap arrays of either type, into {@code into} (checked here) or, where it is null, a new
     * array: in place where it can (Convolution.onArrays), else staged into scratch, the result copied out.
     */
    private static <B extends Buffer, A> A forwardArrays(
            Convolution<B, A> ops,
            A x,
            long[] xShape,
            A weight,
            long[] weightShape,
            A bias,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            A into) {
        ConvShape s = ConvShape.of(xShape, weightShape, stride, padding, dilation, groups);
        checkArrays(x, "x", s.xLength(), weight, "weight", s.weightLength(), bias, "bias", s.outChannels);
        if (into != null) checkOutput(into, "y", s.yLength(), x, "x", weight, "weight", bias, "bias");
        A y = into != null ? into : ops.newArray(s.yLength());
        if (s.batch > 0 && ops.onArrays(s)) {
            ops.passOnArrays(s, Convolution.FORWARD, x, weight, bias, y);
            return y;
        }
        try {
            B staged = ops.scratch(Convolution.STAGE_OUT, s.yLength(), "the native copy of the result y");
            ops.forward(
                    s,
                    ops.stage(Convolution.STAGE_A, x, "x"),
                    ops.stage(Convolution.STAGE_B, weight, "weight"),
                    ops.stage(Convolution.STAGE_C, bias, "bias"),
                    staged);
            ops.copyOut(staged, y, s.yLength());
            return y;
        } finally {
            Convolution.endCall();
        }
    }

    /** dL/dx (N, C_in, *inputSpatialSize) from gradY = dL/dy (N, C_out, *grid). */
    public static float[] backwardInput(
            float[] gradY,
            long[] gradYShape,
            float[] weight,
            long[] weightShape,
            int[] inputSpatialSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups) {
        return backwardInputArrays(
                FloatConvolution.INSTANCE,
                gradY,
                gradYShape,
                weight,
                weightShape,
                inputSpatialSize,
                stride,
                padding,
                dilation,
                groups,
                null);
    }

    /** double version of {@link #backwardInput(float[], long[], float[], long[], int[], int[], int[], int[], int)}. */
    public static double[] backwardInput(
            double[] gradY,
            long[] gradYShape,
            double[] weight,
            long[] weightShape,
            int[] inputSpatialSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups) {
        return backwardInputArrays(
                DoubleConvolution.INSTANCE,
                gradY,
                gradYShape,
                weight,
                weightShape,
                inputSpatialSize,
                stride,
                padding,
                dilation,
                groups,
                null);
    }

    /**
     * dL/dx (N, C_in, *inputSpatialSize) from gradY = dL/dy (N, C_out, *geometry.outputSize(inputSpatialSize))
     * and weight (C_out, C_in / groups, *kernelSize), for the layer {@code geometry}. As
     * {@link #backwardInput(float[], long[], float[], long[], int[], int[], int[], int[], int)} with
     * the geometry's stride, padding, dilation and groups.
     *
     * @throws NullPointerException if geometry (or gradY, gradYShape, weight, weightShape, inputSpatialSize) is null
     * @throws IllegalArgumentException if weightShape's spatial sizes are not geometry's kernelSize, or
     *     as the positional overload
     */
    public static float[] backwardInput(
            float[] gradY,
            long[] gradYShape,
            float[] weight,
            long[] weightShape,
            int[] inputSpatialSize,
            ConvGeometry geometry) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        return backwardInput(
                gradY, gradYShape, weight, weightShape, inputSpatialSize, g.stride, g.padding, g.dilation, g.groups);
    }

    /** double version of {@link #backwardInput(float[], long[], float[], long[], int[], ConvGeometry)}. */
    public static double[] backwardInput(
            double[] gradY,
            long[] gradYShape,
            double[] weight,
            long[] weightShape,
            int[] inputSpatialSize,
            ConvGeometry geometry) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        return backwardInput(
                gradY, gradYShape, weight, weightShape, inputSpatialSize, g.stride, g.padding, g.dilation, g.groups);
    }

    /**
     * backwardInput on heap arrays of either type, into {@code into} (checked here) or, where it is null,
     * a new array: in place where it can (Convolution.onArrays), else staged into scratch, the result
     * copied out.
     */
    private static <B extends Buffer, A> A backwardInputArrays(
            Convolution<B, A> ops,
            A gradY,
            long[] gradYShape,
            A weight,
            long[] weightShape,
            int[] inputSpatialSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            A into) {
        ConvShape s =
                ConvShape.forGradInput(gradYShape, weightShape, inputSpatialSize, stride, padding, dilation, groups);
        checkArrays(gradY, "gradY", s.yLength(), weight, "weight", s.weightLength(), null, "", 0);
        if (into != null) checkOutput(into, "gradX", s.xLength(), gradY, "gradY", weight, "weight", null, "");
        A gradX = into != null ? into : ops.newArray(s.xLength());
        if (s.batch > 0 && ops.onArrays(s)) {
            ops.passOnArrays(s, Convolution.BACKWARD_INPUT, gradY, weight, null, gradX);
            return gradX;
        }
        try {
            B staged = ops.scratch(Convolution.STAGE_OUT, s.xLength(), "the native copy of the result gradX");
            ops.backwardInput(
                    s,
                    ops.stage(Convolution.STAGE_A, gradY, "gradY"),
                    ops.stage(Convolution.STAGE_B, weight, "weight"),
                    staged);
            ops.copyOut(staged, gradX, s.xLength());
            return gradX;
        } finally {
            Convolution.endCall();
        }
    }

    /** dL/dweight (C_out, C_in / groups, *kernelSize) and dL/dbias (C_out) from x and gradY = dL/dy. */
    public static WeightGradients<float[]> backwardWeight(
            float[] x,
            long[] xShape,
            float[] gradY,
            long[] gradYShape,
            int[] kernelSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups) {
        return backwardWeightArrays(
                FloatConvolution.INSTANCE,
                x,
                xShape,
                gradY,
                gradYShape,
                kernelSize,
                stride,
                padding,
                dilation,
                groups,
                null,
                null);
    }

    /** double version of {@link #backwardWeight(float[], long[], float[], long[], int[], int[], int[], int[], int)}. */
    public static WeightGradients<double[]> backwardWeight(
            double[] x,
            long[] xShape,
            double[] gradY,
            long[] gradYShape,
            int[] kernelSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups) {
        return backwardWeightArrays(
                DoubleConvolution.INSTANCE,
                x,
                xShape,
                gradY,
                gradYShape,
                kernelSize,
                stride,
                padding,
                dilation,
                groups,
                null,
                null);
    }

    /**
     * dL/dweight (C_out, C_in / groups, *kernelSize) and dL/dbias (C_out) from x (N, C_in, *n) and
     * gradY = dL/dy (N, C_out, *geometry.outputSize(n)), for the layer {@code geometry}, whose kernelSize
     * is the weight's. As {@link #backwardWeight(float[], long[], float[], long[], int[], int[], int[],
     * int[], int)} with the geometry's kernelSize, stride, padding, dilation and groups.
     *
     * @throws NullPointerException if geometry (or x, xShape, gradY, gradYShape) is null
     * @throws IllegalArgumentException as the positional overload
     */
    public static WeightGradients<float[]> backwardWeight(
            float[] x, long[] xShape, float[] gradY, long[] gradYShape, ConvGeometry geometry) {
        ConvGeometry g = Check.notNull(geometry, "geometry");
        return backwardWeight(x, xShape, gradY, gradYShape, g.kernelSize, g.stride, g.padding, g.dilation, g.groups);
    }

    /** double version of {@link #backwardWeight(float[], long[], float[], long[], ConvGeometry)}. */
    public static WeightGradients<double[]> backwardWeight(
            double[] x, long[] xShape, double[] gradY, long[] gradYShape, ConvGeometry geometry) {
        ConvGeometry g = Check.notNull(geometry, "geometry");
        return backwardWeight(x, xShape, gradY, gradYShape, g.kernelSize, g.stride, g.padding, g.dilation, g.groups);
    }

    /**
     * backwardWeight on heap arrays of either type, into {@code intoWeight} and {@code intoBias} (checked
     * here; intoBias null for no bias gradient) or, where intoWeight is null, new arrays for both: in
     * place where it can (Convolution.onArrays), else staged into scratch, the results copied out.
     */
    private static <B extends Buffer, A> WeightGradients<A> backwardWeightArrays(
            Convolution<B, A> ops,
            A x,
            long[] xShape,
            A gradY,
            long[] gradYShape,
            int[] kernelSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            A intoWeight,
            A intoBias) {
        ConvShape s = ConvShape.forGradWeight(xShape, gradYShape, kernelSize, stride, padding, dilation, groups);
        checkArrays(x, "x", s.xLength(), gradY, "gradY", s.yLength(), null, "", 0);
        A gradWeight = intoWeight, gradBias = intoBias;
        if (intoWeight == null) {
            gradWeight = ops.newArray(s.weightLength());
            gradBias = ops.newArray(s.outChannels);
        } else {
            checkOutput(intoWeight, "gradWeight", s.weightLength(), x, "x", gradY, "gradY", intoBias, "gradBias");
            if (intoBias != null) checkOutput(intoBias, "gradBias", s.outChannels, x, "x", gradY, "gradY", null, "");
        }
        if (s.batch > 0 && ops.onArrays(s)) {
            ops.passOnArrays(s, Convolution.BACKWARD_WEIGHT, x, gradY, gradBias, gradWeight);
            return new WeightGradients<>(gradWeight, gradBias);
        }
        try {
            B gw = ops.scratch(Convolution.STAGE_OUT, s.weightLength(), "the native copy of the result gradWeight");
            B gb = gradBias == null
                    ? null
                    : ops.scratch(Convolution.STAGE_C, s.outChannels, "the native copy of the result gradBias");
            ops.backwardWeight(
                    s, ops.stage(Convolution.STAGE_A, x, "x"), ops.stage(Convolution.STAGE_B, gradY, "gradY"), gw, gb);
            ops.copyOut(gw, gradWeight, s.weightLength());
            if (gb != null) ops.copyOut(gb, gradBias, s.outChannels);
            return new WeightGradients<>(gradWeight, gradBias);
        } finally {
            Convolution.endCall();
        }
    }

    // ---- heap arrays, caller-provided outputs ---------------------------------------------------
    // The allocating overloads' work into arrays the caller keeps from step to step: no allocation per
    // call. A new output array costs the JVM a zeroing pass on one thread before the kernels write it
    // (the stem's 25.7 MB y took 2.7-8 ms to allocate here, against a 29 ms forward). Only the
    // ConvGeometry form: a new signature need not repeat the positional (stride, padding, dilation).

    /**
     * forward into a caller's array: writes y (N, C_out, *geometry.outputSize(n)) from index 0 of
     * {@code y}, which must hold at least that many elements (any beyond are left untouched) and must
     * not be x, weight or bias; otherwise as {@link #forward(float[], long[], float[], long[], float[],
     * ConvGeometry)}, bit for bit.
     *
     * @throws NullPointerException if y (or geometry, x, xShape, weight, weightShape) is null
     * @throws IllegalArgumentException if y is too short or is an input, or as the allocating overload
     */
    public static void forward(
            float[] x,
            long[] xShape,
            float[] weight,
            long[] weightShape,
            float[] bias,
            ConvGeometry geometry,
            float[] y) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        forwardArrays(
                FloatConvolution.INSTANCE,
                x,
                xShape,
                weight,
                weightShape,
                bias,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                Check.notNull(y, "y"));
    }

    /** double version of {@link #forward(float[], long[], float[], long[], float[], ConvGeometry, float[])}. */
    public static void forward(
            double[] x,
            long[] xShape,
            double[] weight,
            long[] weightShape,
            double[] bias,
            ConvGeometry geometry,
            double[] y) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        forwardArrays(
                DoubleConvolution.INSTANCE,
                x,
                xShape,
                weight,
                weightShape,
                bias,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                Check.notNull(y, "y"));
    }

    /**
     * backwardInput into a caller's array: writes gradX (N, C_in, *inputSpatialSize) from index 0 of
     * {@code gradX}, which must hold at least that many elements (any beyond are left untouched) and
     * must not be gradY or weight; otherwise as {@link #backwardInput(float[], long[], float[], long[],
     * int[], ConvGeometry)}, bit for bit.
     *
     * @throws NullPointerException if gradX (or geometry, gradY, gradYShape, weight, weightShape) is null
     * @throws IllegalArgumentException if gradX is too short or is an input, or as the allocating overload
     */
    public static void backwardInput(
            float[] gradY,
            long[] gradYShape,
            float[] weight,
            long[] weightShape,
            int[] inputSpatialSize,
            ConvGeometry geometry,
            float[] gradX) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        backwardInputArrays(
                FloatConvolution.INSTANCE,
                gradY,
                gradYShape,
                weight,
                weightShape,
                inputSpatialSize,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                Check.notNull(gradX, "gradX"));
    }

    /** double version of {@link #backwardInput(float[], long[], float[], long[], int[], ConvGeometry, float[])}. */
    public static void backwardInput(
            double[] gradY,
            long[] gradYShape,
            double[] weight,
            long[] weightShape,
            int[] inputSpatialSize,
            ConvGeometry geometry,
            double[] gradX) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        backwardInputArrays(
                DoubleConvolution.INSTANCE,
                gradY,
                gradYShape,
                weight,
                weightShape,
                inputSpatialSize,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                Check.notNull(gradX, "gradX"));
    }

    /**
     * backwardWeight into a caller's arrays: writes dL/dweight (C_out, C_in / groups, *kernelSize) from
     * index 0 of {@code gradWeight} and, unless {@code gradBias} is null, dL/dbias (C_out) from index 0
     * of gradBias. Each must hold at least its result's elements (any beyond are left untouched), and
     * neither may be x, gradY or the other; otherwise as {@link #backwardWeight(float[], long[],
     * float[], long[], ConvGeometry)}, bit for bit.
     *
     * @throws NullPointerException if gradWeight (or geometry, x, xShape, gradY, gradYShape) is null
     * @throws IllegalArgumentException if an output is too short or is another argument, or as the
     *     allocating overload
     */
    public static void backwardWeight(
            float[] x,
            long[] xShape,
            float[] gradY,
            long[] gradYShape,
            ConvGeometry geometry,
            float[] gradWeight,
            float[] gradBias) {
        ConvGeometry g = Check.notNull(geometry, "geometry");
        backwardWeightArrays(
                FloatConvolution.INSTANCE,
                x,
                xShape,
                gradY,
                gradYShape,
                g.kernelSize,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                Check.notNull(gradWeight, "gradWeight"),
                gradBias);
    }

    /** double version of {@link #backwardWeight(float[], long[], float[], long[], ConvGeometry, float[], float[])}. */
    public static void backwardWeight(
            double[] x,
            long[] xShape,
            double[] gradY,
            long[] gradYShape,
            ConvGeometry geometry,
            double[] gradWeight,
            double[] gradBias) {
        ConvGeometry g = Check.notNull(geometry, "geometry");
        backwardWeightArrays(
                DoubleConvolution.INSTANCE,
                x,
                xShape,
                gradY,
                gradYShape,
                g.kernelSize,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                Check.notNull(gradWeight, "gradWeight"),
                gradBias);
    }

    // ---- direct buffers, caller-provided outputs ------------------------------------------------
    // As above, a public overload per element type and one generic body. Each body takes its snapshots
    // (view) first and from then on touches only them: see the class comment.

    /**
     * forward between direct buffers (native order, read from their positions); bias nullable; writes y (at least
     * yLength elements from its position; more are left untouched). No output may overlap an input.
     */
    public static void forward(
            FloatBuffer x,
            long[] xShape,
            FloatBuffer weight,
            long[] weightShape,
            FloatBuffer bias,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            FloatBuffer y) {
        forwardBuffers(
                FloatConvolution.INSTANCE, x, xShape, weight, weightShape, bias, stride, padding, dilation, groups, y);
    }

    /** forward between direct buffers; double. */
    public static void forward(
            DoubleBuffer x,
            long[] xShape,
            DoubleBuffer weight,
            long[] weightShape,
            DoubleBuffer bias,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            DoubleBuffer y) {
        forwardBuffers(
                DoubleConvolution.INSTANCE, x, xShape, weight, weightShape, bias, stride, padding, dilation, groups, y);
    }

    /**
     * {@link #forward(FloatBuffer, long[], FloatBuffer, long[], FloatBuffer, int[], int[], int[], int, FloatBuffer)}
     * for the layer {@code geometry}: x (N, C_in, *n), weight (C_out, C_in / groups, *kernelSize), bias
     * (C_out, nullable), and y, written, (N, C_out, *geometry.outputSize(n)).
     *
     * @throws NullPointerException if geometry (or x, xShape, weight, weightShape, y) is null
     * @throws IllegalArgumentException if weightShape's spatial sizes are not geometry's kernelSize, or
     *     as the positional overload
     */
    public static void forward(
            FloatBuffer x,
            long[] xShape,
            FloatBuffer weight,
            long[] weightShape,
            FloatBuffer bias,
            ConvGeometry geometry,
            FloatBuffer y) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        forward(x, xShape, weight, weightShape, bias, g.stride, g.padding, g.dilation, g.groups, y);
    }

    /** forward between direct buffers for the layer {@code geometry}; double. */
    public static void forward(
            DoubleBuffer x,
            long[] xShape,
            DoubleBuffer weight,
            long[] weightShape,
            DoubleBuffer bias,
            ConvGeometry geometry,
            DoubleBuffer y) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        forward(x, xShape, weight, weightShape, bias, g.stride, g.padding, g.dilation, g.groups, y);
    }

    /** forward between direct buffers of either type: the views, their checks, then the work on the views. */
    private static <B extends Buffer> void forwardBuffers(
            Convolution<B, ?> ops,
            B x,
            long[] xShape,
            B weight,
            long[] weightShape,
            B bias,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            B y) {
        B xv = view(x, "x"), wv = view(weight, "weight"), bv = viewOrNull(bias), yv = view(y, "y");
        ConvShape s = ConvShape.of(xShape, weightShape, stride, padding, dilation, groups);
        checkForward(ops.elementBytes, s, x, xv, weight, wv, bias, bv, y, yv);
        try {
            ops.forward(s, xv, wv, bv, yv);
        } finally {
            Convolution.endCall();
        }
    }

    /** backwardInput between direct buffers; writes gradX (N, C_in, *inputSpatialSize), which must not overlap an input. */
    public static void backwardInput(
            FloatBuffer gradY,
            long[] gradYShape,
            FloatBuffer weight,
            long[] weightShape,
            int[] inputSpatialSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            FloatBuffer gradX) {
        backwardInputBuffers(
                FloatConvolution.INSTANCE,
                gradY,
                gradYShape,
                weight,
                weightShape,
                inputSpatialSize,
                stride,
                padding,
                dilation,
                groups,
                gradX);
    }

    /** backwardInput between direct buffers; double. */
    public static void backwardInput(
            DoubleBuffer gradY,
            long[] gradYShape,
            DoubleBuffer weight,
            long[] weightShape,
            int[] inputSpatialSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            DoubleBuffer gradX) {
        backwardInputBuffers(
                DoubleConvolution.INSTANCE,
                gradY,
                gradYShape,
                weight,
                weightShape,
                inputSpatialSize,
                stride,
                padding,
                dilation,
                groups,
                gradX);
    }

    /**
     * {@link #backwardInput(FloatBuffer, long[], FloatBuffer, long[], int[], int[], int[], int[], int,
     * FloatBuffer)} for the layer {@code geometry}: gradY (N, C_out, *geometry.outputSize(inputSpatialSize)),
     * weight (C_out, C_in / groups, *kernelSize), and gradX, written, (N, C_in, *inputSpatialSize).
     *
     * @throws NullPointerException if geometry (or gradY, gradYShape, weight, weightShape, inputSpatialSize,
     *     gradX) is null
     * @throws IllegalArgumentException if weightShape's spatial sizes are not geometry's kernelSize, or
     *     as the positional overload
     */
    public static void backwardInput(
            FloatBuffer gradY,
            long[] gradYShape,
            FloatBuffer weight,
            long[] weightShape,
            int[] inputSpatialSize,
            ConvGeometry geometry,
            FloatBuffer gradX) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        backwardInput(
                gradY,
                gradYShape,
                weight,
                weightShape,
                inputSpatialSize,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                gradX);
    }

    /** backwardInput between direct buffers for the layer {@code geometry}; double. */
    public static void backwardInput(
            DoubleBuffer gradY,
            long[] gradYShape,
            DoubleBuffer weight,
            long[] weightShape,
            int[] inputSpatialSize,
            ConvGeometry geometry,
            DoubleBuffer gradX) {
        ConvGeometry g = withKernelOf(geometry, weightShape);
        backwardInput(
                gradY,
                gradYShape,
                weight,
                weightShape,
                inputSpatialSize,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                gradX);
    }

    /** backwardInput between direct buffers of either type: the views, their checks, then the work on the views. */
    private static <B extends Buffer> void backwardInputBuffers(
            Convolution<B, ?> ops,
            B gradY,
            long[] gradYShape,
            B weight,
            long[] weightShape,
            int[] inputSpatialSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            B gradX) {
        B gyv = view(gradY, "gradY"), wv = view(weight, "weight"), gxv = view(gradX, "gradX");
        ConvShape s =
                ConvShape.forGradInput(gradYShape, weightShape, inputSpatialSize, stride, padding, dilation, groups);
        checkBackwardInput(ops.elementBytes, s, gradY, gyv, weight, wv, gradX, gxv);
        try {
            ops.backwardInput(s, gyv, wv, gxv);
        } finally {
            Convolution.endCall();
        }
    }

    /**
     * backwardWeight between direct buffers; writes gradWeight, and gradBias unless it is null. Neither may overlap x,
     * gradY or the other.
     */
    public static void backwardWeight(
            FloatBuffer x,
            long[] xShape,
            FloatBuffer gradY,
            long[] gradYShape,
            int[] kernelSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            FloatBuffer gradWeight,
            FloatBuffer gradBias) {
        backwardWeightBuffers(
                FloatConvolution.INSTANCE,
                x,
                xShape,
                gradY,
                gradYShape,
                kernelSize,
                stride,
                padding,
                dilation,
                groups,
                gradWeight,
                gradBias);
    }

    /** backwardWeight between direct buffers; double. */
    public static void backwardWeight(
            DoubleBuffer x,
            long[] xShape,
            DoubleBuffer gradY,
            long[] gradYShape,
            int[] kernelSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            DoubleBuffer gradWeight,
            DoubleBuffer gradBias) {
        backwardWeightBuffers(
                DoubleConvolution.INSTANCE,
                x,
                xShape,
                gradY,
                gradYShape,
                kernelSize,
                stride,
                padding,
                dilation,
                groups,
                gradWeight,
                gradBias);
    }

    /**
     * {@link #backwardWeight(FloatBuffer, long[], FloatBuffer, long[], int[], int[], int[], int[], int,
     * FloatBuffer, FloatBuffer)} for the layer {@code geometry}, whose kernelSize is the weight's: x
     * (N, C_in, *n), gradY (N, C_out, *geometry.outputSize(n)), and, written, gradWeight (C_out, C_in /
     * groups, *kernelSize) and gradBias (C_out) unless it is null.
     *
     * @throws NullPointerException if geometry (or x, xShape, gradY, gradYShape, gradWeight) is null
     * @throws IllegalArgumentException as the positional overload
     */
    public static void backwardWeight(
            FloatBuffer x,
            long[] xShape,
            FloatBuffer gradY,
            long[] gradYShape,
            ConvGeometry geometry,
            FloatBuffer gradWeight,
            FloatBuffer gradBias) {
        ConvGeometry g = Check.notNull(geometry, "geometry");
        backwardWeight(
                x,
                xShape,
                gradY,
                gradYShape,
                g.kernelSize,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                gradWeight,
                gradBias);
    }

    /** backwardWeight between direct buffers for the layer {@code geometry}; double. */
    public static void backwardWeight(
            DoubleBuffer x,
            long[] xShape,
            DoubleBuffer gradY,
            long[] gradYShape,
            ConvGeometry geometry,
            DoubleBuffer gradWeight,
            DoubleBuffer gradBias) {
        ConvGeometry g = Check.notNull(geometry, "geometry");
        backwardWeight(
                x,
                xShape,
                gradY,
                gradYShape,
                g.kernelSize,
                g.stride,
                g.padding,
                g.dilation,
                g.groups,
                gradWeight,
                gradBias);
    }

    /** backwardWeight between direct buffers of either type: the views, their checks, then the work on the views. */
    private static <B extends Buffer> void backwardWeightBuffers(
            Convolution<B, ?> ops,
            B x,
            long[] xShape,
            B gradY,
            long[] gradYShape,
            int[] kernelSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups,
            B gradWeight,
            B gradBias) {
        B xv = view(x, "x"), gyv = view(gradY, "gradY"), gwv = view(gradWeight, "gradWeight");
        B gbv = viewOrNull(gradBias);
        ConvShape s = ConvShape.forGradWeight(xShape, gradYShape, kernelSize, stride, padding, dilation, groups);
        checkBackwardWeight(ops.elementBytes, s, x, xv, gradY, gyv, gradWeight, gwv, gradBias, gbv);
        try {
            ops.backwardWeight(s, xv, gyv, gwv, gbv);
        } finally {
            Convolution.endCall();
        }
    }

    /**
     * Frees the calling thread's scratch memory now (otherwise up to 16 MiB of it is kept for the
     * thread's next call, and freed once the thread has ended).
     */
    public static void releaseScratch() {
        Convolution.releaseScratch();
    }

    /** The bytes of scratch the calling thread holds now: between calls, at most 16 MiB (for the tests). */
    static long retainedScratchBytes() {
        return Convolution.retainedScratchBytes();
    }

    // ---- checks ---------------------------------------------------------------------------------

    /**
     * geometry, once its kernelSize is found to be weightShape's spatial sizes (weightShape[2..]); a null
     * weightShape is left to the shape checks, which name it.
     */
    private static ConvGeometry withKernelOf(ConvGeometry geometry, long[] weightShape) {
        Check.notNull(geometry, "geometry");
        if (weightShape == null) return geometry;
        int[] k = geometry.kernelSize;
        boolean same = weightShape.length == k.length + 2;
        for (int i = 0; same && i < k.length; i++) same = weightShape[i + 2] == k[i];
        if (!same) {
            throw Check.fail(
                    "weightShape must be (C_out, C_in / groups, *kernelSize) with the geometry's kernelSize %s, got %s",
                    Arrays.toString(k), Arrays.toString(weightShape));
        }
        return geometry;
    }

    private static void checkArrays(
            Object a,
            String aName,
            long aLength,
            Object b,
            String bName,
            long bLength,
            Object bias,
            String biasName,
            long biasLength) {
        Check.length(aName, java.lang.reflect.Array.getLength(Check.notNull(a, aName)), aLength);
        Check.length(bName, java.lang.reflect.Array.getLength(Check.notNull(b, bName)), bLength);
        if (bias != null) Check.length(biasName, java.lang.reflect.Array.getLength(bias), biasLength);
    }

    /**
     * A caller's output array: not the same array as any of the others (nulls skipped), since the
     * kernels do not work in place and a result written over an input would corrupt the rest of the
     * pass; and at least {@code length} elements.
     */
    private static void checkOutput(
            Object out,
            String name,
            long length,
            Object a,
            String aName,
            Object b,
            String bName,
            Object c,
            String cName) {
        Object[] others = {a, b, c};
        String[] names = {aName, bName, cName};
        for (int i = 0; i < others.length; i++) {
            if (out == others[i]) {
                throw Check.fail(
                        "%s must not be the same array as %s: the convolution does not work in place", name, names[i]);
            }
        }
        int have = java.lang.reflect.Array.getLength(out);
        if (have < length) {
            throw Check.fail("%s must hold at least %d elements (the result's), got %d", name, length, have);
        }
    }

    /**
     * The call's own view of a buffer argument: [position, limit) as one read of them sees it, with a
     * position and limit of its own. JDK's slice() keeps the view inside the buffer's capacity even
     * when another thread moves the position or limit during the read.
     */
    @SuppressWarnings("unchecked") // slice() of a FloatBuffer is a FloatBuffer, of a DoubleBuffer a DoubleBuffer
    private static <B extends Buffer> B view(B buffer, String name) {
        return (B) Check.notNull(buffer, name).slice();
    }

    /** The view of a nullable buffer argument (bias, gradBias); null stays null. */
    @SuppressWarnings("unchecked") // as in view
    private static <B extends Buffer> B viewOrNull(B buffer) {
        return buffer == null ? null : (B) buffer.slice();
    }

    /** A validated buffer argument: the caller's object (for the fallback identity check), its view, name and length. */
    private record Operand(Buffer caller, Buffer view, String name, long elements) {}

    private static void checkForward(
            int elementBytes,
            ConvShape s,
            Buffer x,
            Buffer xv,
            Buffer w,
            Buffer wv,
            Buffer b,
            Buffer bv,
            Buffer y,
            Buffer yv) {
        Operand xo = input(x, xv, "x", s.xLength()), wo = input(w, wv, "weight", s.weightLength());
        Operand bo = b == null ? null : input(b, bv, "bias", s.outChannels);
        Operand yo = output(y, yv, "y", s.yLength());
        disjoint(elementBytes, yo, xo, wo, bo);
    }

    private static void checkBackwardInput(
            int elementBytes, ConvShape s, Buffer gy, Buffer gyv, Buffer w, Buffer wv, Buffer gx, Buffer gxv) {
        Operand gyo = input(gy, gyv, "gradY", s.yLength()), wo = input(w, wv, "weight", s.weightLength());
        Operand gxo = output(gx, gxv, "gradX", s.xLength());
        disjoint(elementBytes, gxo, gyo, wo);
    }

    private static void checkBackwardWeight(
            int elementBytes,
            ConvShape s,
            Buffer x,
            Buffer xv,
            Buffer gy,
            Buffer gyv,
            Buffer gw,
            Buffer gwv,
            Buffer gb,
            Buffer gbv) {
        Operand xo = input(x, xv, "x", s.xLength()), gyo = input(gy, gyv, "gradY", s.yLength());
        Operand gwo = output(gw, gwv, "gradWeight", s.weightLength());
        Operand gbo = gb == null ? null : output(gb, gbv, "gradBias", s.outChannels);
        disjoint(elementBytes, gwo, xo, gyo, gbo);
        if (gbo != null) disjoint(elementBytes, gbo, xo, gyo);
    }

    /** An input view: direct, native order, exactly {@code elements} elements. */
    private static Operand input(Buffer caller, Buffer view, String name, long elements) {
        directNative(view, name);
        if (view.remaining() != elements) {
            throw Check.fail(
                    "%s must have %d elements remaining (from its position to its limit) to match its shape, got %d",
                    name, elements, view.remaining());
        }
        return new Operand(caller, view, name, elements);
    }

    /**
     * An output view: direct, native order, writable, at least {@code elements} elements; its limit is
     * then set to exactly those, so nothing past them can be written.
     */
    private static Operand output(Buffer caller, Buffer view, String name, long elements) {
        directNative(view, name);
        if (view.isReadOnly()) throw Check.fail("%s must be writable, got a read-only buffer", name);
        if (view.remaining() < elements) {
            throw Check.fail(
                    "%s must have at least %d elements remaining (from its position to its limit), got %d",
                    name, elements, view.remaining());
        }
        view.limit((int) elements); // elements <= remaining, an int
        return new Operand(caller, view, name, elements);
    }

    private static void directNative(Buffer view, String name) {
        if (!view.isDirect()) {
            throw Check.fail(
                    "%s must be a direct buffer (ByteBuffer.allocateDirect(..).order(ByteOrder.nativeOrder())), "
                            + "got a heap buffer",
                    name);
        }
        ByteOrder order = view instanceof FloatBuffer f ? f.order() : ((DoubleBuffer) view).order();
        if (order != ByteOrder.nativeOrder()) {
            throw Check.fail("%s must be in native byte order (%s), got %s", name, ByteOrder.nativeOrder(), order);
        }
    }

    /**
     * Refuses an output sharing a byte with any of the others (nulls skipped). The ranges are the
     * views' [element 0, elements): a view's element 0 is the caller's position, and an output's
     * range is what the call writes. Without addresses, only the same object twice is seen.
     */
    private static void disjoint(int elementBytes, Operand out, Operand... others) {
        long outAt = NativeMemory.base(out.view), outBytes = out.elements * elementBytes;
        for (Operand other : others) {
            if (other == null) continue;
            long otherAt = NativeMemory.base(other.view), otherBytes = other.elements * elementBytes;
            if (outAt == 0 || otherAt == 0) { // addresses unknown here
                if (out.caller == other.caller) {
                    throw Check.fail(
                            "%s must not be the same buffer as %s: the convolution does not work in place",
                            out.name, other.name);
                }
            } else if (NativeMemory.overlap(outAt, outBytes, otherAt, otherBytes)) {
                throw Check.fail(
                        "%s must not overlap %s in memory (%s: %d bytes at 0x%x, %s: %d bytes at 0x%x): the "
                                + "convolution does not work in place",
                        out.name, other.name, out.name, outBytes, outAt, other.name, otherBytes, otherAt);
            }
        }
    }
}
