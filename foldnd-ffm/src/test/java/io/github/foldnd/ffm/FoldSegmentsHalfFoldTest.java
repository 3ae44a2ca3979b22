package io.github.foldnd.ffm;

import static io.github.foldnd.ffm.FoldSegmentsRefusalTest.refused;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.ColumnLayout;
import io.github.foldnd.ElementType;
import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import io.github.foldnd.ffm.FoldSegmentsTest.Geometry;
import io.github.foldnd.ffm.FoldSegmentsTypedUnfoldTest.Memory;
import io.github.foldnd.ffm.FoldSegmentsTypedUnfoldTest.Region;
import io.github.foldnd.ffm.Segments.Placement;
import io.github.foldnd.ffm.Segments.Where;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FoldSegments.fold of FLOAT16 and BFLOAT16 (the ElementType overloads) against foldnd's native
 * engine on short[] ({@code Engine.fold(g, short[], type, reduce, float[] weights)}), bit for bit:
 * every merge with and without weights (the segment's weight bits, given to the engine as the
 * floats they are exactly), 1-d to 4-d geometries with asymmetric padding, native segments of
 * every arena kind, heap segments and mixtures, large heap calls in parts; guards around each
 * output untouched, inputs unchanged. And the refusals: integer types, sizes, alignment, heap
 * arrays, overlap, read-only outputs, closed arenas.
 */
class FoldSegmentsHalfFoldTest {
    static final Engine ENGINE = Engine.nativeEngine().get();

    static final List<ElementType> HALVES = List.of(ElementType.FLOAT16, ElementType.BFLOAT16);

    /**
     * 1-d to 4-d, symmetric and asymmetric padding (ONNX order: every start, then every end; 2-d
     * padding {0, 2, 1, 0} among them), as the typed unfold's tests.
     */
    static final List<Geometry> GEOMETRIES = FoldSegmentsTypedUnfoldTest.GEOMETRIES;

    // ---- the 16-bit values -------------------------------------------------------------------------

    /** The exact float value of IEEE binary16 bits (an independent conversion: integer arithmetic). */
    static float halfToFloat(int bits) {
        int sign = (bits >>> 15) & 1, exponent = (bits >>> 10) & 0x1F, mantissa = bits & 0x3FF;
        float magnitude;
        if (exponent == 0x1F) {
            magnitude = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else if (exponent == 0) {
            magnitude = mantissa * 0x1p-24f; // subnormal: mantissa · 2^-24, exact
        } else {
            magnitude = (1024 + mantissa) * Math.scalb(1f, exponent - 25); // 11 bits · a power of 2, exact
        }
        return sign == 1 ? -magnitude : magnitude;
    }

    /** The exact float value of bfloat16 bits: the upper half of a float. */
    static float bfloat16ToFloat(int bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    static float toFloat(ElementType t, int bits) {
        return t == ElementType.FLOAT16 ? halfToFloat(bits & 0xFFFF) : bfloat16ToFloat(bits);
    }

    /**
     * n random finite values of the type as bits (magnitudes about 2^-6 to 2^3, so that sums stay
     * finite), with a negative zero, a subnormal and the largest finite value among them.
     */
    static long[] randomBits(Random rng, ElementType t, int n) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            int sign = rng.nextInt(2) << 15, bits;
            if (t == ElementType.FLOAT16) {
                bits = sign | (9 + rng.nextInt(9)) << 10 | rng.nextInt(1 << 10);
            } else {
                bits = sign | (121 + rng.nextInt(9)) << 7 | rng.nextInt(1 << 7);
            }
            v[i] = bits;
        }
        if (n > 3) {
            v[1] = 0x8000; // -0
            v[2] = t == ElementType.FLOAT16 ? 0x0013 : 0x0041; // subnormals: 19·2^-24, 65·2^-133
            v[3] = t == ElementType.FLOAT16 ? 0x7BFF : 0x7F7F; // the largest finite value
        }
        return v;
    }

    static short[] shorts(long[] bits) {
        short[] s = new short[bits.length];
        for (int i = 0; i < s.length; i++) s[i] = (short) bits[i];
        return s;
    }

    static long[] unsigned(short[] bits) {
        long[] v = new long[bits.length];
        for (int i = 0; i < v.length; i++) v[i] = bits[i] & 0xFFFFL;
        return v;
    }

