package io.github.foldnd.conv;

import io.github.foldnd.ElementType;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.FoldNd;
import io.github.foldnd.internal.Check;
import io.github.foldnd.internal.NativeContract;
import io.github.foldnd.internal.NativeMemory;
import java.lang.ref.Cleaner;
import java.math.BigInteger;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/**
 * The convolution algorithm, once for both element types (FloatConvolution, DoubleConvolution give the
 * typed operations on buffers B and heap arrays A). Everything runs on direct buffers positioned at
 * their data. A layer takes one of three paths:
 *
 * <p><b>Tiled</b> (every layer that is not small-group, where the native engine and OpenBLAS are both
 * here): each pass is one native call (native/include/foldnd/conv_tiled.hpp) whose OpenMP team cuts
 * the work into units by the problem alone: forward into (sample, run of blocks) tiles, each unfolded
 * into a thread's cache-sized scratch and multiplied at once, straight into y; backwardInput into
 * (sample, block of input channels), each multiplying and folding its tiles in order; backwardWeight
 * into blocks of the weight's columns, each summing over samples and tiles in order. Layers with few
 * blocks per sample take groups of whole samples per unit instead, small-weight backwardWeight chunks
 * of (sample, tile) units into partial gradients added in chunk order, and 1x1 layers at stride 1
 * without padding multiply x in place. Every thread
 * calls OpenBLAS's cblas_sgemm/dgemm itself, with OpenBLAS held to one thread for the call (Blas.run),
 * so unfold, fold and GEMM run on every core and nothing oversubscribes; the scratch is a tile per
 * thread, not the column matrix; and since no cut depends on the thread count, neither do the results.
 *
 * <p><b>Direct</b> (depthwise and small-group layers: groups > 1, at most {@link
 * #DIRECT_MAX_IN_PER_GROUP} input channels per group, native engine): each pass runs one direct kernel
 * (native/include/foldnd/conv_direct.hpp) on x, the weights and y, on all of the engine's threads,
 * without columns or GEMM, the bias added and the bias gradient summed in the same call. Per group
 * their GEMM is a thin product (C_out / groups rows, at most 4 K deep) that costs less than building
 * its columns and calling BLAS once per group; the direct kernels' results do not depend on the
 * thread count.
 *
 * <p><b>Batch-fused</b> (without the native engine or without OpenBLAS): columns in the batch-fused
 * layout, so that each group needs one GEMM for the whole batch:
 * <pre>
 *   forward:        cols = unfold(x)                  (C_in K, N L)
 *                   Y_g  = W_g  cols_g                 (C_out/g, N L)    then (C_out, N, L) -> (N, C_out, L), + bias
 *   backwardInput:  G    = gradY as (C_out, N L)
 *                   D_g  = W_g^T G_g                   (C_in K/g, N L)   then gradX = fold(D)
 *   backwardWeight: dW_g = G_g cols_g^T                (C_out/g, C_in K/g); dBias = sums of gradY over N and L
 * </pre>
 * There the GEMM runs on OpenBLAS's threads where it is (FoldNd.threads() of them) and unfold and fold
 * on the caller's thread: two pools taking turns oversubscribe the cores, OpenMP's team spinning
 * after each region just as OpenBLAS's threads start (measured: forward on a 256-channel 14x14 layer
 * 10.2 ms with both pools, 6.7 ms with OpenMP's threads told to sleep at once). Without OpenBLAS the
 * product is pure Java and the engine gets every thread.
 */
abstract class Convolution<B extends Buffer, A> {
    /**
     * Scratch slots per thread: the column matrix, gradY or y reordered, the staging copies of
     * heap-array arguments (GEMM needs native memory), and the state a tiled pass on heap arrays keeps
     * between its parts. Each is taken at most once per call, grown as needed, and kept between calls
     * within {@link #KEPT_SCRATCH_BYTES}.
     */
    static final int COLUMNS = 0,
            REORDERED = 1,
            STAGE_A = 2,
            STAGE_B = 3,
            STAGE_C = 4,
            STAGE_OUT = 5,
            STATE = 6,
            SLOTS = 7;

    /**
     * The most scratch a thread keeps between calls, in all its slots: 16 MiB. After each call the
     * largest blocks are freed until the rest fits, so a pool of threads that once ran a large
     * convolution does not hold its memory for good (four pool threads held 294 MiB before).
     */
    static final long KEPT_SCRATCH_BYTES = 16L << 20;

