package io.github.foldnd.ffm;

import static io.github.foldnd.ffm.FoldSegmentsTest.assertSameBits;
import static io.github.foldnd.ffm.FoldSegmentsTest.doubles;
import static io.github.foldnd.ffm.FoldSegmentsTest.floats;
import static io.github.foldnd.ffm.FoldSegmentsTest.random;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.ColumnLayout;
import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import io.github.foldnd.ffm.Segments.Region;
import io.github.foldnd.ffm.Segments.Where;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The streaming fold on segments ({@link FoldSegments#foldBlocks} and {@link
 * FoldSegments#finishFold}): the grid cut into random ranges, visited in descending block order,
 * then finished, gives the native engine's whole fold bit for bit, for both element types, every
 * merge with and without weights, per-sample and batch-fused columns, symmetric and asymmetric
 * padding, on native segments, heap segments and mixtures (the heap ones in critical downcalls,
 * large ones in parts); nothing written outside the output and the weight sum. And every bad
 * argument is refused with foldnd's own message for arrays.
 */
class FoldSegmentsStreamingTest {
    /** Where a call's input, output, weights and weight sum live. */
    enum Placement {
        CONFINED(Where.CONFINED, Where.CONFINED, Where.CONFINED, Where.CONFINED),
        SHARED(Where.SHARED, Where.SHARED, Where.SHARED, Where.SHARED),
        GLOBAL(Where.GLOBAL, Where.GLOBAL, Where.AUTO, Where.GLOBAL),
        HEAP(Where.HEAP, Where.HEAP, Where.HEAP, Where.HEAP),
        HEAP_SLICE(Where.HEAP_SLICE, Where.HEAP_SLICE, Where.HEAP_SLICE, Where.HEAP_SLICE),
        HEAP_INPUT_NATIVE_OUTPUT(Where.HEAP_SLICE, Where.CONFINED, Where.HEAP, Where.SHARED),
        NATIVE_INPUT_HEAP_OUTPUT(Where.SHARED, Where.HEAP_SLICE, Where.CONFINED, Where.HEAP),
        NATIVE_WITH_HEAP_WEIGHT_SUM(Where.CONFINED, Where.SHARED, Where.CONFINED, Where.HEAP_SLICE);
        final Where input, output, weights, weightSum;

        Placement(Where input, Where output, Where weights, Where weightSum) {
            this.input = input;
            this.output = output;
            this.weights = weights;
            this.weightSum = weightSum;
        }
    }

    static final List<FoldGeometry> GEOMETRIES = List.of(
            FoldGeometry.forUnfold(new long[] {2, 3, 10}, new int[] {3}, new int[] {2}, new int[] {1}, new int[] {2}),
            FoldGeometry.forUnfold(new long[] {3, 7}, new int[] {2}, new int[] {1}, new int[] {0}, new int[] {1}),
            FoldGeometry.forUnfold(
                    new long[] {2, 3, 9, 7}, new int[] {3, 2}, new int[] {1, 2}, new int[] {1, 0}, new int[] {2, 1}),
            // Asymmetric padding, ONNX pads order (every start, then every end).
            FoldGeometry.forUnfold(
                    new long[] {2, 3, 9, 7}, new int[] {3, 2}, new int[] {1, 2}, new int[] {0, 2, 1, 0}, new int[] {2, 1
                    }),
            FoldGeometry.forUnfold(
                    new long[] {1, 2, 5, 4, 6},
                    new int[] {2, 3, 2},
                    new int[] {1, 1, 2},
                    new int[] {1, 0, 0, 0, 1, 2},
                    new int[] {1, 2, 1}),
            // Batch-fused columns (C·K, N·L), one with asymmetric padding.
            FoldGeometry.forUnfold(
                            new long[] {3, 2, 6, 5}, new int[] {2, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {
                                1, 2
                            })
                    .withColumnLayout(ColumnLayout.BATCH_FUSED),
            FoldGeometry.forUnfold(
                            new long[] {2, 2, 7, 4},
                            new int[] {3, 2},
                            new int[] {2, 1},
                            new int[] {2, 0, 0, 1},
                            new int[] {1, 1})
                    .withColumnLayout(ColumnLayout.BATCH_FUSED));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int g = 0; g < GEOMETRIES.size(); g++) {
            for (String t : List.of("float", "double")) {
                for (Placement p : Placement.values()) out.add(Arguments.of(g, t, p));
            }
        }
        return out.stream();
    }

    static ValueLayout type(String name) {
        return name.equals("float") ? JAVA_FLOAT : JAVA_DOUBLE;
    }

    /** [0, blocks) cut into random consecutive ranges {first, count}, the last first. */
    static List<long[]> descendingRanges(Random rnd, long blocks) {
        List<long[]> ranges = new ArrayList<>();
        for (long first = 0; first < blocks; ) {
            long count = Math.min(1 + rnd.nextInt((int) Math.max(1, blocks / 2)), blocks - first);
            ranges.add(0, new long[] {first, count});
            first += count;
        }
        return ranges;
    }

    /** The columns of blocks [first, first + count) of whole columns, in the geometry's layout. */
    static double[] rangeColumns(FoldGeometry g, double[] columns, long first, long count) {
        int n = (int) g.batch(), rows = (int) (g.channels() * g.kernelVolume()), blocks = (int) g.blocks();
        int f = (int) first, c = (int) count;
        double[] out = new double[n * rows * c];
        boolean fused = g.columnLayout() == ColumnLayout.BATCH_FUSED;
        for (int b = 0; b < n; b++) {
            for (int row = 0; row < rows; row++) {
                for (int j = 0; j < c; j++) {
                    int to = fused ? (row * n + b) * c + j : (b * rows + row) * c + j;
                    int from = fused ? (row * n + b) * blocks + f + j : (b * rows + row) * blocks + f + j;
                    out[to] = columns[from];
                }
            }
        }
        return out;
    }

    /** The native engine's whole fold, carried as double. */
    static double[] wholeFold(FoldGeometry g, ValueLayout type, double[] columns, Reduce r, double[] weights) {
        Engine engine = Engine.nativeEngine().orElseThrow();
        return type == JAVA_FLOAT
                ? doubles(engine.fold(g, floats(columns), r, weights == null ? null : floats(weights)))
                : engine.fold(g, columns, r, weights);
    }

    /**
     * Streams the whole grid through FoldSegments in the given ranges and finishes; returns the
     * image (guards checked). SUM without weights goes without a weight sum, as it may.
     */
    static double[] streamed(
            Segments mem,
            Placement where,
            FoldGeometry g,
            ValueLayout type,
            double[] columns,
            List<long[]> ranges,
            Reduce r,
            Region w,
            double[] weights) {
        int image = (int) g.imageLength(), plane = (int) g.imagePlane();
        double[] init = new double[image];
        Arrays.fill(init, r.identity());
        Region out = mem.region(where.output, type, init, image);
        Region sum = r == Reduce.SUM && w == null ? null : mem.region(where.weightSum, type, new double[plane], plane);
        for (long[] range : ranges) {
            double[] part = rangeColumns(g, columns, range[0], range[1]);
            Region in = mem.region(where.input, type, part, part.length);
            FoldSegments.foldBlocks(
                    g,
                    in.view(false),
                    type,
                    range[0],
                    range[1],
                    r,
                    w == null ? null : w.view(false),
                    out.view(true),
                    sum == null ? null : sum.view(true));
            assertSameBits(part, in.contents(), "input of blocks " + range[0] + "+" + range[1]);
        }
        FoldSegments.finishFold(g, type, r, out.view(true), sum == null ? null : sum.view(true));
        if (sum != null) sum.contents(); // its guards
        if (w != null) assertSameBits(weights, w.contents(), "weights");
        return out.contents();
    }

    @ParameterizedTest(name = "geometry {0} {1} {2}")
    @MethodSource("cases")
    void descendingRangesGiveTheWholeFoldBitForBit(int geometry, String typeName, Placement where) {
        FoldGeometry g = GEOMETRIES.get(geometry);
        ValueLayout type = type(typeName);
        Random rng = new Random(1000L * geometry + 10L * where.ordinal() + typeName.length());
        double[] columns = random(rng, (int) g.columnLength(), type);
        double[] weights = random(rng, (int) g.kernelVolume(), type);
        try (Segments mem = new Segments()) {
            Region w = mem.region(where.weights, type, weights, weights.length);
            for (int trial = 0; trial < 2; trial++) {
                List<long[]> ranges = descendingRanges(rng, g.blocks());
                for (Reduce r : Reduce.values()) {
                    for (boolean weighted : new boolean[] {false, true}) {
                        String what = g + " " + r + (weighted ? " weighted" : "") + " ranges " + ranges.size();
                        double[] expected = wholeFold(g, type, columns, r, weighted ? weights : null);
                        double[] actual = streamed(
                                mem,
                                where,
                                g,
                                type,
                                columns,
                                ranges,
                                r,
                                weighted ? w : null,
                                weighted ? weights : null);
                        assertSameBits(expected, actual, "streamed fold " + what);
                    }
                }
            }
        }
    }

    /** Calls moving more than CRITICAL_BYTES with a heap segment run in parts; still bit for bit. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("largeCases")
    void largeHeapCallsRunInPartsAndMatch(String typeName, Placement where) {
        ValueLayout type = type(typeName);
        FoldGeometry g = FoldGeometry.forUnfold(
                new long[] {2, 4, 320, 340}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1});
        long half = g.blocks() / 2;
        assertTrue((g.columnLength() / 2 + g.imageLength()) * type.byteSize() > FoldSegments.CRITICAL_BYTES);
        Random rng = new Random(11);
        double[] columns = random(rng, (int) g.columnLength(), type);
        double[] weights = random(rng, (int) g.kernelVolume(), type);
        List<long[]> ranges = List.of(new long[] {half, g.blocks() - half}, new long[] {0, half});
        try (Segments mem = new Segments()) {
            Region w = mem.region(where.weights, type, weights, weights.length);
            for (Reduce r : List.of(Reduce.MEAN, Reduce.MAX)) {
                assertSameBits(
                        wholeFold(g, type, columns, r, weights),
                        streamed(mem, where, g, type, columns, ranges, r, w, weights),
                        "large streamed fold " + r);
            }
        }
    }

    static Stream<Arguments> largeCases() {
        List<Arguments> out = new ArrayList<>();
        for (String t : List.of("float", "double")) {
            for (Placement p : List.of(Placement.HEAP_SLICE, Placement.HEAP_INPUT_NATIVE_OUTPUT, Placement.SHARED)) {
                out.add(Arguments.of(t, p));
            }
        }
        return out.stream();
    }

    // ---- refusals: the messages of foldnd's arrays (Engine.foldBlocks), before any work ----------

    /** Image (1, 2, 3, 3), 2x2 kernel: L = 4 blocks (grid [2, 2]), K = 4, 18 image elements, plane 9. */
    private static final FoldGeometry G =
            FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3);

    private static final Engine CORE = Engine.nativeEngine().orElseThrow();

    static MemorySegment seg(int n) {
        return MemorySegment.ofArray(new float[n]);
    }

    /** The message foldnd's arrays give for a call. */
    static <T extends Throwable> String coreMessage(Class<T> type, Executable call) {
        return assertThrows(type, call).getMessage();
    }

    /** FoldSegments refuses with this exception, its message beginning with the given one. */
    static <T extends Throwable> T refused(Class<T> type, String message, Executable call) {
        T e = assertThrows(type, call);
        assertTrue(
                e.getMessage() != null && e.getMessage().startsWith(message),
                "expected \"" + message + "...\", got \"" + e.getMessage() + "\"");
        return e;
    }

    @Test
    void refusesWithTheArraysMessages() {
        float[] image = new float[18];
        // A range past the grid.
        refused(
                IllegalArgumentException.class,
                coreMessage(
                        IllegalArgumentException.class,
                        () -> CORE.foldBlocks(G, new float[0], 5, 0, Reduce.SUM, null, image, null)),
                () -> FoldSegments.foldBlocks(G, seg(0), JAVA_FLOAT, 5, 0, Reduce.SUM, null, seg(18), null));
        refused(
                IllegalArgumentException.class,
                "firstBlock must be from 0 to the grid's 4 blocks (block grid [2, 2]), got -1",
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, -1, 2, Reduce.SUM, null, seg(18), null));
        refused(
                IllegalArgumentException.class,
                coreMessage(
                        IllegalArgumentException.class,
                        () -> CORE.foldBlocks(G, new float[16], 3, 2, Reduce.SUM, null, image, null)),
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, 3, 2, Reduce.SUM, null, seg(18), null));
        // A short (or long) input.
        String shortInput = coreMessage(
                IllegalArgumentException.class,
                () -> CORE.foldBlocks(G, new float[15], 1, 2, Reduce.SUM, null, image, null));
        assertEquals(
                "input must have N*C*K*blockCount = 1*2*4*2 = 16 elements (the columns of blocks [1, 3)), got 15",
                shortInput);
        refused(
                IllegalArgumentException.class,
                shortInput + " (60 bytes)",
                () -> FoldSegments.foldBlocks(G, seg(15), JAVA_FLOAT, 1, 2, Reduce.SUM, null, seg(18), null));
        refused(
                IllegalArgumentException.class,
                "input must have N*C*K*blockCount = 1*2*4*2 = 16 elements (the columns of blocks [1, 3)), got 17",
                () -> FoldSegments.foldBlocks(G, seg(17), JAVA_FLOAT, 1, 2, Reduce.SUM, null, seg(18), null));
        // A short output, short weights.
        refused(
                IllegalArgumentException.class,
                coreMessage(
                        IllegalArgumentException.class,
                        () -> CORE.foldBlocks(G, new float[16], 0, 2, Reduce.SUM, null, new float[17], null)),
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, 0, 2, Reduce.SUM, null, seg(17), null));
        refused(
                IllegalArgumentException.class,
                coreMessage(
                        IllegalArgumentException.class,
                        () -> CORE.foldBlocks(G, new float[16], 0, 2, Reduce.SUM, new float[3], image, null)),
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, 0, 2, Reduce.SUM, seg(3), seg(18), null));
        // A short weight sum, in foldBlocks and finishFold.
        String shortSum = coreMessage(
                IllegalArgumentException.class,
                () -> CORE.foldBlocks(G, new float[16], 0, 2, Reduce.MEAN, null, image, new float[8]));
        assertEquals("weightSum must have at least 9 elements (one image plane, [3, 3]), got 8", shortSum);
        refused(
                IllegalArgumentException.class,
                shortSum,
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, 0, 2, Reduce.MEAN, null, seg(18), seg(8)));
        refused(
                IllegalArgumentException.class,
                coreMessage(IllegalArgumentException.class, () -> CORE.finishFold(G, Reduce.MEAN, image, new float[3])),
                () -> FoldSegments.finishFold(G, JAVA_FLOAT, Reduce.MEAN, seg(18), seg(3)));
        // MEAN without a weight sum; finishing MAX without one.
        NullPointerException npe = assertThrows(
                NullPointerException.class,
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, 0, 2, Reduce.MEAN, null, seg(18), null));
        assertEquals(
                coreMessage(
                        NullPointerException.class,
                        () -> CORE.foldBlocks(G, new float[16], 0, 2, Reduce.MEAN, null, image, null)),
                npe.getMessage());
        assertEquals("weightSum must not be null for MEAN: the finishing step divides by it", npe.getMessage());
        npe = assertThrows(
                NullPointerException.class, () -> FoldSegments.finishFold(G, JAVA_FLOAT, Reduce.MAX, seg(18), null));
        assertEquals(
                coreMessage(NullPointerException.class, () -> CORE.finishFold(G, Reduce.MAX, image, (float[]) null)),
                npe.getMessage());
        // Nulls, by name.
        refused(
                NullPointerException.class,
                "geometry",
                () -> FoldSegments.foldBlocks(null, seg(16), JAVA_FLOAT, 0, 2, Reduce.SUM, null, seg(18), null));
        refused(
                NullPointerException.class,
                "reduce",
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, 0, 2, null, null, seg(18), null));
        refused(
                NullPointerException.class,
                "input",
                () -> FoldSegments.foldBlocks(G, null, JAVA_FLOAT, 0, 2, Reduce.SUM, null, seg(18), null));
        refused(
                NullPointerException.class,
                "output",
                () -> FoldSegments.finishFold(G, JAVA_FLOAT, Reduce.MEAN, null, seg(9)));
        refused(
                IllegalArgumentException.class,
                "elementType must be JAVA_FLOAT or JAVA_DOUBLE",
                () -> FoldSegments.finishFold(G, ValueLayout.JAVA_INT, Reduce.SUM, seg(18), null));
        // A heap segment of another array type, a read-only weight sum to add to.
        refused(
                IllegalArgumentException.class,
                "weightSum must be a native segment or a heap segment of a float[]",
                () -> FoldSegments.foldBlocks(
                        G,
                        seg(16),
                        JAVA_FLOAT,
                        0,
                        2,
                        Reduce.MEAN,
                        null,
                        seg(18),
                        MemorySegment.ofArray(new double[9])));
        refused(
                IllegalArgumentException.class,
                "weightSum must be writable",
                () -> FoldSegments.foldBlocks(
                        G, seg(16), JAVA_FLOAT, 0, 2, Reduce.MEAN, null, seg(18), seg(9).asReadOnly()));
    }

    @Test
    void refusesSharedMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment whole = arena.allocate(JAVA_FLOAT, 64);
            MemorySegment in = whole.asSlice(0, 16 * 4), out = whole.asSlice(32 * 4, 18 * 4);
            // weightSum inside the output, in the input, in the weights.
            refused(
                    IllegalArgumentException.class,
                    "weightSum must not overlap the output in memory",
                    () -> FoldSegments.foldBlocks(
                            G, in, JAVA_FLOAT, 0, 2, Reduce.MEAN, null, out, whole.asSlice(45 * 4, 9 * 4)));
            refused(
                    IllegalArgumentException.class,
                    "weightSum must not overlap the input in memory",
                    () -> FoldSegments.foldBlocks(
                            G, in, JAVA_FLOAT, 0, 2, Reduce.MEAN, null, out, whole.asSlice(10 * 4, 9 * 4)));
            refused(
                    IllegalArgumentException.class,
                    "weightSum must not overlap the weights in memory",
                    () -> FoldSegments.foldBlocks(
                            G,
                            in,
                            JAVA_FLOAT,
                            0,
                            2,
                            Reduce.MEAN,
                            whole.asSlice(16 * 4, 4 * 4),
                            out,
                            whole.asSlice(18 * 4, 9 * 4)));
            refused(
                    IllegalArgumentException.class,
                    "output must not overlap input",
                    () -> FoldSegments.foldBlocks(
                            G, in, JAVA_FLOAT, 0, 2, Reduce.SUM, null, whole.asSlice(8 * 4, 18 * 4), null));
            refused(
                    IllegalArgumentException.class,
                    "weightSum must not overlap the output in memory",
                    () -> FoldSegments.finishFold(G, JAVA_FLOAT, Reduce.MEAN, out, out.asSlice(4 * 4, 9 * 4)));
        }
        // The same on the heap: slices of one array.
        MemorySegment heap = MemorySegment.ofArray(new double[64]);
        refused(
                IllegalArgumentException.class,
                "weightSum must not overlap the output in memory",
                () -> FoldSegments.foldBlocks(
                        G,
                        heap.asSlice(0, 16 * 8),
                        JAVA_DOUBLE,
                        0,
                        2,
                        Reduce.MEAN,
                        null,
                        heap.asSlice(20 * 8, 18 * 8),
                        heap.asSlice(30 * 8, 9 * 8)));
        refused(
                IllegalArgumentException.class,
                "weightSum must not overlap the output in memory",
                () -> FoldSegments.finishFold(
                        G, JAVA_DOUBLE, Reduce.MAX, heap.asSlice(0, 18 * 8), heap.asSlice(17 * 8, 9 * 8)));
    }

    @Test
    void refusesClosedArenas() {
        Arena arena = Arena.ofShared();
        MemorySegment in = arena.allocate(JAVA_FLOAT, 16), sum = arena.allocate(JAVA_FLOAT, 9);
        MemorySegment out = arena.allocate(JAVA_FLOAT, 18);
        arena.close();
        refused(
                IllegalStateException.class,
                "input's arena is closed",
                () -> FoldSegments.foldBlocks(G, in, JAVA_FLOAT, 0, 2, Reduce.SUM, null, seg(18), null));
        refused(
                IllegalStateException.class,
                "output's arena is closed",
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, 0, 2, Reduce.SUM, null, out, null));
        refused(
                IllegalStateException.class,
                "weightSum's arena is closed",
                () -> FoldSegments.foldBlocks(G, seg(16), JAVA_FLOAT, 0, 2, Reduce.MEAN, null, seg(18), sum));
        refused(
                IllegalStateException.class,
                "weightSum's arena is closed",
                () -> FoldSegments.finishFold(G, JAVA_FLOAT, Reduce.MEAN, seg(18), sum));
        refused(
                IllegalStateException.class,
                "output's arena is closed",
                () -> FoldSegments.finishFold(G, JAVA_FLOAT, Reduce.SUM, out, null));
    }

    /** No blocks, SUM's finish, an empty batch: nothing is written. */
    @Test
    void emptyRangesAndSumChangeNothing() {
        float[] image = new float[18], sum = new float[9];
        for (int i = 0; i < image.length; i++) image[i] = i + 1;
        float[] copy = image.clone();
        MemorySegment out = MemorySegment.ofArray(image), s = MemorySegment.ofArray(sum);
        FoldSegments.foldBlocks(G, MemorySegment.NULL, JAVA_FLOAT, 4, 0, Reduce.MEAN, null, out, s);
        FoldSegments.foldBlocks(G, seg(0), JAVA_FLOAT, 0, 0, Reduce.SUM, null, out, null);
        FoldSegments.finishFold(G, JAVA_FLOAT, Reduce.SUM, out, null);
        assertArrayEquals(copy, image);
        assertArrayEquals(new float[9], sum);
        FoldGeometry empty = FoldGeometry.builder().kernelSize(2, 2).forUnfold(0, 2, 3, 3);
        FoldSegments.foldBlocks(empty, MemorySegment.NULL, JAVA_FLOAT, 0, 4, Reduce.MEAN, null, MemorySegment.NULL, s);
        FoldSegments.finishFold(empty, JAVA_FLOAT, Reduce.MEAN, MemorySegment.NULL, s);
        assertArrayEquals(new float[9], sum);
    }
}
