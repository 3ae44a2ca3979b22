package io.github.foldnd;

import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.internal.Check;
import io.github.foldnd.internal.NativeMemory;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.List;
import java.util.Optional;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * An implementation of fold and unfold: the native engine (OpenMP C++ through JavaCPP) or the
 * pure-Java engine. Both are complete and bit-identical. {@link #selected()} is what
 * {@link FoldNd} uses: the native engine when its library loads and passes a self-check, else pure
 * Java; the system property {@code foldnd.engine=native|java} forces one.
 *
 * <p>The public methods here validate every argument and then hand over to the engine's kernels;
 * use them directly to pick an engine or to reuse one {@link FoldGeometry} across calls (the buffer
 * methods then allocate nothing per call on the native engine).
 *
 * <pre>{@code
 * FoldGeometry g = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3);
 * float[] columns = Engine.selected().unfold(g, image);          // (1, 8, 4)
 * float[] back = Engine.selected().fold(g, columns, Reduce.MEAN, null);  // == image
 * }</pre>
 *
 * <p>Buffers and JavaCPP pointers are read from their position: an input must have exactly the
 * needed number of elements up to its limit, an output at least that many; positions and limits
 * are left unchanged. Each is captured once when the call starts (see {@code Bounds}): another
 * thread moving them during the call cannot make the call touch memory outside what was captured.
 * A pointer's position must be non-negative and its limit within its capacity, unless the capacity
 * is 0 (unknown, as for a pointer from another library): its limit is then trusted.
 * An output must be writable and must not share a byte with an input, on every engine. Calls are
 * thread-safe.
 *
 * <p>Buffers may be direct (in native byte order) or heap buffers, in any mix. Two direct buffers
 * are used by address, zero-copy. A heap buffer with an accessible array ({@code FloatBuffer.wrap},
 * {@code allocate}, their slices) is used in place through that array, zero-copy, from
 * {@code arrayOffset() + position()}. A heap buffer without one (read-only, or a view such as
 * {@code ByteBuffer.allocate(n).asFloatBuffer()}, in either byte order) and the direct side of a
 * call that mixes heap and direct buffers are staged through a temporary array: copied in for an
 * input, computed into and then copied out for an output. Results are the same bit for bit.
 */
public abstract sealed class Engine permits NativeEngine, JavaEngine {
    /** The threads of each call, or 0: {@link FoldNd#threads()} at the time of the call. */
    private final int threads;

    Engine(int threads) {
        this.threads = threads;
    }

    /**
     * This engine with each call on {@code threads} threads (1 to 4 per available processor, at
     * least 64), whatever {@link FoldNd#setThreads} says; results are the same for every thread
     * count. For callers that run their own parallelism, such as a convolution whose GEMM takes the
     * cores: {@code Engine.selected().withThreads(1)}. Cheap; keep the result.
     */
    public final Engine withThreads(int threads) {
        Threads.check(threads);
        return threads == this.threads ? this : copyWithThreads(threads);
    }

    /** The threads each call uses: the count given to {@link #withThreads}, else {@link FoldNd#threads()}. */
    public final int threads() {
        return threads > 0 ? threads : Threads.get();
    }

    /** The same engine with a fixed thread count (already checked). */
    abstract Engine copyWithThreads(int threads);

    /** "native" or "java". */
    public abstract String name();

    /**
     * The engine {@link FoldNd} uses (see the class description). When that is the native engine,
     * calls too small to repay the JNI crossing (a few hundred elements in and out, measured by
     * CrossoverBenchmark) run on the Java kernels, with the same results bit for bit;
     * {@link #nativeEngine()} runs every call in C++.
     */
    public static Engine selected() {
        return EngineSelector.selected();
    }

    /** The pure-Java engine, always available. */
    public static Engine pureJava() {
        return JavaEngine.INSTANCE;
    }

    /** The native engine, if its library loaded on this platform and passed its self-check. */
    public static Optional<Engine> nativeEngine() {
        return NativeEngine.instance().map(e -> e);
    }

    /** Why the native engine is unavailable (empty when it is available). */
    public static Optional<String> nativeUnavailableReason() {
        return NativeEngine.unavailableReason();
    }

    /** Every engine that works here, native first. */
    public static List<Engine> available() {
        return NativeEngine.instance()
                .<List<Engine>>map(n -> List.of(n, JavaEngine.INSTANCE))
                .orElse(List.of(JavaEngine.INSTANCE));
    }

    // ---- unfold -------------------------------------------------------------------------------