    /**
     * The most bytes one scratch block can hold: each is used through one ByteBuffer view, whose
     * capacity is an int. This, not a Java array's limit, is what bounds the column matrix.
     */
    static final long MAX_SCRATCH_BYTES = Integer.MAX_VALUE;

    /** What the COLUMNS slot holds, for the error messages. */
    static final String COLUMN_MATRIX = "the convolution's column matrix (C_in * K, N * L)";

    private static final ThreadLocal<Scratch> SCRATCH = new ThreadLocal<>();

    /** The most input channels per group (C_in / groups) of a layer that runs the direct kernels. */
    static final int DIRECT_MAX_IN_PER_GROUP = 4;

    /** The passes' codes in foldnd_conv_direct (foldnd::ConvPass). */
    static final int FORWARD = 0, BACKWARD_INPUT = 1, BACKWARD_WEIGHT = 2;

    /** The bytes of one element (Float.BYTES or Double.BYTES), for ConvNd's overlap checks. */
    final int elementBytes;

    Convolution(int elementBytes) {
        this.elementBytes = elementBytes;
    }

    /** A view of n elements of this thread's scratch slot; {@code what} names its use, for the error messages. */
    abstract B scratch(int slot, long n, String what);

    /** A staging copy of heap array {@code name} in scratch slot; null stays null. */
    abstract B stage(int slot, A values, String name);

    /** Copies the n elements of b from its position into {@code into} from index 0. */
    abstract void copyOut(B b, A into, long n);

    /** A new heap array of n elements. */
    abstract A newArray(long n);

    /**
     * A native-order view of {@code n * elementBytes} bytes of this thread's scratch slot, grown as
     * needed.
     *
     * @throws IllegalArgumentException when the block would exceed {@link #MAX_SCRATCH_BYTES}
     * @throws OutOfMemoryError when the native allocation fails
     */
    static ByteBuffer scratchBytes(int slot, long n, int elementBytes, String what) {
        if (n > MAX_SCRATCH_BYTES / elementBytes) {
            throw Check.fail(
                    "%s would need %s bytes (%d elements of %d bytes), more than the %d bytes one scratch view can "
                            + "hold; split the work into smaller calls (a smaller batch)",
                    what,
                    BigInteger.valueOf(n).multiply(BigInteger.valueOf(elementBytes)),
                    n,
                    elementBytes,
                    MAX_SCRATCH_BYTES);
        }
        Scratch scratch = SCRATCH.get();
        if (scratch == null) {
            scratch = new Scratch();
            SCRATCH.set(scratch);
        }
        return scratch.blocks.take(slot, n * elementBytes, what);
    }

    /**
     * Ends a call on this thread: frees its largest scratch blocks until at most
     * {@link #KEPT_SCRATCH_BYTES} remain. Every call that takes scratch runs this in a finally block.
     */
    static void endCall() {
        Scratch scratch = SCRATCH.get();
        if (scratch != null) scratch.blocks.trim(KEPT_SCRATCH_BYTES);
    }

    /** Frees all of this thread's scratch now. */
    static void releaseScratch() {
        Scratch scratch = SCRATCH.get();
        if (scratch == null) return;
        scratch.blocks.trim(0);
        SCRATCH.remove();
    }

    /** The bytes of scratch this thread holds now (between calls: at most {@link #KEPT_SCRATCH_BYTES}). */
    static long retainedScratchBytes() {
        Scratch scratch = SCRATCH.get();
        return scratch == null ? 0 : scratch.blocks.total();
    }

    /**
     * {@code bytes} of native memory from malloc, to be freed with Pointer.free.
     *
     * @throws OutOfMemoryError saying how much was asked for and for what, when malloc fails
     */
    static Pointer malloc(long bytes, String what) {
        Pointer block = Pointer.malloc(bytes);
        if (block == null || block.isNull()) throw outOfMemory(bytes, what, null);
        return block;
    }

    private static OutOfMemoryError outOfMemory(long bytes, String what, Throwable cause) {
        OutOfMemoryError e = new OutOfMemoryError(String.format(
                "ConvNd could not allocate %d bytes of native scratch for %s%s",
                bytes, what, cause == null ? " (malloc failed)" : ": " + cause.getMessage()));
        if (cause != null) e.initCause(cause);
        return e;
    }

