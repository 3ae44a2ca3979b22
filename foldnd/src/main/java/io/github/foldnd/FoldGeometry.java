package io.github.foldnd;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.internal.BlockParameters;
import io.github.foldnd.internal.Check;
import io.github.foldnd.internal.NativeContract;
import java.util.Arrays;

/**
 * The immutable, validated shape of one fold/unfold: d spatial dimensions, batch N (absent when
 * unbatched), channels C, image size {@code n[0..d)}, and the block parameters kernel size k,
 * dilation δ, padding and stride s. Padding is given as d values p (the same before and after each
 * dimension, PyTorch's) or as 2d values in ONNX {@code pads} order, the start of every dimension
 * and then the end of every dimension: b[0..d), e[0..d) (asymmetric, as ONNX Col2Im and TF/Keras
 * "SAME" padding need). Symmetric padding is b = e = p. Build it once and reuse it: every derived size is computed
 * and checked here, so the engines' hot paths allocate and check nothing further.
 *
 * <p>Shapes, in PyTorch's conventions:
 * <pre>
 *   grid[i]  = (n[i] + b[i] + e[i] - δ[i] (k[i] - 1) - 1) / s[i] + 1   blocks along dimension i
 *   K        = ∏ k[i]                                            kernel offsets per block
 *   L        = ∏ grid[i]                                         blocks
 *   image    = (N, C, n[0], ..., n[d-1])    or (C, n[0], ..., n[d-1])
 *   columns  = (N, C·K, L)                  or (C·K, L)
 * </pre>
 * Column row {@code c·K + k} holds channel c at kernel offset k (row-major over the kernel); column
 * l is block l of the grid (row-major); block l at kernel offset k covers image position
 * {@code x[i] = l[i] s[i] + k[i] δ[i] - b[i]} (a zero, or dropped by fold, where it falls outside
 * the image). For example, the user's question: an image (1, 2, 3, 3) and
 * a 2x2 kernel give a grid 2x2, K = 4, L = 4 and columns (1, 8, 4):
 * <pre>{@code
 * FoldGeometry g = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3);
 * g.columnShape();   // [1, 8, 4]
 * }</pre>
 */
public final class FoldGeometry {
    /**
     * The most spatial dimensions (as native/include/foldnd/geometry.hpp's kMaxDims): every size is
     * at least 1, so more would only add size-1 axes.
     */
    public static final int MAX_DIMS = 64;

    static {
        // What foldnd's other modules need to call the native kernels themselves (foldnd-ffm):
        // the descriptor, Reduce's codes and the status names, all package-private here.
        NativeContract.install(new NativeContract.Access() {
            @Override
            public long[] descriptor(FoldGeometry geometry) {
                return geometry.descriptor.clone();
            }

            @Override
            public int code(Reduce reduce) {
                return reduce.code;
            }

            @Override
            public String statusName(int status) {
                return NativeStatus.of(status).name();
            }

            @Override
            public boolean nativeAvailable() {
                return NativeEngine.instance().isPresent();
            }

            @Override
            public int convolve(NativeContract.ConvPass p) {
                if (!nativeAvailable()) throw new IllegalStateException("the native engine is unavailable");
                long[] d = p.x().descriptor;
                return NativeKernels.convPass(
                        p.type().code,
                        p.pass(),
                        d,
                        d.length,
                        p.outChannels(),
                        p.groups(),
                        p.a(),
                        p.aLength(),
                        p.b(),
                        p.bLength(),
                        p.extra(),
                        p.extraLength(),
                        p.out(),
                        p.outLength(),
                        p.gemm(),
                        0,
                        1,
                        0,
                        0,
                        p.threads());
            }

            @Override
            public int convolveArrays(NativeContract.ConvArrays p) {
                if (!nativeAvailable()) throw new IllegalStateException("the native engine is unavailable");
                long[] d = p.x().descriptor;
                int type = p.type().code, pass = p.pass();
                long outs = p.outChannels(), groups = p.groups(), gemm = p.gemm(), part = p.part(), parts = p.parts();
                if (p.type() == ElementType.FLOAT32) {
                    float[] a = (float[]) p.a(), b = (float[]) p.b(), e = (float[]) p.extra(), o = (float[]) p.out();
                    return NativeKernels.convPass(
                            type,
                            pass,
                            d,
                            d.length,
                            outs,
                            groups,
                            a,
                            a.length,
                            b,
                            b.length,
                            e,
                            e == null ? 0 : e.length,
                            o,
                            o.length,
                            gemm,
                            part,
                            parts,
                            p.state(),
                            p.stateLength(),
                            p.threads());
                }
                if (p.type() != ElementType.FLOAT64) throw new IllegalArgumentException("type: " + p.type());
                double[] a = (double[]) p.a(), b = (double[]) p.b(), e = (double[]) p.extra(), o = (double[]) p.out();
                return NativeKernels.convPass(
                        type,
                        pass,
                        d,
                        d.length,
                        outs,
                        groups,
                        a,
                        a.length,
                        b,
                        b.length,
                        e,
                        e == null ? 0 : e.length,
                        o,
                        o.length,
                        gemm,
                        part,
                        parts,
                        p.state(),
                        p.stateLength(),
                        p.threads());
            }

            @Override
            public int convTiledPlan(
                    ElementType type,
                    int pass,
                    FoldGeometry x,
                    long outChannels,
                    long groups,
                    int threads,
                    long[] plan) {
                if (!nativeAvailable()) throw new IllegalStateException("the native engine is unavailable");
                return NativeKernels.convTiledPlan(
                        type.code,
                        pass,
                        x.descriptor,
                        x.descriptor.length,
                        outChannels,
                        groups,
                        threads,
                        plan,
                        plan.length);
            }

            @Override
            public long convScratchPeak(boolean reset) {
                if (!nativeAvailable()) throw new IllegalStateException("the native engine is unavailable");
                return NativeKernels.convScratchPeak(reset ? 1 : 0);
            }
        });
    }