    /** unfold (im2col): image {@code g.imageShape()} to a new array of shape {@code g.columnShape()}. */
    public final float[] unfold(FoldGeometry geometry, float[] input) {
        float[] output = new float[unfoldOutputLength(geometry, input == null ? null : input.length)];
        if (geometry.planes() > 0) unfoldKernel(geometry, input, 0, output, 0, threads());
        return output;
    }

    /** unfold (im2col) on double: see {@link #unfold(FoldGeometry, float[])}. */
    public final double[] unfold(FoldGeometry geometry, double[] input) {
        double[] output = new double[unfoldOutputLength(geometry, input == null ? null : input.length)];
        if (geometry.planes() > 0) unfoldKernel(geometry, input, 0, output, 0, threads());
        return output;
    }

    /**
     * unfold (im2col) into a caller's array, which can be reused from call to call: no allocation,
     * and no zeroing of a new array by the JVM before the kernels overwrite it. Writes
     * {@code g.columnLength()} elements from index 0 ({@code output} may be longer; the rest is left
     * as it is). {@code input} must have exactly {@code g.imageLength()} elements, and
     * {@code output} must be another array: fold and unfold do not work in place.
     */
    public final void unfold(FoldGeometry geometry, float[] input, float[] output) {
        notNull(geometry, "geometry");
        checkArrays(geometry.imageLength(), notNull(input, "input").length, geometry.columnLength(), output);
        checkDisjoint(input, output, null);
        if (geometry.planes() > 0) unfoldKernel(geometry, input, 0, output, 0, threads());
    }

    /** unfold (im2col) on double into a caller's array: see {@link #unfold(FoldGeometry, float[], float[])}. */
    public final void unfold(FoldGeometry geometry, double[] input, double[] output) {
        notNull(geometry, "geometry");
        checkArrays(geometry.imageLength(), notNull(input, "input").length, geometry.columnLength(), output);
        checkDisjoint(input, output, null);
        if (geometry.planes() > 0) unfoldKernel(geometry, input, 0, output, 0, threads());
    }

    /**
     * unfold (im2col) between buffers, direct or heap (see the class description): writes
     * {@code g.columnLength()} elements.
     */
    public final void unfold(FoldGeometry geometry, FloatBuffer input, FloatBuffer output) {
        notNull(geometry, "geometry");
        int in = Bounds.input(input, "input", geometry.imageLength()),
                out = Bounds.output(output, "output", geometry.columnLength());
        if (geometry.planes() == 0) return;
        if (input.isDirect() && output.isDirect()) unfoldAt(geometry, input, in, output, out, threads());
        else HeapFloatBuffers.unfold(this, geometry, input, in, output, out, threads());
    }

    /**
     * unfold (im2col) between buffers, direct or heap (see the class description): writes
     * {@code g.columnLength()} elements.
     */
    public final void unfold(FoldGeometry geometry, DoubleBuffer input, DoubleBuffer output) {
        notNull(geometry, "geometry");
        int in = Bounds.input(input, "input", geometry.imageLength()),
                out = Bounds.output(output, "output", geometry.columnLength());
        if (geometry.planes() == 0) return;
        if (input.isDirect() && output.isDirect()) unfoldAt(geometry, input, in, output, out, threads());
        else HeapDoubleBuffers.unfold(this, geometry, input, in, output, out, threads());
    }

    /**
     * unfold (im2col) between JavaCPP pointers (as ND4J's DataBuffers and PyTorch's tensors hand
     * out), zero-copy. A pointer's elements are those from its position to its limit: set the limit
     * (or allocate with a size) so the bounds are known.
     */
    public final void unfold(FoldGeometry geometry, FloatPointer input, FloatPointer output) {
        notNull(geometry, "geometry");
        long in = Bounds.input(input, "input", geometry.imageLength(), Float.BYTES);
        long out = Bounds.output(output, "output", geometry.columnLength(), Float.BYTES);
        if (geometry.planes() > 0)
            unfoldFloats(geometry, unfoldDisjoint(geometry, in, out, Float.BYTES), out, threads());
    }

    /** unfold (im2col) between JavaCPP pointers, zero-copy; see the float overload. */
    public final void unfold(FoldGeometry geometry, DoublePointer input, DoublePointer output) {
        notNull(geometry, "geometry");
        long in = Bounds.input(input, "input", geometry.imageLength(), Double.BYTES);
        long out = Bounds.output(output, "output", geometry.columnLength(), Double.BYTES);
        if (geometry.planes() > 0)
            unfoldDoubles(geometry, unfoldDisjoint(geometry, in, out, Double.BYTES), out, threads());
    }