    /**
     * A thread's scratch. The blocks are malloc'ed through JavaCPP and freed explicitly (when
     * trimmed, released or grown), not left to direct ByteBuffers, which free their memory only
     * when the GC collects them and count against -XX:MaxDirectMemorySize meanwhile (with -Xmx512m,
     * concurrent calls failed with "Cannot reserve direct buffer memory" although little was in
     * use). A thread that ends without releasing leaves this object unreachable, and the cleaner
     * then frees what it kept. Without JavaCPP's native library (no addresses, pure Java only), the
     * blocks are direct ByteBuffers, and a freed block is merely dropped for the GC.
     */
    private static final class Scratch {
        private static final Cleaner CLEANER = Cleaner.create();

        final Blocks blocks = new Blocks();

        Scratch() {
            CLEANER.register(this, blocks); // blocks holds no reference back to this object
        }
    }

    /** The blocks of one thread's scratch; run() frees them all (the cleaner's action). */
    private static final class Blocks implements Runnable {
        private final ByteBuffer[] views = new ByteBuffer[SLOTS];
        private final Pointer[] memory = new Pointer[SLOTS]; // null: no block, or a direct ByteBuffer
        private int taken; // the slots handed out in the current call, one bit each

        ByteBuffer take(int slot, long bytes, String what) {
            // A slot is taken once per call: growing it again would free memory a view of this call still uses.
            if ((taken & 1 << slot) != 0)
                throw new IllegalStateException("scratch slot " + slot + " taken twice in one call");
            if (views[slot] == null || views[slot].capacity() < bytes) {
                free(slot);
                allocate(slot, Math.max(bytes, 64), what); // never 0 bytes: malloc(0) may give null
            }
            taken |= 1 << slot;
            return views[slot].clear();
        }

        private void allocate(int slot, long bytes, String what) {
            if (!NativeMemory.available()) {
                try {
                    views[slot] = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
                } catch (OutOfMemoryError e) {
                    throw outOfMemory(bytes, what, e);
                }
                return;
            }
            Pointer block = malloc(bytes, what);
            memory[slot] = block;
            views[slot] = block.capacity(bytes).asByteBuffer().order(ByteOrder.nativeOrder());
        }

        private void free(int slot) {
            if (memory[slot] != null) Pointer.free(memory[slot]);
            memory[slot] = null;
            views[slot] = null;
        }

        long total() {
            long sum = 0;
            for (ByteBuffer v : views) sum += v == null ? 0 : v.capacity();
            return sum;
        }

        /** Ends the call: frees the largest blocks until at most {@code keep} bytes remain. */
        void trim(long keep) {
            taken = 0;
            for (long total = total(); total > keep; total = total()) {
                int largest = 0;
                for (int i = 1; i < SLOTS; i++) {
                    if (capacity(i) > capacity(largest)) largest = i;
                }
                free(largest);
            }
        }

        private long capacity(int slot) {
            return views[slot] == null ? 0 : views[slot].capacity();
        }

        @Override
        public void run() {
            trim(0);
        }
    }

    /** A view of buffer b from element offset on (positions stay relative to b's). */
    abstract B slice(B b, long offset, long length);

    /**
     * c = op(a) op(b), op = transpose when asked; c is m x n. All three are dense row-major matrices, as
     * every operand of a convolution is: a is stored m x k (k x m when transposed), b k x n (n x k when
     * transposed), so the leading dimensions follow from m, n and k.
     */
    abstract void gemm(boolean transA, boolean transB, int m, int n, int k, B a, B b, B c);

    /**
     * gemm once per group: c_g = op(a_g) op(b_g) for each g below groups, where x_g is the g-th of the
     * groups equal consecutive blocks of x (a_g holds m k elements, b_g k n, c_g m n).
     */
    private void gemmPerGroup(int groups, boolean transA, boolean transB, int m, int n, int k, B a, B b, B c) {
        long aBlock = (long) m * k, bBlock = (long) k * n, cBlock = (long) m * n;
        for (int g = 0; g < groups; g++) {
            gemm(
                    transA,
                    transB,
                    m,
                    n,
                    k,
                    slice(a, g * aBlock, aBlock),
                    slice(b, g * bBlock, bBlock),
                    slice(c, g * cBlock, cBlock));
        }
    }

    /**
     * The address of OpenBLAS's GEMM for this element type (cblas_sgemm, cblas_dgemm), which the
     * tiled passes call from native code; 0 where there is none.
     */
    abstract long gemmAddress();

