package io.github.foldnd;

import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.internal.NativeMemory;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Streaming fold on float memory, behind {@link Engine#foldBlocks} and {@link Engine#finishFold}:
 * the arguments checked (by {@link BlockRange}), then the native kernels (block_fold.hpp) or the
 * pure-Java ones ({@link JavaFloatKernels#foldBlocks}), which give the same bits.
 *
 * <p>Memory: arrays in place (the native side in short critical regions, as every array call);
 * direct buffers and JavaCPP pointers by address, zero-copy; heap buffers through their arrays. A
 * call that mixes direct and heap buffers, or has a heap buffer without an accessible array, is
 * staged through temporary arrays: copied in, computed, and the image and weight sum copied back.
 *
 * <!-- template -->
 * <p>This file is the template of the double twin, {@code DoubleBlockFolds}, which the build
 * generates from it (pom.xml, execution {@code generate-double-twins}, with the rules of
 * src/codegen/float-to-double.rules) into target/generated-sources/twins. Edit this file only.
 * <!-- /template -->
 */
final class FloatBlockFolds {
    private FloatBlockFolds() {}

    static void fold(
            Engine engine,
            FoldGeometry g,
            float[] input,
            long first,
            long count,
            Reduce reduce,
            float[] weights,
            float[] output,
            float[] weightSum) {
        BlockRange r = BlockRange.of(g, first, count, reduce, weights == null ? -1 : weights.length, weightSum != null);
        notNull(input, "input");
        notNull(output, "output");
        BlockRange.distinct(input, output, weights, weightSum);
        BlockRange.lengths(r, input.length, output.length, weightSum == null ? -1 : weightSum.length);
        if (r.empty()) return;
        arrays(engine, r, input, 0, output, 0, weightSum, 0, weights);
    }

    static void fold(
            Engine engine,
            FoldGeometry g,
            FloatBuffer input,
            long first,
            long count,
            Reduce reduce,
            float[] weights,
            FloatBuffer output,
            FloatBuffer weightSum) {
        BlockRange r = BlockRange.of(g, first, count, reduce, weights == null ? -1 : weights.length, weightSum != null);
        int in = Bounds.input(input, "input", r.columns()), out = Bounds.output(output, "output", g.imageLength());
        int sum = weightSum == null ? 0 : Bounds.output(weightSum, "weightSum", g.imagePlane());
        BlockRange.distinct(input, output, null, weightSum);
        if (r.empty()) return;
        boolean direct = input.isDirect() && output.isDirect() && (weightSum == null || weightSum.isDirect());
        if (direct && NativeMemory.available()) {
            long inAt = NativeMemory.base(input) + (long) in * Float.BYTES;
            long outAt = NativeMemory.base(output) + (long) out * Float.BYTES;
            long sumAt = weightSum == null ? 0 : NativeMemory.base(weightSum) + (long) sum * Float.BYTES;
            BlockRange.disjoint(r, inAt, outAt, sumAt, Float.BYTES);
            addresses(engine, r, inAt, outAt, sumAt, weights);
        } else if (!direct
                && arrayBacked(input)
                && arrayBacked(output)
                && (weightSum == null || arrayBacked(weightSum))) {
            BlockRange.disjoint(
                    r,
                    input.array(),
                    input.arrayOffset() + in,
                    output.array(),
                    output.arrayOffset() + out,
                    weightSum == null ? null : weightSum.array(),
                    weightSum == null ? 0 : weightSum.arrayOffset() + sum);
            arrays(
                    engine,
                    r,
                    input.array(),
                    input.arrayOffset() + in,
                    output.array(),
                    output.arrayOffset() + out,
                    weightSum == null ? null : weightSum.array(),
                    weightSum == null ? 0 : weightSum.arrayOffset() + sum,
                    weights);
        } else { // staged: copied into arrays, computed, copied back
            float[] i = new float[Math.toIntExact(r.columns())], o = new float[Math.toIntExact(g.imageLength())];
            float[] s = weightSum == null ? null : new float[Math.toIntExact(g.imagePlane())];
            input.get(in, i);
            output.get(out, o);
            if (s != null) weightSum.get(sum, s);
            arrays(engine, r, i, 0, o, 0, s, 0, weights);
            output.put(out, o);
            if (s != null) weightSum.put(sum, s);
        }
    }

    static void fold(
            Engine engine,
            FoldGeometry g,
            FloatPointer input,
            long first,
            long count,
            Reduce reduce,
            float[] weights,
            FloatPointer output,
            FloatPointer weightSum) {
        BlockRange r = BlockRange.of(g, first, count, reduce, weights == null ? -1 : weights.length, weightSum != null);
        long in = Bounds.input(input, "input", r.columns(), Float.BYTES);
        long out = Bounds.output(output, "output", g.imageLength(), Float.BYTES);
        long sum = weightSum == null ? 0 : Bounds.output(weightSum, "weightSum", g.imagePlane(), Float.BYTES);
        BlockRange.disjoint(r, in, out, sum, Float.BYTES);
        if (r.empty()) return;
        addresses(engine, r, in, out, sum, weights);
    }

    static void finish(Engine engine, FoldGeometry g, Reduce reduce, float[] output, float[] weightSum) {
        BlockRange.finishing(g, reduce, weightSum != null);
        BlockRange.finishLengths(g, notNull(output, "output").length, weightSum == null ? -1 : weightSum.length);
        if (output == weightSum) throw io.github.foldnd.internal.Check.fail("output must not be the weightSum array");
        if (reduce == Reduce.SUM || g.planes() == 0) return;
        finishArrays(engine, g, reduce, output, 0, weightSum, 0);
    }

    static void finish(Engine engine, FoldGeometry g, Reduce reduce, FloatBuffer output, FloatBuffer weightSum) {
        BlockRange.finishing(g, reduce, weightSum != null);
        int out = Bounds.output(output, "output", g.imageLength());
        if (reduce == Reduce.SUM || g.planes() == 0) return;
        int sum = Bounds.input(weightSum, "weightSum", g.imagePlane());
        BlockRange.distinct(weightSum, output, null, null);
        if (output.isDirect() && weightSum.isDirect() && NativeMemory.available()) {
            long outAt = NativeMemory.base(output) + (long) out * Float.BYTES;
            long sumAt = NativeMemory.base(weightSum) + (long) sum * Float.BYTES;
            Bounds.disjoint(outAt, g.imageLength() * Float.BYTES, sumAt, g.imagePlane() * Float.BYTES, "weightSum");
            finishAddresses(engine, g, reduce, outAt, sumAt);
        } else if (arrayBacked(output) && arrayBacked(weightSum)) {
            BlockRange.disjointFinish(
                    g, output.array(), output.arrayOffset() + out, weightSum.array(), weightSum.arrayOffset() + sum);
            finishArrays(
                    engine,
                    g,
                    reduce,
                    output.array(),
                    output.arrayOffset() + out,
                    weightSum.array(),
                    weightSum.arrayOffset() + sum);
        } else {
            float[] o = new float[Math.toIntExact(g.imageLength())], s = new float[Math.toIntExact(g.imagePlane())];
            output.get(out, o);
            weightSum.get(sum, s);
            finishArrays(engine, g, reduce, o, 0, s, 0);
            output.put(out, o);
        }
    }

    static void finish(Engine engine, FoldGeometry g, Reduce reduce, FloatPointer output, FloatPointer weightSum) {
        BlockRange.finishing(g, reduce, weightSum != null);
        long out = Bounds.output(output, "output", g.imageLength(), Float.BYTES);
        if (reduce == Reduce.SUM || g.planes() == 0) return;
        long sum = Bounds.input(weightSum, "weightSum", g.imagePlane(), Float.BYTES);
        Bounds.disjoint(out, g.imageLength() * Float.BYTES, sum, g.imagePlane() * Float.BYTES, "weightSum");
        finishAddresses(engine, g, reduce, out, sum);
    }

    /** A heap buffer whose array can be used in place (a writable heap buffer, or any that has one). */
    private static boolean arrayBacked(FloatBuffer b) {
        return !b.isDirect() && b.hasArray();
    }

    // ---- the kernels: native, or pure Java for the Java engine and for calls too small to cross ----

    private static void arrays(
            Engine engine,
            BlockRange r,
            float[] in,
            int inAt,
            float[] out,
            int outAt,
            float[] sum,
            int sumAt,
            float[] w) {
        FoldGeometry g = r.geometry();
        int threads = engine.threads();
        if (r.runsNative(engine)) {
            long[] d = g.descriptor();
            long total = (r.columns() + g.imageLength() + (sum == null ? 0 : g.imagePlane())) * Float.BYTES;
            int code = r.reduce().code;
            long wl = w == null ? 0 : w.length, sl = sum == null ? 0 : sum.length;
            NativeEngine.blocksInParts(
                    g,
                    total,
                    Float.BYTES,
                    threads,
                    (first, count) -> NativeKernels.foldBlocks(
                            in,
                            in.length,
                            inAt,
                            out,
                            out.length,
                            outAt,
                            sum,
                            sl,
                            sumAt,
                            d,
                            d.length,
                            code,
                            w,
                            wl,
                            r.first(),
                            r.count(),
                            first,
                            count,
                            threads));
            return;
        }
        JavaFloatKernels.foldBlocks(
                g,
                FloatBuffer.wrap(in),
                inAt,
                FloatBuffer.wrap(out),
                outAt,
                sum == null ? null : FloatBuffer.wrap(sum),
                sumAt,
                r.first(),
                r.count(),
                r.reduce(),
                w,
                threads);
    }

    private static void addresses(Engine engine, BlockRange r, long in, long out, long sum, float[] w) {
        FoldGeometry g = r.geometry();
        int threads = engine.threads();
        if (r.runsNative(engine)) {
            long[] d = g.descriptor();
            NativeEngine.check(NativeKernels.foldBlocksFloats(
                    in,
                    r.columns(),
                    out,
                    g.imageLength(),
                    sum,
                    sum == 0 ? 0 : g.imagePlane(),
                    d,
                    d.length,
                    r.reduce().code,
                    w,
                    w == null ? 0 : w.length,
                    r.first(),
                    r.count(),
                    0,
                    NativeEngine.ALL,
                    threads));
            return;
        }
        r.checkViews(Float.BYTES);
        JavaFloatKernels.foldBlocks(
                g,
                Addresses.floats(in, r.columns()),
                0,
                Addresses.floats(out, g.imageLength()),
                0,
                sum == 0 ? null : Addresses.floats(sum, g.imagePlane()),
                0,
                r.first(),
                r.count(),
                r.reduce(),
                w,
                threads);
    }

    private static void finishArrays(
            Engine engine, FoldGeometry g, Reduce reduce, float[] out, int outAt, float[] sum, int sumAt) {
        if (engine instanceof NativeEngine n && !n.small(g.imageLength())) {
            long[] d = g.descriptor();
            int threads = engine.threads();
            NativeEngine.blocksInParts(
                    g,
                    0, // one region: finishing is a single pass over the image
                    Float.BYTES,
                    threads,
                    (first, count) -> NativeKernels.finishBlocks(
                            out, out.length, outAt, sum, sum.length, sumAt, d, d.length, reduce.code, threads));
            return;
        }
        JavaFloatKernels.finishBlocks(g, FloatBuffer.wrap(out), outAt, FloatBuffer.wrap(sum), sumAt, reduce);
    }

    private static void finishAddresses(Engine engine, FoldGeometry g, Reduce reduce, long out, long sum) {
        if (engine instanceof NativeEngine n && !n.small(g.imageLength())) {
            long[] d = g.descriptor();
            NativeEngine.check(NativeKernels.finishBlocksFloats(
                    out, g.imageLength(), sum, g.imagePlane(), d, d.length, reduce.code, engine.threads()));
            return;
        }
        BlockRange.checkViews(g, g.imageLength(), Float.BYTES);
        JavaFloatKernels.finishBlocks(
                g, Addresses.floats(out, g.imageLength()), 0, Addresses.floats(sum, g.imagePlane()), 0, reduce);
    }
}