    // ---- unfold of integer, float16 and bfloat16 data: every element width ------------------------

    /**
     * unfold (im2col) of 8-bit data (int8 or uint8: label maps, 8-bit images) to a new array of
     * shape {@code g.columnShape()}. unfold only moves elements and writes zeros into the padding,
     * so it is bit for bit the same for every element type of a width; the same holds for the
     * short (int16, uint16, float16, bfloat16 bits), int and long overloads.
     */
    public final byte[] unfold(FoldGeometry geometry, byte[] input) {
        return (byte[]) TypedUnfolds.unfoldNew(this, geometry, ElementType.INT8, input);
    }

    /** unfold of 16-bit data (int16, uint16, or float16 / bfloat16 bits): see {@link #unfold(FoldGeometry, byte[])}. */
    public final short[] unfold(FoldGeometry geometry, short[] input) {
        return (short[]) TypedUnfolds.unfoldNew(this, geometry, ElementType.INT16, input);
    }

    /** unfold of 32-bit integers: see {@link #unfold(FoldGeometry, byte[])}. */
    public final int[] unfold(FoldGeometry geometry, int[] input) {
        return (int[]) TypedUnfolds.unfoldNew(this, geometry, ElementType.INT32, input);
    }

    /** unfold of 64-bit integers (index tensors): see {@link #unfold(FoldGeometry, byte[])}. */
    public final long[] unfold(FoldGeometry geometry, long[] input) {
        return (long[]) TypedUnfolds.unfoldNew(this, geometry, ElementType.INT64, input);
    }

    /** unfold of 8-bit data into a caller's array (at least {@code g.columnLength()} elements, written from 0). */
    public final void unfold(FoldGeometry geometry, byte[] input, byte[] output) {
        TypedUnfolds.arrays(this, geometry, ElementType.INT8, input, output);
    }

    /** unfold of 16-bit data into a caller's array: see {@link #unfold(FoldGeometry, byte[], byte[])}. */
    public final void unfold(FoldGeometry geometry, short[] input, short[] output) {
        TypedUnfolds.arrays(this, geometry, ElementType.INT16, input, output);
    }

    /** unfold of 32-bit integers into a caller's array: see {@link #unfold(FoldGeometry, byte[], byte[])}. */
    public final void unfold(FoldGeometry geometry, int[] input, int[] output) {
        TypedUnfolds.arrays(this, geometry, ElementType.INT32, input, output);
    }

    /** unfold of 64-bit integers into a caller's array: see {@link #unfold(FoldGeometry, byte[], byte[])}. */
    public final void unfold(FoldGeometry geometry, long[] input, long[] output) {
        TypedUnfolds.arrays(this, geometry, ElementType.INT64, input, output);
    }

    /**
     * unfold of raw bytes holding elements of {@code type}: positions and limits in bytes, the
     * input exactly {@code g.imageLength()} elements between them, the output at least
     * {@code g.columnLength()}. Direct buffers by address (any byte order: elements are moved
     * whole), heap buffers with an array in place when the type is 8-bit, anything else staged.
     * Any {@link ElementType}, FLOAT32 and FLOAT64 included.
     */
    public final void unfold(FoldGeometry geometry, ByteBuffer input, ElementType type, ByteBuffer output) {
        TypedUnfolds.buffers(this, geometry, type, input, output);
    }

    /** unfold of 16-bit buffers, direct or heap: see {@link #unfold(FoldGeometry, FloatBuffer, FloatBuffer)}. */
    public final void unfold(FoldGeometry geometry, ShortBuffer input, ShortBuffer output) {
        TypedUnfolds.buffers(this, geometry, ElementType.INT16, input, output);
    }

    /** unfold of 32-bit integer buffers: see {@link #unfold(FoldGeometry, FloatBuffer, FloatBuffer)}. */
    public final void unfold(FoldGeometry geometry, IntBuffer input, IntBuffer output) {
        TypedUnfolds.buffers(this, geometry, ElementType.INT32, input, output);
    }

    /** unfold of 64-bit integer buffers: see {@link #unfold(FoldGeometry, FloatBuffer, FloatBuffer)}. */
    public final void unfold(FoldGeometry geometry, LongBuffer input, LongBuffer output) {
        TypedUnfolds.buffers(this, geometry, ElementType.INT64, input, output);
    }

    /** unfold between 8-bit JavaCPP pointers, zero-copy: see {@link #unfold(FoldGeometry, FloatPointer, FloatPointer)}. */
    public final void unfold(FoldGeometry geometry, BytePointer input, BytePointer output) {
        TypedUnfolds.pointers(this, geometry, ElementType.INT8, input, output);
    }