    abstract void unfold(FoldGeometry g, B image, B columns);

    abstract void fold(FoldGeometry g, B columns, B image);

    /** The engine's thread count inside a convolution: see the class comment. */
    static int engineThreads() {
        return Blas.available() ? 1 : FoldNd.threads();
    }

    /** (outer, middle, inner) to (middle, outer, inner). */
    abstract void transpose(B from, B to, int outer, int middle, int inner);

    /** y(n, c, l) += bias(c). */
    abstract void addBias(B y, B bias, int batch, int channels, int blocks);

    /**
     * Lanes of a bias gradient's sums: gradY(n, c, l) adds to lane l mod BIAS_LANES (samples in order,
     * then blocks), then the lanes are added in order, as the native kernels do
     * (native/include/foldnd/conv_direct.hpp, biasGradient: one running sum per channel was a chain of
     * dependent additions as long as gradY's plane).
     */
    static final int BIAS_LANES = 16;

    /** gradBias(c) = sum over n, l of gradY(n, c, l), in BIAS_LANES lanes. */
    abstract void sumBias(B gradY, B gradBias, int batch, int channels, int blocks);

    /** Sets n elements of b from its position to 0. */
    abstract void zero(B b, long n);

    /** Whether the layer runs the direct kernels (see the class comment). */
    static boolean direct(ConvShape s) {
        return s.groups > 1 && s.inChannels / s.groups <= DIRECT_MAX_IN_PER_GROUP && NativeContract.nativeAvailable();
    }

    /**
     * Whether a pass on heap arrays runs on the arrays in place, in JNI critical regions, rather than
     * staged through native scratch (which copies the inputs in and the output out: on the 8 x 128 x
     * 28^2 depthwise layer the copies took longer than the kernels): where the native engine runs it,
     * a tiled pass in parts of {@link #REGION_MULTIPLY_ADDS}, a direct pass in parts of
     * {@link #directParts}.
     */
    final boolean onArrays(ConvShape s) {
        return tiled(s) || direct(s);
    }

    /**
     * One pass on heap arrays in place (see {@link #onArrays}): a and b its inputs, out its output,
     * extra forward's bias or backwardWeight's bias gradient, or null; every length was checked
     * against the shape.
     */
    final void passOnArrays(ConvShape s, int pass, A a, A b, A extra, A out) {
        if (direct(s)) {
            // x, y and the weights, and the bias or its gradient where the pass has one
            long elements = s.xLength() + s.yLength() + s.weightLength() + (pass == BACKWARD_INPUT ? 0 : s.outChannels);
            directOnArrays(s, pass, a, b, extra, out, directParts(elements * elementBytes));
        } else {
            tiledOnArrays(s, pass, a, b, extra, out, regionParts(s));
        }
    }

