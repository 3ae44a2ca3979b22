package io.github.foldnd;

import io.github.foldnd.internal.Check;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * The pure-Java engine on native spans larger than one Java buffer can view (2^31 - 1 bytes, as
 * JavaCPP pointers may be): one plane at a time, 64-bit throughout. A plane's image is one view;
 * its columns (K rows of L blocks, kernelStride apart in either layout) are gathered into, or
 * scattered from, a heap array, and the plane runs as a one-plane call of the ordinary kernels.
 * Every plane's result is what the whole call computes for it, so the output is the same bit for
 * bit. A plane itself must fit a view and an array; a larger one is refused before anything is
 * written (the native engine has no such limit).
 *
 * <p>This class holds what both element types share and the engine's entry points; the typed loops
 * are {@link LargeFloatSpans} and its double twin LargeDoubleSpans, which the build generates from
 * it (pom.xml, execution {@code generate-double-twins}).
 */
final class LargeSpans {
    private LargeSpans() {}

    /** True when the whole image and the whole columns each fit one view. */
    static boolean fitsViews(FoldGeometry g, int elementBytes) {
        long most = Integer.MAX_VALUE / elementBytes;
        return g.imageLength() <= most && g.columnLength() <= most;
    }

    static void unfoldFloats(FoldGeometry g, long in, long out, int threads) {
        LargeFloatSpans.unfold(g, in, out, threads);
    }

    static void foldFloats(FoldGeometry g, long in, long out, Reduce reduce, float[] weights, int threads) {
        LargeFloatSpans.fold(g, in, out, reduce, weights, threads);
    }

    static void unfoldDoubles(FoldGeometry g, long in, long out, int threads) {
        LargeDoubleSpans.unfold(g, in, out, threads);
    }

    static void foldDoubles(FoldGeometry g, long in, long out, Reduce reduce, double[] weights, int threads) {
        LargeDoubleSpans.fold(g, in, out, reduce, weights, threads);
    }

    static void checkPlane(FoldGeometry g, int elementBytes) {
        long columns = g.kernelVolume() * g.blocks(); // no overflow: it divides the column length
        if (g.imagePlane() > Integer.MAX_VALUE / elementBytes || columns > Check.MAX_ARRAY) {
            throw Check.fail(
                    "the pure-Java engine handles planes of at most %d image elements and %d column elements for this type, "
                            + "got %d and %d: use the native engine",
                    Integer.MAX_VALUE / elementBytes, Check.MAX_ARRAY, g.imagePlane(), columns);
        }
    }

    /** The geometry of one plane alone: unbatched, one channel, per-sample layout. */
    static FoldGeometry onePlaneUnfold(FoldGeometry g) {
        long[] shape = new long[g.dims() + 1];
        shape[0] = 1;
        System.arraycopy(g.imageSize(), 0, shape, 1, g.dims());
        return FoldGeometry.forUnfold(shape, g.kernelSize(), g.dilation(), g.padding(), g.stride());
    }

    static FoldGeometry onePlaneFold(FoldGeometry g) {
        int[] size = Arrays.stream(g.imageSize()).mapToInt(Math::toIntExact).toArray(); // fold sizes are ints
        return FoldGeometry.forFold(
                new long[] {g.kernelVolume(), g.blocks()}, size, g.kernelSize(), g.dilation(), g.padding(), g.stride());
    }

    interface PlaneRange {
        void run(long from, long to);
    }

    /** Splits [0, planes) into one contiguous range per thread (the planes are independent). */
    static void forPlanes(long planes, int threads, PlaneRange body) {
        int team = (int) Math.min(Math.max(threads, 1), planes);
        IntStream.range(0, team).parallel().forEach(id -> body.run(planes * id / team, planes * (id + 1) / team));
    }
}
