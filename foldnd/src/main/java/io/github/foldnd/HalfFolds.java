package io.github.foldnd;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.internal.Check;
import io.github.foldnd.internal.NativeMemory;
import java.nio.ShortBuffer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * fold of FLOAT16 and BFLOAT16 data held as {@code short} bits, one path per memory kind: heap
 * arrays (the native kernel in short critical regions), native memory by address, and buffers,
 * which end on one of the two or are staged. Natively {@code foldnd_fold_typed} with the type's
 * code; in pure Java {@link JavaHalfKernels}. Weights arrive as floats and are rounded to the type
 * first, so that every contribution is {@code w·x} computed as the type computes it.
 */
final class HalfFolds {
    private HalfFolds() {}

    /** The type must be one fold computes in with short bits. */
    static void checkType(ElementType type) {
        notNull(type, "type");
        if (type != ElementType.FLOAT16 && type != ElementType.BFLOAT16) {
            throw fail(
                    "type must be FLOAT16 or BFLOAT16 for a fold of short data, got %s: fold sums, and foldnd defines"
                            + " it for floating types only (unfold takes every type)",
                    type);
        }
    }

    /** Checks the merge, and rounds the weights (nullable, K values) to the type. */
    private static short[] weights(FoldGeometry g, ElementType type, Reduce reduce, float[] weights) {
        Engine.checkMerge(g, reduce, weights == null ? -1 : weights.length);
        if (weights == null) return null;
        short[] bits = new short[weights.length];
        for (int i = 0; i < bits.length; i++) bits[i] = Half16.fromFloat(type, weights[i]);
        return bits;
    }

    static short[] foldNew(Engine engine, FoldGeometry g, short[] input, ElementType type, Reduce reduce, float[] w) {
        notNull(g, "geometry");
        checkType(type);
        Check.length("input", notNull(input, "input").length, g.columnLength());
        short[] bits = weights(g, type, reduce, w);
        short[] output = new short[Check.arrayLength(g.imageLength(), "the fold output")];
        if (g.planes() > 0) arrays(engine, g, type, input, 0, output, 0, reduce, bits);
        return output;
    }

    static void fold(
            Engine engine, FoldGeometry g, short[] input, ElementType type, Reduce reduce, float[] w, short[] output) {
        notNull(g, "geometry");
        checkType(type);
        Check.length("input", notNull(input, "input").length, g.columnLength());
        if (notNull(output, "output").length < g.imageLength()) {
            throw fail(
                    "output must have at least %d elements for this geometry, got %d", g.imageLength(), output.length);
        }
        if (output == input) throw fail("output must not be the input array: fold/unfold do not work in place");
        short[] bits = weights(g, type, reduce, w);
        if (g.planes() > 0) arrays(engine, g, type, input, 0, output, 0, reduce, bits);
    }

    static void fold(
            Engine engine,
            FoldGeometry g,
            ShortBuffer input,
            ElementType type,
            Reduce reduce,
            float[] w,
            ShortBuffer output) {
        notNull(g, "geometry");
        checkType(type);
        int in = Bounds.input(input, "input", g.columnLength()), out = Bounds.output(output, "output", g.imageLength());
        nativeOrder(input, "input");
        nativeOrder(output, "output");
        short[] bits = weights(g, type, reduce, w);
        if (g.planes() == 0) return;
        if (input.isDirect() && output.isDirect() && NativeMemory.available()) {
            addresses(
                    engine,
                    g,
                    type,
                    NativeMemory.base(input) + 2L * in,
                    NativeMemory.base(output) + 2L * out,
                    reduce,
                    bits);
        } else if (!input.isDirect() && !output.isDirect() && input.hasArray() && output.hasArray()) {
            int inAt = input.arrayOffset() + in, outAt = output.arrayOffset() + out;
            if (input.array() == output.array() && inAt < outAt + g.imageLength() && outAt < inAt + g.columnLength()) {
                throw fail("output must not overlap input in memory: fold/unfold do not work in place");
            }
            arrays(engine, g, type, input.array(), inAt, output.array(), outAt, reduce, bits);
        } else { // staged: copied into arrays, folded, copied out
            if (input == output)
                throw fail("output must not be the same buffer as input: fold/unfold do not work in place");
            short[] a = new short[Check.arrayLength(g.columnLength(), "the input")];
            short[] b = new short[Check.arrayLength(g.imageLength(), "the fold output")];
            input.get(in, a);
            arrays(engine, g, type, a, 0, b, 0, reduce, bits);
            output.put(out, b);
        }
    }

    static void fold(
            Engine engine,
            FoldGeometry g,
            ShortPointer input,
            ElementType type,
            Reduce reduce,
            float[] w,
            ShortPointer output) {
        notNull(g, "geometry");
        checkType(type);
        long in = Bounds.input(input, "input", g.columnLength(), 2);
        long out = Bounds.output(output, "output", g.imageLength(), 2);
        short[] bits = weights(g, type, reduce, w);
        if (g.planes() > 0) addresses(engine, g, type, in, out, reduce, bits);
    }

    /** A direct buffer's values are computed on where they lie: they must be in native byte order. */
    private static void nativeOrder(ShortBuffer b, String name) {
        if (b.isDirect() && b.order() != java.nio.ByteOrder.nativeOrder()) {
            throw fail(
                    "%s must be in native byte order (%s), got %s (a direct buffer is read in place)",
                    name, java.nio.ByteOrder.nativeOrder(), b.order());
        }
    }

    private static void arrays(
            Engine engine,
            FoldGeometry g,
            ElementType type,
            short[] in,
            int inAt,
            short[] out,
            int outAt,
            Reduce reduce,
            short[] w) {
        int threads = engine.threads();
        if (engine instanceof NativeEngine n && !n.small(g)) {
            long[] d = g.descriptor();
            int code = type.code, r = reduce.code;
            long wl = w == null ? 0 : w.length;
            NativeEngine.inParts(
                    g,
                    2,
                    true,
                    threads,
                    (first, count) -> NativeKernels.foldTyped(
                            code,
                            in,
                            in.length,
                            inAt,
                            out,
                            out.length,
                            outAt,
                            d,
                            d.length,
                            r,
                            w,
                            wl,
                            first,
                            count,
                            threads));
            return;
        }
        JavaHalfKernels.fold(g, ShortBuffer.wrap(in), inAt, ShortBuffer.wrap(out), outAt, type, reduce, w, threads);
    }

    private static void addresses(
            Engine engine, FoldGeometry g, ElementType type, long in, long out, Reduce reduce, short[] w) {
        Bounds.disjoint(out, g.imageLength() * 2, in, g.columnLength() * 2, "input");
        int threads = engine.threads();
        if (engine instanceof NativeEngine n && !n.small(g)) {
            long[] d = g.descriptor();
            NativeEngine.check(NativeKernels.foldTyped(
                    type.code,
                    in,
                    g.columnLength(),
                    0,
                    out,
                    g.imageLength(),
                    0,
                    d,
                    d.length,
                    reduce.code,
                    w,
                    w == null ? 0 : w.length,
                    0,
                    NativeEngine.ALL,
                    threads));
            return;
        }
        BlockRange.checkViews(g, Math.max(g.imageLength(), g.columnLength()), 2);
        JavaHalfKernels.fold(
                g,
                Addresses.bytes(in, g.columnLength() * 2).asShortBuffer(),
                0,
                Addresses.bytes(out, g.imageLength() * 2).asShortBuffer(),
                0,
                type,
                reduce,
                w,
                threads);
    }
}
