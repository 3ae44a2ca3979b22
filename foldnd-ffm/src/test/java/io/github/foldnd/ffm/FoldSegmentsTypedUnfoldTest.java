package io.github.foldnd.ffm;

import static io.github.foldnd.ffm.FoldSegmentsRefusalTest.refused;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
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
import io.github.foldnd.ffm.Segments.Placement;
import io.github.foldnd.ffm.Segments.Where;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FoldSegments.unfold of every element width (JAVA_BYTE, JAVA_SHORT, JAVA_INT and JAVA_LONG in
 * either byte order, every {@link ElementType}) against foldnd's native engine on heap arrays
 * ({@code Engine.unfold(g, byte[] / short[] / int[] / long[])}), bit for bit: random bit patterns
 * (NaN payloads, negative zeros and all), native segments of every arena kind, heap segments and
 * mixtures; guards around each output untouched, inputs unchanged. And the refusals of the new
 * widths: sizes, alignment, heap arrays, read-only outputs, and integer layouts for fold.
 */
class FoldSegmentsTypedUnfoldTest {
    static final Engine ENGINE = Engine.nativeEngine().orElseThrow();

    /** A sentinel byte for the guards; the guards of every width are this byte repeated. */
    static final byte SENTINEL = (byte) 0xA5;

    /** 1-d to 4-d, symmetric and asymmetric padding (ONNX order: every start, then every end). */
    static final List<Geometry> GEOMETRIES = List.of(
            FoldSegmentsTest.GEOMETRIES.get(0),
            FoldSegmentsTest.GEOMETRIES.get(3),
            FoldSegmentsTest.GEOMETRIES.get(5),
            FoldSegmentsTest.GEOMETRIES.get(6),
            FoldSegmentsTest.GEOMETRIES.get(9),
            FoldSegmentsTest.geometry(
                    new long[] {3, 11}, new int[] {4}, new int[] {2}, new int[] {0, 5}, new int[] {3}));

    /** The native-order layout that reads and writes elements of a width. */
    static ValueLayout layout(int bytes) {
        return switch (bytes) {
            case 1 -> JAVA_BYTE;
            case 2 -> JAVA_SHORT;
            case 4 -> JAVA_INT;
            default -> JAVA_LONG;
        };
    }

    /** The heap array FoldSegments takes for a type: float[] and double[] for FLOAT32 and FLOAT64. */
    static Object array(ElementType t, int n) {
        return switch (t) {
            case INT8 -> new byte[n];
            case INT16, FLOAT16, BFLOAT16 -> new short[n];
            case INT32 -> new int[n];
            case INT64 -> new long[n];
            case FLOAT32 -> new float[n];
            case FLOAT64 -> new double[n];
        };
    }

    static MemorySegment ofArray(Object array) {
        return switch (array) {
            case byte[] a -> MemorySegment.ofArray(a);
            case short[] a -> MemorySegment.ofArray(a);
            case int[] a -> MemorySegment.ofArray(a);
            case long[] a -> MemorySegment.ofArray(a);
            case float[] a -> MemorySegment.ofArray(a);
            case double[] a -> MemorySegment.ofArray(a);
            default -> throw new AssertionError(array);
        };
    }

    /** The ElementType whose width and heap array a layout has (the integer type of its width). */
    static ElementType typeOf(ValueLayout layout) {
        if (layout instanceof ValueLayout.OfFloat) return ElementType.FLOAT32;
        if (layout instanceof ValueLayout.OfDouble) return ElementType.FLOAT64;
        return switch ((int) layout.byteSize()) {
            case 1 -> ElementType.INT8;
            case 2 -> ElementType.INT16;
            case 4 -> ElementType.INT32;
            default -> ElementType.INT64;
        };
    }

    /** n random bit patterns of the width, as long (the high bits clear beyond it). */
    static long[] randomBits(Random rng, int n, int bytes) {
        long mask = bytes == 8 ? -1L : (1L << (8 * bytes)) - 1;
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = rng.nextLong() & mask;
        return v;
    }

