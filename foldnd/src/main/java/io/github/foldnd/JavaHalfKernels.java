package io.github.foldnd;

import java.nio.ShortBuffer;

/**
 * The pure-Java engine's fold of FLOAT16 and BFLOAT16 data (short bits), in the order of
 * {@link JavaFloatKernels#fold} and with the arithmetic of native/include/foldnd/half.hpp: every
 * operation in float, rounded back to the 16-bit type at once ({@link Half16}), so the two engines
 * and PyTorch's col2im agree bit for bit.
 */
final class JavaHalfKernels {
    private JavaHalfKernels() {}

    static void fold(
            FoldGeometry g,
            ShortBuffer in,
            int inBase,
            ShortBuffer out,
            int outBase,
            ElementType type,
            Reduce reduce,
            short[] weights,
            int threads) {
        BlockCursor.Tables t = g.tables();
        int perPlane = t.kernelVolume * t.blocks, plane = t.imagePlane;
        short[] coverage = reduce == Reduce.SUM ? null : coverage(t, type, weights);
        Parallel.forRange((int) g.planes(), threads, (long) perPlane + plane, (begin, end) -> {
            BlockCursor c = new BlockCursor(t);
            for (int p = begin; p < end; p++) {
                int o = outBase + p * plane;
                foldPlane(t, c, in, inBase + BlockCursor.columnBase(t, p), out, o, type, reduce, weights);
                if (coverage != null) finish(out, o, coverage, type, reduce == Reduce.MEAN);
            }
        });
    }

    /** Σ weights (1 each when null) of the offsets covering each element, added in the type. */
    private static short[] coverage(BlockCursor.Tables t, ElementType type, short[] weights) {
        short[] map = new short[t.imagePlane];
        foldPlane(t, new BlockCursor(t), null, 0, ShortBuffer.wrap(map), 0, type, Reduce.SUM, weights);
        return map;
    }

    /** One plane; with {@code in == null} every contribution is the offset's weight. */
    private static void foldPlane(
            BlockCursor.Tables t,
            BlockCursor c,
            ShortBuffer in,
            int inBase,
            ShortBuffer out,
            int outBase,
            ElementType type,
            Reduce reduce,
            short[] weights) {
        float init =
                reduce == Reduce.MAX ? Float.NEGATIVE_INFINITY : reduce == Reduce.MIN ? Float.POSITIVE_INFINITY : 0f;
        short start = Half16.fromFloat(type, init);
        for (int i = 0; i < t.imagePlane; i++) out.put(outBase + i, start);
        short one = Half16.fromFloat(type, 1f);
        c.seekKernel(0);
        for (int k = 0; k < t.kernelVolume; k++, c.nextKernel()) {
            short wb = weights == null ? one : weights[k];
            float w = Half16.toFloat(type, wb);
            int src = inBase + k * t.kernelStride;
            c.beginRows();
            while (c.nextRow()) {
                if (!c.valid) continue;
                int s = src + c.row * t.width + c.lo, x = outBase + c.start, n = c.hi - c.lo, step = c.step;
                for (int j = 0; j < n; j++, x += step) {
                    // The contribution's bits: w·x rounded to the type (x itself when unweighted).
                    short vb = in == null
                            ? wb
                            : weights == null
                                    ? in.get(s + j)
                                    : Half16.fromFloat(type, w * Half16.toFloat(type, in.get(s + j)));
                    float v = Half16.toFloat(type, vb), o = Half16.toFloat(type, out.get(x));
                    switch (reduce) {
                        case SUM, MEAN -> out.put(x, Half16.fromFloat(type, o + v));
                        case MAX -> {
                            if (v > o || v != v) out.put(x, vb); // NaN wins
                        }
                        case MIN -> {
                            if (v < o || v != v) out.put(x, vb);
                        }
                    }
                }
            }
        }
    }

    private static void finish(ShortBuffer out, int base, short[] coverage, ElementType type, boolean divide) {
        for (int i = 0; i < coverage.length; i++) {
            float m = Half16.toFloat(type, coverage[i]);
            float o = Half16.toFloat(type, out.get(base + i));
            out.put(base + i, m == 0f ? 0 : divide ? Half16.fromFloat(type, o / m) : out.get(base + i));
        }
    }
}
