package io.github.foldnd;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.internal.NativeMemory;
import java.util.Arrays;

/**
 * The checked arguments of one streaming fold ({@link Engine#foldBlocks}): a geometry, the range
 * [first, first + count) of its L blocks, the merge, and how many column elements the range has
 * (N·C·K·count). Every check here runs before any native call or allocation; the element-typed
 * classes ({@link FloatBlockFolds} and its double twin) share them.
 */
record BlockRange(FoldGeometry geometry, long first, long count, Reduce reduce) {
    /** Checks a range and its merge: weights (-1: none) must have K values, MEAN needs a weight sum. */
    static BlockRange of(FoldGeometry g, long first, long count, Reduce reduce, int weights, boolean weightSum) {
        notNull(g, "geometry");
        notNull(reduce, "reduce");
        long blocks = g.blocks();
        if (first < 0 || first > blocks) {
            throw fail("firstBlock must be from 0 to the grid's %d blocks (%s), got %d", blocks, grid(g), first);
        }
        if (count < 0 || count > blocks - first) {
            throw fail(
                    "blockCount must be from 0 to %d (the blocks from firstBlock %d to the end of the grid's %d, %s), "
                            + "got %d",
                    blocks - first, first, blocks, grid(g), count);
        }
        Engine.checkMerge(g, reduce, weights);
        if (reduce == Reduce.MEAN && !weightSum) {
            throw new NullPointerException("weightSum must not be null for MEAN: the finishing step divides by it");
        }
        return new BlockRange(g, first, count, reduce);
    }

    /** The checks of {@link Engine#finishFold}: every merge but SUM reads the weight sum. */
    static void finishing(FoldGeometry g, Reduce reduce, boolean weightSum) {
        notNull(g, "geometry");
        notNull(reduce, "reduce");
        if (reduce != Reduce.SUM && !weightSum) {
            throw new NullPointerException("weightSum must not be null for " + reduce
                    + ": finishing divides by it (MEAN) or clears where it is 0 (MAX, MIN)");
        }
    }

    /** Column elements of the range: N·C·K·count (at most the geometry's column length). */
    long columns() {
        return geometry.planes() * geometry.kernelVolume() * count;
    }

    /** Nothing to compute: no blocks, or no planes. */
    boolean empty() {
        return count == 0 || geometry.planes() == 0;
    }

    /** Whether this call runs in C++: on the native engine, unless too small to repay the crossing. */
    boolean runsNative(Engine engine) {
        return engine instanceof NativeEngine n && !n.small(columns() + geometry.imageLength());
    }

    /** Array lengths (-1: no weight sum): input exactly the range's columns, outputs at least theirs. */
    static void lengths(BlockRange r, int input, int output, int weightSum) {
        FoldGeometry g = r.geometry;
        if (input != r.columns()) {
            throw fail(
                    "input must have N*C*K*blockCount = %d*%d*%d*%d = %d elements (the columns of blocks [%d, %d)), "
                            + "got %d",
                    g.batch(), g.channels(), g.kernelVolume(), r.count, r.columns(), r.first, r.first + r.count, input);
        }
        finishLengths(g, output, weightSum);
    }

    /** The lengths of finishFold's arrays, and of foldBlocks' outputs (-1: no weight sum). */
    static void finishLengths(FoldGeometry g, int output, int weightSum) {
        if (output < g.imageLength()) {
            throw fail(
                    "output must have at least %d elements (the image %s), got %d",
                    g.imageLength(), Arrays.toString(g.imageShape()), output);
        }
        if (weightSum >= 0 && weightSum < g.imagePlane()) {
            throw fail(
                    "weightSum must have at least %d elements (one image plane, %s), got %d",
                    g.imagePlane(), Arrays.toString(g.imageSizeUnsafe()), weightSum);
        }
    }

    /** The outputs are neither an input nor each other (the same array or buffer object). */
    static void distinct(Object input, Object output, Object weights, Object weightSum) {
        if (output == input) throw fail("output must not be the input: fold does not work in place");
        if (output == weights) throw fail("output must not be the weights array");
        if (weightSum != null && (weightSum == input || weightSum == weights || weightSum == output)) {
            throw fail("weightSum must be memory of its own, not the input, the weights or the output");
        }
    }

    /** Native memory: the image and the weight sum (0: none) share no byte with each other or the input. */
    static void disjoint(BlockRange r, long in, long out, long sum, int bytes) {
        FoldGeometry g = r.geometry;
        long image = g.imageLength() * bytes, columns = r.columns() * bytes, plane = g.imagePlane() * bytes;
        Bounds.disjoint(out, image, in, columns, "input");
        if (sum != 0) {
            if (NativeMemory.overlap(sum, plane, in, columns) || NativeMemory.overlap(sum, plane, out, image)) {
                throw fail("weightSum must not overlap the input or the output in memory");
            }
        }
    }

    /** Arrays used from offsets (heap buffers): where two are the same array, their spans must not meet. */
    static void disjoint(BlockRange r, Object in, int inAt, Object out, int outAt, Object sum, int sumAt) {
        FoldGeometry g = r.geometry;
        if (in == out && meet(inAt, r.columns(), outAt, g.imageLength()))
            throw fail("output must not overlap input in memory: fold does not work in place");
        if (sum != null
                && ((sum == in && meet(sumAt, g.imagePlane(), inAt, r.columns()))
                        || (sum == out && meet(sumAt, g.imagePlane(), outAt, g.imageLength())))) {
            throw fail("weightSum must not overlap the input or the output in memory");
        }
    }

    /** finishFold's heap buffers over one array: the weight sum and the image must not meet. */
    static void disjointFinish(FoldGeometry g, Object out, int outAt, Object sum, int sumAt) {
        if (out == sum && meet(outAt, g.imageLength(), sumAt, g.imagePlane()))
            throw fail("weightSum must not overlap the output in memory");
    }

    /** The pure-Java kernels index a Java buffer view: each span must fit in one (2^31 - 1 bytes). */
    void checkViews(int bytes) {
        checkViews(geometry, Math.max(columns(), geometry.imageLength()), bytes);
    }

    static void checkViews(FoldGeometry g, long elements, int bytes) {
        if (elements > Integer.MAX_VALUE / bytes) {
            throw new UnsupportedOperationException("the pure-Java engine folds block ranges of native memory of at "
                    + "most 2^31 - 1 bytes per argument, got " + elements + " elements of " + bytes
                    + " bytes; the native engine has no such limit");
        }
    }

    private static boolean meet(long a, long n, long b, long m) {
        return n > 0 && m > 0 && a < b + m && b < a + n;
    }

    private static String grid(FoldGeometry g) {
        return "block grid " + Arrays.toString(g.gridUnsafe());
    }
}
