package io.github.foldnd.ffm;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.foldnd.ElementType;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import io.github.foldnd.internal.Check;
import io.github.foldnd.internal.NativeContract;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * {@link FoldNd}'s fold (col2im) and unfold (im2col) on {@link MemorySegment}s, with the same
 * shapes, arguments and results bit for bit, through FFM downcalls into foldnd's native kernels;
 * and the streaming fold of {@link io.github.foldnd.Engine} (a range of blocks at a time, then a
 * finishing step: {@link #foldBlocks}, {@link #finishFold}).
 *
 * <pre>{@code
 * int[] k = {2, 2}, one = {1, 1}, zero = {0, 0}, size = {3, 3};
 * long[] imageShape = {1, 2, 3, 3}, columnShape = {1, 8, 4};
 * try (Arena arena = Arena.ofConfined()) {
 *     MemorySegment image = arena.allocate(JAVA_FLOAT, 18);
 *     MemorySegment cols = arena.allocate(JAVA_FLOAT, 32);
 *     FoldSegments.unfold(image, JAVA_FLOAT, imageShape, k, one, zero, one, cols);
 *     MemorySegment mean = arena.allocate(JAVA_FLOAT, 18);   // the image again
 *     FoldSegments.fold(cols, JAVA_FLOAT, columnShape, size, k, one, zero, one, Reduce.MEAN, null, mean);
 * }
 * }</pre>
 *
 * <p><b>Element types.</b> fold's {@code elementType} is {@link ValueLayout#JAVA_FLOAT} or
 * {@link ValueLayout#JAVA_DOUBLE} (any layout of that carrier: a name or alignment of its own does
 * not matter, the byte order must be the platform's native one), or, through the overloads that
 * take an {@link ElementType}, {@link ElementType#FLOAT16} or {@link ElementType#BFLOAT16} (16-bit
 * elements in the native byte order, computed as {@link io.github.foldnd.Engine#fold(FoldGeometry,
 * short[], ElementType, Reduce, float[])} computes them) as well as FLOAT32 and FLOAT64; fold sums,
 * so it takes no integer type. unfold only moves elements and
 * writes zeros (all bits clear), so it also takes {@link ValueLayout#JAVA_BYTE}, {@link
 * ValueLayout#JAVA_SHORT}, {@link ValueLayout#JAVA_INT} and {@link ValueLayout#JAVA_LONG} in any
 * byte order (the result is in the input's), and every {@link ElementType} through the overloads
 * that take one: a {@code ValueLayout} cannot tell float16, bfloat16 and int16 apart (all are
 * {@code JAVA_SHORT}), and unfold moves them alike, as 16-bit elements.
 *
 * <p><b>Segments.</b> Each segment holds its elements from its start: {@code input} exactly the
 * input's elements (slice a larger segment with {@link MemorySegment#asSlice(long, long)}),
 * {@code output} at least the output's (the rest is left alone), {@code weights} exactly K (the
 * product of kernelSize) or null, all of {@code elementType}. A segment must be aligned to its
 * element size; a heap segment must be over an array of that element type (a {@code float[]} for
 * JAVA_FLOAT and FLOAT32, a {@code double[]} for JAVA_DOUBLE and FLOAT64, a {@code byte[]}, {@code
 * short[]}, {@code int[]} or {@code long[]} for the integer layouts and types of that width, a
 * {@code short[]} for FLOAT16 and BFLOAT16; a read-only heap segment hides its array, so for it only
 * the alignment is checked). {@code output} must be writable and share no byte with
 * {@code input} or {@code weights} (nor, in the streaming fold, with {@code weightSum}, which is
 * written by {@link #foldBlocks} and read by {@link #finishFold}). Inputs are never modified.
 *
 * <p><b>Memory.</b> Native segments are used in place (zero-copy) in one downcall that keeps their
 * arenas alive: closing a shared arena from another thread while the call runs fails with
 * {@link IllegalStateException} in the closing thread, and the call completes correctly. Heap
 * segments are used in place too, through their arrays, in critical downcalls (during which the
 * garbage collector waits) cut into parts of about 16 MiB, as foldnd's native engine does for heap
 * arrays; a call that mixes heap and native segments runs that way too, each part keeping the
 * native segments' arenas alive (so there a shared arena may close between two parts, and the next
 * part then raises IllegalStateException).
 *
 * <p><b>Exceptions.</b> Every argument is checked before the native call: a bad one raises
 * {@link IllegalArgumentException} (or {@link NullPointerException} for a null one) whose message
 * names it. A segment whose arena is closed raises {@link IllegalStateException} naming it, as
 * does one closed by another thread between the checks and a downcall (which then writes nothing); a
 * segment of a confined arena that another thread owns raises {@link WrongThreadException}. When
 * foldnd's native library is not available, every call raises {@link IllegalStateException} with
 * the reason ({@link io.github.foldnd.Engine#nativeUnavailableReason()}). After an exception the
 * output's contents are unspecified. Calls are thread-safe and use {@link FoldNd#threads()}
 * threads.
 */
public final class FoldSegments {
    /**
     * The most bytes (input + output) that one critical downcall covers, as foldnd's native engine
     * (NativeEngine.CRITICAL_BYTES): a part may exceed it by one work item of the kernels per thread.
     */
    static final long CRITICAL_BYTES = NativeContract.CRITICAL_BYTES;

    /** The whole call as one part: the native side clips the count at its last work item. */
    private static final long ALL = Long.MAX_VALUE;

    private FoldSegments() {}

    /**
     * unfold (im2col): {@code input} of shape {@code inputShape}, (N, C, *spatial) or (C, *spatial),
     * into {@code output} of shape (N, C·K, L) or (C·K, L); see {@link FoldNd#unfold(float[], long[],
     * int[], int[], int[], int[])} for the arguments and the class description for the segments.
     *
     * @throws IllegalArgumentException naming the offending argument
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void unfold(
            MemorySegment input,
            ValueLayout elementType,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            MemorySegment output) {
        Type type = Type.forUnfold(elementType);
        FoldGeometry g = FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride);
        unfold(g, type, input, output);
    }

    /**
     * unfold (im2col) of elements of any {@link ElementType}, as {@link #unfold(MemorySegment,
     * ValueLayout, long[], int[], int[], int[], int[], MemorySegment)}: the result is bit for bit
     * the same whatever the type means, in the input's byte order (FLOAT16, BFLOAT16 and INT16
     * unfold alike, as 16-bit elements). As {@link io.github.foldnd.Engine#unfold(FoldGeometry,
     * short[])} and the other widths, bit for bit.
     *
     * @throws IllegalArgumentException naming the offending argument
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void unfold(
            MemorySegment input,
            ElementType elementType,
            long[] inputShape,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            MemorySegment output) {
        Type type = Type.of(elementType);
        FoldGeometry g = FoldGeometry.forUnfold(inputShape, kernelSize, dilation, padding, stride);
        unfold(g, type, input, output);
    }

    /**
     * unfold (im2col) of a geometry's image: {@code input} of shape {@code geometry.imageShape()}
     * into {@code output} of shape {@code geometry.columnShape()} (either column layout); {@code
     * elementType} as for {@link #unfold(MemorySegment, ValueLayout, long[], int[], int[], int[],
     * int[], MemorySegment)}. As {@link io.github.foldnd.Engine#unfold(FoldGeometry, float[],
     * float[])}, bit for bit.
     *
     * @throws IllegalArgumentException naming the offending argument
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void unfold(
            FoldGeometry geometry, MemorySegment input, ValueLayout elementType, MemorySegment output) {
        Type type = Type.forUnfold(elementType);
        notNull(geometry, "geometry");
        unfold(geometry, type, input, output);
    }

    /**
     * unfold (im2col) of a geometry's image of elements of any {@link ElementType}: {@code input}
     * of shape {@code geometry.imageShape()} into {@code output} of shape {@code
     * geometry.columnShape()}, as {@link #unfold(MemorySegment, ElementType, long[], int[], int[],
     * int[], int[], MemorySegment)}.
     *
     * @throws IllegalArgumentException naming the offending argument
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void unfold(
            FoldGeometry geometry, MemorySegment input, ElementType elementType, MemorySegment output) {
        Type type = Type.of(elementType);
        notNull(geometry, "geometry");
        unfold(geometry, type, input, output);
    }

    /**
     * fold (col2im): {@code input} of shape {@code inputShape}, (N, C·K, L) or (C·K, L), into
     * {@code output} of shape (N, C, *outputSize) or (C, *outputSize), merging overlapping blocks
     * with {@code reduce}; {@code weights} (nullable) holds K values of {@code elementType} in
     * kernel-offset order. See {@link FoldNd#fold(float[], long[], int[], int[], int[], int[],
     * int[], Reduce, float[])} for the arguments and the class description for the segments.
     *
     * @throws IllegalArgumentException naming the offending argument
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void fold(
            MemorySegment input,
            ValueLayout elementType,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            MemorySegment weights,
            MemorySegment output) {
        Type type = Type.forFold(elementType);
        FoldGeometry g = FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride);
        notNull(reduce, "reduce");
        fold(g, type, input, reduce, weights, output);
    }

    /**
     * fold (col2im) of a floating {@link ElementType}: {@link ElementType#FLOAT16}, {@link
     * ElementType#BFLOAT16}, {@link ElementType#FLOAT32} or {@link ElementType#FLOAT64}, as {@link
     * #fold(MemorySegment, ValueLayout, long[], int[], int[], int[], int[], int[], Reduce,
     * MemorySegment, MemorySegment)} (FLOAT32 and FLOAT64 as JAVA_FLOAT and JAVA_DOUBLE).
     *
     * <p>FLOAT16 and BFLOAT16 elements are 16-bit patterns (IEEE binary16, or the upper half of a
     * float) in the native byte order: segments aligned to 2 bytes, a heap segment over a {@code
     * short[]}. Every operation is computed in float and rounded to the type at once (to nearest,
     * ties to even), so the result equals {@link io.github.foldnd.Engine#fold(FoldGeometry,
     * short[], ElementType, Reduce, float[])} bit for bit, and SUM equals PyTorch's half and
     * bfloat16 fold.
     *
     * <p>{@code weights} (nullable) holds exactly K (the product of kernelSize) elements of the
     * same type, in kernel-offset order: for FLOAT16 and BFLOAT16, their 16-bit patterns too. That
     * differs from {@link io.github.foldnd.Engine#fold(FoldGeometry, short[], ElementType, Reduce,
     * float[])}, which takes the weights as floats and rounds them to the type first: a segment of
     * the type's own elements is what a caller holding such data has, and needs no rounding. The
     * same weights given as floats to the Engine (each the exact value of its 16-bit pattern) give
     * the same result.
     *
     * @throws IllegalArgumentException naming the offending argument (an integer type among them:
     *     fold sums, and is defined for floating types only)
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void fold(
            MemorySegment input,
            ElementType elementType,
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            Reduce reduce,
            MemorySegment weights,
            MemorySegment output) {
        Type type = Type.forFold(elementType);
        FoldGeometry g = FoldGeometry.forFold(inputShape, outputSize, kernelSize, dilation, padding, stride);
        notNull(reduce, "reduce");
        fold(g, type, input, reduce, weights, output);
    }

    /**
     * fold (col2im) of a geometry's columns, of a floating {@link ElementType}: {@code input} of
     * shape {@code geometry.columnShape()} (either column layout) into {@code output} of shape
     * {@code geometry.imageShape()}; the types, segments and {@code weights} as for {@link
     * #fold(MemorySegment, ElementType, long[], int[], int[], int[], int[], int[], Reduce,
     * MemorySegment, MemorySegment)}. As {@link io.github.foldnd.Engine#fold(FoldGeometry, short[],
     * ElementType, Reduce, float[])} (and, for FLOAT32 and FLOAT64, {@link
     * io.github.foldnd.Engine#fold(FoldGeometry, float[], Reduce, float[])}), bit for bit.
     *
     * @throws IllegalArgumentException naming the offending argument
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void fold(
            FoldGeometry geometry,
            MemorySegment input,
            ElementType elementType,
            Reduce reduce,
            MemorySegment weights,
            MemorySegment output) {
        Type type = Type.forFold(elementType);
        notNull(geometry, "geometry");
        notNull(reduce, "reduce");
        fold(geometry, type, input, reduce, weights, output);
    }

    /**
     * Streaming fold: merges the columns of blocks [{@code firstBlock}, {@code firstBlock +
     * blockCount}) of the geometry's grid into {@code output}, adding to what it holds (nothing is
     * zeroed), and adds each kernel offset's weight (1 when {@code weights} is null) to {@code
     * weightSum}, one image plane of ∏ n elements, wherever that offset's blocks land. For folding a
     * volume whose whole column matrix would not fit in memory, in batches of blocks (sliding-window
     * inference); as {@link io.github.foldnd.Engine#foldBlocks(FoldGeometry, float[], long, long,
     * Reduce, float[], float[], float[])}, bit for bit.
     *
     * <p>{@code geometry} is the whole fold's ({@link FoldGeometry#forFold} with the whole grid, or
     * {@link FoldGeometry#forUnfold} of the output image: the same geometry). Its grid has L = ∏ l
     * blocks, l[i] = ⌊(n[i] + b[i] + e[i] − δ[i]·(k[i] − 1) − 1) / s[i]⌋ + 1 along dimension i
     * (n: the image size, b and e: the padding before and after, δ: dilation, k: kernelSize, s:
     * stride). {@code input} holds exactly the range's columns, N·C·K·blockCount elements: (N, C·K,
     * blockCount) per sample, (C·K, N·blockCount) batch-fused; its column j is block {@code
     * firstBlock + j}. {@code output} is the image, (N, C, *n), at least N·C·∏ n elements; {@code
     * weights} exactly K (the product of kernelSize) or null; {@code weightSum} at least ∏ n, and
     * writable (it is added to). The segments are as in the class description; {@code output} and
     * {@code weightSum} share no byte with each other or with {@code input} and {@code weights}.
     *
     * <p>Merges: SUM and MEAN add {@code w[k]·x}; MAX and MIN keep the larger or smaller of what is
     * there and {@code w[k]·x} (NaN wins). MEAN needs {@code weightSum}; the others may pass null
     * when they will not call {@link #finishFold}.
     *
     * <p>To get the whole fold's result ({@link #fold}) bit for bit: fill {@code output} with
     * {@link Reduce#identity()} and {@code weightSum} with 0, visit the ranges in descending block
     * order (the last blocks first), then call {@link #finishFold}. Why descending: an image element
     * receives its contributions in increasing kernel-offset order, and a higher kernel offset comes
     * from a lower block. Any other order gives sums rounded differently (MAX and MIN do not care).
     *
     * <pre>{@code
     * FoldGeometry g = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3);  // L = 4 blocks
     * MemorySegment image = arena.allocate(JAVA_FLOAT, 18), sum = arena.allocate(JAVA_FLOAT, 9);
     * for (long first = 2; first >= 0; first -= 2) {              // blocks [2, 4), then [0, 2)
     *     MemorySegment cols = ...;                               // 1·2·4·2 = 16 columns of those blocks
     *     FoldSegments.foldBlocks(g, cols, JAVA_FLOAT, first, 2, Reduce.MEAN, null, image, sum);
     * }
     * FoldSegments.finishFold(g, JAVA_FLOAT, Reduce.MEAN, image, sum);
     * }</pre>
     *
     * @throws IllegalArgumentException for a range outside the grid, an input of the wrong length,
     *     an output or weight sum too short, or memory shared between them (each named)
     * @throws NullPointerException for a null argument, or no weight sum for MEAN
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void foldBlocks(
            FoldGeometry geometry,
            MemorySegment input,
            ValueLayout elementType,
            long firstBlock,
            long blockCount,
            Reduce reduce,
            MemorySegment weights,
            MemorySegment output,
            MemorySegment weightSum) {
        Type type = Type.forFold(elementType);
        notNull(geometry, "geometry");
        notNull(reduce, "reduce");
        blockRange(geometry, firstBlock, blockCount);
        if (reduce == Reduce.MEAN && weightSum == null) {
            throw new NullPointerException("weightSum must not be null for MEAN: the finishing step divides by it");
        }
        foldBlocks(geometry, type, input, firstBlock, blockCount, reduce, weights, output, weightSum);
    }

    /**
     * The finishing step of a streamed fold ({@link #foldBlocks}), after every block has been
     * merged: MEAN divides each element of {@code output} by the weight sum at its place in the
     * plane; MAX and MIN keep what is there; all three give 0 where the weight sum is 0 (no block
     * landed there, or their weights sum to 0), as the whole fold does. SUM changes nothing ({@code
     * weightSum} may then be null). {@code output} is the image, (N, C, *n), at least N·C·∏ n
     * elements, writable; {@code weightSum} at least ∏ n elements, read, not changed (it may be
     * read-only), sharing no byte with {@code output}. As {@link
     * io.github.foldnd.Engine#finishFold(FoldGeometry, Reduce, float[], float[])}, bit for bit.
     *
     * <p>Unlike the other calls, a finishing step with a heap segment is one critical downcall
     * however large (a single pass over the image), as on foldnd's native engine.
     *
     * @throws NullPointerException for a null argument, or no weight sum for MEAN, MAX or MIN
     * @throws IllegalArgumentException for an output or weight sum too short, or sharing memory
     * @throws IllegalStateException when a segment's arena is closed, or the native library is unavailable
     */
    public static void finishFold(
            FoldGeometry geometry,
            ValueLayout elementType,
            Reduce reduce,
            MemorySegment output,
            MemorySegment weightSum) {
        Type type = Type.forFold(elementType);
        notNull(geometry, "geometry");
        notNull(reduce, "reduce");
        if (reduce != Reduce.SUM && weightSum == null) {
            throw new NullPointerException("weightSum must not be null for " + reduce
                    + ": finishing divides by it (MEAN) or clears where it is 0 (MAX, MIN)");
        }
        finishFold(geometry, type, reduce, output, weightSum);
    }

    // ---- the element types ---------------------------------------------------------------------

    /**
     * What the kernels take: the element width (bytes, the heap array it must be over, the native
     * code of foldnd::ElementType), named as the caller gave it (a layout's name, or an {@link
     * ElementType}'s) for the messages. fold takes the floating types only: float and double
     * (fold, and the streaming fold), float16 and bfloat16 (fold, through foldnd_fold_typed_c).
     */
    record Type(String name, int bytes, Class<?> array, int code) {
        /** foldnd::ElementType's codes (native/include/foldnd/geometry.hpp). */
        static final int INT8 = 0, INT16 = 1, INT32 = 2, INT64 = 3, FLOAT16 = 4, BFLOAT16 = 5, FLOAT32 = 6, FLOAT64 = 7;

        static final Type FLOAT = new Type("JAVA_FLOAT", Float.BYTES, float[].class, FLOAT32),
                DOUBLE = new Type("JAVA_DOUBLE", Double.BYTES, double[].class, FLOAT64);

        /** The float or double kernels (fold's, and the streaming fold's). */
        NativeCalls.Kernels kernels(NativeCalls calls) {
            return switch (code) {
                case FLOAT32 -> calls.f32;
                case FLOAT64 -> calls.f64;
                default -> throw new AssertionError("no float or double kernels for " + name);
            };
        }

        /**
         * The fold handle, of the type of {@link NativeCalls.Kernels#fold()}: float and double their
         * own entry points, float16 and bfloat16 foldnd_fold_typed_c with their code.
         */
        MethodHandle fold(NativeCalls calls, boolean critical) {
            return switch (code) {
                case FLOAT32, FLOAT64 ->
                    critical ? kernels(calls).foldCritical() : kernels(calls).fold();
                case FLOAT16, BFLOAT16 -> calls.fold(code, critical);
                default -> throw new AssertionError("fold of " + name + " was not refused");
            };
        }

        /**
         * The unfold handle, of the type of {@link NativeCalls.Kernels#unfold()}: float and double
         * their own entry points, every other type foldnd_unfold_typed_c with its code.
         */
        MethodHandle unfold(NativeCalls calls, boolean critical) {
            return switch (code) {
                case FLOAT32 -> critical ? calls.f32.unfoldCritical() : calls.f32.unfold();
                case FLOAT64 -> critical ? calls.f64.unfoldCritical() : calls.f64.unfold();
                default -> calls.unfold(code, critical);
            };
        }

        /** An ElementType's width; float16 and bfloat16 are short bits. */
        static Type of(ElementType type) {
            notNull(type, "elementType");
            return switch (type) {
                case INT8 -> new Type("INT8", 1, byte[].class, INT8);
                case INT16 -> new Type("INT16", 2, short[].class, INT16);
                case FLOAT16 -> new Type("FLOAT16", 2, short[].class, FLOAT16);
                case BFLOAT16 -> new Type("BFLOAT16", 2, short[].class, BFLOAT16);
                case INT32 -> new Type("INT32", 4, int[].class, INT32);
                case INT64 -> new Type("INT64", 8, long[].class, INT64);
                case FLOAT32 -> new Type("FLOAT32", 4, float[].class, FLOAT32);
                case FLOAT64 -> new Type("FLOAT64", 8, double[].class, FLOAT64);
            };
        }

        /** unfold's layouts: the integer ones in any byte order, float and double as for fold. */
        static Type forUnfold(ValueLayout layout) {
            notNull(layout, "elementType");
            if (layout instanceof ValueLayout.OfByte) return new Type("JAVA_BYTE", 1, byte[].class, INT8);
            if (layout instanceof ValueLayout.OfShort) return new Type("JAVA_SHORT", 2, short[].class, INT16);
            if (layout instanceof ValueLayout.OfInt) return new Type("JAVA_INT", 4, int[].class, INT32);
            if (layout instanceof ValueLayout.OfLong) return new Type("JAVA_LONG", 8, long[].class, INT64);
            if (layout instanceof ValueLayout.OfFloat || layout instanceof ValueLayout.OfDouble) {
                return forFold(layout);
            }
            throw fail(
                    "elementType must be JAVA_BYTE, JAVA_SHORT, JAVA_INT, JAVA_LONG, JAVA_FLOAT or JAVA_DOUBLE for"
                            + " unfold, got %s (a layout of %s)",
                    layout, layout.carrier().getName());
        }

        /**
         * fold's element types: the floating ones (FLOAT16 and BFLOAT16 as 16-bit elements, FLOAT32
         * and FLOAT64 as JAVA_FLOAT and JAVA_DOUBLE); an integer type is refused by name.
         */
        static Type forFold(ElementType type) {
            notNull(type, "elementType");
            return switch (type) {
                case FLOAT16, BFLOAT16, FLOAT32, FLOAT64 -> of(type);
                case INT8, INT16, INT32, INT64 ->
                    throw fail(
                            "elementType must be FLOAT16, BFLOAT16, FLOAT32 or FLOAT64 for fold, got %s: fold sums, and"
                                    + " foldnd defines it for floating types only (unfold takes every type)",
                            type);
            };
        }

        /** fold's layouts: float or double, in the native byte order (the kernels compute). */
        static Type forFold(ValueLayout layout) {
            notNull(layout, "elementType");
            Type type = layout instanceof ValueLayout.OfFloat
                    ? FLOAT
                    : layout instanceof ValueLayout.OfDouble ? DOUBLE : null;
            if (type == null) {
                throw fail(
                        "elementType must be JAVA_FLOAT or JAVA_DOUBLE for fold, got %s (a layout of %s): fold computes"
                                + " in float or double (float16 and bfloat16: through the fold overloads that take an"
                                + " ElementType)",
                        layout, layout.carrier().getName());
            }
            if (layout.order() != ByteOrder.nativeOrder()) {
                throw fail(
                        "elementType must be in the native byte order (%s), got %s in %s: the kernels read native"
                                + " values",
                        ByteOrder.nativeOrder(), type.name, layout.order());
            }
            return type;
        }
    }

    // ---- the calls -------------------------------------------------------------------------------

    private static void unfold(FoldGeometry g, Type type, MemorySegment input, MemorySegment output) {
        long inBytes = segment(input, "input", type, g.imageLength(), true, false, g.imageShape());
        long outBytes = segment(output, "output", type, g.columnLength(), false, true, g.columnShape());
        disjoint(input, inBytes, "input", output, outBytes);
        if (g.imageLength() == 0) return; // batch 0: nothing to write
        NativeCalls calls = NativeCalls.get();
        MethodHandle plain = type.unfold(calls, false), critical = type.unfold(calls, true);
        long[] d = NativeContract.descriptor(g);
        long inLength = g.imageLength(), outLength = g.columnLength(), dLength = d.length;
        int threads = FoldNd.threads();
        if (input.isNative() && output.isNative()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment desc = arena.allocateFrom(JAVA_LONG, d);
                check(call(
                        () -> (int)
                                plain.invokeExact(input, inLength, output, outLength, desc, dLength, 0L, ALL, threads),
                        input,
                        output,
                        null));
            }
            return;
        }
        MemorySegment desc = MemorySegment.ofArray(d);
        inParts(
                g,
                type,
                Work.UNFOLD,
                threads,
                (first, count) -> call(
                        () -> (int) critical.invokeExact(
                                input, inLength, output, outLength, desc, dLength, first, count, threads),
                        input,
                        output,
                        null));
    }

    private static void fold(
            FoldGeometry g,
            Type type,
            MemorySegment input,
            Reduce reduce,
            MemorySegment weights,
            MemorySegment output) {
        long inBytes = segment(input, "input", type, g.columnLength(), true, false, g.columnShape());
        long outBytes = segment(output, "output", type, g.imageLength(), false, true, g.imageShape());
        disjoint(input, inBytes, "input", output, outBytes);
        if (weights != null) {
            long wBytes = segment(weights, "weights", type, g.kernelVolume(), true, false, null);
            disjoint(weights, wBytes, "weights", output, outBytes);
        }
        if (g.imageLength() == 0) return;
        NativeCalls calls = NativeCalls.get();
        MethodHandle plain = type.fold(calls, false), critical = type.fold(calls, true);
        long[] d = NativeContract.descriptor(g);
        long inLength = g.columnLength(), outLength = g.imageLength(), dLength = d.length;
        int r = NativeContract.code(reduce), threads = FoldNd.threads();
        MemorySegment w = weights == null ? MemorySegment.NULL : weights;
        long wLength = weights == null ? 0 : g.kernelVolume();
        if (input.isNative() && output.isNative() && w.isNative()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment desc = arena.allocateFrom(JAVA_LONG, d);
                check(call(
                        () -> (int) plain.invokeExact(
                                input, inLength, output, outLength, desc, dLength, r, w, wLength, 0L, ALL, threads),
                        input,
                        output,
                        weights));
            }
            return;
        }
        MemorySegment desc = MemorySegment.ofArray(d);
        inParts(
                g,
                type,
                Work.FOLD,
                threads,
                (first, count) -> call(
                        () -> (int) critical.invokeExact(
                                input, inLength, output, outLength, desc, dLength, r, w, wLength, first, count,
                                threads),
                        input,
                        output,
                        weights));
    }

    private static void foldBlocks(
            FoldGeometry g,
            Type type,
            MemorySegment input,
            long firstBlock,
            long blockCount,
            Reduce reduce,
            MemorySegment weights,
            MemorySegment output,
            MemorySegment weightSum) {
        long K = g.kernelVolume(), columns = g.batch() * g.channels() * K * blockCount;
        long inBytes = blockSegment(
                input,
                "input",
                type,
                columns,
                true,
                false,
                String.format(
                        "input must have N*C*K*blockCount = %d*%d*%d*%d = %d elements (the columns of blocks [%d, %d))",
                        g.batch(), g.channels(), K, blockCount, columns, firstBlock, firstBlock + blockCount));
        long outBytes = blockSegment(output, "output", type, g.imageLength(), false, true, outputSize(g));
        disjoint(input, inBytes, "input", output, outBytes);
        long wBytes = 0;
        if (weights != null) {
            wBytes = blockSegment(
                    weights,
                    "weights",
                    type,
                    K,
                    true,
                    false,
                    String.format(
                            "weights must have %d elements (the product of kernelSize %s)",
                            K, Arrays.toString(g.kernelSize())));
            disjoint(weights, wBytes, "weights", output, outBytes);
        }
        long sumBytes = 0;
        if (weightSum != null) {
            sumBytes = blockSegment(weightSum, "weightSum", type, g.imagePlane(), false, true, weightSumSize(g));
            weightSumDisjoint(weightSum, sumBytes, input, inBytes, "input");
            weightSumDisjoint(weightSum, sumBytes, weights, wBytes, "weights");
            weightSumDisjoint(weightSum, sumBytes, output, outBytes, "output");
        }
        if (blockCount == 0 || g.imageLength() == 0) return; // no blocks, or no planes: nothing to merge
        NativeCalls calls = NativeCalls.get();
        MethodHandle plain = type.kernels(calls).foldBlocks(),
                critical = type.kernels(calls).foldBlocksCritical();
        long[] d = NativeContract.descriptor(g);
        long outLength = g.imageLength(), dLength = d.length;
        long sumLength = weightSum == null ? 0 : g.imagePlane(), wLength = weights == null ? 0 : K;
        int r = NativeContract.code(reduce), threads = FoldNd.threads();
        MemorySegment w = weights == null ? MemorySegment.NULL : weights,
                sum = weightSum == null ? MemorySegment.NULL : weightSum;
        if (input.isNative() && output.isNative() && w.isNative() && sum.isNative()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment desc = arena.allocateFrom(JAVA_LONG, d);
                check(call(
                        () -> (int) plain.invokeExact(
                                input,
                                columns,
                                output,
                                outLength,
                                sum,
                                sumLength,
                                desc,
                                dLength,
                                r,
                                w,
                                wLength,
                                firstBlock,
                                blockCount,
                                0L,
                                ALL,
                                threads),
                        input,
                        output,
                        weights,
                        weightSum));
            }
            return;
        }
        MemorySegment desc = MemorySegment.ofArray(d);
        long total = saturatedBytes(columns + g.imageLength() + sumLength, type.bytes);
        inParts(
                g,
                type,
                Work.BLOCKS,
                total,
                threads,
                (first, count) -> call(
                        () -> (int) critical.invokeExact(
                                input,
                                columns,
                                output,
                                outLength,
                                sum,
                                sumLength,
                                desc,
                                dLength,
                                r,
                                w,
                                wLength,
                                firstBlock,
                                blockCount,
                                first,
                                count,
                                threads),
                        input,
                        output,
                        weights,
                        weightSum));
    }

    private static void finishFold(
            FoldGeometry g, Type type, Reduce reduce, MemorySegment output, MemorySegment weightSum) {
        long outBytes = blockSegment(output, "output", type, g.imageLength(), false, true, outputSize(g));
        if (weightSum != null) {
            long sumBytes = blockSegment(weightSum, "weightSum", type, g.imagePlane(), false, false, weightSumSize(g));
            weightSumDisjoint(weightSum, sumBytes, output, outBytes, "output");
        }
        if (reduce == Reduce.SUM || g.imageLength() == 0) return; // SUM: nothing to finish
        NativeCalls calls = NativeCalls.get();
        // Native segments: the plain handle (the descriptor in native memory too); any heap segment:
        // the critical one, in one downcall (finishing is one pass over the image, not cut in items).
        boolean plain = output.isNative() && weightSum.isNative();
        MethodHandle handle =
                plain ? type.kernels(calls).finishBlocks() : type.kernels(calls).finishBlocksCritical();
        long[] d = NativeContract.descriptor(g);
        long outLength = g.imageLength(), sumLength = g.imagePlane(), dLength = d.length;
        int r = NativeContract.code(reduce), threads = FoldNd.threads();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment desc = plain ? arena.allocateFrom(JAVA_LONG, d) : MemorySegment.ofArray(d);
            check(call(
                    () -> (int) handle.invokeExact(output, outLength, weightSum, sumLength, desc, dLength, r, threads),
                    null,
                    output,
                    null,
                    weightSum));
        }
    }

    // ---- heap segments: critical downcalls, in parts ---------------------------------------------

    /** One critical downcall on the work items [first, first + count); returns a status. */
    private interface Part {
        int run(long first, long count);
    }

    /**
     * Runs a call with a heap segment: in one critical downcall when it moves at most
     * CRITICAL_BYTES, else in parts of about that size, each its own downcall, so that the garbage
     * collector never waits long (see NativeEngine.inParts, which this follows).
     */
    private static void inParts(FoldGeometry g, Type type, Work work, int threads, Part part) {
        inParts(g, type, work, saturatedBytes(g.imageLength() + g.columnLength(), type.bytes), threads, part);
    }

    /** {@link #inParts(FoldGeometry, Type, Work, int, Part)} for a call that moves {@code total} bytes. */
    private static void inParts(FoldGeometry g, Type type, Work work, long total, int threads, Part part) {
        if (total <= CRITICAL_BYTES) {
            check(part.run(0, ALL));
            return;
        }
        long items = items(g, type, work, threads);
        long step = itemsPerRegion(total, items, threads);
        for (long first = 0; first < items; first += step) check(part.run(first, step));
    }

    /** What a call computes, for its work items. */
    private enum Work {
        UNFOLD,
        FOLD,
        /** A streaming fold's block range (foldBlocks). */
        BLOCKS
    }

    /** The call's work items, from the native side (which validates the descriptor again). */
    private static long items(FoldGeometry g, Type type, Work work, int threads) {
        NativeCalls calls = NativeCalls.get();
        long[] d = NativeContract.descriptor(g);
        MemorySegment desc = MemorySegment.ofArray(d);
        long items;
        try {
            items = switch (work) {
                case UNFOLD -> (long) calls.unfoldItems.invokeExact(desc, (long) d.length, type.bytes);
                case FOLD -> (long) calls.foldItems.invokeExact(desc, (long) d.length, type.bytes, threads);
                case BLOCKS -> (long) calls.foldBlocksItems.invokeExact(desc, (long) d.length, type.bytes);
            };
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (items < 0) check((int) -items);
        return items;
    }

    /** How many of a call's items one part covers: see NativeContract.itemsPerRegion. */
    static long itemsPerRegion(long totalBytes, long items, int threads) {
        return NativeContract.itemsPerRegion(totalBytes, items, threads);
    }

    private static long saturatedBytes(long elements, int bytes) {
        return elements < 0 || elements > Long.MAX_VALUE / bytes ? Long.MAX_VALUE : elements * bytes;
    }

    // ---- checks ------------------------------------------------------------------------------------

    /**
     * Checks one segment: alive, accessible by this thread, writable if an output, over the right
     * array if on the heap, aligned, and of the right size (exactly {@code elements} elements,
     * or for an output at least). Returns the bytes the call uses.
     */
    private static long segment(
            MemorySegment s, String name, Type type, long elements, boolean exact, boolean output, long[] shape) {
        return checked(s, name, type, elements, exact, output, size -> {
            long bytes = elements * type.bytes; // checked by checked() before it calls this
            return String.format(
                    "%s must hold %s %d elements of %s (%d bytes), %s, got %d bytes",
                    name,
                    exact ? "exactly" : "at least",
                    elements,
                    type.name,
                    bytes,
                    shape == null
                            ? "one per kernel offset (the product of kernelSize)"
                            : "its shape " + Arrays.toString(shape),
                    size);
        });
    }

    /**
     * {@link #segment} for the streaming fold, whose wrong sizes are told as on foldnd's arrays
     * (Engine.foldBlocks): {@code expected}, then what the segment holds, in elements and bytes.
     */
    private static long blockSegment(
            MemorySegment s, String name, Type type, long elements, boolean exact, boolean output, String expected) {
        return checked(
                s,
                name,
                type,
                elements,
                exact,
                output,
                size -> expected + ", got " + size / type.bytes + " (" + size + " bytes)");
    }

    /** What output must hold in a streaming fold, as foldnd says it for arrays. */
    private static String outputSize(FoldGeometry g) {
        return String.format(
                "output must have at least %d elements (the image %s)",
                g.imageLength(), Arrays.toString(g.imageShape()));
    }

    /** What weightSum must hold, as foldnd says it for arrays. */
    private static String weightSumSize(FoldGeometry g) {
        return String.format(
                "weightSum must have at least %d elements (one image plane, %s)",
                g.imagePlane(), Arrays.toString(g.imageSize()));
    }

    /** The checks of {@link #segment}; {@code wrongSize} tells a wrong size from the segment's bytes. */
    private static long checked(
            MemorySegment s,
            String name,
            Type type,
            long elements,
            boolean exact,
            boolean output,
            LongFunction<String> wrongSize) {
        notNull(s, name);
        alive(s, name);
        if (!s.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException(name + " belongs to a confined arena of another thread: pass it from "
                    + "the thread that owns its arena, or use a shared arena");
        }
        if (output && s.isReadOnly()) throw fail("%s must be writable, got a read-only segment", name);
        if (!s.isNative()) {
            Optional<Object> base = s.heapBase();
            if (base.isPresent() && base.get().getClass() != type.array) {
                throw fail(
                        "%s must be a native segment or a heap segment of %s for elementType %s, got a heap segment"
                                + " of %s",
                        name, anArray(type.array), type.name, anArray(base.get().getClass()));
            }
        }
        // A native segment's address; a heap segment's byte offset in its array (whose elements are
        // aligned to their size, and of the element type, checked above).
        if (s.address() % type.bytes != 0) {
            throw fail(
                    "%s must be aligned to %d bytes for elementType %s, got a segment at %s %d",
                    name, type.bytes, type.name, s.isNative() ? "address" : "byte offset (in its array)", s.address());
        }
        long bytes = Check.multiply(elements, type.bytes, name + "'s length in bytes");
        if (exact ? s.byteSize() != bytes : s.byteSize() < bytes) throw fail("%s", wrongSize.apply(s.byteSize()));
        return bytes;
    }

    /** "a float[]", "an int[]": an array class with its article. */
    private static String anArray(Class<?> array) {
        String name = array.getSimpleName();
        return ("aeiou".indexOf(name.charAt(0)) >= 0 ? "an " : "a ") + name;
    }

    /** Refuses a block range outside the grid, in the words of foldnd's arrays (Engine.foldBlocks). */
    private static void blockRange(FoldGeometry g, long first, long count) {
        long blocks = g.blocks();
        String grid = "block grid " + Arrays.toString(g.blockGrid());
        if (first < 0 || first > blocks) {
            throw fail("firstBlock must be from 0 to the grid's %d blocks (%s), got %d", blocks, grid, first);
        }
        if (count < 0 || count > blocks - first) {
            throw fail(
                    "blockCount must be from 0 to %d (the blocks from firstBlock %d to the end of the grid's %d, %s), "
                            + "got %d",
                    blocks - first, first, blocks, grid, count);
        }
    }

    /** Refuses an output whose used bytes share a byte with a read segment's. */
    private static void disjoint(MemorySegment read, long readBytes, String name, MemorySegment output, long outBytes) {
        if (overlap(read, readBytes, output, outBytes)) {
            throw fail(
                    "output must not overlap %s in memory: fold/unfold do not work in place (%s: %s, output: %s)",
                    name, name, read, output);
        }
    }

    /** Refuses a weight sum whose used bytes share a byte with another segment's (null: none). */
    private static void weightSumDisjoint(
            MemorySegment weightSum, long sumBytes, MemorySegment other, long otherBytes, String name) {
        if (other != null && overlap(weightSum, sumBytes, other, otherBytes)) {
            throw fail(
                    "weightSum must not overlap the %s in memory: it is memory of its own (weightSum: %s, %s: %s)",
                    name, weightSum, name, other);
        }
    }

    /** Whether the first aBytes of a and the first bBytes of b share a byte. */
    private static boolean overlap(MemorySegment a, long aBytes, MemorySegment b, long bBytes) {
        return aBytes > 0
                && bBytes > 0
                && a.asSlice(0, aBytes).asOverlappingSlice(b.asSlice(0, bBytes)).isPresent();
    }

    private static void alive(MemorySegment s, String name) {
        if (!s.scope().isAlive()) throw closed(name, null);
    }

    private static IllegalStateException closed(String name, Throwable cause) {
        String whose = name.endsWith("s") ? name + "'" : name + "'s";
        return new IllegalStateException(
                whose + " arena is closed: its memory is no longer accessible (its arena must stay open for the"
                        + " whole call)",
                cause);
    }

    /** One downcall; an arena closed by another thread since the checks raises an exception naming it. */
    private static int call(Downcall downcall, MemorySegment input, MemorySegment output, MemorySegment weights) {
        return call(downcall, input, output, weights, null);
    }

    /** {@link #call(Downcall, MemorySegment, MemorySegment, MemorySegment)} with a weight sum; any may be null. */
    private static int call(
            Downcall downcall,
            MemorySegment input,
            MemorySegment output,
            MemorySegment weights,
            MemorySegment weightSum) {
        try {
            return downcall.run();
        } catch (IllegalStateException e) { // the downcall could not keep an arena alive: it was closed
            if (input != null && !input.scope().isAlive()) throw closed("input", e);
            if (output != null && !output.scope().isAlive()) throw closed("output", e);
            if (weights != null && !weights.scope().isAlive()) throw closed("weights", e);
            if (weightSum != null && !weightSum.scope().isAlive()) throw closed("weightSum", e);
            throw e;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) { // invokeExact declares Throwable; the downcalls throw nothing checked
            throw new IllegalStateException(t);
        }
    }

    private interface Downcall {
        int run() throws Throwable;
    }

    /**
     * Maps a native status (foldnd::Status): 0 is OK; OUT_OF_MEMORY (the kernel's scratch
     * memory) raises OutOfMemoryError, as on foldnd's native engine; any other means the checks
     * above missed something.
     */
    private static void check(int status) {
        if (status == 0) return;
        String name = NativeContract.statusName(status);
        if (name.equals("OUT_OF_MEMORY")) {
            throw new OutOfMemoryError("foldnd: the native kernel could not allocate its scratch memory");
        }
        throw new IllegalStateException("the native kernel refused a call that foldnd-ffm had validated (" + name
                + ", code " + status + "); please report this as a foldnd bug");
    }
}
