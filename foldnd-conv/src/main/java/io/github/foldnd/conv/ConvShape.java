package io.github.foldnd.conv;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.ColumnLayout;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.internal.Check;
import java.util.Arrays;
import java.util.stream.LongStream;

/**
 * The validated shapes of one convolution: x (N, C_in, *n), weight (C_out, C_in / groups, *k),
 * y (N, C_out, *grid), and the GEMM sizes of each group in the batch-fused column layout:
 * <pre>
 *   rows = C_in / groups · K      (the group's column rows, and the weight's row length)
 *   outs = C_out / groups          (the group's output channels)
 *   cols = N · L                   (every block of every sample: one GEMM for the batch)
 * </pre>
 */
final class ConvShape {
    final FoldGeometry columns; // x's unfold geometry, batch-fused
    final int batch, inChannels, outChannels, groups, blocks, kernelVolume;
    final int rows, outs, cols;
    /** The shape of y (N, C_out, *grid), which the gradients check gradY against. */
    final long[] yShape;

    /**
     * The most elements of any one tensor or GEMM dimension of a convolution: its GEMMs, reorders and
     * slices index with ints, as Java arrays and buffers do (the JVM's array limit, a few words below
     * Integer.MAX_VALUE). Every size below is checked against it, so none of the int arithmetic that
     * follows can overflow.
     */
    static final int MAX_ELEMENTS = Check.MAX_ARRAY;

    /** What the caller called N, C_in and K (their names differ between forward and the gradients). */
    private record Names(String batch, String inChannels, String kernel) {}

    private static final Names FORWARD =
            new Names("xShape[0] (N)", "xShape[1] (C_in)", "the kernel volume K (weightShape[2..])");

    private static final Names GRAD_INPUT =
            new Names("gradYShape[0] (N)", "C_in (weightShape[1] * groups)", FORWARD.kernel);

    private static final Names GRAD_WEIGHT =
            new Names("xShape[0] (N)", "xShape[1] (C_in)", "the kernel volume K (the product of kernelSize)");

    private ConvShape(FoldGeometry columns, int outChannels, int groups, Names names) {
        this.columns = columns;
        this.batch = index(columns.batch(), names.batch);
        this.inChannels = index(columns.channels(), names.inChannels);
        this.outChannels = outChannels;
        this.groups = groups;
        this.blocks = index(columns.blocks(), "the number of blocks L (the product of the output size)");
        this.kernelVolume = index(columns.kernelVolume(), names.kernel);
        this.rows = index(
                (long) inChannels / groups * kernelVolume, "C_in / groups * K (the rows of a group's column matrix)");
        this.outs = outChannels / groups;
        this.cols = index((long) batch * blocks, "N * L (the columns of the column matrix)");
        int d = columns.dims();
        this.yShape = new long[d + 2];
        yShape[0] = batch;
        yShape[1] = outChannels;
        long[] grid = columns.blockGrid();
        System.arraycopy(grid, 0, yShape, 2, d);
        // Every tensor must fit the int-indexed buffers the GEMM and the reorders use.
        index(columns.columnLength(), "the column matrix (C_in * K * N * L)");
        index(columns.imageLength(), "x (N * C_in * the input size)");
        index((long) outChannels * cols, "y (N * C_out * L)");
        index((long) outChannels * rows, "weight (C_out * C_in / groups * K)");
    }

    /**
     * A size as an int, or IllegalArgumentException naming it: the bound is that of the int
     * indices, for heap arrays and buffers alike (so the message does not send anyone elsewhere).
     */
    private static int index(long value, String what) {
        if (value > MAX_ELEMENTS) {
            throw fail(
                    "%s is %d, more than the %d elements a convolution can index (with int indices, as Java arrays "
                            + "and buffers); split the work into smaller calls (a smaller batch or fewer channels)",
                    what, value, MAX_ELEMENTS);
        }
        return (int) value;
    }

    /** From x's and the weight's shapes (forward, and backwardWeight once the kernel is known). */
    static ConvShape of(long[] xShape, long[] weightShape, int[] stride, int[] padding, int[] dilation, int groups) {
        return of(xShape, weightShape, stride, padding, dilation, groups, FORWARD);
    }

    private static ConvShape of(
            long[] xShape, long[] weightShape, int[] stride, int[] padding, int[] dilation, int groups, Names names) {
        notNull(xShape, "xShape");
        notNull(weightShape, "weightShape");
        if (weightShape.length < 3) {
            throw fail(
                    "weightShape must be (C_out, C_in / groups, *kernelSize) with at least 1 spatial dimension, got %s",
                    Arrays.toString(weightShape));
        }
        int d = weightShape.length - 2;
        if (xShape.length != d + 2) {
            throw fail(
                    "xShape must be (N, C_in, *spatial) with %d spatial dimensions (as weightShape %s), got %s",
                    d, Arrays.toString(weightShape), Arrays.toString(xShape));
        }
        for (long v : weightShape) {
            if (v < 1 || v > Integer.MAX_VALUE) {
                throw fail("weightShape must have positive int sizes, got %s", Arrays.toString(weightShape));
            }
        }
        int[] kernel = new int[d];
        for (int i = 0; i < d; i++) kernel[i] = (int) weightShape[i + 2];
        checkGroups(xShape, weightShape[0], weightShape[1], groups, "weightShape", weightShape);
        FoldGeometry g = FoldGeometry.forUnfold(xShape, kernel, dilation, padding, stride)
                .withColumnLayout(ColumnLayout.BATCH_FUSED);
        return new ConvShape(g, (int) weightShape[0], groups, names);
    }