    private final boolean batched;
    private final long batch;
    private final long channels;
    private final long[] imageSize;
    private final int[] kernelSize, dilation, padding, paddingBegin, paddingEnd, stride;
    private final long[] grid;
    private final long kernelVolume, blocks, imagePlane, imageLength, columnLength;
    private final ColumnLayout layout;
    private final BlockParameters params;
    /** [d, N, C, layout, n..., k..., δ..., b..., s..., e...]: what the native kernels re-validate and run on. */
    private final long[] descriptor;
    /**
     * The Java kernels' tables (BlockCursor.Tables), made on first use and kept: with FoldNd's memo
     * of the last geometry (see LAST_FOLD), a loop of tiny folds routed to the Java kernels makes
     * them once. Racy single-check: the tables are immutable, so a thread that sees null makes its own.
     */
    private BlockCursor.Tables tables;

    private FoldGeometry(
            boolean batched, long batch, long channels, long[] imageSize, BlockParameters params, ColumnLayout layout) {
        this.batched = batched;
        this.layout = layout;
        this.params = params;
        this.batch = batch;
        this.channels = channels;
        this.imageSize = imageSize;
        this.kernelSize = params.kernelSize;
        this.dilation = params.dilation;
        this.padding = params.padding;
        this.paddingBegin = params.paddingBegin;
        this.paddingEnd = params.paddingEnd;
        this.stride = params.stride;
        this.grid = params.grid(imageSize, "inputShape");
        this.kernelVolume = params.kernelVolume;
        this.blocks = Check.product(grid, 0, grid.length, "the block grid");
        this.imagePlane = Check.product(imageSize, 0, imageSize.length, "the image");
        long planes = Check.multiply(batch, channels, "batch * channels");
        this.imageLength = Check.multiply(planes, imagePlane, "the image length");
        Check.multiply(channels, kernelVolume, "C * K"); // the column shape's rows, even when N = 0
        Check.multiply(batch, blocks, "N * L"); // the batch-fused column shape's columns
        this.columnLength = Check.multiply(planes, Check.multiply(kernelVolume, blocks, "K * L"), "the column length");
        int d = imageSize.length;
        long[] desc = new long[4 + 6 * d];
        desc[0] = d;
        desc[1] = batch;
        desc[2] = channels;
        desc[3] = layout.code;
        for (int i = 0; i < d; i++) {
            desc[4 + i] = imageSize[i];
            desc[4 + d + i] = kernelSize[i];
            desc[4 + 2 * d + i] = dilation[i];
            desc[4 + 3 * d + i] = paddingBegin[i];
            desc[4 + 4 * d + i] = stride[i];
            desc[4 + 5 * d + i] = paddingEnd[i];
        }
        this.descriptor = desc;
    }

