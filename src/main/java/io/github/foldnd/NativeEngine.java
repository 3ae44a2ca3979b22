package io.github.foldnd;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Optional;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The native engine: OpenMP C++ kernels (native/include/foldnd) through the JavaCPP binding
 * {@link NativeKernels}. Loaded lazily, once; unavailable (with the reason kept) when the platform's
 * library is missing or fails the self-check against the pure-Java engine.
 */
final class NativeEngine extends Engine {
    private static final class Holder {
        static final NativeEngine INSTANCE;
        static final String FAILURE;

        static {
            NativeEngine engine = null;
            String failure = null;
            try {
                NativeKernels.load();
                engine = new NativeEngine();
                failure = engine.selfCheck();
            } catch (Throwable t) {  // UnsatisfiedLinkError, NoClassDefFoundError, ...: fall back to Java
                failure = t.toString();
            }
            INSTANCE = failure == null ? engine : null;
            FAILURE = failure;
        }
    }

    private NativeEngine() {}

    static Optional<NativeEngine> instance() {
        return Optional.ofNullable(Holder.INSTANCE);
    }

    static Optional<String> unavailableReason() {
        return Optional.ofNullable(Holder.FAILURE);
    }

    @Override
    public String name() {
        return "native";
    }

    /** Folds and unfolds the user's example on both engines; null when they agree bit for bit. */
    private String selfCheck() {
        FoldGeometry g = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3);
        float[] image = new float[18];
        for (int i = 0; i < image.length; i++) image[i] = i;
        float[] cols = unfold(g, image);
        if (!Arrays.equals(cols, JavaEngine.INSTANCE.unfold(g, image))) return "native unfold failed its self-check";
        for (Reduce r : Reduce.values()) {
            if (!Arrays.equals(fold(g, cols, r, null), JavaEngine.INSTANCE.fold(g, cols, r, null))) {
                return "native fold (" + r + ") failed its self-check";
            }
        }
        return null;
    }

    /** Maps a native status; anything but OK or OVERLAP means the Java checks missed something. */
    private static void check(int status) {
        switch (status) {
            case 0 -> { }
            case 3 -> throw Check.fail("output must not overlap input in memory: fold/unfold do not work in place");
            default -> throw new IllegalStateException("the native kernel refused a call the Java side had validated "
                    + "(status " + status + "); please report this as a foldnd bug");
        }
    }

    private static long length(float[] weights) {
        return weights == null ? 0 : weights.length;
    }

    private static long length(double[] weights) {
        return weights == null ? 0 : weights.length;
    }

    @Override
    void unfoldKernel(FoldGeometry g, float[] in, float[] out, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.unfold(in, in.length, out, out.length, d, d.length, threads));
    }

    @Override
    void unfoldKernel(FoldGeometry g, double[] in, double[] out, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.unfold(in, in.length, out, out.length, d, d.length, threads));
    }

    @Override
    void unfoldKernel(FoldGeometry g, FloatBuffer in, FloatBuffer out, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.unfold(in, in.remaining(), out, out.remaining(), d, d.length, threads));
    }

    @Override
    void unfoldKernel(FoldGeometry g, DoubleBuffer in, DoubleBuffer out, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.unfold(in, in.remaining(), out, out.remaining(), d, d.length, threads));
    }

    @Override
    void unfoldKernel(FoldGeometry g, FloatPointer in, FloatPointer out, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.unfold(in, in.limit() - in.position(), out, out.limit() - out.position(), d, d.length, threads));
    }

    @Override
    void unfoldKernel(FoldGeometry g, DoublePointer in, DoublePointer out, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.unfold(in, in.limit() - in.position(), out, out.limit() - out.position(), d, d.length, threads));
    }

    @Override
    void foldKernel(FoldGeometry g, FloatPointer in, FloatPointer out, Reduce reduce, float[] weights, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.fold(in, in.limit() - in.position(), out, out.limit() - out.position(), d, d.length,
                reduce.ordinal(), weights, length(weights), threads));
    }

    @Override
    void foldKernel(FoldGeometry g, DoublePointer in, DoublePointer out, Reduce reduce, double[] weights, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.fold(in, in.limit() - in.position(), out, out.limit() - out.position(), d, d.length,
                reduce.ordinal(), weights, length(weights), threads));
    }

    @Override
    void foldKernel(FoldGeometry g, float[] in, float[] out, Reduce reduce, float[] weights, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.fold(in, in.length, out, out.length, d, d.length, reduce.ordinal(), weights, length(weights), threads));
    }

    @Override
    void foldKernel(FoldGeometry g, double[] in, double[] out, Reduce reduce, double[] weights, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.fold(in, in.length, out, out.length, d, d.length, reduce.ordinal(), weights, length(weights), threads));
    }

    @Override
    void foldKernel(FoldGeometry g, FloatBuffer in, FloatBuffer out, Reduce reduce, float[] weights, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.fold(in, in.remaining(), out, out.remaining(), d, d.length, reduce.ordinal(), weights, length(weights), threads));
    }

    @Override
    void foldKernel(FoldGeometry g, DoubleBuffer in, DoubleBuffer out, Reduce reduce, double[] weights, int threads) {
        long[] d = g.descriptor();
        check(NativeKernels.fold(in, in.remaining(), out, out.remaining(), d, d.length, reduce.ordinal(), weights, length(weights), threads));
    }
}
