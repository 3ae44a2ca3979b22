package io.github.foldnd.internal;

import io.github.foldnd.ElementType;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import java.lang.invoke.MethodHandles;

/**
 * What another foldnd module needs to call the native kernels itself (foldnd-ffm calls them through
 * FFM downcalls): a geometry's descriptor, a {@link Reduce}'s native code and the name of a native
 * status. These stay package-private in {@code io.github.foldnd}; its {@code FoldGeometry}
 * installs an {@link Access} here once, from its static initializer, as the JDK's SharedSecrets
 * do, so no reflection and no public method of the API is needed.
 *
 * <p>Not API: {@code io.github.foldnd.internal} is exported only to foldnd's own modules, and may
 * change in any release.
 */
public final class NativeContract {
    /** Implemented in io.github.foldnd, where the package-private members are. */
    public interface Access {
        /** A copy of the geometry's descriptor: [d, N, C, layout, n..., k..., δ..., p..., s...]. */
        long[] descriptor(FoldGeometry geometry);

        /** The value of foldnd::Reduce (never the ordinal). */
        int code(Reduce reduce);

        /** The name of a foldnd::Status code (NativeStatus), "UNKNOWN" for a code the header lacks. */
        String statusName(int status);

        /** Whether the native engine loaded here (and so {@link #convolve} can run). */
        boolean nativeAvailable();

        /** A convolution pass on native addresses; see {@link NativeContract#convolve}. */
        int convolve(ConvPass pass);

        /** A convolution pass, or a part of one, on heap arrays; see {@link NativeContract#convolveArrays}. */
        int convolveArrays(ConvArrays pass);

        /** foldnd_conv_tiled_plan; see {@link NativeContract#convTiledPlan}. */
        int convTiledPlan(
                ElementType type, int pass, FoldGeometry x, long outChannels, long groups, int threads, long[] plan);

        /** foldnd_conv_scratch_peak; see {@link NativeContract#convScratchPeak}. */
        long convScratchPeak(boolean reset);
    }

    /**
     * The most bytes (input + output) that one JNI critical region over heap arrays may cover. While
     * a thread is in a critical region the garbage collector cannot move arrays, so a thread that
     * needs a collection waits for the region to end (GCLocker). 16 MiB is about a millisecond of
     * kernel work here (fold and unfold run at 10-40 GB/s on the benchmark cases);
     * ChildJvmSafetyTest's allocating thread waited at most 11.7 ms during one-thread folds of
     * 173 ms (6.5-14 ms with regions of 4 MiB, 120-128 ms with one region for the call). Longer
     * heap-array folds and unfolds run in parts (NativeEngine.inParts); each part is a native call
     * whose team starts, plans and ends anew. In parts of 4 MiB, each often a single work item that
     * kept one of two threads idle, folds into heap arrays took 1.4-1.7x as long as into direct
     * buffers (FoldBenchmark: the 7x7/2 stem 11.5 against 7.1 ms, 16x16 blocks on one 256^2 plane
     * 8.7 against 5.2).
     */
    public static final long CRITICAL_BYTES = 16L << 20;

    /**
     * How many of a call's work items one critical region covers: items of equal size, totalBytes in
     * all; a multiple of the thread count, and at least one item per thread, so that no thread of a
     * part's team waits idle for the others.
     */
    public static long itemsPerRegion(long totalBytes, long items, int threads) {
        long perItem = Math.max(1, totalBytes / Math.max(1, items)), team = Math.max(1, threads);
        return Math.max(team, CRITICAL_BYTES / perItem / team * team);
    }

    private static volatile Access access;

    private NativeContract() {}

    /** Called once, by FoldGeometry's static initializer; refuses any other implementation. */
    public static void install(Access a) {
        Check.notNull(a, "access");
        if (a.getClass().getModule() != NativeContract.class.getModule()
                || !a.getClass().getPackageName().equals("io.github.foldnd")) {
            throw new IllegalArgumentException("NativeContract is installed by io.github.foldnd.FoldGeometry only");
        }
        synchronized (NativeContract.class) {
            if (access != null) throw new IllegalStateException("NativeContract is already installed");
            access = a;
        }
    }

    /** A copy of the geometry's descriptor, which the native entry points take. */
    public static long[] descriptor(FoldGeometry geometry) {
        return access().descriptor(Check.notNull(geometry, "geometry"));
    }

    /** The native code of a merge. */
    public static int code(Reduce reduce) {
        return access().code(Check.notNull(reduce, "reduce"));
    }

    /** The name of a native status code. */
    public static String statusName(int status) {
        return access().statusName(status);
    }

    /** Whether the native engine loaded here. */
    public static boolean nativeAvailable() {
        return access().nativeAvailable();
    }