    /**
     * The geometry of {@code unfold} on an input of shape (N, C, *spatial) or (C, *spatial).
     *
     * @throws IllegalArgumentException naming the offending argument (see {@link FoldNd})
     */
    public static FoldGeometry forUnfold(
            long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        Memo last = LAST_UNFOLD.get();
        if (last.holds(inputShape, null, kernelSize, dilation, padding, stride, ColumnLayout.PER_SAMPLE)) {
            return last.geometry;
        }
        // Built from copies, which the memo keeps: the caller's arrays may change meanwhile.
        long[] shape = copy(inputShape);
        int[] k = copy(kernelSize), d = copy(dilation), p = copy(padding), s = copy(stride);
        return last.keep(buildUnfold(shape, k, d, p, s), shape, null, k, d, p, s, ColumnLayout.PER_SAMPLE);
    }

    private static FoldGeometry buildUnfold(
            long[] inputShape, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        BlockParameters params = new BlockParameters(kernelSize, dilation, padding, stride);
        notNull(inputShape, "inputShape");
        int d = params.dims();
        boolean batched = inputShape.length == d + 2;
        if (!batched && inputShape.length != d + 1) {
            throw fail(
                    "inputShape must have %d or %d dimensions, (N, C, *spatial) or (C, *spatial) for the %d spatial "
                            + "dimension(s) of kernelSize %s, got %s",
                    d + 2, d + 1, d, Arrays.toString(kernelSize), Arrays.toString(inputShape));
        }
        int c = batched ? 1 : 0;
        long batch = batched ? inputShape[0] : 1;
        if (batch < 0)
            throw fail("inputShape must have a non-negative batch size, got %s", Arrays.toString(inputShape));
        for (int i = c; i < inputShape.length; i++) {
            if (inputShape[i] < 1) {
                throw fail(
                        "inputShape must have positive channel and spatial sizes, got %s", Arrays.toString(inputShape));
            }
        }
        Check.product(inputShape, 0, inputShape.length, "inputShape");
        return new FoldGeometry(
                batched,
                batch,
                inputShape[c],
                Arrays.copyOfRange(inputShape, c + 1, inputShape.length),
                params,
                ColumnLayout.PER_SAMPLE);
    }

    /**
     * The geometry of {@code fold} on columns of shape (N, C·K, L) or (C·K, L) into an image of
     * spatial size {@code outputSize}.
     *
     * @throws IllegalArgumentException naming the offending argument (see {@link FoldNd})
     */
    public static FoldGeometry forFold(
            long[] inputShape, int[] outputSize, int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        return forFold(inputShape, outputSize, kernelSize, dilation, padding, stride, ColumnLayout.PER_SAMPLE);
    }

    /**
     * The geometry of {@code fold} on columns in the given layout: PER_SAMPLE (N, C·K, L) or
     * (C·K, L); BATCH_FUSED (C·K, N·L), where N is N·L divided by the number of blocks L.
     *
     * @throws IllegalArgumentException naming the offending argument (see {@link FoldNd})
     */
    public static FoldGeometry forFold(
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            ColumnLayout layout) {
        Memo last = LAST_FOLD.get();
        if (last.holds(inputShape, outputSize, kernelSize, dilation, padding, stride, layout)) return last.geometry;
        long[] shape = copy(inputShape); // built from copies, which the memo keeps (see forUnfold)
        int[] n = copy(outputSize), k = copy(kernelSize), d = copy(dilation), p = copy(padding), s = copy(stride);
        return last.keep(buildFold(shape, n, k, d, p, s, layout), shape, n, k, d, p, s, layout);
    }

    private static long[] copy(long[] a) {
        return a == null ? null : a.clone();
    }

    private static int[] copy(int[] a) {
        return a == null ? null : a.clone();
    }

    /**
     * The last geometry each thread built through forFold, and through forUnfold, with copies of the
     * arguments it was built from: a loop of calls through FoldNd's facade validates and builds its
     * geometry once. Building it took about as long as the tiny fold itself (TinyCallBenchmark:
     * staticArray against javaArray, the same engine on a prebuilt geometry). The arguments are
     * compared by value, so an array the caller changed between calls is a miss.
     */
    private static final ThreadLocal<Memo> LAST_FOLD = ThreadLocal.withInitial(Memo::new),
            LAST_UNFOLD = ThreadLocal.withInitial(Memo::new);