    /** unfold between 16-bit JavaCPP pointers (int16, float16 or bfloat16 bits), zero-copy. */
    public final void unfold(FoldGeometry geometry, ShortPointer input, ShortPointer output) {
        TypedUnfolds.pointers(this, geometry, ElementType.INT16, input, output);
    }

    /** unfold between 32-bit integer JavaCPP pointers, zero-copy. */
    public final void unfold(FoldGeometry geometry, IntPointer input, IntPointer output) {
        TypedUnfolds.pointers(this, geometry, ElementType.INT32, input, output);
    }

    /** unfold between 64-bit integer JavaCPP pointers, zero-copy. */
    public final void unfold(FoldGeometry geometry, LongPointer input, LongPointer output) {
        TypedUnfolds.pointers(this, geometry, ElementType.INT64, input, output);
    }

    // ---- fold ---------------------------------------------------------------------------------

    /**
     * fold (col2im): columns {@code g.columnShape()} to a new image of shape {@code g.imageShape()},
     * merging overlapping blocks with {@code reduce}; {@code weights} (nullable) holds K values in
     * kernel-offset order.
     */
    public final float[] fold(FoldGeometry geometry, float[] input, Reduce reduce, float[] weights) {
        float[] output = new float
                [foldOutputLength(
                        geometry, input == null ? null : input.length, reduce, weights == null ? -1 : weights.length)];
        if (geometry.planes() > 0) foldKernel(geometry, input, 0, output, 0, reduce, weights, threads());
        return output;
    }

    /** fold (col2im) on double: see {@link #fold(FoldGeometry, float[], Reduce, float[])}. */
    public final double[] fold(FoldGeometry geometry, double[] input, Reduce reduce, double[] weights) {
        double[] output = new double
                [foldOutputLength(
                        geometry, input == null ? null : input.length, reduce, weights == null ? -1 : weights.length)];
        if (geometry.planes() > 0) foldKernel(geometry, input, 0, output, 0, reduce, weights, threads());
        return output;
    }

    /**
     * fold (col2im) into a caller's array, which can be reused from call to call: writes
     * {@code g.imageLength()} elements from index 0 ({@code output} may be longer). As
     * {@link #unfold(FoldGeometry, float[], float[])}, with {@code reduce} and {@code weights} as in
     * {@link #fold(FoldGeometry, float[], Reduce, float[])}.
     */
    public final void fold(FoldGeometry geometry, float[] input, Reduce reduce, float[] weights, float[] output) {
        notNull(geometry, "geometry");
        checkArrays(geometry.columnLength(), notNull(input, "input").length, geometry.imageLength(), output);
        checkMerge(geometry, reduce, weights == null ? -1 : weights.length);
        checkDisjoint(input, output, weights);
        if (geometry.planes() > 0) foldKernel(geometry, input, 0, output, 0, reduce, weights, threads());
    }

    /** fold (col2im) on double into a caller's array: see {@link #fold(FoldGeometry, float[], Reduce, float[], float[])}. */
    public final void fold(FoldGeometry geometry, double[] input, Reduce reduce, double[] weights, double[] output) {
        notNull(geometry, "geometry");
        checkArrays(geometry.columnLength(), notNull(input, "input").length, geometry.imageLength(), output);
        checkMerge(geometry, reduce, weights == null ? -1 : weights.length);
        checkDisjoint(input, output, weights);
        if (geometry.planes() > 0) foldKernel(geometry, input, 0, output, 0, reduce, weights, threads());
    }

    /**
     * fold (col2im) between buffers, direct or heap (see the class description): writes
     * {@code g.imageLength()} elements.
     */
    public final void fold(
            FoldGeometry geometry, FloatBuffer input, Reduce reduce, float[] weights, FloatBuffer output) {
        notNull(geometry, "geometry");
        int in = Bounds.input(input, "input", geometry.columnLength()),
                out = Bounds.output(output, "output", geometry.imageLength());
        checkMerge(geometry, reduce, weights == null ? -1 : weights.length);
        if (geometry.planes() == 0) return;
        if (input.isDirect() && output.isDirect()) {
            foldAt(geometry, input, in, output, out, reduce, weights, threads());
        } else {
            HeapFloatBuffers.fold(this, geometry, input, in, output, out, reduce, weights, threads());
        }
    }

