package io.github.foldnd;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.internal.Check;
import io.github.foldnd.internal.NativeMemory;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import org.bytedeco.javacpp.Pointer;

/**
 * unfold of any {@link ElementType}, one path per memory kind whatever the type: heap arrays
 * (byte[], short[], int[], long[]), native memory by address (direct buffers, JavaCPP pointers),
 * and buffers, which end on one of those two. Natively every type runs one entry point,
 * {@code foldnd_unfold_typed}, with the type's code; the pure-Java engine runs
 * {@link JavaUnfold}. unfold moves bits, so neither byte order nor the type's meaning matters.
 */
final class TypedUnfolds {
    private TypedUnfolds() {}

    /** The array class of each width: what a caller's array must be for a type. */
    private static Class<?> arrayClass(ElementType t) {
        return switch (t.bytes()) {
            case 1 -> byte[].class;
            case 2 -> short[].class;
            case 4 -> int[].class;
            default -> long[].class;
        };
    }

    /** unfold into a new array of the input's class, everything checked before it is allocated. */
    static Object unfoldNew(Engine engine, FoldGeometry g, ElementType t, Object input) {
        notNull(g, "geometry");
        Check.length("input", java.lang.reflect.Array.getLength(notNull(input, "input")), g.imageLength());
        int n = Check.arrayLength(g.columnLength(), "the unfold output");
        Object output = java.lang.reflect.Array.newInstance(input.getClass().getComponentType(), n);
        if (g.planes() > 0) arrays(engine, g, t, input, 0, output, 0);
        return output;
    }

    /** Heap arrays: input exactly the image, output at least the columns, not the same array. */
    static void arrays(Engine engine, FoldGeometry g, ElementType t, Object input, Object output) {
        notNull(g, "geometry");
        Check.length("input", java.lang.reflect.Array.getLength(notNull(input, "input")), g.imageLength());
        int n = java.lang.reflect.Array.getLength(notNull(output, "output"));
        if (n < g.columnLength()) {
            throw fail("output must have at least %d elements for this geometry, got %d", g.columnLength(), n);
        }
        if (output == input) throw fail("output must not be the input array: fold/unfold do not work in place");
        if (g.planes() > 0) arrays(engine, g, t, input, 0, output, 0);
    }

    /** Heap arrays from offsets on, checked: the native kernel in critical regions, or Java. */
    private static void arrays(
            Engine engine, FoldGeometry g, ElementType t, Object in, int inAt, Object out, int outAt) {
        int threads = engine.threads();
        if (engine instanceof NativeEngine n && !n.small(g)) {
            long[] d = g.descriptor();
            long inLength = java.lang.reflect.Array.getLength(in), outLength = java.lang.reflect.Array.getLength(out);
            int type = t.code;
            NativeEngine.Part part;
            if (in instanceof byte[] a) {
                part = (first, count) -> NativeKernels.unfoldTyped(
                        type, a, inLength, inAt, (byte[]) out, outLength, outAt, d, d.length, first, count, threads);
            } else if (in instanceof short[] a) {
                part = (first, count) -> NativeKernels.unfoldTyped(
                        type, a, inLength, inAt, (short[]) out, outLength, outAt, d, d.length, first, count, threads);
            } else if (in instanceof int[] a) {
                part = (first, count) -> NativeKernels.unfoldTyped(
                        type, a, inLength, inAt, (int[]) out, outLength, outAt, d, d.length, first, count, threads);
            } else {
                part = (first, count) -> NativeKernels.unfoldTyped(
                        type,
                        (long[]) in,
                        inLength,
                        inAt,
                        (long[]) out,
                        outLength,
                        outAt,
                        d,
                        d.length,
                        first,
                        count,
                        threads);
            }
            NativeEngine.inParts(g, t.bytes(), false, threads, part);
            return;
        }
        JavaUnfold.unfold(g, JavaUnfold.of(wrap(in), wrap(out)), inAt, outAt, threads);
    }

    private static Buffer wrap(Object array) {
        if (array instanceof byte[] a) return ByteBuffer.wrap(a);
        if (array instanceof short[] a) return ShortBuffer.wrap(a);
        if (array instanceof int[] a) return IntBuffer.wrap(a);
        return LongBuffer.wrap((long[]) array);
    }

    /** Native memory at two captured, checked addresses. */
    private static void addresses(Engine engine, FoldGeometry g, ElementType t, long in, long out) {
        Bounds.disjoint(out, g.columnLength() * t.bytes(), in, g.imageLength() * t.bytes(), "input");
        int threads = engine.threads();
        if (engine instanceof NativeEngine n && !n.small(g)) {
            long[] d = g.descriptor();
            NativeEngine.check(NativeKernels.unfoldTyped(
                    t.code,
                    in,
                    g.imageLength(),
                    0,
                    out,
                    g.columnLength(),
                    0,
                    d,
                    d.length,
                    0,
                    NativeEngine.ALL,
                    threads));
            return;
        }
        BlockRange.checkViews(g, Math.max(g.imageLength(), g.columnLength()), t.bytes());
        Buffer a = typed(Addresses.bytes(in, g.imageLength() * t.bytes()), t),
                b = typed(Addresses.bytes(out, g.columnLength() * t.bytes()), t);
        JavaUnfold.unfold(g, JavaUnfold.of(a, b), 0, 0, threads);
    }

