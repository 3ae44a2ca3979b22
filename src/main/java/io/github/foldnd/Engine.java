package io.github.foldnd;

import static io.github.foldnd.Check.notNull;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Optional;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

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
 * are left unchanged.
 * Buffers must be direct and in native byte order, and the output must not overlap an input
 * (the native engine refuses an overlap; the pure-Java engine cannot see addresses and refuses
 * only the same buffer object). Calls are thread-safe.
 */
public abstract sealed class Engine permits NativeEngine, JavaEngine {
    Engine() {}

    /** "native" or "java". */
    public abstract String name();

    /** The engine {@link FoldNd} uses (see the class description). */
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
        return NativeEngine.instance().<List<Engine>>map(n -> List.of(n, JavaEngine.INSTANCE)).orElse(List.of(JavaEngine.INSTANCE));
    }

    // ---- unfold -------------------------------------------------------------------------------

    /** unfold (im2col): image {@code g.imageShape()} to a new array of shape {@code g.columnShape()}. */
    public final float[] unfold(FoldGeometry geometry, float[] input) {
        float[] output = new float[unfoldArray(geometry, input == null ? null : input.length)];
        if (geometry.planes() > 0) unfoldKernel(geometry, input, output, Threads.get());
        return output;
    }

    /** unfold (im2col) on double: see {@link #unfold(FoldGeometry, float[])}. */
    public final double[] unfold(FoldGeometry geometry, double[] input) {
        double[] output = new double[unfoldArray(geometry, input == null ? null : input.length)];
        if (geometry.planes() > 0) unfoldKernel(geometry, input, output, Threads.get());
        return output;
    }

    /** unfold (im2col) between direct buffers, zero-copy: writes {@code g.columnLength()} elements. */
    public final void unfold(FoldGeometry geometry, FloatBuffer input, FloatBuffer output) {
        if (unfoldMemory(geometry, input, output)) unfoldKernel(geometry, input, output, Threads.get());
    }

    /** unfold (im2col) between direct buffers, zero-copy: writes {@code g.columnLength()} elements. */
    public final void unfold(FoldGeometry geometry, DoubleBuffer input, DoubleBuffer output) {
        if (unfoldMemory(geometry, input, output)) unfoldKernel(geometry, input, output, Threads.get());
    }

    /**
     * unfold (im2col) between JavaCPP pointers (as ND4J's DataBuffers and PyTorch's tensors hand
     * out), zero-copy. A pointer's elements are those from its position to its limit: set the limit
     * (or allocate with a size) so the bounds are known.
     */
    public final void unfold(FoldGeometry geometry, FloatPointer input, FloatPointer output) {
        if (unfoldMemory(geometry, input, output)) unfoldKernel(geometry, input, output, Threads.get());
    }

    /** unfold (im2col) between JavaCPP pointers, zero-copy; see the float overload. */
    public final void unfold(FoldGeometry geometry, DoublePointer input, DoublePointer output) {
        if (unfoldMemory(geometry, input, output)) unfoldKernel(geometry, input, output, Threads.get());
    }

    // ---- fold ---------------------------------------------------------------------------------

    /**
     * fold (col2im): columns {@code g.columnShape()} to a new image of shape {@code g.imageShape()},
     * merging overlapping blocks with {@code reduce}; {@code weights} (nullable) holds K values in
     * kernel-offset order.
     */
    public final float[] fold(FoldGeometry geometry, float[] input, Reduce reduce, float[] weights) {
        float[] output = new float[foldArray(geometry, input == null ? null : input.length, reduce, weights == null ? -1 : weights.length)];
        if (geometry.planes() > 0) foldKernel(geometry, input, output, reduce, weights, Threads.get());
        return output;
    }

    /** fold (col2im) on double: see {@link #fold(FoldGeometry, float[], Reduce, float[])}. */
    public final double[] fold(FoldGeometry geometry, double[] input, Reduce reduce, double[] weights) {
        double[] output = new double[foldArray(geometry, input == null ? null : input.length, reduce, weights == null ? -1 : weights.length)];
        if (geometry.planes() > 0) foldKernel(geometry, input, output, reduce, weights, Threads.get());
        return output;
    }

    /** fold (col2im) between direct buffers, zero-copy: writes {@code g.imageLength()} elements. */
    public final void fold(FoldGeometry geometry, FloatBuffer input, Reduce reduce, float[] weights, FloatBuffer output) {
        if (foldMemory(geometry, input, reduce, weights == null ? -1 : weights.length, output)) {
            foldKernel(geometry, input, output, reduce, weights, Threads.get());
        }
    }

    /** fold (col2im) between direct buffers, zero-copy: writes {@code g.imageLength()} elements. */
    public final void fold(FoldGeometry geometry, DoubleBuffer input, Reduce reduce, double[] weights, DoubleBuffer output) {
        if (foldMemory(geometry, input, reduce, weights == null ? -1 : weights.length, output)) {
            foldKernel(geometry, input, output, reduce, weights, Threads.get());
        }
    }

    /** fold (col2im) between JavaCPP pointers, zero-copy; bounds as for {@link #unfold(FoldGeometry, FloatPointer, FloatPointer)}. */
    public final void fold(FoldGeometry geometry, FloatPointer input, Reduce reduce, float[] weights, FloatPointer output) {
        if (foldMemory(geometry, input, reduce, weights == null ? -1 : weights.length, output)) {
            foldKernel(geometry, input, output, reduce, weights, Threads.get());
        }
    }

    /** fold (col2im) between JavaCPP pointers, zero-copy; see the float overload. */
    public final void fold(FoldGeometry geometry, DoublePointer input, Reduce reduce, double[] weights, DoublePointer output) {
        if (foldMemory(geometry, input, reduce, weights == null ? -1 : weights.length, output)) {
            foldKernel(geometry, input, output, reduce, weights, Threads.get());
        }
    }

    // ---- checks shared by the overloads: everything is validated before any allocation --------

    /** Checks an unfold of a heap array of the given length (null: the array is null); returns the output length. */
    private static int unfoldArray(FoldGeometry geometry, Integer inputLength) {
        notNull(geometry, "geometry");
        Check.length("input", notNull(inputLength, "input"), geometry.imageLength());
        return Check.arrayLength(geometry.columnLength(), "the unfold output");
    }

    private static int foldArray(FoldGeometry geometry, Integer inputLength, Reduce reduce, int weights) {
        notNull(geometry, "geometry");
        Check.length("input", notNull(inputLength, "input"), geometry.columnLength());
        checkMerge(geometry, reduce, weights);
        return Check.arrayLength(geometry.imageLength(), "the fold output");
    }

    /**
     * Checks an unfold between zero-copy memory (direct buffers or JavaCPP pointers); true when
     * there is work to do (at least one plane).
     */
    private static boolean unfoldMemory(FoldGeometry geometry, Object input, Object output) {
        notNull(geometry, "geometry");
        Check.input(input, "input", geometry.imageLength());
        Check.output(output, "output", geometry.columnLength());
        Check.distinct(input, output);
        return geometry.planes() > 0;
    }

    private static boolean foldMemory(FoldGeometry geometry, Object input, Reduce reduce, int weights, Object output) {
        notNull(geometry, "geometry");
        Check.input(input, "input", geometry.columnLength());
        Check.output(output, "output", geometry.imageLength());
        Check.distinct(input, output);
        checkMerge(geometry, reduce, weights);
        return geometry.planes() > 0;
    }

    private static void checkMerge(FoldGeometry geometry, Reduce reduce, int weights) {
        notNull(reduce, "reduce");
        if (weights >= 0 && weights != geometry.kernelVolume()) {
            throw Check.fail("weights must have %d elements (the product of kernelSize %s), got %d",
                    geometry.kernelVolume(), java.util.Arrays.toString(geometry.kernelSizeUnsafe()), weights);
        }
    }

    @Override
    public String toString() {
        return name();
    }

    // ---- kernels: called only with validated arguments and at least one plane ------------------

    abstract void unfoldKernel(FoldGeometry g, float[] in, float[] out, int threads);
    abstract void unfoldKernel(FoldGeometry g, double[] in, double[] out, int threads);
    abstract void unfoldKernel(FoldGeometry g, FloatBuffer in, FloatBuffer out, int threads);
    abstract void unfoldKernel(FoldGeometry g, DoubleBuffer in, DoubleBuffer out, int threads);
    abstract void unfoldKernel(FoldGeometry g, FloatPointer in, FloatPointer out, int threads);
    abstract void unfoldKernel(FoldGeometry g, DoublePointer in, DoublePointer out, int threads);
    abstract void foldKernel(FoldGeometry g, float[] in, float[] out, Reduce reduce, float[] weights, int threads);
    abstract void foldKernel(FoldGeometry g, double[] in, double[] out, Reduce reduce, double[] weights, int threads);
    abstract void foldKernel(FoldGeometry g, FloatBuffer in, FloatBuffer out, Reduce reduce, float[] weights, int threads);
    abstract void foldKernel(FoldGeometry g, DoubleBuffer in, DoubleBuffer out, Reduce reduce, double[] weights, int threads);
    abstract void foldKernel(FoldGeometry g, FloatPointer in, FloatPointer out, Reduce reduce, float[] weights, int threads);
    abstract void foldKernel(FoldGeometry g, DoublePointer in, DoublePointer out, Reduce reduce, double[] weights, int threads);
}