    /** foldnd's native engine on a heap array of the width: the expected columns, as long. */
    static long[] expected(FoldGeometry g, int bytes, long[] image) {
        int n = image.length;
        switch (bytes) {
            case 1 -> {
                byte[] a = new byte[n];
                for (int i = 0; i < n; i++) a[i] = (byte) image[i];
                byte[] c = ENGINE.unfold(g, a);
                long[] out = new long[c.length];
                for (int i = 0; i < c.length; i++) out[i] = c[i] & 0xFFL;
                return out;
            }
            case 2 -> {
                short[] a = new short[n];
                for (int i = 0; i < n; i++) a[i] = (short) image[i];
                short[] c = ENGINE.unfold(g, a);
                long[] out = new long[c.length];
                for (int i = 0; i < c.length; i++) out[i] = c[i] & 0xFFFFL;
                return out;
            }
            case 4 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) a[i] = (int) image[i];
                int[] c = ENGINE.unfold(g, a);
                long[] out = new long[c.length];
                for (int i = 0; i < c.length; i++) out[i] = c[i] & 0xFFFF_FFFFL;
                return out;
            }
            default -> {
                return ENGINE.unfold(g, image.clone());
            }
        }
    }

    /**
     * A region of n elements of a type in a larger segment, guards ahead and behind (none for a
     * heap segment over a whole array), holding the given bits or the sentinel.
     */
    record Region(MemorySegment whole, int bytes, int before, int n, int after) {
        MemorySegment view(boolean withTail) {
            return whole.asSlice((long) before * bytes, (long) (n + (withTail ? after : 0)) * bytes);
        }

        /** The region's bits, after checking that every guard byte still holds the sentinel. */
        long[] contents() {
            long tail = (long) (before + n) * bytes;
            for (long i = 0; i < (long) before * bytes; i++) {
                assertEquals(SENTINEL, whole.get(JAVA_BYTE, i), "write before the region");
            }
            for (long i = 0; i < (long) after * bytes; i++) {
                assertEquals(SENTINEL, whole.get(JAVA_BYTE, tail + i), "write after the region");
            }
            long mask = bytes == 8 ? -1L : (1L << (8 * bytes)) - 1;
            long[] v = new long[n];
            for (int i = 0; i < n; i++) {
                long at = (long) (before + i) * bytes;
                v[i] = switch (bytes) {
                            case 1 -> whole.get(JAVA_BYTE, at);
                            case 2 -> whole.get(JAVA_SHORT, at);
                            case 4 -> whole.get(JAVA_INT, at);
                            default -> whole.get(JAVA_LONG, at);
                        }
                        & mask;
            }
            return v;
        }
    }

    /** Allocates regions in the arenas of one test, closed at its end. */
    static final class Memory implements AutoCloseable {
        final Arena confined = Arena.ofConfined(), shared = Arena.ofShared();

        Region region(Where where, ElementType t, long[] bits, int n) {
            int bytes = t.bytes(), guard = where == Where.HEAP ? 0 : Segments.GUARD;
            int total = guard + n + guard;
            MemorySegment whole = switch (where) {
                case CONFINED -> confined.allocate((long) total * bytes, bytes);
                case SHARED -> shared.allocate((long) total * bytes, bytes);
                case AUTO -> Arena.ofAuto().allocate((long) total * bytes, bytes);
                case GLOBAL -> Arena.global().allocate((long) total * bytes, bytes);
                case HEAP, HEAP_SLICE -> ofArray(array(t, total));
            };
            whole.fill(SENTINEL);
            if (bits != null) {
                for (int i = 0; i < n; i++) {
                    long at = (long) (guard + i) * bytes, b = bits[i];
                    switch (bytes) {
                        case 1 -> whole.set(JAVA_BYTE, at, (byte) b);
                        case 2 -> whole.set(JAVA_SHORT, at, (short) b);
                        case 4 -> whole.set(JAVA_INT, at, (int) b);
                        default -> whole.set(JAVA_LONG, at, b);
                    }
                }
            }
            return new Region(whole, bytes, guard, n, guard);
        }

        @Override
        public void close() {
            confined.close();
            shared.close();
        }
    }

    static int length(long[] shape) {
        return FoldSegmentsTest.length(shape);
    }

    static FoldGeometry geometry(Geometry g) {
        return FoldGeometry.forUnfold(g.image(), g.kernel(), g.dilation(), g.padding(), g.stride());
    }

    static List<Arguments> typeCases() {
        List<Arguments> out = new ArrayList<>();
        for (ElementType t : ElementType.values()) {
            for (Placement p : Placement.values()) out.add(Arguments.of(t, p));
        }
        return out;
    }

    /** Every ElementType, through the shape overload, on every placement and geometry. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typeCases")
    void everyTypeMatchesTheNativeEngineBitForBit(ElementType t, Placement where) {
        Random rng = new Random(t.ordinal() * 131L + where.ordinal());
        for (Geometry g : GEOMETRIES) {
            FoldGeometry fg = geometry(g);
            int imageLength = length(g.image()), columnLength = length(g.columns());
            long[] image = randomBits(rng, imageLength, t.bytes());
            try (Memory mem = new Memory()) {
                Region in = mem.region(where.input, t, image, imageLength);
                Region out = mem.region(where.output, t, null, columnLength);
                FoldSegments.unfold(
                        in.view(false),
                        t,
                        g.image(),
                        g.kernel(),
                        g.dilation(),
                        g.padding(),
                        g.stride(),
                        out.view(true));
                String what = t + " " + where + " " + g;
                assertArrayEquals(expected(fg, t.bytes(), image), out.contents(), what);
                assertArrayEquals(image, in.contents(), what + ": the input changed");
            }
        }
    }

    static List<Arguments> layoutCases() {
        ByteOrder other =
                ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        List<ValueLayout> layouts = new ArrayList<>();
        for (ValueLayout l : List.of(JAVA_BYTE, JAVA_SHORT, JAVA_INT, JAVA_LONG)) {
            layouts.add(l);
            layouts.add(l.withOrder(other)); // unfold moves bits: any byte order
        }
        layouts.add(ValueLayout.JAVA_INT_UNALIGNED.withName("pixel")); // a name or alignment of its own
        layouts.add(JAVA_FLOAT);
        layouts.add(JAVA_DOUBLE);
        List<Arguments> out = new ArrayList<>();
        for (ValueLayout l : layouts) {
            for (Placement p : List.of(
                    Placement.CONFINED,
                    Placement.GLOBAL,
                    Placement.HEAP,
                    Placement.HEAP_SLICE,
                    Placement.HEAP_INPUT_NATIVE_OUTPUT,
                    Placement.NATIVE_INPUT_HEAP_OUTPUT)) {
                out.add(Arguments.of(l, p));
            }
        }
        return out;
    }

    /** The ValueLayout overload takes the integer layouts, in either byte order, as their ElementType. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("layoutCases")
    void everyLayoutMatchesTheNativeEngineBitForBit(ValueLayout layout, Placement where) {
        ElementType t = typeOf(layout);
        Random rng = new Random(layout.byteSize() * 17 + where.ordinal());
        for (Geometry g : GEOMETRIES) {
            int imageLength = length(g.image()), columnLength = length(g.columns());
            long[] image = randomBits(rng, imageLength, t.bytes());
            if (layout instanceof ValueLayout.OfFloat || layout instanceof ValueLayout.OfDouble) {
                // NaN payloads too: unfold moves them unchanged
                image[0] = t == ElementType.FLOAT32 ? 0x7FC0_1234L : 0x7FF0_0000_0000_0042L;
            }
            try (Memory mem = new Memory()) {
                Region in = mem.region(where.input, t, image, imageLength);
                Region out = mem.region(where.output, t, null, columnLength);
                FoldSegments.unfold(
                        in.view(false),
                        layout,
                        g.image(),
                        g.kernel(),
                        g.dilation(),
                        g.padding(),
                        g.stride(),
                        out.view(true));
                String what = layout + " " + where + " " + g;
                assertArrayEquals(expected(geometry(g), t.bytes(), image), out.contents(), what);
                assertArrayEquals(image, in.contents(), what + ": the input changed");
            }
        }
    }

    /** The geometry overloads, ElementType and ValueLayout, in either column layout. */
    @Test
    void theGeometryOverloadsTakeEitherColumnLayout() {
        Random rng = new Random(5);
        for (ColumnLayout columns : ColumnLayout.values()) {
            FoldGeometry g = FoldGeometry.builder()
                    .kernelSize(2, 3)
                    .dilation(1, 2)
                    .padding(1, 0, 0, 2)
                    .stride(2, 1)
                    .forUnfold(2, 3, 6, 7)
                    .withColumnLayout(columns);
            int imageLength = (int) g.imageLength(), columnLength = (int) g.columnLength();
            for (ElementType t : ElementType.values()) {
                long[] image = randomBits(rng, imageLength, t.bytes());
                long[] expected = expected(g, t.bytes(), image);
                for (Where where : List.of(Where.SHARED, Where.HEAP_SLICE)) {
                    try (Memory mem = new Memory()) {
                        Region in = mem.region(where, t, image, imageLength);
                        Region out = mem.region(where, t, null, columnLength);
                        FoldSegments.unfold(g, in.view(false), t, out.view(true));
                        assertArrayEquals(expected, out.contents(), t + " " + columns + " " + where);
                        Region again = mem.region(where, t, null, columnLength);
                        ValueLayout l = t == ElementType.FLOAT32
                                ? JAVA_FLOAT
                                : t == ElementType.FLOAT64 ? JAVA_DOUBLE : layout(t.bytes());
                        FoldSegments.unfold(g, in.view(false), l, again.view(true));
                        assertArrayEquals(expected, again.contents(), l + " " + columns + " " + where);
                        assertArrayEquals(image, in.contents(), "the input changed");
                    }
                }
            }
        }
    }

    /** Heap calls moving more than CRITICAL_BYTES run in parts (of the width's work items); still bit for bit. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("largeCases")
    void largeHeapCallsRunInPartsAndMatch(ElementType t, Placement where) {
        int side = switch (t.bytes()) {
            case 1 -> 660;
            case 2 -> 480;
            case 4 -> 340;
            default -> 240;
        };
        Geometry g = FoldSegmentsTest.geometry(
                new long[] {2, 4, side, side + 3},
                new int[] {3, 3},
                new int[] {1, 1},
                new int[] {1, 0, 2, 1},
                new int[] {1, 1});
        int imageLength = length(g.image()), columnLength = length(g.columns());
        assertTrue((long) (imageLength + columnLength) * t.bytes() > 2 * FoldSegments.CRITICAL_BYTES);
        long[] image = randomBits(new Random(11), imageLength, t.bytes());
        try (Memory mem = new Memory()) {
            Region in = mem.region(where.input, t, image, imageLength);
            Region out = mem.region(where.output, t, null, columnLength);
            FoldSegments.unfold(
                    in.view(false), t, g.image(), g.kernel(), g.dilation(), g.padding(), g.stride(), out.view(true));
            assertArrayEquals(expected(geometry(g), t.bytes(), image), out.contents(), t + " " + where);
        }
    }

    static List<Arguments> largeCases() {
        List<Arguments> out = new ArrayList<>();
        for (ElementType t : List.of(ElementType.INT8, ElementType.BFLOAT16, ElementType.INT32, ElementType.INT64)) {
            for (Placement p : List.of(Placement.HEAP_SLICE, Placement.HEAP_INPUT_NATIVE_OUTPUT)) {
                out.add(Arguments.of(t, p));
            }
        }
        return out;
    }

    /** Read-only inputs are read; an empty batch writes nothing and needs no memory. */
    @Test
    void readOnlyInputsAndAnEmptyBatch() {
        long[] shape = {1, 2, 3, 3};
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0};
        short[] image = new short[18];
        for (int i = 0; i < image.length; i++) image[i] = (short) (i * 2731);
        short[] expected = ENGINE.unfold(FoldGeometry.forUnfold(shape, k, one, zero, one), image);
        short[] columns = new short[32];
        FoldSegments.unfold(
                MemorySegment.ofArray(image).asReadOnly(),
                ElementType.FLOAT16,
                shape,
                k,
                one,
                zero,
                one,
                MemorySegment.ofArray(columns));
        assertArrayEquals(expected, columns);
        FoldSegments.unfold(
                MemorySegment.NULL, ElementType.INT8, new long[] {0, 2, 3, 3}, k, one, zero, one, MemorySegment.NULL);
        FoldSegments.unfold(
                FoldGeometry.forUnfold(new long[] {0, 2, 3, 3}, k, one, zero, one),
                MemorySegment.NULL,
                JAVA_LONG,
                MemorySegment.NULL);
    }

    /** FoldSegments' copy of the type codes is geometry.hpp's (the header is read). */
    @Test
    void theTypeCodesAreTheHeaders() throws Exception {
        String header = Files.readString(Path.of("../native/include/foldnd/geometry.hpp"));
        Matcher m = Pattern.compile("enum ElementType : int \\{([^}]*)}").matcher(header);
        assertTrue(m.find(), "no enum ElementType in geometry.hpp");
        Matcher e = Pattern.compile("(\\w+)\\s*=\\s*(\\d+)").matcher(m.group(1));
        int seen = 0;
        while (e.find()) {
            ElementType t = ElementType.valueOf(e.group(1));
            FoldSegments.Type type = FoldSegments.Type.of(t);
            assertEquals(Integer.parseInt(e.group(2)), type.code(), t.name());
            assertEquals(t.bytes(), type.bytes(), t.name());
            seen++;
        }
        assertEquals(ElementType.values().length, seen);
    }

    // ---- refusals ----------------------------------------------------------------------------------

    static final long[] IMAGE = {1, 2, 3, 3};
    static final int[] K = {2, 2}, ONE = {1, 1}, ZERO = {0, 0};

    static void unfold(MemorySegment in, ElementType t, MemorySegment out) {
        FoldSegments.unfold(in, t, IMAGE, K, ONE, ZERO, ONE, out);
    }

    static void unfold(MemorySegment in, ValueLayout t, MemorySegment out) {
        FoldSegments.unfold(in, t, IMAGE, K, ONE, ZERO, ONE, out);
    }

    @Test
    void refusesWrongSizes() {
        for (ElementType t : ElementType.values()) {
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(ofArray(array(t, 17)), t, ofArray(array(t, 32))),
                    "input must hold exactly 18 elements of " + t.name(),
                    (18 * t.bytes()) + " bytes");
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(ofArray(array(t, 19)), t, ofArray(array(t, 32))),
                    "input must hold exactly 18");
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(ofArray(array(t, 18)), t, ofArray(array(t, 31))),
                    "output must hold at least 32 elements of " + t.name());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(18 * 2 - 1, 2);
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(in, JAVA_SHORT, arena.allocate(JAVA_SHORT, 32)),
                    "input",
                    "JAVA_SHORT",
                    "35 bytes");
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(arena.allocate(JAVA_LONG, 18), JAVA_LONG, arena.allocate(JAVA_LONG, 31)),
                    "output",
                    "at least 32 elements of JAVA_LONG");
        }
    }

    @Test
    void refusesIntegerLayoutsForFold() {
        MemorySegment cols = MemorySegment.ofArray(new int[32]), img = MemorySegment.ofArray(new int[18]);
        FoldGeometry g = FoldGeometry.forUnfold(IMAGE, K, ONE, ZERO, ONE);
        for (ValueLayout l : List.of(JAVA_BYTE, JAVA_SHORT, JAVA_INT, JAVA_LONG, ValueLayout.JAVA_CHAR)) {
            String given = "got " + l + " (a layout of " + l.carrier().getName() + ")";
            refused(
                    IllegalArgumentException.class,
                    () -> FoldSegments.fold(
                            cols, l, new long[] {1, 8, 4}, new int[] {3, 3}, K, ONE, ZERO, ONE, Reduce.SUM, null, img),
                    "elementType must be JAVA_FLOAT or JAVA_DOUBLE for fold",
                    given,
                    "float16 and bfloat16");
            refused(
                    IllegalArgumentException.class,
                    () -> FoldSegments.foldBlocks(g, cols, l, 0, 4, Reduce.SUM, null, img, null),
                    "elementType must be JAVA_FLOAT or JAVA_DOUBLE for fold",
                    given);
            refused(
                    IllegalArgumentException.class,
                    () -> FoldSegments.finishFold(g, l, Reduce.SUM, img, null),
                    "elementType must be JAVA_FLOAT or JAVA_DOUBLE for fold",
                    given);
        }
        // float and double keep their native-order requirement; the integer layouts have none
        ByteOrder other =
                ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        refused(
                IllegalArgumentException.class,
                () -> unfold(MemorySegment.ofArray(new float[18]), JAVA_FLOAT.withOrder(other), cols),
                "native byte order");
        refused(
                IllegalArgumentException.class,
                () -> unfold(MemorySegment.ofArray(new int[18]), ValueLayout.ADDRESS, cols),
                "elementType must be JAVA_BYTE, JAVA_SHORT, JAVA_INT, JAVA_LONG, JAVA_FLOAT or JAVA_DOUBLE");
        refused(NullPointerException.class, () -> unfold(cols, (ElementType) null, cols), "elementType");
        refused(NullPointerException.class, () -> FoldSegments.unfold(null, cols, ElementType.INT8, cols), "geometry");
    }

    @Test
    void refusesMisalignedSegments() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment raw = arena.allocate(2048, 16);
            for (ElementType t : ElementType.values()) {
                int b = t.bytes();
                if (b == 1) continue; // bytes are always aligned
                refused(
                        IllegalArgumentException.class,
                        () -> unfold(raw.asSlice(b / 2, 18L * b), t, raw.asSlice(1024, 32L * b)),
                        "input must be aligned to " + b + " bytes for elementType " + t.name());
                refused(
                        IllegalArgumentException.class,
                        () -> unfold(raw.asSlice(0, 18L * b), t, raw.asSlice(1024 + b / 2, 32L * b)),
                        "output must be aligned to " + b + " bytes");
            }
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(raw.asSlice(2, 18 * 4), JAVA_INT, raw.asSlice(1024, 32 * 4)),
                    "input must be aligned to 4 bytes for elementType JAVA_INT");
            // a byte at any address will do
            unfold(raw.asSlice(1, 18), JAVA_BYTE, raw.asSlice(1027, 32));
            unfold(raw.asSlice(3, 18), ElementType.INT8, raw.asSlice(1029, 32));
        }
        // a short[] segment at an odd byte offset; a long[] one at an offset of 4
        MemorySegment shorts = MemorySegment.ofArray(new short[40]);
        refused(
                IllegalArgumentException.class,
                () -> unfold(shorts.asSlice(1, 36), ElementType.BFLOAT16, MemorySegment.ofArray(new short[32])),
                "input must be aligned to 2 bytes",
                "byte offset");
        MemorySegment longs = MemorySegment.ofArray(new long[40]);
        refused(
                IllegalArgumentException.class,
                () -> unfold(MemorySegment.ofArray(new long[18]), JAVA_LONG, longs.asSlice(4, 256)),
                "output must be aligned to 8 bytes");
    }

    @Test
    void refusesHeapSegmentsOfAnotherArray() {
        refused(
                IllegalArgumentException.class,
                () -> unfold(
                        MemorySegment.ofArray(new int[9]), ElementType.INT16, MemorySegment.ofArray(new short[32])),
                "input must be a native segment or a heap segment of a short[] for elementType INT16",
                "got a heap segment of an int[]");
        refused(
                IllegalArgumentException.class,
                () -> unfold(MemorySegment.ofArray(new int[18]), JAVA_INT, MemorySegment.ofArray(new float[32])),
                "output must be a native segment or a heap segment of an int[] for elementType JAVA_INT",
                "of a float[]");
        refused(
                IllegalArgumentException.class,
                () -> unfold(
                        MemorySegment.ofArray(new int[18]), ElementType.FLOAT32, MemorySegment.ofArray(new float[32])),
                "input must be a native segment or a heap segment of a float[] for elementType FLOAT32");
        refused(
                IllegalArgumentException.class,
                () -> unfold(MemorySegment.ofArray(new byte[18 * 8]), JAVA_LONG, MemorySegment.ofArray(new long[32])),
                "heap segment of a long[]");
    }

    @Test
    void refusesReadOnlyAndOverlappingOutputs() {
        for (ElementType t : ElementType.values()) {
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(ofArray(array(t, 18)), t, ofArray(array(t, 32)).asReadOnly()),
                    "output must be writable");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(JAVA_LONG, 18),
                    out = arena.allocate(JAVA_LONG, 32).asReadOnly();
            refused(IllegalArgumentException.class, () -> unfold(in, JAVA_LONG, out), "output must be writable");
            MemorySegment all = arena.allocate(JAVA_SHORT, 64);
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(all.asSlice(0, 36), ElementType.FLOAT16, all.asSlice(30)),
                    "output must not overlap input");
            unfold(all.asSlice(0, 36), ElementType.FLOAT16, all.asSlice(36, 64)); // adjacent is fine
        }
    }
}
