package io.github.foldnd;

import io.github.foldnd.internal.Check;
import java.nio.Buffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The pure-Java engine: the fallback where no native library exists for the platform, and the
 * second implementation every test compares against. Heap arrays are wrapped (no copy) and read
 * from the element the caller gives (0, or a heap buffer's arrayOffset() + position()); native
 * memory (direct buffers, JavaCPP pointers) is read through direct-buffer views of exactly the
 * span that the call captured and checked (see {@code Bounds}), never through the caller's own
 * buffer, whose position and limit another thread may move meanwhile.
 *
 * <p>A view is a Java buffer, so it spans at most 2^31 - 1 bytes. Larger native spans (pointers)
 * are handled plane by plane ({@link LargeSpans}), 64-bit throughout.
 */
final class JavaEngine extends Engine {
    static final JavaEngine INSTANCE = new JavaEngine();

    private JavaEngine() {
        this(0);
    }

    private JavaEngine(int threads) {
        super(threads);
    }

    @Override
    JavaEngine copyWithThreads(int threads) {
        return new JavaEngine(threads);
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    void unfoldKernel(FoldGeometry g, float[] in, int inAt, float[] out, int outAt, int threads) {
        JavaFloatKernels.unfold(g, FloatBuffer.wrap(in), inAt, FloatBuffer.wrap(out), outAt, threads);
    }

    @Override
    void unfoldKernel(FoldGeometry g, double[] in, int inAt, double[] out, int outAt, int threads) {
        JavaDoubleKernels.unfold(g, DoubleBuffer.wrap(in), inAt, DoubleBuffer.wrap(out), outAt, threads);
    }

    @Override
    void foldKernel(
            FoldGeometry g, float[] in, int inAt, float[] out, int outAt, Reduce reduce, float[] weights, int threads) {
        JavaFloatKernels.fold(g, FloatBuffer.wrap(in), inAt, FloatBuffer.wrap(out), outAt, reduce, weights, threads);
    }

    @Override
    void foldKernel(
            FoldGeometry g,
            double[] in,
            int inAt,
            double[] out,
            int outAt,
            Reduce reduce,
            double[] weights,
            int threads) {
        JavaDoubleKernels.fold(g, DoubleBuffer.wrap(in), inAt, DoubleBuffer.wrap(out), outAt, reduce, weights, threads);
    }

    @Override
    void unfoldFloats(FoldGeometry g, long in, long out, int threads) {
        if (LargeSpans.fitsViews(g, Float.BYTES)) {
            JavaFloatKernels.unfold(
                    g, Addresses.floats(in, g.imageLength()), 0, Addresses.floats(out, g.columnLength()), 0, threads);
        } else {
            LargeSpans.unfoldFloats(g, in, out, threads);
        }
    }

    @Override
    void unfoldDoubles(FoldGeometry g, long in, long out, int threads) {
        if (LargeSpans.fitsViews(g, Double.BYTES)) {
            JavaDoubleKernels.unfold(
                    g, Addresses.doubles(in, g.imageLength()), 0, Addresses.doubles(out, g.columnLength()), 0, threads);
        } else {
            LargeSpans.unfoldDoubles(g, in, out, threads);
        }
    }

    @Override
    void foldFloats(FoldGeometry g, long in, long out, Reduce reduce, float[] weights, int threads) {
        if (LargeSpans.fitsViews(g, Float.BYTES)) {
            JavaFloatKernels.fold(
                    g,
                    Addresses.floats(in, g.columnLength()),
                    0,
                    Addresses.floats(out, g.imageLength()),
                    0,
                    reduce,
                    weights,
                    threads);
        } else {
            LargeSpans.foldFloats(g, in, out, reduce, weights, threads);
        }
    }

    @Override
    void foldDoubles(FoldGeometry g, long in, long out, Reduce reduce, double[] weights, int threads) {
        if (LargeSpans.fitsViews(g, Double.BYTES)) {
            JavaDoubleKernels.fold(
                    g,
                    Addresses.doubles(in, g.columnLength()),
                    0,
                    Addresses.doubles(out, g.imageLength()),
                    0,
                    reduce,
                    weights,
                    threads);
        } else {
            LargeSpans.foldDoubles(g, in, out, reduce, weights, threads);
        }
    }

    // ---- direct buffers where JavaCPP's native library is missing, so no address can be read -------

    /**
     * A private view of a whole direct buffer (position 0, limit its capacity), so that the kernels'
     * absolute indices, from the position captured at entry, are checked against the capacity,
     * which never changes, and not against a limit that another thread may move.
     */
    private static <B extends Buffer> B whole(B buffer, B duplicate) {
        duplicate.clear();
        return duplicate;
    }

    static void unfoldUnaddressed(FoldGeometry g, FloatBuffer in, int inAt, FloatBuffer out, int outAt, int threads) {
        if (in == out)
            throw Check.fail("output must not be the same buffer as input: fold/unfold do not work in place");
        JavaFloatKernels.unfold(g, whole(in, in.duplicate()), inAt, whole(out, out.duplicate()), outAt, threads);
    }

    static void unfoldUnaddressed(FoldGeometry g, DoubleBuffer in, int inAt, DoubleBuffer out, int outAt, int threads) {
        if (in == out)
            throw Check.fail("output must not be the same buffer as input: fold/unfold do not work in place");
        JavaDoubleKernels.unfold(g, whole(in, in.duplicate()), inAt, whole(out, out.duplicate()), outAt, threads);
    }

    static void foldUnaddressed(
            FoldGeometry g,
            FloatBuffer in,
            int inAt,
            FloatBuffer out,
            int outAt,
            Reduce reduce,
            float[] weights,
            int threads) {
        if (in == out)
            throw Check.fail("output must not be the same buffer as input: fold/unfold do not work in place");
        JavaFloatKernels.fold(
                g, whole(in, in.duplicate()), inAt, whole(out, out.duplicate()), outAt, reduce, weights, threads);
    }

    static void foldUnaddressed(
            FoldGeometry g,
            DoubleBuffer in,
            int inAt,
            DoubleBuffer out,
            int outAt,
            Reduce reduce,
            double[] weights,
            int threads) {
        if (in == out)
            throw Check.fail("output must not be the same buffer as input: fold/unfold do not work in place");
        JavaDoubleKernels.fold(
                g, whole(in, in.duplicate()), inAt, whole(out, out.duplicate()), outAt, reduce, weights, threads);
    }
}