    /**
     * The parts a direct pass on heap arrays of {@code bytes} bytes in all runs in: one per
     * NativeContract.CRITICAL_BYTES, about a millisecond of the direct kernels' work (the 8 x 128 x
     * 28^2 depthwise layer, 3.2 MB in and 3.2 MB out, took 1.1-1.9 ms per pass on 2 threads here).
     */
    static int directParts(long bytes) {
        long parts = (bytes + NativeContract.CRITICAL_BYTES - 1) / NativeContract.CRITICAL_BYTES;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, parts));
    }

    /**
     * A direct pass on heap arrays in place in {@code parts} native calls, each in its own critical
     * region and a share of every kernel's items (conv_direct.hpp, DirectPart): the parts share
     * nothing, and together give the whole pass's bits.
     */
    final void directOnArrays(ConvShape s, int pass, A a, A b, A extra, A out, int parts) {
        for (int part = 0; part < parts; part++) {
            check(
                    NativeContract.convolveArrays(NativeContract.ConvArrays.direct(
                            elementType(),
                            pass,
                            s.columns,
                            s.outChannels,
                            s.groups,
                            a,
                            b,
                            extra,
                            out,
                            part,
                            parts,
                            FoldNd.threads())),
                    "direct kernel");
        }
    }

    /**
     * The multiply-adds of one part of a tiled pass on heap arrays: 2^26, about 2 ms of float GEMM on
     * this machine's two cores. While a thread is in a critical region the collector cannot run, so a
     * pass as long as the 3-d layer's (16 -> 32 channels, 3^3, 32^3, batch 8: 3.6e9 multiply-adds) is
     * cut into parts, each a native call in its own region: parts are whole rounds of the team's units
     * (conv_tiled.hpp, ConvPart::share), and they share what part 0 computes once (backwardInput's
     * transposed weights, the chunked backwardWeight's partials) through scratch. Each part costs a
     * team's start and a round's imbalance: in a C++ harness the 1-d layer's forward (64 channels,
     * 4096, k 5, batch 8) took 17 ms whole, 18.6 in 10 parts and 19.5 in 20; the 3-d layer's 136 ms
     * whole and 143 in 108 parts, once each part planned only its own rows (159-182 before).
     */
    static final long REGION_MULTIPLY_ADDS = 1L << 26;

    /** The parts a tiled pass on heap arrays runs in: one per REGION_MULTIPLY_ADDS of its work, at least one. */
    static int regionParts(ConvShape s) {
        double multiplyAdds = (double) s.outChannels * s.rows * s.cols;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, Math.ceil(multiplyAdds / REGION_MULTIPLY_ADDS)));
    }

    /**
     * A tiled pass on heap arrays in place, in up to {@code partsWanted} native calls
     * (NativeContract.ConvArrays; fewer where the pass has fewer rounds of units for the team), each in
     * its own critical region, OpenBLAS held to one thread meanwhile; arguments as
     * {@link #passOnArrays}. The parts give the whole pass's result bit for bit, whatever their number.
     */
    final void tiledOnArrays(ConvShape s, int pass, A a, A b, A extra, A out, int partsWanted) {
        ElementType type = elementType();
        int threads = FoldNd.threads();
        long[] plan = new long[2]; // the most parts worth making, the state they need
        check(
                NativeContract.convTiledPlan(type, pass, s.columns, s.outChannels, s.groups, threads, plan),
                "tiled plan");
        int parts = (int) Math.min(partsWanted, plan[0]);
        long stateLength = parts == 1 ? 0 : plan[1];
        long gemm = gemmAddress();
        try {
            long state =
                    stateLength == 0 ? 0 : address(scratch(STATE, stateLength, "the state of a tiled pass's parts"));
            Blas.run(1, () -> {
                for (int part = 0; part < parts; part++) {
                    check(
                            NativeContract.convolveArrays(new NativeContract.ConvArrays(
                                    type,
                                    pass,
                                    s.columns,
                                    s.outChannels,
                                    s.groups,
                                    a,
                                    b,
                                    extra,
                                    out,
                                    gemm,
                                    part,
                                    parts,
                                    state,
                                    stateLength,
                                    threads)),
                            "tiled pass");
                }
            });
        } finally {
            endCall();
        }
    }

    private ElementType elementType() {
        return elementBytes == Float.BYTES ? ElementType.FLOAT32 : ElementType.FLOAT64;
    }

    /** A native pass's status: OUT_OF_MEMORY as OutOfMemoryError, any other refusal as a bug (its arguments were checked). */
    private static void check(int status, String what) {
        if (status == OUT_OF_MEMORY) {
            throw new OutOfMemoryError("ConvNd's " + what + " could not allocate its native scratch");
        }
        if (status != 0) {
            throw new IllegalStateException(
                    "ConvNd's " + what + " was refused checked arguments: " + NativeContract.statusName(status));
        }
    }

    /** Whether the layer runs the tiled passes (see the class comment): not direct, native engine and OpenBLAS here. */
    final boolean tiled(ConvShape s) {
        return !direct(s) && NativeContract.nativeAvailable() && gemmAddress() != 0;
    }

    /** The native address of a direct buffer's position. */
    private long address(B b) {
        return NativeMemory.base(b) + (long) b.position() * elementBytes;
    }

    /**
     * One pass in native code, a and b its inputs, out its output, lengths in elements; extra
     * forward's bias or backwardWeight's bias gradient (C_out elements), or null. A direct layer runs
     * its direct kernel (foldnd_conv_direct); any other the tiled pass (foldnd_conv_tiled) on all of
     * FoldNd.threads(), OpenBLAS held to one thread meanwhile (every thread of the team calls it at
     * once). Every length was checked against the shape; a refusal here would be a bug, and says so.
     */
    private void nativePass(
            ConvShape s, int pass, B a, long aLength, B b, long bLength, B extra, B out, long outLength) {
        if (direct(s)) {
            run(s, pass, a, aLength, b, bLength, extra, out, outLength, 0, "direct kernel");
            return;
        }
        long gemm = gemmAddress();
        Blas.run(1, () -> run(s, pass, a, aLength, b, bLength, extra, out, outLength, gemm, "tiled pass"));
    }

    /** A native pass (NativeContract.convolve: direct where gemm is 0, else tiled); what names it in errors. */
    private void run(
            ConvShape s,
            int pass,
            B a,
            long aLength,
            B b,
            long bLength,
            B extra,
            B out,
            long outLength,
            long gemm,
            String what) {
        int status = NativeContract.convolve(new NativeContract.ConvPass(
                elementType(),
                pass,
                s.columns,
                s.outChannels,
                s.groups,
                address(a),
                aLength,
                address(b),
                bLength,
                extra == null ? 0 : address(extra),
                extra == null ? 0 : s.outChannels,
                address(out),
                outLength,
                gemm,
                FoldNd.threads()));
        check(status, what);
    }

    /** foldnd::Status OUT_OF_MEMORY. */
    private static final int OUT_OF_MEMORY = 6;

    final void forward(ConvShape s, B x, B weight, B bias, B y) {
        if (s.batch == 0) return; // y is empty (and BLAS refuses leading dimensions of 0)
        if (direct(s) || tiled(s)) {
            nativePass(s, FORWARD, x, s.columns.imageLength(), weight, s.weightLength(), bias, y, s.yLength());
            return;
        }
        B cols = scratch(COLUMNS, s.columnLength(), COLUMN_MATRIX);
        unfold(s.columns, x, cols);
        // N = 1: the layouts coincide
        B fused = s.batch == 1 ? y : scratch(REORDERED, s.yLength(), "y in the order (C_out, N, L)");
        gemmPerGroup(s.groups, false, false, s.outs, s.cols, s.rows, weight, cols, fused); // Y_g = W_g cols_g
        if (s.batch > 1) transpose(fused, y, s.outChannels, s.batch, s.blocks);
        if (bias != null) addBias(y, bias, s.batch, s.outChannels, s.blocks);
    }

    /**
     * gradY (N, C_out, L) in the order the products take it, (C_out, N, L): reordered into scratch,
     * or gradY itself when N = 1 (the layouts coincide).
     */
    private B channelsFirst(ConvShape s, B gradY) {
        if (s.batch <= 1) return gradY;
        B fused = scratch(REORDERED, s.yLength(), "gradY in the order (C_out, N, L)");
        transpose(gradY, fused, s.batch, s.outChannels, s.blocks);
        return fused;
    }

    final void backwardInput(ConvShape s, B gradY, B weight, B gradX) {
        if (s.batch == 0) return; // gradX is empty
        if (direct(s) || tiled(s)) {
            nativePass(
                    s,
                    BACKWARD_INPUT,
                    gradY,
                    s.yLength(),
                    weight,
                    s.weightLength(),
                    null,
                    gradX,
                    s.columns.imageLength());
            return;
        }
        B fused = channelsFirst(s, gradY);
        B cols = scratch(COLUMNS, s.columnLength(), COLUMN_MATRIX);
        gemmPerGroup(s.groups, true, false, s.rows, s.cols, s.outs, weight, fused, cols); // D_g = W_g^T G_g
        fold(s.columns, cols, gradX);
    }

    final void backwardWeight(ConvShape s, B x, B gradY, B gradWeight, B gradBias) {
        if (s.batch == 0) { // no samples: the gradients are sums of nothing
            zero(gradWeight, s.weightLength());
            if (gradBias != null) zero(gradBias, s.outChannels);
            return;
        }
        if (direct(s) || tiled(s)) {
            nativePass(
                    s,
                    BACKWARD_WEIGHT,
                    x,
                    s.columns.imageLength(),
                    gradY,
                    s.yLength(),
                    gradBias,
                    gradWeight,
                    s.weightLength());
            return;
        }
        B cols = scratch(COLUMNS, s.columnLength(), COLUMN_MATRIX);
        unfold(s.columns, x, cols);
        B fused = channelsFirst(s, gradY);
        gemmPerGroup(s.groups, false, true, s.outs, s.rows, s.cols, fused, cols, gradWeight); // dW_g = G_g cols_g^T
        if (gradBias != null) sumBias(gradY, gradBias, s.batch, s.outChannels, s.blocks);
    }
}