    private static final class Memo {
        private long[] inputShape;
        private int[] outputSize, kernelSize, dilation, padding, stride;
        private ColumnLayout layout;
        FoldGeometry geometry; // null until the first geometry is built

        boolean holds(
                long[] inputShape,
                int[] outputSize,
                int[] kernelSize,
                int[] dilation,
                int[] padding,
                int[] stride,
                ColumnLayout layout) {
            return geometry != null
                    && layout == this.layout
                    && Arrays.equals(inputShape, this.inputShape)
                    && Arrays.equals(outputSize, this.outputSize)
                    && Arrays.equals(kernelSize, this.kernelSize)
                    && Arrays.equals(dilation, this.dilation)
                    && Arrays.equals(padding, this.padding)
                    && Arrays.equals(stride, this.stride);
        }

        /** Keeps g and the arrays (its own copies; outputSize null for unfold) it was built from, and returns it. */
        FoldGeometry keep(
                FoldGeometry g,
                long[] inputShape,
                int[] outputSize,
                int[] kernelSize,
                int[] dilation,
                int[] padding,
                int[] stride,
                ColumnLayout layout) {
            this.inputShape = inputShape;
            this.outputSize = outputSize;
            this.kernelSize = kernelSize;
            this.dilation = dilation;
            this.padding = padding;
            this.stride = stride;
            this.layout = layout;
            this.geometry = g;
            return g;
        }
    }

    private static FoldGeometry buildFold(
            long[] inputShape,
            int[] outputSize,
            int[] kernelSize,
            int[] dilation,
            int[] padding,
            int[] stride,
            ColumnLayout layout) {
        BlockParameters params = new BlockParameters(kernelSize, dilation, padding, stride);
        notNull(inputShape, "inputShape");
        notNull(outputSize, "outputSize");
        notNull(layout, "layout");
        int d = params.dims();
        if (outputSize.length != d) {
            throw fail(
                    "outputSize must have %d elements (one per spatial dimension of kernelSize %s), got %s",
                    d, Arrays.toString(kernelSize), Arrays.toString(outputSize));
        }
        for (int v : outputSize) {
            if (v < 1) throw fail("outputSize must be positive, got %s", Arrays.toString(outputSize));
        }
        boolean fused = layout == ColumnLayout.BATCH_FUSED;
        boolean batched = !fused && inputShape.length == 3;
        if (fused ? inputShape.length != 2 : !batched && inputShape.length != 2) {
            throw fail(
                    fused
                            ? "inputShape must have 2 dimensions, (C*K, N*L) in the BATCH_FUSED layout, got %s"
                            : "inputShape must have 3 or 2 dimensions, (N, C*K, L) or (C*K, L), got %s",
                    Arrays.toString(inputShape));
        }
        int c = batched ? 1 : 0;
        long batch = batched ? inputShape[0] : 1;
        if (batch < 0)
            throw fail("inputShape must have a non-negative batch size, got %s", Arrays.toString(inputShape));
        long rows = inputShape[c], columns = inputShape[c + 1];
        if (rows < 1 || columns < (fused ? 0 : 1)) {
            throw fail(
                    "inputShape must have positive C*K and %s dimensions, got %s",
                    fused ? "non-negative N*L" : "L", Arrays.toString(inputShape));
        }
        if (rows % params.kernelVolume != 0) {
            throw fail(
                    "inputShape[%d] (C*K) must be divisible by the product of kernelSize %s = %d, got %d",
                    c, Arrays.toString(kernelSize), params.kernelVolume, rows);
        }
        long[] image = new long[d];
        for (int i = 0; i < d; i++) image[i] = outputSize[i];
        long[] expectedGrid = params.grid(image, "outputSize");
        long expected = Check.product(expectedGrid, 0, d, "the block grid");
        if (fused ? columns % expected != 0 : columns != expected) {
            throw fail(
                    "inputShape[%d] (%s) must %s the number of sliding blocks for outputSize %s, kernelSize %s, "
                            + "dilation %s, padding %s, stride %s: expected %s%s = %d, got %d",
                    c + 1,
                    fused ? "N*L" : "L",
                    fused ? "be a multiple of" : "match",
                    Arrays.toString(outputSize),
                    Arrays.toString(kernelSize),
                    Arrays.toString(dilation),
                    Arrays.toString(padding),
                    Arrays.toString(stride),
                    fused ? "N * " : "",
                    joinGrid(expectedGrid),
                    expected,
                    columns);
        }
        if (fused) batch = columns / expected;
        Check.product(inputShape, 0, inputShape.length, "inputShape");
        return new FoldGeometry(batched || fused, batch, rows / params.kernelVolume, image, params, layout);
    }