    /**
     * fold (col2im) between buffers, direct or heap (see the class description): writes
     * {@code g.imageLength()} elements.
     */
    public final void fold(
            FoldGeometry geometry, DoubleBuffer input, Reduce reduce, double[] weights, DoubleBuffer output) {
        notNull(geometry, "geometry");
        int in = Bounds.input(input, "input", geometry.columnLength()),
                out = Bounds.output(output, "output", geometry.imageLength());
        checkMerge(geometry, reduce, weights == null ? -1 : weights.length);
        if (geometry.planes() == 0) return;
        if (input.isDirect() && output.isDirect()) {
            foldAt(geometry, input, in, output, out, reduce, weights, threads());
        } else {
            HeapDoubleBuffers.fold(this, geometry, input, in, output, out, reduce, weights, threads());
        }
    }

    /** fold (col2im) between JavaCPP pointers, zero-copy; bounds as for {@link #unfold(FoldGeometry, FloatPointer, FloatPointer)}. */
    public final void fold(
            FoldGeometry geometry, FloatPointer input, Reduce reduce, float[] weights, FloatPointer output) {
        notNull(geometry, "geometry");
        long in = Bounds.input(input, "input", geometry.columnLength(), Float.BYTES);
        long out = Bounds.output(output, "output", geometry.imageLength(), Float.BYTES);
        checkMerge(geometry, reduce, weights == null ? -1 : weights.length);
        if (geometry.planes() > 0) {
            foldFloats(geometry, foldDisjoint(geometry, in, out, Float.BYTES), out, reduce, weights, threads());
        }
    }

    /** fold (col2im) between JavaCPP pointers, zero-copy; see the float overload. */
    public final void fold(
            FoldGeometry geometry, DoublePointer input, Reduce reduce, double[] weights, DoublePointer output) {
        notNull(geometry, "geometry");
        long in = Bounds.input(input, "input", geometry.columnLength(), Double.BYTES);
        long out = Bounds.output(output, "output", geometry.imageLength(), Double.BYTES);
        checkMerge(geometry, reduce, weights == null ? -1 : weights.length);
        if (geometry.planes() > 0) {
            foldDoubles(geometry, foldDisjoint(geometry, in, out, Double.BYTES), out, reduce, weights, threads());
        }
    }

    // ---- streaming fold: a range of blocks into an existing output -------------------------------

    /**
     * Streaming fold: merges the columns of blocks [{@code firstBlock}, {@code firstBlock + blockCount})
     * of the geometry's grid into {@code output}, adding to what it holds (nothing is zeroed), and
     * adds each kernel offset's weight (1 when {@code weights} is null) to {@code weightSum}, one
     * image plane of ∏ n elements, wherever that offset's blocks land. For folding a volume whose
     * whole column matrix would not fit in memory, in batches of blocks (sliding-window inference).
     *
     * <p>{@code geometry} is the whole fold's (either {@code forFold} with the whole grid, or
     * {@code forUnfold} of the output image: the same geometry). {@code input} holds only the range's
     * columns: (N, C·K, blockCount) per sample, (C·K, N·blockCount) batch-fused; its column j is
     * block {@code firstBlock + j}. {@code output} is the image, (N, C, *n).
     *
     * <p>Merges: SUM and MEAN add {@code w[k]·x}; MAX and MIN keep the larger or smaller of what is
     * there and {@code w[k]·x} (NaN wins). MEAN needs {@code weightSum}; the others may pass null
     * when they will not call {@link #finishFold}.
     *
     * <p>To get the whole fold's result bit for bit: fill {@code output} with
     * {@link Reduce#identity()} and {@code weightSum} with 0, visit the ranges in descending block
     * order (the last blocks first), then call {@link #finishFold}. Why descending: an image element
     * receives its contributions in increasing kernel-offset order, and a higher kernel offset comes
     * from a lower block. Any other order gives sums rounded differently (MAX and MIN do not care).
     *
     * @throws IllegalArgumentException for a range outside the grid, an input of the wrong length,
     *     an output or weight sum too short, or memory shared between them (each named)
     * @throws NullPointerException for a null argument, or no weight sum for MEAN
     */
    public final void foldBlocks(
            FoldGeometry geometry,
            float[] input,
            long firstBlock,
            long blockCount,
            Reduce reduce,
            float[] weights,
            float[] output,
            float[] weightSum) {
        FloatBlockFolds.fold(this, geometry, input, firstBlock, blockCount, reduce, weights, output, weightSum);
    }

    /** Streaming fold on double[]: see {@link #foldBlocks(FoldGeometry, float[], long, long, Reduce, float[], float[], float[])}. */
    public final void foldBlocks(
            FoldGeometry geometry,
            double[] input,
            long firstBlock,
            long blockCount,
            Reduce reduce,
            double[] weights,
            double[] output,
            double[] weightSum) {
        DoubleBlockFolds.fold(this, geometry, input, firstBlock, blockCount, reduce, weights, output, weightSum);
    }

