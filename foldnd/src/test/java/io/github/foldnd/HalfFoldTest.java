package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * fold of FLOAT16 and BFLOAT16 bits against the definition computed in the type's arithmetic
 * (Reference with HalfReference's independent rounding): every engine, memory kind, merge, with
 * and without weights, 1-d to 4-d, asymmetric padding included. PyTorchOracleTest checks SUM
 * against PyTorch's own half and bfloat16 col2im.
 */
class HalfFoldTest {
    enum Kind {
        NEW_ARRAY,
        ARRAY,
        DIRECT,
        HEAP_SLICE,
        VIEW,
        POINTER
    }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Engine e : Engine.available()) {
            for (ElementType t : new ElementType[] {ElementType.FLOAT16, ElementType.BFLOAT16}) {
                for (Kind k : Kind.values()) out.add(Arguments.of(e, t, k));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void foldsInTheTypesArithmetic(Engine e, ElementType t, Kind kind) {
        Random rnd = new Random(t.ordinal() * 17L + kind.ordinal());
        Reference.Arith arith = t == ElementType.FLOAT16 ? Reference.Arith.FLOAT16 : Reference.Arith.BFLOAT16;
        for (int trial = 0; trial < 8; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, 1 + trial % 4, true);
            FoldGeometry g = Harness.foldGeometry(s, true);
            short[] columns = random(rnd, t, (int) g.columnLength(), 4);
            short[] w16 = random(rnd, t, s.kernelVolume(), 1);
            float[] weights = new float[w16.length];
            for (int i = 0; i < w16.length; i++) weights[i] = (float) HalfReference.value(t, w16[i]);
            for (Reduce r : Reduce.values()) {
                for (float[] w : new float[][] {null, weights}) {
                    double[] expected = Reference.fold(values(t, columns), s, r, w == null ? null : doubles(w), arith);
                    short[] actual = run(e, t, kind, g, columns.clone(), r, w);
                    String what = e + " " + t + " " + kind + " " + r + (w == null ? "" : " weighted") + " " + g;
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(HalfReference.bits(t, expected[i]), actual[i], what + " element " + i);
                    }
                }
            }
        }
    }

    /** n random values of the type in [-scale, scale), as bits. */
    static short[] random(Random rnd, ElementType t, int n, double scale) {
        short[] v = new short[n];
        for (int i = 0; i < n; i++) v[i] = HalfReference.bits(t, (float) ((rnd.nextDouble() * 2 - 1) * scale));
        return v;
    }

    private static double[] values(ElementType t, short[] bits) {
        double[] v = new double[bits.length];
        for (int i = 0; i < v.length; i++) v[i] = HalfReference.value(t, bits[i]);
        return v;
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < d.length; i++) d[i] = f[i];
        return d;
    }

    private static final short GUARD = (short) 0x5A5A;

    private static short[] run(
            Engine e, ElementType t, Kind kind, FoldGeometry g, short[] columns, Reduce r, float[] w) {
        short[] before = columns.clone();
        int n = (int) g.imageLength();
        short[] result;
        switch (kind) {
            case NEW_ARRAY -> result = e.fold(g, columns, t, r, w);
            case ARRAY -> {
                short[] out = new short[n + 3];
                java.util.Arrays.fill(out, GUARD);
                e.fold(g, columns, t, r, w, out);
                for (int i = n; i < n + 3; i++) assertEquals(GUARD, out[i], "wrote past the output");
                result = java.util.Arrays.copyOf(out, n);
            }
            case DIRECT, POINTER -> {
                ByteBuffer in = ByteBuffer.allocateDirect(columns.length * 2).order(ByteOrder.nativeOrder());
                in.asShortBuffer().put(columns);
                ByteBuffer out = ByteBuffer.allocateDirect((n + 4) * 2).order(ByteOrder.nativeOrder());
                for (int i = 0; i < n + 4; i++) out.putShort(i * 2, GUARD);
                if (kind == Kind.DIRECT) {
                    e.fold(
                            g,
                            in.asShortBuffer(),
                            t,
                            r,
                            w,
                            out.asShortBuffer().position(2).limit(2 + n));
                } else {
                    e.fold(
                            g,
                            new ShortPointer(in.asShortBuffer()),
                            t,
                            r,
                            w,
                            new ShortPointer(out.asShortBuffer()).position(2).limit(2 + n));
                }
                ShortBuffer all = out.asShortBuffer();
                for (int i : new int[] {0, 1, n + 2, n + 3})
                    assertEquals(GUARD, all.get(i), "wrote outside the output");
                result = new short[n];
                all.position(2).get(result);
            }
            case HEAP_SLICE -> {
                short[] backing = new short[n + 5];
                java.util.Arrays.fill(backing, GUARD);
                ShortBuffer out = ShortBuffer.wrap(backing)
                        .position(1)
                        .slice()
                        .position(1)
                        .limit(1 + n);
                e.fold(g, ShortBuffer.wrap(columns), t, r, w, out);
                for (int i : new int[] {0, 1, n + 2, n + 3, n + 4}) assertEquals(GUARD, backing[i], "wrote outside");
                result = java.util.Arrays.copyOfRange(backing, 2, 2 + n);
            }
            default -> { // VIEW: heap buffers without an accessible array, staged
                ShortBuffer in = ByteBuffer.allocate(columns.length * 2)
                        .order(ByteOrder.BIG_ENDIAN)
                        .asShortBuffer();
                in.put(columns).flip();
                ShortBuffer out = ByteBuffer.allocate(n * 2).asShortBuffer();
                e.fold(g, in.asReadOnlyBuffer(), t, r, w, out);
                result = new short[n];
                out.get(0, result);
            }
        }
        assertArrayEquals(before, columns, "input modified");
        return result;
    }

    @Test
    void refusesIntegerTypesAndBadArguments() {
        FoldGeometry g = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3); // columns 32, image 18
        for (Engine e : Engine.available()) {
            IllegalArgumentException x = assertThrows(
                    IllegalArgumentException.class,
                    () -> e.fold(g, new short[32], ElementType.INT16, Reduce.SUM, null));
            assertTrue(
                    x.getMessage().startsWith("type must be FLOAT16 or BFLOAT16 for a fold of short data, got INT16"),
                    x.getMessage());
            x = assertThrows(
                    IllegalArgumentException.class,
                    () -> e.fold(g, new short[31], ElementType.FLOAT16, Reduce.SUM, null));
            assertEquals("input must have 32 elements to match its shape, got 31", x.getMessage());
            x = assertThrows(
                    IllegalArgumentException.class,
                    () -> e.fold(g, new short[32], ElementType.BFLOAT16, Reduce.MEAN, new float[3]));
            assertTrue(x.getMessage().startsWith("weights must have 4 elements"), x.getMessage());
            x = assertThrows(
                    IllegalArgumentException.class,
                    () -> e.fold(g, new short[32], ElementType.FLOAT16, Reduce.SUM, null, new short[17]));
            assertTrue(x.getMessage().startsWith("output must have at least 18 elements"), x.getMessage());
            ShortBuffer swapped = ByteBuffer.allocateDirect(64)
                    .order(
                            ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN
                                    ? ByteOrder.LITTLE_ENDIAN
                                    : ByteOrder.BIG_ENDIAN)
                    .asShortBuffer();
            x = assertThrows(
                    IllegalArgumentException.class,
                    () -> e.fold(g, swapped, ElementType.FLOAT16, Reduce.SUM, null, ShortBuffer.allocate(18)));
            assertTrue(x.getMessage().startsWith("input must be in native byte order"), x.getMessage());
            assertThrows(NullPointerException.class, () -> e.fold(g, new short[32], null, Reduce.SUM, null));
        }
    }

    /** A sum that overflows half's range becomes infinity, and a NaN propagates, as in the type. */
    @Test
    void overflowAndNaN() {
        FoldGeometry g = FoldGeometry.builder().kernelSize(2).forUnfold(1, 3); // blocks 2, columns 4
        short big = HalfReference.bits(ElementType.FLOAT16, 40000), nan = (short) 0x7E00;
        for (Engine e : Engine.available()) {
            short[] out = e.fold(g, new short[] {big, big, big, big}, ElementType.FLOAT16, Reduce.SUM, null);
            assertEquals((short) 0x7C00, out[1], e.name() + ": 40000 + 40000 overflows to +inf in half");
            out = e.fold(g, new short[] {0, nan, 0, 0}, ElementType.FLOAT16, Reduce.MAX, null);
            assertEquals(nan, out[1], e.name());
        }
    }
}