    /**
     * This geometry with its columns in another layout; the image side is unchanged. With
     * {@link ColumnLayout#BATCH_FUSED} the columns are (C·K, N·L).
     */
    public FoldGeometry withColumnLayout(ColumnLayout layout) {
        notNull(layout, "layout");
        return layout == this.layout ? this : new FoldGeometry(batched, batch, channels, imageSize, params, layout);
    }

    /** The layout of the column matrix. */
    public ColumnLayout columnLayout() {
        return layout;
    }

    /** A builder whose dilation, padding and stride default to 1, 0 and 1 in every dimension. */
    public static Builder builder() {
        return new Builder();
    }

    /** Number of spatial dimensions d. */
    public int dims() {
        return imageSize.length;
    }
    /** Whether the shapes carry a leading batch dimension N. */
    public boolean batched() {
        return batched;
    }
    /** N (1 when unbatched). */
    public long batch() {
        return batch;
    }
    /** C. */
    public long channels() {
        return channels;
    }
    /** The image's spatial size n[0..d). */
    public long[] imageSize() {
        return imageSize.clone();
    }
    /** Kernel size k per dimension (a copy). */
    public int[] kernelSize() {
        return kernelSize.clone();
    }
    /** Dilation δ per dimension (a copy). */
    public int[] dilation() {
        return dilation.clone();
    }
    /**
     * The zero padding (a copy): d values when it is the same before and after every dimension,
     * else 2d values in ONNX {@code pads} order (the start of each dimension, then the end of
     * each). Either form can be passed back wherever padding is taken.
     */
    public int[] padding() {
        return padding.clone();
    }
    /** The zero padding before the first element of each dimension, b[0..d) (a copy). */
    public int[] paddingBegin() {
        return paddingBegin.clone();
    }
    /** The zero padding after the last element of each dimension, e[0..d) (a copy). */
    public int[] paddingEnd() {
        return paddingEnd.clone();
    }
    /** Whether the padding is the same before and after every dimension. */
    public boolean symmetricPadding() {
        return padding.length == paddingBegin.length;
    }
    /** Stride s per dimension (a copy). */
    public int[] stride() {
        return stride.clone();
    }
    /** Blocks along each dimension. */
    public long[] blockGrid() {
        return grid.clone();
    }
    /** K = ∏ kernelSize. */
    public long kernelVolume() {
        return kernelVolume;
    }
    /** L = ∏ blockGrid. */
    public long blocks() {
        return blocks;
    }
    /** Elements of one image plane, ∏ n. */
    public long imagePlane() {
        return imagePlane;
    }
    /** Elements of the whole image, N·C·∏ n. */
    public long imageLength() {
        return imageLength;
    }
    /** Elements of the whole column matrix, N·C·K·L. */
    public long columnLength() {
        return columnLength;
    }

    /** (N, C, *n) or (C, *n): unfold's input and fold's output. */
    public long[] imageShape() {
        return shape(channels, imageSize);
    }

    /** unfold's output and fold's input: (N, C·K, L) or (C·K, L); batch-fused, (C·K, N·L). */
    public long[] columnShape() {
        if (layout == ColumnLayout.BATCH_FUSED) return new long[] {channels * kernelVolume, batch * blocks};
        return shape(channels * kernelVolume, new long[] {blocks});
    }

    /** [N,] second, *tail. */
    private long[] shape(long second, long[] tail) {
        int lead = batched ? 1 : 0;
        long[] shape = new long[lead + 1 + tail.length];
        if (batched) shape[0] = batch;
        shape[lead] = second;
        System.arraycopy(tail, 0, shape, lead + 1, tail.length);
        return shape;
    }

    long[] descriptor() {
        return descriptor;
    }

    int[] kernelSizeUnsafe() {
        return kernelSize;
    }

    int[] dilationUnsafe() {
        return dilation;
    }

    /** The padding before each dimension: where block 0 starts (the kernels need nothing else of it). */
    int[] paddingBeginUnsafe() {
        return paddingBegin;
    }

    int[] strideUnsafe() {
        return stride;
    }