    /** Streaming fold on FloatBuffer: see {@link #foldBlocks(FoldGeometry, float[], long, long, Reduce, float[], float[], float[])}. */
    public final void foldBlocks(
            FoldGeometry geometry,
            FloatBuffer input,
            long firstBlock,
            long blockCount,
            Reduce reduce,
            float[] weights,
            FloatBuffer output,
            FloatBuffer weightSum) {
        FloatBlockFolds.fold(this, geometry, input, firstBlock, blockCount, reduce, weights, output, weightSum);
    }

    /** Streaming fold on DoubleBuffer: see {@link #foldBlocks(FoldGeometry, float[], long, long, Reduce, float[], float[], float[])}. */
    public final void foldBlocks(
            FoldGeometry geometry,
            DoubleBuffer input,
            long firstBlock,
            long blockCount,
            Reduce reduce,
            double[] weights,
            DoubleBuffer output,
            DoubleBuffer weightSum) {
        DoubleBlockFolds.fold(this, geometry, input, firstBlock, blockCount, reduce, weights, output, weightSum);
    }

    /** Streaming fold on FloatPointer: see {@link #foldBlocks(FoldGeometry, float[], long, long, Reduce, float[], float[], float[])}. */
    public final void foldBlocks(
            FoldGeometry geometry,
            FloatPointer input,
            long firstBlock,
            long blockCount,
            Reduce reduce,
            float[] weights,
            FloatPointer output,
            FloatPointer weightSum) {
        FloatBlockFolds.fold(this, geometry, input, firstBlock, blockCount, reduce, weights, output, weightSum);
    }

    /** Streaming fold on DoublePointer: see {@link #foldBlocks(FoldGeometry, float[], long, long, Reduce, float[], float[], float[])}. */
    public final void foldBlocks(
            FoldGeometry geometry,
            DoublePointer input,
            long firstBlock,
            long blockCount,
            Reduce reduce,
            double[] weights,
            DoublePointer output,
            DoublePointer weightSum) {
        DoubleBlockFolds.fold(this, geometry, input, firstBlock, blockCount, reduce, weights, output, weightSum);
    }

    /**
     * The finishing step of a streamed fold ({@link #foldBlocks}), after every block has been
     * merged: MEAN divides each element by the weight sum at its place in the plane; MAX and MIN
     * keep what is there; all three give 0 where the weight sum is 0 (no block landed there, or
     * their weights sum to 0), as the whole fold does. SUM changes nothing ({@code weightSum} may
     * then be null). {@code weightSum} is read, not changed.
     *
     * @throws NullPointerException for a null argument, or no weight sum for MEAN, MAX or MIN
     * @throws IllegalArgumentException for an output or weight sum too short, or sharing memory
     */
    public final void finishFold(FoldGeometry geometry, Reduce reduce, float[] output, float[] weightSum) {
        FloatBlockFolds.finish(this, geometry, reduce, output, weightSum);
    }

    /** The finishing step of a streamed fold on double[]: see {@link #finishFold(FoldGeometry, Reduce, float[], float[])}. */
    public final void finishFold(FoldGeometry geometry, Reduce reduce, double[] output, double[] weightSum) {
        DoubleBlockFolds.finish(this, geometry, reduce, output, weightSum);
    }

    /** The finishing step of a streamed fold on FloatBuffer: see {@link #finishFold(FoldGeometry, Reduce, float[], float[])}. */
    public final void finishFold(FoldGeometry geometry, Reduce reduce, FloatBuffer output, FloatBuffer weightSum) {
        FloatBlockFolds.finish(this, geometry, reduce, output, weightSum);
    }

    /** The finishing step of a streamed fold on DoubleBuffer: see {@link #finishFold(FoldGeometry, Reduce, float[], float[])}. */
    public final void finishFold(FoldGeometry geometry, Reduce reduce, DoubleBuffer output, DoubleBuffer weightSum) {
        DoubleBlockFolds.finish(this, geometry, reduce, output, weightSum);
    }

    /** The finishing step of a streamed fold on FloatPointer: see {@link #finishFold(FoldGeometry, Reduce, float[], float[])}. */
    public final void finishFold(FoldGeometry geometry, Reduce reduce, FloatPointer output, FloatPointer weightSum) {
        FloatBlockFolds.finish(this, geometry, reduce, output, weightSum);
    }

