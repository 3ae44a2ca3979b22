package io.github.foldnd;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * N-dimensional fold (col2im) and unfold (im2col) with PyTorch's semantics, on the engine chosen
 * by {@link Engine#selected()}.
 *
 * <p>With d = {@code kernelSize.length} spatial dimensions (1 to {@link FoldGeometry#MAX_DIMS}), kernel size k, dilation δ,
 * padding and stride s (each d values; padding may also be 2d values b[0..d), e[0..d) in ONNX
 * {@code pads} order, the start of each dimension then the end of each: asymmetric padding, as
 * ONNX Col2Im and "SAME" padding need; d values p mean b = e = p), an image of spatial size n has
 * <pre>
 *   grid[i] = (n[i] + b[i] + e[i] - δ[i] (k[i] - 1) - 1) / s[i] + 1,   K = ∏ k,   L = ∏ grid
 *   unfold: (N, C, *n)  -> (N, C·K, L)        (unbatched: (C, *n) -> (C·K, L))
 *   fold:   (N, C·K, L) -> (N, C, *outputSize) (unbatched: (C·K, L) -> (C, *outputSize))
 * </pre>
 * Column row {@code c·K + k} is channel c at kernel offset k (row-major), column l is block l of the
 * grid (row-major). Padding is zeros; fold drops contributions that land in the padding, leaves
 * elements no block covers at 0, and adds overlapping contributions in increasing kernel-offset
 * order starting from +0.0, exactly as PyTorch's col2im does, so 2-d float and double results equal
 * {@code torch.nn.functional.fold/unfold} bit for bit.
 *
 * <p>The user's example ({@code arange(18)} as (1, 2, 3, 3), 2x2 kernel):
 * <pre>{@code
 * int[] k = {2, 2}, one = {1, 1}, zero = {0, 0};
 * float[] cols = FoldNd.unfold(image, new long[] {1, 2, 3, 3}, k, one, zero, one);      // (1, 8, 4)
 * float[] sum  = FoldNd.fold(cols, new long[] {1, 8, 4}, new int[] {3, 3}, k, one, zero, one);
 * float[] back = FoldNd.fold(cols, new long[] {1, 8, 4}, new int[] {3, 3}, k, one, zero, one,
 *                            Reduce.MEAN, null);                                        // == image
 * }</pre>
 *
 * <p>Every argument is checked before any native call or large allocation: bad input raises
 * {@link IllegalArgumentException} (or {@link NullPointerException} for a null argument) whose
 * message names the argument, the value received and what was expected. Inputs are never
 * modified. Buffers may be direct or heap ({@code FloatBuffer.wrap}, read-only, views of a heap
 * ByteBuffer), in any mix; {@link Engine} says which are used in place and which are copied.
 * For repeated calls, build a {@link FoldGeometry} once and call {@link Engine} directly.
 */
public final class FoldNd {
    private FoldNd() {}

    /** The shape unfold produces: (N, C·K, L) or (C·K, L). */
    public static long[] unfoldShape(long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride)
                .columnShape();
    }

    /** unfold (im2col): input (N, C, *n) or (C, *n) to a new (N, C·K, L) or (C·K, L) array. */
    public static float[] unfold(
            float[] input, long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input);
    }

    /** unfold (im2col) on double; see {@link #unfold(float[], long[], int[], int[], int[], int[])}. */
    public static double[] unfold(
            double[] input, long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input);
    }

    /**
     * unfold (im2col) of 8-bit data (int8, uint8: label maps, 8-bit images): bit for bit, zeros in the padding; see
     * {@link #unfold(float[], long[], int[], int[], int[], int[])}.
     */
    public static byte[] unfold(
            byte[] input, long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input);
    }

    /** unfold (im2col) of 8-bit data (int8, uint8: label maps, 8-bit images) into a caller's array (at least N·C·K·L elements, written from 0). */
    public static void unfold(
            byte[] input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            byte[] output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /**
     * unfold (im2col) of 16-bit data (int16, uint16, float16 or bfloat16 bits): bit for bit, zeros in the padding; see
     * {@link #unfold(float[], long[], int[], int[], int[], int[])}.
     */
    public static short[] unfold(
            short[] input, long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input);
    }

    /** unfold (im2col) of 16-bit data (int16, uint16, float16 or bfloat16 bits) into a caller's array (at least N·C·K·L elements, written from 0). */
    public static void unfold(
            short[] input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            short[] output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /**
     * unfold (im2col) of 32-bit integers: bit for bit, zeros in the padding; see
     * {@link #unfold(float[], long[], int[], int[], int[], int[])}.
     */
    public static int[] unfold(
            int[] input, long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input);
    }

    /** unfold (im2col) of 32-bit integers into a caller's array (at least N·C·K·L elements, written from 0). */
    public static void unfold(
            int[] input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            int[] output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /**
     * unfold (im2col) of 64-bit integers (index tensors): bit for bit, zeros in the padding; see
     * {@link #unfold(float[], long[], int[], int[], int[], int[])}.
     */
    public static long[] unfold(
            long[] input, long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input);
    }

    /** unfold (im2col) of 64-bit integers (index tensors) into a caller's array (at least N·C·K·L elements, written from 0). */
    public static void unfold(
            long[] input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            long[] output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /**
     * unfold (im2col) into a caller's array (reusable from call to call: no allocation per call),
     * which must hold at least the (N, C·K, L) elements and must not be {@code input}.
     */
    public static void unfold(
            float[] input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            float[] output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /** unfold (im2col) on double into a caller's array; see the float overload. */
    public static void unfold(
            double[] input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            double[] output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /**
     * unfold (im2col) between buffers: direct (native order) or heap, in any mix, zero-copy where
     * both are direct or a heap buffer has an accessible array (see {@link Engine}).
     */
    public static void unfold(
            FloatBuffer input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            FloatBuffer output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /**
     * unfold (im2col) between buffers: direct (native order) or heap, in any mix, zero-copy where
     * both are direct or a heap buffer has an accessible array (see {@link Engine}).
     */
    public static void unfold(
            DoubleBuffer input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            DoubleBuffer output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /** unfold (im2col) between JavaCPP pointers (bounds: position to limit), zero-copy. */
    public static void unfold(
            FloatPointer input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            FloatPointer output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /** unfold (im2col) between JavaCPP pointers (bounds: position to limit), zero-copy. */
    public static void unfold(
            DoublePointer input,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            DoublePointer output) {
        Engine.selected()
                .unfold(FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride), input, output);
    }

    /** fold (col2im), summing overlaps: input (N, C·K, L) or (C·K, L) to a new (N, C, *outputSize) or (C, *outputSize). */
    public static float[] fold(
            float[] input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride) {
        return fold(input, inputShape, outputSize, kernelSize, dilation, padding, stride, Reduce.SUM, null);
    }

    /** fold (col2im) on double, summing overlaps. */
    public static double[] fold(
            double[] input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride) {
        return fold(input, inputShape, outputSize, kernelSize, dilation, padding, stride, Reduce.SUM, null);
    }

    /**
     * fold (col2im) merging overlaps with {@code reduce}; {@code weights} (nullable, K values in
     * kernel-offset order) multiplies each block's contribution first (see {@link Reduce}).
     */
    public static float[] fold(
            float[] input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            float[] weights) {
        return Engine.selected()
                .fold(
                        FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride),
                        input,
                        reduce,
                        weights);
    }

    /** fold (col2im) on double merging overlaps with {@code reduce}; see the float overload. */
    public static double[] fold(
            double[] input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            double[] weights) {
        return Engine.selected()
                .fold(
                        FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride),
                        input,
                        reduce,
                        weights);
    }

    /**
     * fold (col2im) into a caller's array (reusable from call to call: no allocation per call),
     * which must hold at least the (N, C, *outputSize) elements and must not be {@code input};
     * {@code weights} nullable.
     */
    public static void fold(
            float[] input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            float[] weights,
            float[] output) {
        Engine.selected()
                .fold(
                        FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride),
                        input,
                        reduce,
                        weights,
                        output);
    }

    /** fold (col2im) on double into a caller's array; see the float overload. */
    public static void fold(
            double[] input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            double[] weights,
            double[] output) {
        Engine.selected()
                .fold(
                        FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride),
                        input,
                        reduce,
                        weights,
                        output);
    }

    /**
     * fold (col2im) between buffers: direct (native order) or heap, in any mix (see {@link Engine});
     * {@code weights} nullable.
     */
    public static void fold(
            FloatBuffer input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            float[] weights,
            FloatBuffer output) {
        Engine.selected()
                .fold(
                        FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride),
                        input,
                        reduce,
                        weights,
                        output);
    }

    /**
     * fold (col2im) between buffers: direct (native order) or heap, in any mix (see {@link Engine});
     * {@code weights} nullable.
     */
    public static void fold(
            DoubleBuffer input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            double[] weights,
            DoubleBuffer output) {
        Engine.selected()
                .fold(
                        FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride),
                        input,
                        reduce,
                        weights,
                        output);
    }

    /** fold (col2im) between JavaCPP pointers (bounds: position to limit), zero-copy; {@code weights} nullable. */
    public static void fold(
            FloatPointer input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            float[] weights,
            FloatPointer output) {
        Engine.selected()
                .fold(
                        FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride),
                        input,
                        reduce,
                        weights,
                        output);
    }

    /** fold (col2im) between JavaCPP pointers (bounds: position to limit), zero-copy; {@code weights} nullable. */
    public static void fold(
            DoublePointer input,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            double[] weights,
            DoublePointer output) {
        Engine.selected()
                .fold(
                        FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride),
                        input,
                        reduce,
                        weights,
                        output);
    }

    /** Threads per call (default: OMP_NUM_THREADS if set, else the available processors). */
    public static int threads() {
        return Threads.get();
    }

    /** Sets the threads per call, for every engine; results never depend on it. */
    public static void setThreads(int threads) {
        Threads.set(threads);
    }

    /** The name of the engine in use: "native" or "java". */
    public static String engineName() {
        return Engine.selected().name();
    }
}
