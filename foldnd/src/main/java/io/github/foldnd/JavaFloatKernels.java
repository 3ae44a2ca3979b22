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

    /** unfold: the one row walk of every element type ({@link JavaUnfold}), on float lanes. */
    static void unfold(FoldGeometry g, FloatBuffer in, int inBase, FloatBuffer out, int outBase, int threads) {
        JavaUnfold.unfold(g, JavaUnfold.of(in, out), inBase, outBase, threads);
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
        BlockCursor.Tables t = g.tables();
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
     * which is how the coverage map is built by the very same walk (or the same target table).
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
        if (t.targets != null) {
            foldPlaneByTargets(t, in, inBase, out, outBase, reduce, weights);
            return;
        }
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

    /**
     * foldPlane on a small geometry, from its target table ({@link BlockCursor.Tables#targets}):
     * offsets in increasing order, so every element takes its contributions in the row walk's
     * order, with the same operations.
     */
    private static void foldPlaneByTargets(
            BlockCursor.Tables t,
            FloatBuffer in,
            int inBase,
            FloatBuffer out,
            int outBase,
            Reduce reduce,
            float[] weights) {
        int[] targets = t.targets;
        for (int k = 0, blocks = t.blocks; k < t.kernelVolume; k++) {
            float w = weights == null ? 1f : weights[k];
            int src = inBase + k * t.kernelStride, at = k * blocks;
            for (int l = 0; l < blocks; l++) {
                int x = targets[at + l];
                if (x < 0) continue;
                x += outBase;
                merge(out, x, value(in, src + l, w, weights), reduce);
            }
        }
    }

    /** Merges one contribution v into element x: added (SUM, MEAN), or kept if larger (MAX) or smaller (MIN), NaN winning. */
    private static void merge(FloatBuffer out, int x, float v, Reduce reduce) {
        float prev = out.get(x);
        switch (reduce) {
            case SUM, MEAN -> out.put(x, prev + v);
            case MAX -> {
                if (v > prev || v != v) out.put(x, v); // NaN wins
            }
            case MIN -> {
                if (v < prev || v != v) out.put(x, v);
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

    // ---- streaming fold: a range of blocks into an existing image (native/include/foldnd/block_fold.hpp)

    /**
     * Merges the columns of blocks [first, first + count) into the image (nothing zeroed first) and,
     * when {@code sum} is not null, adds each offset's weight (1 when weights is null) to the weight
     * sum, one image plane. Rows of blocks are visited downward and offsets upward within a row, so
     * that every element takes its contributions in increasing kernel-offset order, as block_fold.hpp
     * does.
     */
    static void foldBlocks(
            FoldGeometry g,
            FloatBuffer in,
            int inBase,
            FloatBuffer out,
            int outBase,
            FloatBuffer sum,
            int sumBase,
            long first,
            long count,
            Reduce reduce,
            float[] weights,
            int threads) {
        int planes = (int) g.planes(), plane = (int) g.imagePlane(), kernels = (int) g.kernelVolume();
        boolean perSample = g.columnLayout() == ColumnLayout.PER_SAMPLE;
        int kernelStride = (int) (perSample ? count : g.batch() * count);
        Parallel.forRange(planes + 1, threads, kernels * count + plane, (begin, end) -> {
            for (int p = begin; p < end; p++) {
                if (p == planes) {
                    if (sum != null)
                        foldBlockPlane(g, null, 0, kernelStride, sum, sumBase, first, count, Reduce.SUM, weights);
                    continue;
                }
                long c = g.channels(), n = g.batch();
                int base = (int) (perSample ? p * kernels * count : ((p % c) * kernels * n + p / c) * count);
                foldBlockPlane(
                        g, in, inBase + base, kernelStride, out, outBase + p * plane, first, count, reduce, weights);
            }
        });
    }

    /** One plane of {@link #foldBlocks}; with {@code in == null} every contribution is the offset's weight. */
    private static void foldBlockPlane(
            FoldGeometry g,
            FloatBuffer in,
            int inBase,
            int kernelStride,
            FloatBuffer out,
            int outBase,
            long first,
            long count,
            Reduce reduce,
            float[] weights) {
        long[] grid = g.gridUnsafe(), size = g.imageSizeUnsafe();
        int[] kernel = g.kernelSizeUnsafe(), dil = g.dilationUnsafe(), pad = g.paddingBeginUnsafe();
        int[] stride = g.strideUnsafe();
        int d = grid.length, last = d - 1;
        long width = grid[last], end = first + count, qa = first / width, qb = (end - 1) / width;
        long[] l = new long[d], k = new long[d], imageStride = new long[d];
        imageStride[last] = 1;
        for (int i = last - 1; i >= 0; i--) imageStride[i] = imageStride[i + 1] * size[i + 1];
        int kernels = (int) g.kernelVolume();
        for (long q = qb; q >= qa; q--) { // rows downward
            long la = q == qa ? first % width : 0, lb = q == qb ? (end - 1) % width + 1 : width;
            for (long rest = q, i = last - 1; i >= 0; i--) {
                l[(int) i] = rest % grid[(int) i];
                rest /= grid[(int) i];
            }
            java.util.Arrays.fill(k, 0);
            for (int kk = 0; kk < kernels; kk++) { // offsets upward
                if (kk > 0) {
                    for (int i = last; i >= 0 && ++k[i] == kernel[i]; i--) k[i] = 0;
                }
                long at = 0;
                boolean inside = true;
                for (int i = 0; i < last && inside; i++) {
                    long x = l[i] * stride[i] + k[i] * dil[i] - pad[i];
                    inside = x >= 0 && x < size[i];
                    at += x * imageStride[i];
                }
                if (!inside) continue;
                long x0 = k[last] * dil[last] - pad[last], step = stride[last];
                long lo = Math.max(la, Math.floorDiv(-x0 + step - 1, step)),
                        hi = Math.min(lb, Math.floorDiv(size[last] - x0 + step - 1, step));
                float w = weights == null ? 1f : weights[kk];
                int o = (int) (outBase + at + x0), src = (int) (inBase + kk * kernelStride + q * width - first);
                for (long j = lo; j < hi; j++) {
                    int x = (int) (o + j * step);
                    merge(out, x, value(in, src + (int) j, w, weights), reduce);
                }
            }
        }
    }

    /** The finishing step of a streamed fold: MEAN divides by the weight sum, every merge but SUM clears where it is 0. */
    static void finishBlocks(
            FoldGeometry g, FloatBuffer out, int outBase, FloatBuffer sum, int sumBase, Reduce reduce) {
        if (reduce == Reduce.SUM) return;
        int plane = (int) g.imagePlane();
        for (long p = 0; p < g.planes(); p++) {
            for (int i = 0; i < plane; i++) {
                int x = (int) (outBase + p * plane + i);
                float m = sum.get(sumBase + i), o = out.get(x);
                out.put(x, m == 0f ? 0f : reduce == Reduce.MEAN ? o / m : o);
            }
        }
    }

    private static void fill(FloatBuffer out, int at, int n, float value) {
        for (int i = 0; i < n; i++) out.put(at + i, value);
    }
}