    /** The finishing step of a streamed fold on DoublePointer: see {@link #finishFold(FoldGeometry, Reduce, float[], float[])}. */
    public final void finishFold(FoldGeometry geometry, Reduce reduce, DoublePointer output, DoublePointer weightSum) {
        DoubleBlockFolds.finish(this, geometry, reduce, output, weightSum);
    }

    // ---- fold of float16 and bfloat16 data (short bits) -------------------------------------------

    /**
     * fold (col2im) of FLOAT16 or BFLOAT16 data held as {@code short} bits, to a new image: shapes,
     * merges and order as {@link #fold(FoldGeometry, float[], Reduce, float[])}, with every operation
     * computed in float and rounded to the type at once (to nearest, ties to even), as PyTorch's CPU
     * kernels compute on half and bfloat16. So SUM equals PyTorch's half and bfloat16 fold bit for
     * bit: each addition is rounded, in increasing kernel-offset order. MEAN divides the rounded sum
     * by the rounded weight sum; {@code weights} (nullable, K floats) are rounded to the type first.
     *
     * @throws IllegalArgumentException for any other type (integer fold is not defined: fold sums),
     *     or anything the float fold refuses
     */
    public final short[] fold(FoldGeometry geometry, short[] input, ElementType type, Reduce reduce, float[] weights) {
        return HalfFolds.foldNew(this, geometry, input, type, reduce, weights);
    }

    /** fold of float16 or bfloat16 bits into a caller's array: see {@link #fold(FoldGeometry, short[], ElementType, Reduce, float[])}. */
    public final void fold(
            FoldGeometry geometry, short[] input, ElementType type, Reduce reduce, float[] weights, short[] output) {
        HalfFolds.fold(this, geometry, input, type, reduce, weights, output);
    }

    /** fold of float16 or bfloat16 bits between buffers, direct (native order) or heap. */
    public final void fold(
            FoldGeometry geometry,
            ShortBuffer input,
            ElementType type,
            Reduce reduce,
            float[] weights,
            ShortBuffer output) {
        HalfFolds.fold(this, geometry, input, type, reduce, weights, output);
    }

    /** fold of float16 or bfloat16 bits between JavaCPP pointers, zero-copy. */
    public final void fold(
            FoldGeometry geometry,
            ShortPointer input,
            ElementType type,
            Reduce reduce,
            float[] weights,
            ShortPointer output) {
        HalfFolds.fold(this, geometry, input, type, reduce, weights, output);
    }

    // ---- checks shared by the overloads: everything is validated before any allocation --------

    /** Checks an unfold of a heap array of the given length (null: the array is null); returns the output length. */
    /**
     * The lengths of a caller's arrays, with messages for arrays (the buffer checks they then pass
     * speak of positions and limits): input exactly as its shape says, output at least as long.
     */
    /** The output array is neither the input nor the weights: fold and unfold do not work in place. */
    private static void checkDisjoint(Object input, Object output, Object weights) {
        if (output == input) throw Check.fail("output must not be the input array: fold/unfold do not work in place");
        if (output == weights) throw Check.fail("output must not be the weights array");
    }

    private static void checkArrays(long inputLength, int input, long outputLength, Object output) {
        Check.length("input", input, inputLength);
        int n = java.lang.reflect.Array.getLength(notNull(output, "output"));
        if (n < outputLength) {
            throw Check.fail("output must have at least %d elements for this geometry, got %d", outputLength, n);
        }
    }

    private static int unfoldOutputLength(FoldGeometry geometry, Integer inputLength) {
        notNull(geometry, "geometry");
        Check.length("input", notNull(inputLength, "input"), geometry.imageLength());
        return Check.arrayLength(geometry.columnLength(), "the unfold output");
    }

    private static int foldOutputLength(FoldGeometry geometry, Integer inputLength, Reduce reduce, int weights) {
        notNull(geometry, "geometry");
        Check.length("input", notNull(inputLength, "input"), geometry.columnLength());
        checkMerge(geometry, reduce, weights);
        return Check.arrayLength(geometry.imageLength(), "the fold output");
    }

    /** Refuses overlapping unfold memory; returns the input address. */
    private static long unfoldDisjoint(FoldGeometry g, long in, long out, int bytes) {
        Bounds.disjoint(out, g.columnLength() * bytes, in, g.imageLength() * bytes, "input");
        return in;
    }

    private static long foldDisjoint(FoldGeometry g, long in, long out, int bytes) {
        Bounds.disjoint(out, g.imageLength() * bytes, in, g.columnLength() * bytes, "input");
        return in;
    }

