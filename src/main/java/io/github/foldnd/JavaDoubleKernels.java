package io.github.foldnd;

import java.nio.DoubleBuffer;

/**
 * The pure-Java engine's double loops, written to visit contributions in exactly the order of
 * native/include/foldnd/kernels.hpp (each output element starts at the merge's identity and takes
 * its contributions in increasing kernel offset), so the two engines agree bit for bit.
 * Its twin for the other element type is generated from this file by the transform in
 * EngineSelectionTest.twin, whose test fails when the two drift apart: edit this one, then regenerate.
 *
 * <p>Data are addressed as (buffer, base index): heap arrays arrive wrapped, direct buffers as they
 * are, with absolute get/put so no position is ever moved.
 */
final class JavaDoubleKernels {
    private JavaDoubleKernels() {}

    static void unfold(FoldGeometry g, DoubleBuffer in, int inBase, DoubleBuffer out, int outBase, int threads) {
        BlockCursor.Tables t = new BlockCursor.Tables(g);
        int kernels = t.kernelVolume, blocks = t.blocks, width = t.width, plane = t.imagePlane;
        Parallel.forRange((int) g.planes() * kernels, threads, blocks, (begin, end) -> {
            BlockCursor c = new BlockCursor(t);
            c.seekKernel(begin % kernels);
            for (int r = begin; r < end; r++, c.nextKernel()) {
                int p = r / kernels;
                int src = inBase + p * plane, dst = outBase + BlockCursor.columnBase(t, p) + (r % kernels) * t.kernelStride;
                c.beginRows();
                while (c.nextRow()) {
                    int o = dst + c.row * width;
                    if (!c.valid) {
                        fill(out, o, width, 0d);
                        continue;
                    }
                    fill(out, o, c.lo, 0d);
                    if (c.step == 1) {  // a contiguous row: one bulk copy (arraycopy or a memory copy)
                        out.put(o + c.lo, in, src + c.start, c.hi - c.lo);
                    } else {
                        for (int j = c.lo, x = src + c.start; j < c.hi; j++, x += c.step) out.put(o + j, in.get(x));
                    }
                    fill(out, o + c.hi, width - c.hi, 0d);
                }
            }
        });
    }

    static void fold(FoldGeometry g, DoubleBuffer in, int inBase, DoubleBuffer out, int outBase, Reduce reduce,
                     double[] weights, int threads) {
        BlockCursor.Tables t = new BlockCursor.Tables(g);
        int perPlane = t.kernelVolume * t.blocks, plane = t.imagePlane;  // work per plane, for the split
        double[] coverage = reduce == Reduce.SUM ? null : coverage(t, weights);
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
    private static double[] coverage(BlockCursor.Tables t, double[] weights) {
        double[] map = new double[t.imagePlane];
        foldPlane(t, new BlockCursor(t), null, 0, DoubleBuffer.wrap(map), 0, Reduce.SUM, weights);
        return map;
    }

    /**
     * Folds one plane. With {@code in == null} every contribution is the offset's weight alone,
     * which is how the coverage map is built by the very same walk.
     */
    private static void foldPlane(BlockCursor.Tables t, BlockCursor c, DoubleBuffer in, int inBase, DoubleBuffer out,
                                  int outBase, Reduce reduce, double[] weights) {
        fill(out, outBase, t.imagePlane, reduce == Reduce.MAX ? Double.NEGATIVE_INFINITY
                : reduce == Reduce.MIN ? Double.POSITIVE_INFINITY : 0d);
        c.seekKernel(0);
        for (int k = 0; k < t.kernelVolume; k++, c.nextKernel()) {
            double w = weights == null ? 1d : weights[k];
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
                            for (int j = 0; j < n; j++, x += step) out.put(x, out.get(x) + value(in, s + j, w, weights));
                        }
                    }
                    case MAX -> {
                        for (int j = 0; j < n; j++, x += step) {
                            double v = value(in, s + j, w, weights);
                            if (v > out.get(x) || v != v) out.put(x, v);  // NaN wins
                        }
                    }
                    case MIN -> {
                        for (int j = 0; j < n; j++, x += step) {
                            double v = value(in, s + j, w, weights);
                            if (v < out.get(x) || v != v) out.put(x, v);
                        }
                    }
                }
            }
        }
    }

    private static double value(DoubleBuffer in, int at, double w, double[] weights) {
        if (in == null) return w;
        return weights == null ? in.get(at) : w * in.get(at);
    }

    /** MEAN divides by the coverage; MAX/MIN only clear what no block covers. */
    private static void finish(DoubleBuffer out, int base, double[] coverage, boolean divide) {
        for (int i = 0; i < coverage.length; i++) {
            double m = coverage[i];
            out.put(base + i, m == 0d ? 0d : divide ? out.get(base + i) / m : out.get(base + i));
        }
    }

    private static void fill(DoubleBuffer out, int at, int n, double value) {
        for (int i = 0; i < n; i++) out.put(at + i, value);
    }
}