    /** The engine's fold of short[] columns, the weights as the exact floats of their bits (null: none). */
    static long[] expected(FoldGeometry g, ElementType t, long[] columns, Reduce reduce, long[] weightBits) {
        float[] w = null;
        if (weightBits != null) {
            w = new float[weightBits.length];
            for (int i = 0; i < w.length; i++) w[i] = toFloat(t, (int) weightBits[i]);
        }
        return unsigned(ENGINE.fold(g, shorts(columns), t, reduce, w));
    }

    static FoldGeometry foldGeometry(Geometry g) {
        return FoldGeometry.forFold(g.columns(), g.outputSize(), g.kernel(), g.dilation(), g.padding(), g.stride());
    }

    /** The test's own conversion of half bits is the JDK's, for all 65536 patterns (NaN as NaN). */
    @Test
    void theHalfConversionIsExact() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            float mine = halfToFloat(bits), jdk = Float.float16ToFloat((short) bits);
            if (Float.isNaN(jdk)) assertTrue(Float.isNaN(mine), Integer.toHexString(bits));
            else assertEquals(Float.floatToIntBits(jdk), Float.floatToIntBits(mine), Integer.toHexString(bits));
        }
        assertEquals(1f, bfloat16ToFloat(0x3F80));
        assertEquals(-2f, bfloat16ToFloat(0xC000));
    }

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (ElementType t : HALVES) {
            for (Placement p : Placement.values()) out.add(Arguments.of(t, p));
        }
        return out;
    }

    /** Both types, every placement and geometry, every merge with and without weights. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void everyMergeMatchesTheNativeEngineBitForBit(ElementType t, Placement where) {
        Random rng = new Random(t.ordinal() * 977L + where.ordinal());
        for (Geometry g : GEOMETRIES) {
            FoldGeometry fg = foldGeometry(g);
            int imageLength = FoldSegmentsTest.length(g.image()), columnLength = FoldSegmentsTest.length(g.columns());
            int k = g.kernelVolume();
            long[] columns = randomBits(rng, t, columnLength), weights = randomBits(rng, t, k);
            for (Reduce reduce : Reduce.values()) {
                for (boolean weighted : new boolean[] {false, true}) {
                    try (Memory mem = new Memory()) {
                        Region in = mem.region(where.input, t, columns, columnLength);
                        Region w = weighted ? mem.region(where.weights, t, weights, k) : null;
                        Region out = mem.region(where.output, t, null, imageLength);
                        FoldSegments.fold(
                                in.view(false),
                                t,
                                g.columns(),
                                g.outputSize(),
                                g.kernel(),
                                g.dilation(),
                                g.padding(),
                                g.stride(),
                                reduce,
                                weighted ? w.view(false) : null,
                                out.view(true));
                        String what = t + " " + where + " " + g + " " + reduce + (weighted ? " weighted" : "");
                        assertArrayEquals(
                                expected(fg, t, columns, reduce, weighted ? weights : null), out.contents(), what);
                        assertArrayEquals(columns, in.contents(), what + ": the input changed");
                        if (weighted) assertArrayEquals(weights, w.contents(), what + ": the weights changed");
                    }
                }
            }
        }
    }

    /**
     * The geometry overload, in either column layout, on native and heap segments; FLOAT32 and
     * FLOAT64 through it equal the ValueLayout fold.
     */
    @Test
    void theGeometryOverloadTakesEitherColumnLayout() {
        Random rng = new Random(7);
        for (ColumnLayout layout : ColumnLayout.values()) {
            FoldGeometry g = FoldGeometry.builder()
                    .kernelSize(2, 3)
                    .dilation(1, 2)
                    .padding(1, 0, 0, 2)
                    .stride(2, 1)
                    .forUnfold(2, 3, 6, 7)
                    .withColumnLayout(layout);
            int imageLength = (int) g.imageLength(), columnLength = (int) g.columnLength();
            int k = (int) g.kernelVolume();
            for (ElementType t : HALVES) {
                long[] columns = randomBits(rng, t, columnLength), weights = randomBits(rng, t, k);
                for (Reduce reduce : Reduce.values()) {
                    long[] expected = expected(g, t, columns, reduce, weights);
                    for (Where where : List.of(Where.SHARED, Where.HEAP_SLICE)) {
                        try (Memory mem = new Memory()) {
                            Region in = mem.region(where, t, columns, columnLength);
                            Region w = mem.region(where, t, weights, k);
                            Region out = mem.region(where, t, null, imageLength);
                            FoldSegments.fold(g, in.view(false), t, reduce, w.view(false), out.view(true));
                            assertArrayEquals(expected, out.contents(), t + " " + layout + " " + where + " " + reduce);
                        }
                    }
                }
            }
            float[] columns = new float[columnLength], weights = new float[k];
            for (int i = 0; i < columnLength; i++) columns[i] = rng.nextFloat() * 2 - 1;
            for (int i = 0; i < k; i++) weights[i] = rng.nextFloat();
            for (Reduce reduce : Reduce.values()) {
                float[] expected = ENGINE.fold(g, columns, reduce, weights);
                float[] viaType = new float[imageLength];
                FoldSegments.fold(
                        g,
                        MemorySegment.ofArray(columns),
                        ElementType.FLOAT32,
                        reduce,
                        MemorySegment.ofArray(weights),
                        MemorySegment.ofArray(viaType));
                assertArrayEquals(expected, viaType, "FLOAT32 " + layout + " " + reduce);
                double[] d = new double[columnLength], dw = new double[k], dOut = new double[imageLength];
                for (int i = 0; i < columnLength; i++) d[i] = columns[i];
                for (int i = 0; i < k; i++) dw[i] = weights[i];
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment out = arena.allocate(JAVA_DOUBLE, imageLength);
                    FoldSegments.fold(
                            g,
                            arena.allocateFrom(JAVA_DOUBLE, d),
                            ElementType.FLOAT64,
                            reduce,
                            arena.allocateFrom(JAVA_DOUBLE, dw),
                            out);
                    assertArrayEquals(
                            ENGINE.fold(g, d, reduce, dw),
                            out.toArray(JAVA_DOUBLE),
                            "FLOAT64 " + layout + " " + reduce);
                }
            }
        }
    }

    static List<Arguments> largeCases() {
        List<Arguments> out = new ArrayList<>();
        for (ElementType t : HALVES) {
            for (Placement p : List.of(Placement.HEAP_SLICE, Placement.HEAP_INPUT_NATIVE_OUTPUT)) {
                out.add(Arguments.of(t, p));
            }
        }
        return out;
    }

    /** Heap calls moving more than CRITICAL_BYTES run in parts (of 16-bit fold items); still bit for bit. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("largeCases")
    void largeHeapCallsRunInPartsAndMatch(ElementType t, Placement where) {
        Geometry g = FoldSegmentsTest.geometry(
                new long[] {2, 4, 480, 486}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 0, 2, 1}, new int[] {1, 1
                });
        int imageLength = FoldSegmentsTest.length(g.image()), columnLength = FoldSegmentsTest.length(g.columns());
        assertTrue((long) (imageLength + columnLength) * 2 > 2 * FoldSegments.CRITICAL_BYTES);
        Random rng = new Random(13);
        long[] columns = randomBits(rng, t, columnLength), weights = randomBits(rng, t, 9);
        for (Reduce reduce : List.of(Reduce.SUM, Reduce.MEAN)) {
            try (Memory mem = new Memory()) {
                Region in = mem.region(where.input, t, columns, columnLength);
                Region w = mem.region(where.weights, t, weights, 9);
                Region out = mem.region(where.output, t, null, imageLength);
                FoldSegments.fold(
                        in.view(false),
                        t,
                        g.columns(),
                        g.outputSize(),
                        g.kernel(),
                        g.dilation(),
                        g.padding(),
                        g.stride(),
                        reduce,
                        w.view(false),
                        out.view(true));
                assertArrayEquals(
                        expected(foldGeometry(g), t, columns, reduce, weights),
                        out.contents(),
                        t + " " + where + " " + reduce);
            }
        }
    }

    /** Read-only inputs and weights are read; an empty batch writes nothing and needs no memory. */
    @Test
    void readOnlyInputsAndAnEmptyBatch() {
        FoldGeometry g = FoldGeometry.forFold(new long[] {1, 8, 4}, new int[] {3, 3}, K, ONE, ZERO, ONE);
        long[] columns = randomBits(new Random(3), ElementType.BFLOAT16, 32),
                weights = randomBits(new Random(4), ElementType.BFLOAT16, 4);
        short[] out = new short[18];
        FoldSegments.fold(
                MemorySegment.ofArray(shorts(columns)).asReadOnly(),
                ElementType.BFLOAT16,
                new long[] {1, 8, 4},
                new int[] {3, 3},
                K,
                ONE,
                ZERO,
                ONE,
                Reduce.MEAN,
                MemorySegment.ofArray(shorts(weights)).asReadOnly(),
                MemorySegment.ofArray(out));
        assertArrayEquals(expected(g, ElementType.BFLOAT16, columns, Reduce.MEAN, weights), unsigned(out));
        FoldSegments.fold(
                MemorySegment.NULL,
                ElementType.FLOAT16,
                new long[] {0, 8, 4},
                new int[] {3, 3},
                K,
                ONE,
                ZERO,
                ONE,
                Reduce.SUM,
                null,
                MemorySegment.NULL);
        FoldSegments.fold(
                FoldGeometry.forFold(new long[] {0, 8, 4}, new int[] {3, 3}, K, ONE, ZERO, ONE),
                MemorySegment.NULL,
                ElementType.BFLOAT16,
                Reduce.MAX,
                null,
                MemorySegment.NULL);
    }

    // ---- refusals ----------------------------------------------------------------------------------

    static final long[] COLUMNS = {1, 8, 4};
    static final int[] SIZE = {3, 3}, K = {2, 2}, ONE = {1, 1}, ZERO = {0, 0};
    static final FoldGeometry G = FoldGeometry.forFold(COLUMNS, SIZE, K, ONE, ZERO, ONE);

    static void fold(MemorySegment in, ElementType t, MemorySegment weights, MemorySegment out) {
        FoldSegments.fold(in, t, COLUMNS, SIZE, K, ONE, ZERO, ONE, Reduce.SUM, weights, out);
    }

    static MemorySegment halves(int n) {
        return MemorySegment.ofArray(new short[n]);
    }

    @Test
    void refusesIntegerTypes() {
        for (ElementType t : List.of(ElementType.INT8, ElementType.INT16, ElementType.INT32, ElementType.INT64)) {
            MemorySegment cols = FoldSegmentsTypedUnfoldTest.ofArray(FoldSegmentsTypedUnfoldTest.array(t, 32)),
                    img = FoldSegmentsTypedUnfoldTest.ofArray(FoldSegmentsTypedUnfoldTest.array(t, 18));
            refused(
                    IllegalArgumentException.class,
                    () -> fold(cols, t, null, img),
                    "elementType must be FLOAT16, BFLOAT16, FLOAT32 or FLOAT64 for fold, got " + t.name(),
                    "floating types only");
            refused(
                    IllegalArgumentException.class,
                    () -> FoldSegments.fold(G, cols, t, Reduce.MEAN, null, img),
                    "elementType must be FLOAT16, BFLOAT16, FLOAT32 or FLOAT64 for fold, got " + t.name());
        }
        // the ValueLayout fold names the ElementType overloads for float16 and bfloat16
        refused(
                IllegalArgumentException.class,
                () -> FoldSegments.fold(
                        halves(32), JAVA_SHORT, COLUMNS, SIZE, K, ONE, ZERO, ONE, Reduce.SUM, null, halves(18)),
                "elementType must be JAVA_FLOAT or JAVA_DOUBLE for fold",
                "float16 and bfloat16: through the fold overloads that take an ElementType");
        refused(NullPointerException.class, () -> fold(halves(32), null, null, halves(18)), "elementType");
        refused(
                NullPointerException.class,
                () -> FoldSegments.fold(null, halves(32), ElementType.FLOAT16, Reduce.SUM, null, halves(18)),
                "geometry");
        refused(
                NullPointerException.class,
                () -> FoldSegments.fold(G, halves(32), ElementType.FLOAT16, null, null, halves(18)),
                "reduce");
        refused(
                NullPointerException.class,
                () -> FoldSegments.fold(
                        halves(32), ElementType.BFLOAT16, COLUMNS, SIZE, K, ONE, ZERO, ONE, null, null, halves(18)),
                "reduce");
    }

    @Test
    void refusesWrongSizes() {
        for (ElementType t : HALVES) {
            refused(
                    IllegalArgumentException.class,
                    () -> fold(halves(31), t, null, halves(18)),
                    "input must hold exactly 32 elements of " + t.name(),
                    "64 bytes",
                    Arrays.toString(COLUMNS));
            refused(
                    IllegalArgumentException.class,
                    () -> fold(halves(33), t, null, halves(18)),
                    "input must hold exactly 32");
            refused(
                    IllegalArgumentException.class,
                    () -> fold(halves(32), t, null, halves(17)),
                    "output must hold at least 18 elements of " + t.name());
            refused(
                    IllegalArgumentException.class,
                    () -> fold(halves(32), t, halves(3), halves(18)),
                    "weights must hold exactly 4 elements of " + t.name(),
                    "one per kernel offset");
            refused(
                    IllegalArgumentException.class,
                    () -> FoldSegments.fold(G, halves(32), t, Reduce.MIN, halves(5), halves(18)),
                    "weights must hold exactly 4");
            try (Arena arena = Arena.ofConfined()) {
                refused(
                        IllegalArgumentException.class,
                        () -> fold(arena.allocate(63, 2), t, null, arena.allocate(JAVA_SHORT, 18)),
                        "input",
                        "63 bytes");
            }
        }
    }

    @Test
    void refusesMisalignedSegmentsAndOtherArrays() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment raw = arena.allocate(1024, 16);
            for (ElementType t : HALVES) {
                refused(
                        IllegalArgumentException.class,
                        () -> fold(raw.asSlice(1, 64), t, null, raw.asSlice(512, 36)),
                        "input must be aligned to 2 bytes for elementType " + t.name());
                refused(
                        IllegalArgumentException.class,
                        () -> fold(raw.asSlice(0, 64), t, null, raw.asSlice(513, 36)),
                        "output must be aligned to 2 bytes");
                refused(
                        IllegalArgumentException.class,
                        () -> fold(raw.asSlice(0, 64), t, raw.asSlice(301, 8), raw.asSlice(512, 36)),
                        "weights must be aligned to 2 bytes");
            }
        }
        MemorySegment shorts = halves(40);
        refused(
                IllegalArgumentException.class,
                () -> fold(shorts.asSlice(1, 64), ElementType.FLOAT16, null, halves(18)),
                "input must be aligned to 2 bytes",
                "byte offset");
        refused(
                IllegalArgumentException.class,
                () -> fold(MemorySegment.ofArray(new float[16]), ElementType.FLOAT16, null, halves(18)),
                "input must be a native segment or a heap segment of a short[] for elementType FLOAT16",
                "got a heap segment of a float[]");
        refused(
                IllegalArgumentException.class,
                () -> fold(halves(32), ElementType.BFLOAT16, MemorySegment.ofArray(new byte[8]), halves(18)),
                "weights must be a native segment or a heap segment of a short[] for elementType BFLOAT16");
        refused(
                IllegalArgumentException.class,
                () -> fold(halves(32), ElementType.FLOAT32, null, halves(36)),
                "input must be a native segment or a heap segment of a float[] for elementType FLOAT32");
    }

    @Test
    void refusesReadOnlyAndOverlappingOutputs() {
        for (ElementType t : HALVES) {
            refused(
                    IllegalArgumentException.class,
                    () -> fold(halves(32), t, null, halves(18).asReadOnly()),
                    "output must be writable");
            try (Arena arena = Arena.ofConfined()) {
                refused(
                        IllegalArgumentException.class,
                        () -> fold(
                                arena.allocate(JAVA_SHORT, 32),
                                t,
                                null,
                                arena.allocate(JAVA_SHORT, 18).asReadOnly()),
                        "output must be writable");
                MemorySegment all = arena.allocate(JAVA_SHORT, 64);
                refused(
                        IllegalArgumentException.class,
                        () -> fold(all.asSlice(0, 64), t, null, all.asSlice(60, 36)),
                        "output must not overlap input");
                refused(
                        IllegalArgumentException.class,
                        () -> fold(halves(32), t, all.asSlice(0, 8), all.asSlice(6, 36)),
                        "output must not overlap weights");
                fold(all.asSlice(0, 64), t, all.asSlice(100, 8), all.asSlice(64, 36)); // adjacent is fine
            }
        }
    }

    @Test
    void refusesClosedArenas() {
        Arena arena = Arena.ofConfined();
        MemorySegment in = arena.allocate(JAVA_SHORT, 32), w = arena.allocate(JAVA_SHORT, 4);
        arena.close();
        refused(IllegalStateException.class, () -> fold(in, ElementType.FLOAT16, null, halves(18)), "input's arena");
        refused(
                IllegalStateException.class,
                () -> fold(halves(32), ElementType.BFLOAT16, w, halves(18)),
                "weights' arena is closed");
        refused(
                IllegalStateException.class,
                () -> FoldSegments.fold(G, halves(32), ElementType.FLOAT16, Reduce.SUM, null, in),
                "output's arena is closed");
    }
}