    /** The merge and the weights' length (-1: no weights), as every fold checks them; shared by BlockRange and HalfFolds. */
    static void checkMerge(FoldGeometry geometry, Reduce reduce, int weights) {
        notNull(reduce, "reduce");
        if (weights >= 0 && weights != geometry.kernelVolume()) {
            throw Check.fail(
                    "weights must have %d elements (the product of kernelSize %s), got %d",
                    geometry.kernelVolume(), java.util.Arrays.toString(geometry.kernelSizeUnsafe()), weights);
        }
    }

    @Override
    public String toString() {
        return name();
    }

    // ---- direct buffers from captured positions: the address, or the pure-Java fallback ------------

    /**
     * unfold between direct buffers from positions captured (and checked) by the caller: by
     * address, or where no address can be read (no JavaCPP natives) through the pure-Java engine.
     */
    private void unfoldAt(FoldGeometry g, FloatBuffer input, int in, FloatBuffer output, int out, int threads) {
        if (!NativeMemory.available()) {
            JavaEngine.unfoldUnaddressed(g, input, in, output, out, threads);
            return;
        }
        long inAt = address(input, in, Float.BYTES), outAt = address(output, out, Float.BYTES);
        unfoldFloats(g, unfoldDisjoint(g, inAt, outAt, Float.BYTES), outAt, threads);
    }

    private void unfoldAt(FoldGeometry g, DoubleBuffer input, int in, DoubleBuffer output, int out, int threads) {
        if (!NativeMemory.available()) {
            JavaEngine.unfoldUnaddressed(g, input, in, output, out, threads);
            return;
        }
        long inAt = address(input, in, Double.BYTES), outAt = address(output, out, Double.BYTES);
        unfoldDoubles(g, unfoldDisjoint(g, inAt, outAt, Double.BYTES), outAt, threads);
    }

    /** fold between direct buffers from captured positions; see {@link #unfoldAt}. */
    private void foldAt(
            FoldGeometry g,
            FloatBuffer input,
            int in,
            FloatBuffer output,
            int out,
            Reduce reduce,
            float[] weights,
            int threads) {
        if (!NativeMemory.available()) {
            JavaEngine.foldUnaddressed(g, input, in, output, out, reduce, weights, threads);
            return;
        }
        long inAt = address(input, in, Float.BYTES), outAt = address(output, out, Float.BYTES);
        foldFloats(g, foldDisjoint(g, inAt, outAt, Float.BYTES), outAt, reduce, weights, threads);
    }

    private void foldAt(
            FoldGeometry g,
            DoubleBuffer input,
            int in,
            DoubleBuffer output,
            int out,
            Reduce reduce,
            double[] weights,
            int threads) {
        if (!NativeMemory.available()) {
            JavaEngine.foldUnaddressed(g, input, in, output, out, reduce, weights, threads);
            return;
        }
        long inAt = address(input, in, Double.BYTES), outAt = address(output, out, Double.BYTES);
        foldDoubles(g, foldDisjoint(g, inAt, outAt, Double.BYTES), outAt, reduce, weights, threads);
    }

    /** The address of element {@code position} of a direct buffer. */
    private static long address(Buffer buffer, int position, int elementBytes) {
        return NativeMemory.base(buffer) + (long) position * elementBytes;
    }

    // ---- kernels: called only with validated arguments and at least one plane ------------------

    // Heap arrays from an element on (inAt, outAt: 0 for the array API, a heap buffer's
    // arrayOffset() + position() for the buffer API), with the call's elements checked to fit.
    abstract void unfoldKernel(FoldGeometry g, float[] in, int inAt, float[] out, int outAt, int threads);

    abstract void unfoldKernel(FoldGeometry g, double[] in, int inAt, double[] out, int outAt, int threads);

    abstract void foldKernel(
            FoldGeometry g, float[] in, int inAt, float[] out, int outAt, Reduce reduce, float[] weights, int threads);

    abstract void foldKernel(
            FoldGeometry g,
            double[] in,
            int inAt,
            double[] out,
            int outAt,
            Reduce reduce,
            double[] weights,
            int threads);

    // Native memory (direct buffers, JavaCPP pointers) by the address of its first element, captured
    // and checked once by Bounds: the kernels never read a caller's position or limit again.
    abstract void unfoldFloats(FoldGeometry g, long in, long out, int threads);

    abstract void unfoldDoubles(FoldGeometry g, long in, long out, int threads);

    abstract void foldFloats(FoldGeometry g, long in, long out, Reduce reduce, float[] weights, int threads);

    abstract void foldDoubles(FoldGeometry g, long in, long out, Reduce reduce, double[] weights, int threads);
}
