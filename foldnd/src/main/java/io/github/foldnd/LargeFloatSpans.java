package io.github.foldnd;

import java.nio.FloatBuffer;

/**
 * The float loops of {@link LargeSpans}: each plane of a span too large for one view runs as a
 * one-plane call of {@link JavaFloatKernels}, its columns gathered into, or scattered from, a
 * heap array of the plane's K rows of L blocks.
 *
 * <!-- template -->
 * <p>This file is the template of the double twin, {@code LargeDoubleSpans}, which the build
 * generates from it (pom.xml, execution {@code generate-double-twins}, with the rules of
 * src/codegen/float-to-double.rules) into target/generated-sources/twins. Edit this file only:
 * the twin is neither edited nor committed.
 * <!-- /template -->
 */
final class LargeFloatSpans {
    private LargeFloatSpans() {}

    static void unfold(FoldGeometry g, long in, long out, int threads) {
        LargeSpans.checkPlane(g, Float.BYTES);
        FoldGeometry one = LargeSpans.onePlaneUnfold(g);
        long plane = g.imagePlane(), kernels = g.kernelVolume(), blocks = g.blocks();
        LargeSpans.forPlanes(g.planes(), threads, (from, to) -> {
            float[] columns = new float[(int) (kernels * blocks)];
            for (long p = from; p < to; p++) {
                JavaFloatKernels.unfold(
                        one, Addresses.floats(in + p * plane * Float.BYTES, plane), 0, FloatBuffer.wrap(columns), 0, 1);
                for (long k = 0; k < kernels; k++) {
                    Addresses.floats(out + (g.columnBase(p) + k * g.kernelStride()) * Float.BYTES, blocks)
                            .put(0, columns, (int) (k * blocks), (int) blocks);
                }
            }
        });
    }

    static void fold(FoldGeometry g, long in, long out, Reduce reduce, float[] weights, int threads) {
        LargeSpans.checkPlane(g, Float.BYTES);
        FoldGeometry one = LargeSpans.onePlaneFold(g);
        long plane = g.imagePlane(), kernels = g.kernelVolume(), blocks = g.blocks();
        LargeSpans.forPlanes(g.planes(), threads, (from, to) -> {
            float[] columns = new float[(int) (kernels * blocks)];
            for (long p = from; p < to; p++) {
                for (long k = 0; k < kernels; k++) {
                    Addresses.floats(in + (g.columnBase(p) + k * g.kernelStride()) * Float.BYTES, blocks)
                            .get(0, columns, (int) (k * blocks), (int) blocks);
                }
                JavaFloatKernels.fold(
                        one,
                        FloatBuffer.wrap(columns),
                        0,
                        Addresses.floats(out + p * plane * Float.BYTES, plane),
                        0,
                        reduce,
                        weights,
                        1);
            }
        });
    }
}