    /** A ByteBuffer seen as buffers of the type's width (order irrelevant: bits are moved whole). */
    private static Buffer typed(ByteBuffer bytes, ElementType t) {
        return switch (t.bytes()) {
            case 1 -> bytes;
            case 2 -> bytes.asShortBuffer();
            case 4 -> bytes.asIntBuffer();
            default -> bytes.asLongBuffer();
        };
    }

    /** JavaCPP pointers of the type's width; bounds as Engine's pointer unfold. */
    static void pointers(Engine engine, FoldGeometry g, ElementType t, Pointer input, Pointer output) {
        notNull(g, "geometry");
        long in = Bounds.input(input, "input", g.imageLength(), t.bytes());
        long out = Bounds.output(output, "output", g.columnLength(), t.bytes());
        if (g.planes() > 0) addresses(engine, g, t, in, out);
    }

    /**
     * Buffers of one element type: ByteBuffers counted in elements of the type (position and limit
     * in bytes, their difference a multiple of the width), or Short/Int/LongBuffers of its width.
     * Two direct buffers by address; heap buffers with arrays in place; anything else staged.
     */
    static void buffers(Engine engine, FoldGeometry g, ElementType t, Buffer input, Buffer output) {
        notNull(g, "geometry");
        notNull(t, "type");
        notNull(input, "input");
        notNull(output, "output");
        if (input instanceof ByteBuffer bi && output instanceof ByteBuffer bo && t.bytes() > 1) {
            // Whole elements from each position on: a view of the type's width over the same bytes.
            buffers(engine, g, t, elements(bi, "input", t), elements(bo, "output", t));
            return;
        }
        int in = Bounds.input(input, "input", g.imageLength()), out = Bounds.output(output, "output", g.columnLength());
        if (g.planes() == 0) return;
        if (input.isDirect() && output.isDirect() && NativeMemory.available()) {
            addresses(
                    engine,
                    g,
                    t,
                    NativeMemory.base(input) + (long) in * t.bytes(),
                    NativeMemory.base(output) + (long) out * t.bytes());
        } else if (input.hasArray() && output.hasArray() && !input.isDirect() && !output.isDirect()) {
            if (input.array() == output.array()
                    && meet(input.arrayOffset() + in, g.imageLength(), output.arrayOffset() + out, g.columnLength()))
                throw fail("output must not overlap input in memory: fold/unfold do not work in place");
            arrays(engine, g, t, input.array(), input.arrayOffset() + in, output.array(), output.arrayOffset() + out);
        } else {
            if (input == output)
                throw fail("output must not be the same buffer as input: fold/unfold do not work in place");
            // Staged through arrays of the width: copied in, unfolded, copied out.
            Object a = java.lang.reflect.Array.newInstance(
                    arrayClass(t).getComponentType(), Check.arrayLength(g.imageLength(), "the input"));
            Object b = java.lang.reflect.Array.newInstance(
                    arrayClass(t).getComponentType(), Check.arrayLength(g.columnLength(), "the unfold output"));
            copyIn(input, in, a);
            arrays(engine, g, t, a, 0, b, 0);
            copyOut(b, output, out);
        }
    }

    /** A view of a ByteBuffer's [position, limit) as whole elements of the type. */
    private static Buffer elements(ByteBuffer b, String name, ElementType t) {
        int position = b.position(), limit = b.limit();
        if ((limit - position) % t.bytes() != 0) {
            throw fail(
                    "%s must hold whole %s elements (%d bytes each) between position and limit, got %d bytes "
                            + "(position %d, limit %d)",
                    name, t, t.bytes(), limit - position, position, limit);
        }
        // A read-only buffer's views are read-only too, so Bounds still refuses it as an output.
        return typed(b.duplicate().position(position).limit(limit).slice(), t);
    }

    private static void copyIn(Buffer from, int at, Object to) {
        if (to instanceof byte[] a) ((ByteBuffer) from).get(at, a);
        else if (to instanceof short[] a) ((ShortBuffer) from).get(at, a);
        else if (to instanceof int[] a) ((IntBuffer) from).get(at, a);
        else ((LongBuffer) from).get(at, (long[]) to);
    }

    private static void copyOut(Object from, Buffer to, int at) {
        if (from instanceof byte[] a) ((ByteBuffer) to).put(at, a);
        else if (from instanceof short[] a) ((ShortBuffer) to).put(at, a);
        else if (from instanceof int[] a) ((IntBuffer) to).put(at, a);
        else ((LongBuffer) to).put(at, (long[]) from);
    }

    private static boolean meet(long a, long n, long b, long m) {
        return n > 0 && m > 0 && a < b + m && b < a + n;
    }
}