    long[] imageSizeUnsafe() {
        return imageSize;
    }

    long[] gridUnsafe() {
        return grid;
    }

    long planes() {
        return batch * channels;
    }

    /** Where plane p = n·C + c starts in the columns (its offset 0, block 0): see ColumnLayout. */
    long columnBase(long p) {
        if (layout == ColumnLayout.PER_SAMPLE) return p * kernelVolume * blocks;
        return ((p % channels) * kernelVolume * batch + p / channels) * blocks;
    }

    /** Columns between kernel offsets k and k+1 of one plane. */
    long kernelStride() {
        return layout == ColumnLayout.PER_SAMPLE ? blocks : batch * blocks;
    }

    /** The Java kernels' tables of this geometry (only for geometries with at least one plane). */
    BlockCursor.Tables tables() {
        BlockCursor.Tables t = tables;
        if (t == null) tables = t = new BlockCursor.Tables(this);
        return t;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FoldGeometry g
                && Arrays.equals(descriptor, g.descriptor)
                && batched == g.batched; // layout is in the descriptor
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(descriptor) * 31 + (batched ? 1 : 0);
    }

    @Override
    public String toString() {
        return "FoldGeometry[image " + Arrays.toString(imageShape()) + " <-> columns " + Arrays.toString(columnShape())
                + ", kernelSize " + Arrays.toString(kernelSize) + ", dilation " + Arrays.toString(dilation)
                + ", padding " + Arrays.toString(padding) + ", stride " + Arrays.toString(stride)
                + (layout == ColumnLayout.PER_SAMPLE ? "" : ", " + layout) + "]";
    }

    private static String joinGrid(long[] grid) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < grid.length; i++) sb.append(i == 0 ? "" : " * ").append(grid[i]);
        return sb.toString();
    }

    /**
     * Collects block parameters, then sizes them for one call shape:
     * <pre>{@code
     * FoldGeometry g = FoldGeometry.builder().kernelSize(3, 3).padding(1, 1).stride(2, 2)
     *         .forFold(new long[] {8, 576, 256}, 32, 32);
     * }</pre>
     * Parameters not set default to dilation 1, padding 0, stride 1 in every dimension of kernelSize.
     */
    public static final class Builder {
        private int[] kernelSize, dilation, padding, stride;
        private ColumnLayout layout = ColumnLayout.PER_SAMPLE;

        private Builder() {}

        /** Sets the column layout (default PER_SAMPLE, PyTorch's). */
        public Builder columnLayout(ColumnLayout layout) {
            this.layout = notNull(layout, "layout");
            return this;
        }

        /** Sets the kernel size (required; its length is the number of spatial dimensions). */
        public Builder kernelSize(int... kernelSize) {
            this.kernelSize = notNull(kernelSize, "kernelSize").clone();
            return this;
        }
        /** Sets the dilation (default 1 in every dimension). */
        public Builder dilation(int... dilation) {
            this.dilation = notNull(dilation, "dilation").clone();
            return this;
        }
        /**
         * Sets the zero padding (default 0 in every dimension): d values, the same before and after
         * each dimension, or 2d in ONNX {@code pads} order (the start of each dimension, then the end
         * of each).
         */
        public Builder padding(int... padding) {
            this.padding = notNull(padding, "padding").clone();
            return this;
        }
        /** Sets the stride (default 1 in every dimension). */
        public Builder stride(int... stride) {
            this.stride = notNull(stride, "stride").clone();
            return this;
        }

        /** See {@link FoldGeometry#forUnfold}. */
        public FoldGeometry forUnfold(long... inputShape) {
            notNull(kernelSize, "kernelSize");
            return FoldGeometry.forUnfold(inputShape, kernelSize, or(dilation, 1), or(padding, 0), or(stride, 1))
                    .withColumnLayout(layout);
        }

        /** See {@link FoldGeometry#forFold}. */
        public FoldGeometry forFold(long[] inputShape, int... outputSize) {
            notNull(kernelSize, "kernelSize");
            return FoldGeometry.forFold(
                    inputShape, outputSize, kernelSize, or(dilation, 1), or(padding, 0), or(stride, 1), layout);
        }

        private int[] or(int[] values, int fill) {
            if (values != null) return values;
            int[] filled = new int[kernelSize.length];
            Arrays.fill(filled, fill);
            return filled;
        }
    }
}
