package io.github.foldnd;

import io.github.foldnd.internal.Check;
import io.github.foldnd.internal.NativeContract;
import io.github.foldnd.spi.PlatformLibrary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The native engine: OpenMP C++ kernels (native/include/foldnd) through the JavaCPP binding
 * {@link NativeKernels}. Loaded lazily, once; unavailable (with the reason kept) when the platform's
 * library is missing or fails the self-check against the pure-Java engine.
 */
final class NativeEngine extends Engine {
    private static final class Holder {
        static final NativeEngine INSTANCE;
        static final String FAILURE;
        /** What Engine.selected() returns: this engine, with work too small for the crossing sent to Java. */
        static final NativeEngine SMALL_TO_JAVA;

        static {
            NativeEngine engine = null;
            String failure = null;
            try {
                NativeKernels.load();
                engine = new NativeEngine();
                failure = engine.selfCheck();
            } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, ...: fall back to Java
                failure = t + " (" + platformJars() + ")";
            }
            INSTANCE = failure == null ? engine : null;
            SMALL_TO_JAVA = failure == null ? new NativeEngine(0, true) : null;
            FAILURE = failure;
        }
    }

    /**
     * Which foldnd platform jars are on the class or module path (their PlatformLibrary services),
     * for the reason the native engine is unavailable: a missing jar is the usual one.
     */
    static String platformJars() {
        List<String> found = new ArrayList<>();
        try {
            for (PlatformLibrary p : ServiceLoader.load(PlatformLibrary.class, NativeEngine.class.getClassLoader()))
                found.add(p.platform());
        } catch (ServiceConfigurationError e) {
            return "foldnd platform jars unreadable: " + e.getMessage();
        }
        return found.isEmpty()
                ? "no foldnd platform jar found: depend on io.github.foldnd:foldnd-platform, or on foldnd's jar"
                        + " with this platform's classifier"
                : "foldnd platform jars found for " + found;
    }

    /**
     * Calls with at most this many elements in and out go to the Java kernels when the engine was
     * selected for the caller ({@link Engine#selected()}): below it the JNI crossing and the native
     * setup cost more than the work. Measured by CrossoverBenchmark (a 3x3 fold, padding 1, of one
     * n x n plane, direct buffers): Java was ahead at n = 4 (160 elements) and native at n = 8 (640)
     * on 2026-11-26 (foldnd-bench/results/2026-11-26/tiny-calls-after-setup-work.json: Java 470 +- 147
     * ns vs native 545 +- 79 at n = 4, 1008 +- 406 vs 694 +- 139 at n = 8) and again on 2026-11-27
     * (results/2026-11-27/crossover-and-tiny-calls.json, Java/native 0.93 at n = 4, 1.23 at n = 8).
     */
    static final long SMALL_ELEMENTS = 256;

    /** Whether work of at most SMALL_ELEMENTS goes to the Java kernels (never for nativeEngine()). */
    private final boolean smallToJava;

    private NativeEngine() {
        this(0, false);
    }

    private NativeEngine(int threads, boolean smallToJava) {
        super(threads);
        this.smallToJava = smallToJava;
    }

    @Override
    NativeEngine copyWithThreads(int threads) {
        return new NativeEngine(threads, smallToJava);
    }

    /** The native engine: every call in C++. */
    static Optional<NativeEngine> instance() {
        return Optional.ofNullable(Holder.INSTANCE);
    }

    /** The native engine as Engine.selected() uses it: calls of at most SMALL_ELEMENTS in Java. */
    static Optional<NativeEngine> selectedInstance() {
        return Optional.ofNullable(Holder.SMALL_TO_JAVA);
    }

    /** True when this call goes to the Java kernels instead (same results, bit for bit). */
    boolean small(FoldGeometry g) {
        return small(g.imageLength() + g.columnLength());
    }

    /** True when a call moving this many elements in and out goes to the Java kernels instead. */
    boolean small(long elements) {
        return smallToJava && elements <= SMALL_ELEMENTS;
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

    /**
     * Maps a native status. It is read after the native call has returned, and so after any
     * critical region is released: the exception is raised in plain Java. Anything but OK,
     * OVERLAP or OUT_OF_MEMORY means the Java checks missed something.
     */
    static void check(int code) {
        NativeStatus status = NativeStatus.of(code);
        switch (status) {
            case OK -> {}
            case OVERLAP ->
                throw Check.fail("output must not overlap input in memory: fold/unfold do not work in place");
            case OUT_OF_MEMORY ->
                throw new OutOfMemoryError("foldnd: the native kernel could not allocate its scratch memory");
            default ->
                throw new IllegalStateException("the native kernel refused a call the Java side had validated ("
                        + status + ", code " + code + "); please report this as a foldnd bug");
        }
    }

    private static long length(float[] weights) {
        return weights == null ? 0 : weights.length;
    }

    private static long length(double[] weights) {
        return weights == null ? 0 : weights.length;
    }

    // ---- heap arrays: in parts, each in a short critical region ----------------------------------------

    /**
     * The most bytes (input + output) that one critical region may cover (see
     * NativeContract.CRITICAL_BYTES). A part is at least one work item per thread (kernels.hpp: for
     * fold a band of at most 256 KiB of output and its columns, for unfold about 64 Ki column
     * elements, or one row of blocks when a row is longer), so a region may exceed this budget by
     * that much.
     */
    static final long CRITICAL_BYTES = NativeContract.CRITICAL_BYTES;

    /** The type codes of float and double (ElementType): every call here goes through the typed entry points. */
    private static final int F32 = ElementType.FLOAT32.code, F64 = ElementType.FLOAT64.code;

    /** The whole call as one part: the native side clips the count at its last work item. */
    static final long ALL = Long.MAX_VALUE;

    /** A call of the native kernel on the work items [first, first + count); returns a status. */
    interface Part {
        int run(long first, long count);
    }

    /** How many of a call's items one part covers: see NativeContract.itemsPerRegion. */
    static long itemsPerRegion(long totalBytes, long items, int threads) {
        return NativeContract.itemsPerRegion(totalBytes, items, threads);
    }

    /** The number of work items, from the native side (which also validates the descriptor). */
    private static long items(long count) {
        if (count < 0) check((int) -count);
        return count;
    }

    /**
     * Runs a heap-array call: in one critical region when it moves at most CRITICAL_BYTES, else
     * in parts of about that size, each in its own region, so the GC never waits long.
     */
    static void inParts(FoldGeometry g, int elementBytes, boolean fold, int threads, Part part) {
        long total = (g.imageLength() + g.columnLength()) * elementBytes;
        if (total <= CRITICAL_BYTES) {
            check(part.run(0, ALL));
            return;
        }
        long[] d = g.descriptor();
        long items = items(
                fold
                        ? NativeKernels.foldItems(d, d.length, elementBytes, threads)
                        : NativeKernels.unfoldItems(d, d.length, elementBytes));
        long step = itemsPerRegion(total, items, threads);
        for (long first = 0; first < items; first += step) check(part.run(first, step));
    }

    /**
     * Runs a heap-array block-range fold that moves totalBytes: as {@link #inParts}, with the
     * block-range fold's work items (block_fold.hpp: planes + 1 times the bands of a plane).
     */
    static void blocksInParts(FoldGeometry g, long totalBytes, int elementBytes, int threads, Part part) {
        if (totalBytes <= CRITICAL_BYTES) {
            check(part.run(0, ALL));
            return;
        }
        long[] d = g.descriptor();
        long items = items(NativeKernels.foldBlocksItems(d, d.length, elementBytes));
        long step = itemsPerRegion(totalBytes, items, threads);
        for (long first = 0; first < items; first += step) check(part.run(first, step));
    }

    @Override
    void unfoldKernel(FoldGeometry g, float[] in, int inAt, float[] out, int outAt, int threads) {
        if (small(g)) {
            JavaEngine.INSTANCE.unfoldKernel(g, in, inAt, out, outAt, threads);
            return;
        }
        long[] d = g.descriptor();
        inParts(
                g,
                Float.BYTES,
                false,
                threads,
                (first, count) -> NativeKernels.unfoldTyped(
                        F32, in, in.length, inAt, out, out.length, outAt, d, d.length, first, count, threads));
    }

    @Override
    void unfoldKernel(FoldGeometry g, double[] in, int inAt, double[] out, int outAt, int threads) {
        if (small(g)) {
            JavaEngine.INSTANCE.unfoldKernel(g, in, inAt, out, outAt, threads);
            return;
        }
        long[] d = g.descriptor();
        inParts(
                g,
                Double.BYTES,
                false,
                threads,
                (first, count) -> NativeKernels.unfoldTyped(
                        F64, in, in.length, inAt, out, out.length, outAt, d, d.length, first, count, threads));
    }

    @Override
    void foldKernel(
            FoldGeometry g, float[] in, int inAt, float[] out, int outAt, Reduce reduce, float[] weights, int threads) {
        if (small(g)) {
            JavaEngine.INSTANCE.foldKernel(g, in, inAt, out, outAt, reduce, weights, threads);
            return;
        }
        long[] d = g.descriptor();
        int r = reduce.code;
        long w = length(weights);
        inParts(
                g,
                Float.BYTES,
                true,
                threads,
                (first, count) -> NativeKernels.foldTyped(
                        F32,
                        in,
                        in.length,
                        inAt,
                        out,
                        out.length,
                        outAt,
                        d,
                        d.length,
                        r,
                        weights,
                        w,
                        first,
                        count,
                        threads));
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
        if (small(g)) {
            JavaEngine.INSTANCE.foldKernel(g, in, inAt, out, outAt, reduce, weights, threads);
            return;
        }
        long[] d = g.descriptor();
        int r = reduce.code;
        long w = length(weights);
        inParts(
                g,
                Double.BYTES,
                true,
                threads,
                (first, count) -> NativeKernels.foldTyped(
                        F64,
                        in,
                        in.length,
                        inAt,
                        out,
                        out.length,
                        outAt,
                        d,
                        d.length,
                        r,
                        weights,
                        w,
                        first,
                        count,
                        threads));
    }

    // ---- native memory: the captured addresses, zero-copy, no critical region ----------------------

    @Override
    void unfoldFloats(FoldGeometry g, long in, long out, int threads) {
        if (small(g)) {
            JavaEngine.INSTANCE.unfoldFloats(g, in, out, threads);
            return;
        }
        long[] d = g.descriptor();
        check(NativeKernels.unfoldTyped(
                F32, in, g.imageLength(), 0, out, g.columnLength(), 0, d, d.length, 0, ALL, threads));
    }

    @Override
    void unfoldDoubles(FoldGeometry g, long in, long out, int threads) {
        if (small(g)) {
            JavaEngine.INSTANCE.unfoldDoubles(g, in, out, threads);
            return;
        }
        long[] d = g.descriptor();
        check(NativeKernels.unfoldTyped(
                F64, in, g.imageLength(), 0, out, g.columnLength(), 0, d, d.length, 0, ALL, threads));
    }

    @Override
    void foldFloats(FoldGeometry g, long in, long out, Reduce reduce, float[] weights, int threads) {
        if (small(g)) {
            JavaEngine.INSTANCE.foldFloats(g, in, out, reduce, weights, threads);
            return;
        }
        long[] d = g.descriptor();
        check(NativeKernels.foldTyped(
                F32,
                in,
                g.columnLength(),
                0,
                out,
                g.imageLength(),
                0,
                d,
                d.length,
                reduce.code,
                weights,
                length(weights),
                0,
                ALL,
                threads));
    }

    @Override
    void foldDoubles(FoldGeometry g, long in, long out, Reduce reduce, double[] weights, int threads) {
        if (small(g)) {
            JavaEngine.INSTANCE.foldDoubles(g, in, out, reduce, weights, threads);
            return;
        }
        long[] d = g.descriptor();
        check(NativeKernels.foldTyped(
                F64,
                in,
                g.columnLength(),
                0,
                out,
                g.imageLength(),
                0,
                d,
                d.length,
                reduce.code,
                weights,
                length(weights),
                0,
                ALL,
                threads));
    }
}
