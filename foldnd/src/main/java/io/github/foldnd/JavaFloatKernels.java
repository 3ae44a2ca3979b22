package io.github.foldnd;

import java.nio.FloatBuffer;

/**
 * The pure-Java engine's float loops, written to visit contributions in exactly the order of
 * native/include/foldnd/kernels.hpp (each output element starts at the merge's identity and takes
 * its contributions in increasing kernel offset), so the two engines agree bit for bit.
 *
 * <p>Data are addressed as (buffer, base index): heap arrays arrive wrapped, direct buffers as they
 * are, with absolute get/put so no position is ever moved.
 *
 * <!-- template -->
 * <p>This file is the template of the double twin, {@code JavaDoubleKernels}, which the build
 * generates from it (pom.xml, execution {@code generate-double-twins}, with the rules of
 * src/codegen/float-to-double.rules) into target/generated-sources/twins. Edit this file only:
 * the twin is neither edited nor committed.
 * <!-- /template -->
 */
final class JavaFloatKernels {
    private JavaFloatKernels() {}

    static void unfold(FoldGeometry g, FloatBuffer in, int inBase, FloatBuffer out, int outBase, int threads) {
        BlockCursor.Tables t = new BlockCursor.Tables(g);
        int kernels = t.kernelVolume, blocks = t.blocks, width = t.width, plane = t.imagePlane;
        Parallel.forRange((int) g.planes() * kernels, threads, blocks, (begin, end) -> {
            BlockCursor c = new BlockCursor(t);
            c.seekKernel(begin % kernels);
            for (int r = begin; r < end; r++, c.nextKernel()) {
                int p = r / kernels;
                int src = inBase + p * plane,
                        dst = outBase + BlockCursor.columnBase(t, p) + (r % kernels) * t.kernelStride;
                c.beginRows();
                while (c.nextRow()) {
                    int o = dst + c.row * width;
                    if (!c.valid) {
                        fill(out, o, width, 0f);
                        continue;
                    }
                    fill(out, o, c.lo, 0f);
                    if (c.step == 1) { // a contiguous row: one bulk copy (arraycopy or a memory copy)
                        out.put(o + c.lo, in, src + c.start, c.hi - c.lo);
                    } else {
                        for (int j = c.lo, x = src + c.start; j < c.hi; j++, x += c.step) out.put(o + j, in.get(x));
                    }
                    fill(out, o + c.hi, width - c.hi, 0f);
                }
            }
        });
    }

    static void fold(
            FoldGeometry g,
            FloatBuffer in,
            int inBase,
            FloatBuffer out,
            int outBase,
            Reduce reduce,
            float[] weights,
            int threads) {
        BlockCursor.Tables t = new BlockCursor.Tables(g);
        int perPlane = t.kernelVolume * t.blocks, plane = t.imagePlane; // work per plane, for the split
        float[] coverage = reduce == Reduce.SUM ? null : coverage(t, weights);
        Parallel.forRange((int) g.planes(), threads, (long) perPlane + plane, (begin, end) -> {
            BlockCursor c = new BlockCursor(t);
            for (int p = begin; p < end; p++) {
                int o = outBase + p * plane;
                foldPlane(t, c, in, inBase + BlockCursor.columnBase(t, p), out, o, reduce, weights);
                if (coverage != null) finish(out, o, coverage, reduce == Reduce.MEAN);
            }
        });
    }

    /** Σ weights (1 each when null) of the kernel offsets covering each element of a plane. */
    private static float[] coverage(BlockCursor.Tables t, float[] weights) {
        float[] map = new float[t.imagePlane];
        foldPlane(t, new BlockCursor(t), null, 0, FloatBuffer.wrap(map), 0, Reduce.SUM, weights);
        return map;
    }

    /**
     * Folds one plane. With {@code in == null} every contribution is the offset's weight alone,
     * which is how the coverage map is built by the very same walk.
     */
    private static void foldPlane(
            BlockCursor.Tables t,
            BlockCursor c,
            FloatBuffer in,
            int inBase,
            FloatBuffer out,
            int outBase,
            Reduce reduce,
            float[] weights) {
        fill(
                out,
                outBase,
                t.imagePlane,
                reduce == Reduce.MAX ? Float.NEGATIVE_INFINITY : reduce == Reduce.MIN ? Float.POSITIVE_INFINITY : 0f);
        c.seekKernel(0);
        for (int k = 0; k < t.kernelVolume; k++, c.nextKernel()) {
            float w = weights == null ? 1f : weights[k];
            int src = inBase + k * t.kernelStride;
            c.beginRows();
            while (c.nextRow()) {
                if (!c.valid) continue;
                int s = src + c.row * t.width + c.lo, x = outBase + c.start, n = c.hi - c.lo, step = c.step;
                switch (reduce) {
                    case SUM, MEAN -> {
                        // The common case gets a loop of its own, free of per-element tests.
                        if (in != null && weights == null && step == 1) {
                            for (int j = 0; j < n; j++) out.put(x + j, out.get(x + j) + in.get(s + j));
                        } else {
                            for (int j = 0; j < n; j++, x += step)
                                out.put(x, out.get(x) + value(in, s + j, w, weights));
                        }
                    }
                    case MAX -> {
                        for (int j = 0; j < n; j++, x += step) {
                            float v = value(in, s + j, w, weights);
                            if (v > out.get(x) || v != v) out.put(x, v); // NaN wins
                        }
                    }
                    case MIN -> {
                        for (int j = 0; j < n; j++, x += step) {
                            float v = value(in, s + j, w, weights);
                            if (v < out.get(x) || v != v) out.put(x, v);
                        }
                    }
                }
            }
        }
    }

    private static float value(FloatBuffer in, int at, float w, float[] weights) {
        if (in == null) return w;
        return weights == null ? in.get(at) : w * in.get(at);
    }

    /** MEAN divides by the coverage; MAX/MIN only clear what no block covers. */
    private static void finish(FloatBuffer out, int base, float[] coverage, boolean divide) {
        for (int i = 0; i < coverage.length; i++) {
            float m = coverage[i];
            out.put(base + i, m == 0f ? 0f : divide ? out.get(base + i) / m : out.get(base + i));
        }
    }

    private static void fill(FloatBuffer out, int at, int n, float value) {
        for (int i = 0; i < n; i++) out.put(at + i, value);
    }
}