    /** For backwardInput: the input's spatial size is given, the output gradient's shape must agree. */
    static ConvShape forGradInput(
            long[] gradYShape,
            long[] weightShape,
            int[] inputSpatialSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups) {
        notNull(gradYShape, "gradYShape");
        notNull(inputSpatialSize, "inputSpatialSize");
        notNull(weightShape, "weightShape");
        checkGradient(gradYShape, 3, groups);
        positive(inputSpatialSize, "inputSpatialSize");
        // weightShape[1] is checked below (1 to 2^31 - 1): a value outside gives an error there, not an overflow here.
        boolean inPerGroupFits = weightShape.length > 1 && weightShape[1] > 0 && weightShape[1] <= Integer.MAX_VALUE;
        long[] xShape = shape(gradYShape[0], inPerGroupFits ? weightShape[1] * groups : 1, inputSpatialSize);
        return of(xShape, weightShape, stride, padding, dilation, groups, GRAD_INPUT)
                .expectOutput(gradYShape, "gradYShape");
    }

    /** For backwardWeight: x's shape and the kernel size are given, the output gradient's shape must agree. */
    static ConvShape forGradWeight(
            long[] xShape,
            long[] gradYShape,
            int[] kernelSize,
            int[] stride,
            int[] padding,
            int[] dilation,
            int groups) {
        notNull(xShape, "xShape");
        notNull(gradYShape, "gradYShape");
        notNull(kernelSize, "kernelSize");
        checkGradient(gradYShape, 2, groups);
        if (xShape.length < 2) throw fail("xShape must be (N, C_in, *spatial), got %s", Arrays.toString(xShape));
        if (gradYShape[1] < 1 || gradYShape[1] > Integer.MAX_VALUE) {
            throw fail(
                    "gradYShape[1] (C_out) must be from 1 to %d, got %s",
                    Integer.MAX_VALUE, Arrays.toString(gradYShape));
        }
        positive(kernelSize, "kernelSize");
        long inPerGroup = xShape[1] % groups == 0 ? xShape[1] / groups : xShape[1];
        if (inPerGroup < 1 || inPerGroup > Integer.MAX_VALUE) {
            throw fail(
                    "xShape[1] / groups (C_in / groups) must be from 1 to %d, got xShape %s and groups = %d",
                    Integer.MAX_VALUE, Arrays.toString(xShape), groups);
        }
        long[] weightShape = shape(gradYShape[1], inPerGroup, kernelSize);
        return of(xShape, weightShape, stride, padding, dilation, groups, GRAD_WEIGHT)
                .expectOutput(gradYShape, "gradYShape");
    }

    /** What both gradients check first, once their arguments are not null: gradYShape's rank, then groups. */
    private static void checkGradient(long[] gradYShape, int minRank, int groups) {
        if (gradYShape.length < minRank)
            throw fail("gradYShape must be (N, C_out, *spatial), got %s", Arrays.toString(gradYShape));
        positiveGroups(groups);
    }

    /** Refuses groups below 1 (here and in ConvGeometry.Builder.build). */
    static void positiveGroups(int groups) {
        if (groups < 1) throw fail("groups must be positive, got %d", groups);
    }

    /** Refuses a size below 1 in sizes, naming the argument. */
    private static void positive(int[] sizes, String name) {
        for (int v : sizes) {
            if (v < 1) throw fail("%s must be positive, got %s", name, Arrays.toString(sizes));
        }
    }

    /** The shape (first, second, *spatial), as x's (N, C_in, *n) and the weight's (C_out, C_in / groups, *k) are. */
    private static long[] shape(long first, long second, int[] spatial) {
        return LongStream.concat(
                        LongStream.of(first, second), Arrays.stream(spatial).asLongStream())
                .toArray();
    }

    private static void checkGroups(
            long[] xShape, long outChannels, long inPerGroup, int groups, String wName, long[] w) {
        positiveGroups(groups);
        if (xShape.length > 1 && xShape[1] % groups != 0) {
            throw fail("xShape[1] (C_in) must be divisible by groups = %d, got %d", groups, xShape[1]);
        }
        if (outChannels % groups != 0) {
            throw fail("%s[0] (C_out) must be divisible by groups = %d, got %d", wName, groups, outChannels);
        }
        if (xShape.length > 1 && inPerGroup * groups != xShape[1]) {
            throw fail(
                    "%s[1] must be C_in / groups = %d / %d = %d, got %s",
                    wName, xShape[1], groups, xShape[1] / groups, Arrays.toString(w));
        }
    }

    /** This shape, once shape (the gradients' gradYShape) is found to be y's. */
    private ConvShape expectOutput(long[] shape, String name) {
        if (!Arrays.equals(shape, yShape)) {
            throw fail(
                    "%s must be %s (N, C_out and the output size for these stride, padding and dilation), got %s",
                    name, Arrays.toString(yShape), Arrays.toString(shape));
        }
        return this;
    }

    long xLength() {
        return columns.imageLength();
    }

    long yLength() {
        return (long) outChannels * cols;
    }

    long weightLength() {
        return (long) outChannels * rows;
    }

    long columnLength() {
        return columns.columnLength();
    }
}