    /**
     * One pass of a convolution for foldnd-conv, on native addresses the caller validated (lengths in
     * elements): type FLOAT32 or FLOAT64; pass 0 forward (a = x, b = w, out = y), 1 backwardInput (a =
     * gy, b = w, out = gx), 2 backwardWeight (a = x, b = gy, out = gw); x the layer input's unfold
     * geometry; extra forward's bias or backwardWeight's bias gradient (C_out elements; 0 for none).
     * With gemm 0 it runs the direct kernels (native/include/foldnd/conv_direct.hpp); otherwise the tiled
     * passes (conv_tiled.hpp), gemm being the address of a function with cblas_sgemm's (FLOAT32) or
     * cblas_dgemm's (FLOAT64) signature that runs single-threaded while the pass runs (every thread of
     * the team calls it at once).
     */
    public record ConvPass(
            ElementType type,
            int pass,
            FoldGeometry x,
            long outChannels,
            long groups,
            long a,
            long aLength,
            long b,
            long bLength,
            long extra,
            long extraLength,
            long out,
            long outLength,
            long gemm,
            int threads) {
        public ConvPass {
            Check.notNull(type, "type");
            Check.notNull(x, "x");
        }
    }

    /**
     * A convolution pass (pass codes and arguments as {@link ConvPass}), or one part of it, on heap
     * arrays of the type (float[] for FLOAT32, double[] for FLOAT64) used in place, from index 0, in
     * one JNI critical region; the caller validated them. extra is forward's bias or backwardWeight's
     * bias gradient, or null. Part {@code part} of {@code parts} of the pass, the parts called in
     * order, each a short region. With gemm 0 the direct kernels, each part a share of every kernel's
     * items (conv_direct.hpp, DirectPart), sharing nothing (state 0). Otherwise a tiled pass; state is
     * the address of native memory of stateLength elements that the parts share
     * ({@link #convTiledPlan}; 0 for a whole pass or where none is needed). The parts together
     * compute the whole pass's result bit for bit.
     */
    public record ConvArrays(
            ElementType type,
            int pass,
            FoldGeometry x,
            long outChannels,
            long groups,
            Object a,
            Object b,
            Object extra,
            Object out,
            long gemm,
            int part,
            int parts,
            long state,
            long stateLength,
            int threads) {
        public ConvArrays {
            Check.notNull(type, "type");
            Check.notNull(x, "x");
            Check.notNull(a, "a");
            Check.notNull(b, "b");
            Check.notNull(out, "out");
        }

        /** Part {@code part} of {@code parts} of a direct pass (gemm 0, no state). */
        public static ConvArrays direct(
                ElementType type,
                int pass,
                FoldGeometry x,
                long outChannels,
                long groups,
                Object a,
                Object b,
                Object extra,
                Object out,
                int part,
                int parts,
                int threads) {
            return new ConvArrays(type, pass, x, outChannels, groups, a, b, extra, out, 0, part, parts, 0, 0, threads);
        }
    }

    /** Runs a pass, or a part of one, on heap arrays; returns the native status (0 for success). Only where {@link #nativeAvailable()}. */
    public static int convolveArrays(ConvArrays pass) {
        return access().convolveArrays(Check.notNull(pass, "pass"));
    }

    /**
     * How a tiled pass on {@code threads} threads is cut into parts (see {@link ConvArrays}): sets
     * plan[0] to the most parts worth making (more would be empty calls) and plan[1] to the state
     * (elements of the type) the parts need, 0 for none; returns the native status (0 for success).
     * Only where {@link #nativeAvailable()}.
     */
    public static int convTiledPlan(
            ElementType type, int pass, FoldGeometry x, long outChannels, long groups, int threads, long[] plan) {
        return access().convTiledPlan(
                        Check.notNull(type, "type"),
                        pass,
                        Check.notNull(x, "x"),
                        outChannels,
                        groups,
                        threads,
                        Check.notNull(plan, "plan"));
    }

    /** Runs a convolution pass; returns the native status (0 for success). Only where {@link #nativeAvailable()}. */
    public static int convolve(ConvPass pass) {
        return access().convolve(Check.notNull(pass, "pass"));
    }

    /**
     * The most native scratch (bytes) one tiled convolution pass has held since the last reset, for
     * the tests and the benchmarks; {@code reset} sets it back to 0 after reading it. Only where
     * {@link #nativeAvailable()}.
     */
    public static long convScratchPeak(boolean reset) {
        return access().convScratchPeak(reset);
    }

    private static Access access() {
        Access a = access;
        if (a != null) return a;
        try { // FoldGeometry installs it when it initializes
            MethodHandles.lookup().ensureInitialized(FoldGeometry.class);
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
        return access;
    }
}
