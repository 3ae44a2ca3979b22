package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * unfold of every element width (int8/uint8, int16/float16/bfloat16 bits, int32, int64, and float
 * and double as raw bytes) on every engine and memory kind: random bit patterns land where the
 * definition puts them (Reference.unfold of element indices), zeros in the padding, nothing
 * written outside the output, the input unchanged.
 */
class TypedUnfoldTest {
    enum Kind {
        ARRAY,
        FACADE_ARRAY,
        DIRECT_BYTES,
        HEAP_BYTES,
        DIRECT_TYPED,
        HEAP_TYPED,
        VIEW_TYPED,
        POINTER
    }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Engine e : Engine.available()) {
            for (ElementType t : ElementType.values()) {
                for (Kind k : Kind.values()) {
                    boolean typedOnly = k == Kind.ARRAY
                            || k == Kind.FACADE_ARRAY
                            || k == Kind.HEAP_TYPED
                            || k == Kind.VIEW_TYPED
                            || k == Kind.DIRECT_TYPED
                            || k == Kind.POINTER;
                    // The typed overloads are the integer types' (and float16/bfloat16 as shorts).
                    if (typedOnly && (t == ElementType.FLOAT32 || t == ElementType.FLOAT64)) continue;
                    out.add(Arguments.of(e, t, k));
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void movesEveryBitWhereTheDefinitionSays(Engine e, ElementType t, Kind kind) {
        Random rnd =
                new Random(t.ordinal() * 31L + kind.ordinal() * 7L + e.name().length());
        for (int trial = 0; trial < 12; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, 1 + trial % 4, true);
            FoldGeometry g = Harness.unfoldGeometry(s, true);
            long[] image = new long[(int) g.imageLength()];
            for (int i = 0; i < image.length; i++) image[i] = mask(rnd.nextLong(), t);
            long[] expected = expected(s, image);
            long[] actual = run(e, t, kind, g, image, rnd);
            assertArrayEquals(expected, actual, e + " " + t + " " + kind + " " + g);
        }
    }

    /** The definition: unfold the 1-based indices of the image, then look each up (0: padding). */
    static long[] expected(Reference.Shape s, long[] image) {
        double[] index = new double[image.length];
        for (int i = 0; i < index.length; i++) index[i] = i + 1;
        double[] columns = Reference.unfold(index, s);
        long[] out = new long[columns.length];
        for (int i = 0; i < out.length; i++) out[i] = columns[i] == 0 ? 0 : image[(int) columns[i] - 1];
        return out;
    }

    private static long mask(long v, ElementType t) {
        return t.bytes() == 8 ? v : v & ((1L << (8 * t.bytes())) - 1);
    }

    private static final long SENTINEL = 0x5A5A5A5A5A5A5A5AL;
    private static final int LEAD = 3, TAIL = 4;

    /** One call on one memory kind; guards before and after the output checked. */
    private static long[] run(Engine e, ElementType t, Kind kind, FoldGeometry g, long[] image, Random rnd) {
        int n = (int) g.columnLength(), w = t.bytes();
        switch (kind) {
            case ARRAY, FACADE_ARRAY -> {
                Object in = toArray(image, w), copy = toArray(image, w);
                Object out;
                if (kind == Kind.FACADE_ARRAY) {
                    out = toArray(new long[n], w);
                    facade(in, g, out);
                } else if (rnd.nextBoolean()) {
                    out = allocating(e, g, in);
                } else {
                    long[] guard = new long[n + TAIL];
                    java.util.Arrays.fill(guard, mask(SENTINEL, t));
                    out = toArray(guard, w);
                    intoArray(e, g, in, out);
                    long[] all = fromArray(out);
                    for (int i = n; i < n + TAIL; i++) assertEquals(mask(SENTINEL, t), all[i], "wrote past the output");
                    out = toArray(java.util.Arrays.copyOf(all, n), w);
                }
                assertArrayEquals(fromArray(copy), fromArray(in), "input modified");
                return fromArray(out);
            }
            case DIRECT_BYTES, HEAP_BYTES -> {
                ByteOrder order = rnd.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
                boolean direct = kind == Kind.DIRECT_BYTES;
                ByteBuffer in = bytes(direct, order, (LEAD + image.length) * w),
                        out = bytes(direct, order, (LEAD + n + TAIL) * w);
                for (int i = 0; i < image.length; i++) put(in, (LEAD + i) * w, image[i], w);
                for (int i = 0; i < LEAD + n + TAIL; i++) put(out, i * w, SENTINEL, w);
                in.position(LEAD * w).limit((LEAD + image.length) * w);
                out.position(LEAD * w).limit((LEAD + n) * w);
                e.unfold(g, in, t, out);
                assertEquals(LEAD * w, out.position(), "position moved");
                long[] res = new long[n];
                ByteBuffer all = out.duplicate().clear().order(order);
                for (int i = 0; i < LEAD + n + TAIL; i++) {
                    long v = get(all, i * w, w);
                    if (i < LEAD || i >= LEAD + n) assertEquals(mask(SENTINEL, t), v, "wrote outside the output");
                    else res[i - LEAD] = v;
                }
                for (int i = 0; i < image.length; i++)
                    assertEquals(image[i], get(in, (LEAD + i) * w, w), "input modified");
                return res;
            }
            case DIRECT_TYPED, HEAP_TYPED, VIEW_TYPED -> {
                long[] guard = new long[LEAD + n + TAIL];
                java.util.Arrays.fill(guard, mask(SENTINEL, t));
                long[] in0 = new long[LEAD + image.length];
                System.arraycopy(image, 0, in0, LEAD, image.length);
                java.nio.Buffer in = typedBuffer(kind, in0, w), out = typedBuffer(kind, guard, w);
                in.position(LEAD).limit(LEAD + image.length);
                out.position(LEAD).limit(LEAD + n);
                if (w == 1) e.unfold(g, (ByteBuffer) in, t, (ByteBuffer) out);
                else if (w == 2) e.unfold(g, (ShortBuffer) in, (ShortBuffer) out);
                else if (w == 4) e.unfold(g, (IntBuffer) in, (IntBuffer) out);
                else e.unfold(g, (LongBuffer) in, (LongBuffer) out);
                long[] all = readTyped(out, LEAD + n + TAIL, w);
                for (int i = 0; i < LEAD + n + TAIL; i++) {
                    if (i < LEAD || i >= LEAD + n) assertEquals(mask(SENTINEL, t), all[i], "wrote outside the output");
                }
                assertArrayEquals(in0, readTyped(in, in0.length, w), "input modified");
                return java.util.Arrays.copyOfRange(all, LEAD, LEAD + n);
            }
            default -> { // POINTER
                long[] guard = new long[LEAD + n + TAIL];
                java.util.Arrays.fill(guard, mask(SENTINEL, t));
                long[] in0 = new long[LEAD + image.length];
                System.arraycopy(image, 0, in0, LEAD, image.length);
                ByteBuffer inBytes = bytes(true, ByteOrder.nativeOrder(), in0.length * w),
                        outBytes = bytes(true, ByteOrder.nativeOrder(), guard.length * w);
                for (int i = 0; i < in0.length; i++) put(inBytes, i * w, in0[i], w);
                for (int i = 0; i < guard.length; i++) put(outBytes, i * w, guard[i], w);
                if (w == 1) {
                    e.unfold(
                            g,
                            new BytePointer(inBytes).position(LEAD).limit(LEAD + image.length),
                            new BytePointer(outBytes).position(LEAD).limit(LEAD + n));
                } else if (w == 2) {
                    e.unfold(
                            g,
                            new ShortPointer(inBytes.asShortBuffer())
                                    .position(LEAD)
                                    .limit(LEAD + image.length),
                            new ShortPointer(outBytes.asShortBuffer())
                                    .position(LEAD)
                                    .limit(LEAD + n));
                } else if (w == 4) {
                    e.unfold(
                            g,
                            new IntPointer(inBytes.asIntBuffer()).position(LEAD).limit(LEAD + image.length),
                            new IntPointer(outBytes.asIntBuffer())
                                    .position(LEAD)
                                    .limit(LEAD + n));
                } else {
                    e.unfold(
                            g,
                            new LongPointer(inBytes.asLongBuffer())
                                    .position(LEAD)
                                    .limit(LEAD + image.length),
                            new LongPointer(outBytes.asLongBuffer())
                                    .position(LEAD)
                                    .limit(LEAD + n));
                }
                long[] res = new long[n];
                for (int i = 0; i < guard.length; i++) {
                    long v = get(outBytes, i * w, w);
                    if (i < LEAD || i >= LEAD + n) assertEquals(mask(SENTINEL, t), v, "wrote outside the output");
                    else res[i - LEAD] = v;
                }
                return res;
            }
        }
    }

    private static void facade(Object in, FoldGeometry g, Object out) {
        long[] shape = g.imageShape();
        int[] k = g.kernelSize(), d = g.dilation(), p = g.padding(), s = g.stride();
        if (in instanceof byte[] a) FoldNd.unfold(a, shape, k, d, p, s, (byte[]) out);
        else if (in instanceof short[] a) FoldNd.unfold(a, shape, k, d, p, s, (short[]) out);
        else if (in instanceof int[] a) FoldNd.unfold(a, shape, k, d, p, s, (int[]) out);
        else FoldNd.unfold((long[]) in, shape, k, d, p, s, (long[]) out);
    }

    private static Object allocating(Engine e, FoldGeometry g, Object in) {
        if (in instanceof byte[] a) return e.unfold(g, a);
        if (in instanceof short[] a) return e.unfold(g, a);
        if (in instanceof int[] a) return e.unfold(g, a);
        return e.unfold(g, (long[]) in);
    }

    private static void intoArray(Engine e, FoldGeometry g, Object in, Object out) {
        if (in instanceof byte[] a) e.unfold(g, a, (byte[]) out);
        else if (in instanceof short[] a) e.unfold(g, a, (short[]) out);
        else if (in instanceof int[] a) e.unfold(g, a, (int[]) out);
        else e.unfold(g, (long[]) in, (long[]) out);
    }

    private static Object toArray(long[] v, int w) {
        switch (w) {
            case 1 -> {
                byte[] a = new byte[v.length];
                for (int i = 0; i < a.length; i++) a[i] = (byte) v[i];
                return a;
            }
            case 2 -> {
                short[] a = new short[v.length];
                for (int i = 0; i < a.length; i++) a[i] = (short) v[i];
                return a;
            }
            case 4 -> {
                int[] a = new int[v.length];
                for (int i = 0; i < a.length; i++) a[i] = (int) v[i];
                return a;
            }
            default -> {
                return v.clone();
            }
        }
    }

    /** The elements of an array as unsigned bits of their width. */
    private static long[] fromArray(Object a) {
        int n = java.lang.reflect.Array.getLength(a);
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            if (a instanceof byte[] b) v[i] = b[i] & 0xFFL;
            else if (a instanceof short[] s) v[i] = s[i] & 0xFFFFL;
            else if (a instanceof int[] x) v[i] = x[i] & 0xFFFFFFFFL;
            else v[i] = ((long[]) a)[i];
        }
        return v;
    }

    private static ByteBuffer bytes(boolean direct, ByteOrder order, int n) {
        return (direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n)).order(order);
    }

    private static void put(ByteBuffer b, int at, long v, int w) {
        switch (w) {
            case 1 -> b.put(at, (byte) v);
            case 2 -> b.putShort(at, (short) v);
            case 4 -> b.putInt(at, (int) v);
            default -> b.putLong(at, v);
        }
    }

    private static long get(ByteBuffer b, int at, int w) {
        return switch (w) {
            case 1 -> b.get(at) & 0xFFL;
            case 2 -> b.getShort(at) & 0xFFFFL;
            case 4 -> b.getInt(at) & 0xFFFFFFFFL;
            default -> b.getLong(at);
        };
    }

    /** A buffer of the width holding v: direct, a heap slice with an array offset, or a heap view without an array. */
    private static java.nio.Buffer typedBuffer(Kind kind, long[] v, int w) {
        if (kind == Kind.HEAP_TYPED) {
            Object a = toArray(java.util.Arrays.copyOf(new long[2], 2 + v.length), w);
            System.arraycopy(toArray(v, w), 0, a, 2, v.length);
            return switch (w) {
                case 1 -> ByteBuffer.wrap((byte[]) a).position(2).slice();
                case 2 -> ShortBuffer.wrap((short[]) a).position(2).slice();
                case 4 -> IntBuffer.wrap((int[]) a).position(2).slice();
                default -> LongBuffer.wrap((long[]) a).position(2).slice();
            };
        }
        ByteBuffer b = bytes(kind == Kind.DIRECT_TYPED, ByteOrder.nativeOrder(), v.length * w);
        for (int i = 0; i < v.length; i++) put(b, i * w, v[i], w);
        return switch (w) {
            case 1 -> b;
            case 2 -> b.asShortBuffer();
            case 4 -> b.asIntBuffer();
            default -> b.asLongBuffer();
        };
    }

    private static long[] readTyped(java.nio.Buffer buffer, int n, int w) {
        java.nio.Buffer b = buffer.duplicate().clear(); // absolute gets stop at the limit
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            if (b instanceof ByteBuffer x) v[i] = x.get(i) & 0xFFL;
            else if (b instanceof ShortBuffer x) v[i] = x.get(i) & 0xFFFFL;
            else if (b instanceof IntBuffer x) v[i] = x.get(i) & 0xFFFFFFFFL;
            else v[i] = ((LongBuffer) b).get(i);
        }
        return v;
    }

    @Test
    void float32AsBytesIsTheFloatUnfold() {
        FoldGeometry g = FoldGeometry.builder()
                .kernelSize(3, 2)
                .padding(1, 0, 2, 1)
                .stride(2, 1)
                .forUnfold(2, 3, 7, 6);
        float[] image = new float[(int) g.imageLength()];
        Random rnd = new Random(3);
        for (int i = 0; i < image.length; i++) image[i] = (float) rnd.nextGaussian();
        for (Engine e : Engine.available()) {
            float[] expected = e.unfold(g, image);
            ByteBuffer in = ByteBuffer.allocateDirect(image.length * 4).order(ByteOrder.nativeOrder());
            in.asFloatBuffer().put(image);
            ByteBuffer out = ByteBuffer.allocateDirect(expected.length * 4).order(ByteOrder.nativeOrder());
            e.unfold(g, in, ElementType.FLOAT32, out);
            float[] actual = new float[expected.length];
            out.asFloatBuffer().get(actual);
            assertArrayEquals(expected, actual, e.name());
        }
    }

    @Test
    void refusesBadArgumentsByName() {
        FoldGeometry g = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3); // image 18, columns 32
        for (Engine e : Engine.available()) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.unfold(g, new short[17]));
            assertEquals("input must have 18 elements to match its shape, got 17", x.getMessage());
            x = assertThrows(IllegalArgumentException.class, () -> e.unfold(g, new long[18], new long[31]));
            assertTrue(x.getMessage().startsWith("output must have at least 32 elements"), x.getMessage());
            byte[] same = new byte[40];
            x = assertThrows(IllegalArgumentException.class, () -> e.unfold(g, new byte[18], new byte[18]));
            assertTrue(x.getMessage().startsWith("output must have at least 32"), x.getMessage());
            x = assertThrows(IllegalArgumentException.class, () -> e.unfold(g, new int[18], new int[18]));
            ByteBuffer odd = ByteBuffer.allocateDirect(37);
            x = assertThrows(
                    IllegalArgumentException.class,
                    () -> e.unfold(g, odd.duplicate().limit(37), ElementType.INT16, ByteBuffer.allocateDirect(64)));
            assertTrue(x.getMessage().contains("input must hold whole INT16 elements (2 bytes each)"), x.getMessage());
            ByteBuffer shared = ByteBuffer.allocateDirect(100 * 4);
            x = assertThrows(
                    IllegalArgumentException.class,
                    () -> e.unfold(
                            g,
                            shared.duplicate().position(0).limit(72),
                            ElementType.INT32,
                            shared.duplicate().position(40).limit(40 + 128)));
            assertTrue(x.getMessage().startsWith("output must not overlap input"), x.getMessage());
            assertThrows(
                    NullPointerException.class,
                    () -> e.unfold(g, ByteBuffer.allocate(18), null, ByteBuffer.allocate(32)));
            ByteBuffer ro = ByteBuffer.allocate(64).asReadOnlyBuffer();
            x = assertThrows(
                    IllegalArgumentException.class, () -> e.unfold(g, ByteBuffer.allocate(36), ElementType.INT16, ro));
            assertTrue(x.getMessage().contains("output must be writable"), x.getMessage());
            assertTrue(same.length == 40);
        }
    }
}
