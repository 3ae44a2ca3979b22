package io.github.foldnd;

import static io.github.foldnd.Harness.assertBitwise;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.Harness.DType;
import io.github.foldnd.Harness.Memory;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Heap buffers in the buffer API, on every engine: {@code wrap} with a position, slices with an
 * array offset, read-only buffers, views of heap ByteBuffers in either byte order, and every mix
 * with direct buffers, for float and double, unfold and fold with every merge, unweighted and
 * weighted. Each result must equal the array API's bit for bit, with the input, the elements
 * around the output and every position and limit as they were; bad buffers are refused with
 * IllegalArgumentException before anything is written.
 */
class HeapBufferTest {
    /** Elements before a buffer's array offset, before its position, past its limit. */
    private static final int PREFIX = 2, LEAD = 3, TAIL = 4;
    /** Elements an output has beyond what the call writes (an output may be longer than needed). */
    private static final int SLACK = 2;

    private static final double SENTINEL = -12345.5;

    private static final List<FoldGeometry> GEOMETRIES = List.of(
            FoldGeometry.builder().kernelSize(2, 3).padding(1, 1).stride(1, 2).forUnfold(2, 3, 5, 4),
            FoldGeometry.builder()
                    .kernelSize(2, 2, 2)
                    .dilation(1, 2, 1)
                    .forUnfold(2, 2, 3, 5, 3)
                    .withColumnLayout(ColumnLayout.BATCH_FUSED));

    /** unfold of a (1, 2, 4, 4) image with a 2x2 kernel: 32 in, 72 out. */
    private static final FoldGeometry UNFOLD =
            FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 4, 4);

    /** How a test buffer is made. */
    enum Kind {
        /** {@code wrap(array, offset, length)}: array offset 0, a nonzero position. */
        WRAP,
        /** A slice of a wrapped array: a nonzero array offset and a nonzero position. */
        SLICE,
        /** A read-only slice: no accessible array (inputs only). */
        READ_ONLY,
        /** A view of a heap ByteBuffer in native order, at an odd byte offset: no array. */
        VIEW,
        /** A view of a heap ByteBuffer in the other byte order. */
        VIEW_SWAPPED,
        /** A direct buffer in native order, for the mixes. */
        DIRECT
    }

    /**
     * A buffer of one type and kind over memory of PREFIX + LEAD + n + slack + TAIL elements: the
     * n values (SENTINEL when null) from element PREFIX + LEAD on, SENTINEL everywhere else. The
     * buffer's position is at the values, its limit {@code slack} elements past them.
     */
    static final class Slot {
        final DType type;
        final Kind kind;
        final int n, at, size;
        final Buffer buffer;
        final int position, limit;
        private float[] floats;
        private double[] doubles;
        private ByteBuffer bytes;

        Slot(DType type, Kind kind, double[] values, int n, int slack) {
            this.type = type;
            this.kind = kind;
            this.n = n;
            this.at = PREFIX + LEAD;
            this.size = at + n + slack + TAIL;
            double[] all = new double[size];
            for (int i = 0; i < size; i++) all[i] = values != null && i >= at && i < at + n ? values[i - at] : SENTINEL;
            boolean f = type == DType.FLOAT;
            int width = f ? Float.BYTES : Double.BYTES;
            Buffer b;
            switch (kind) {
                case WRAP ->
                    b = f
                            ? FloatBuffer.wrap(floats = Harness.toFloat(all), at, n + slack)
                            : DoubleBuffer.wrap(doubles = all, at, n + slack);
                case SLICE, READ_ONLY -> {
                    b = f
                            ? FloatBuffer.wrap(floats = Harness.toFloat(all))
                                    .position(PREFIX)
                                    .slice()
                            : DoubleBuffer.wrap(doubles = all).position(PREFIX).slice();
                    b.position(LEAD).limit(LEAD + n + slack);
                    if (kind == Kind.READ_ONLY)
                        b = f ? ((FloatBuffer) b).asReadOnlyBuffer() : ((DoubleBuffer) b).asReadOnlyBuffer();
                }
                default -> {
                    ByteOrder order = kind == Kind.VIEW_SWAPPED ? swapped() : ByteOrder.nativeOrder();
                    bytes = kind == Kind.DIRECT
                            ? ByteBuffer.allocateDirect(size * width)
                            : ByteBuffer.allocate(size * width + 3).position(3).slice(); // unaligned on purpose
                    bytes.order(order);
                    for (int i = 0; i < size; i++) {
                        if (f) bytes.putFloat(i * width, (float) all[i]);
                        else bytes.putDouble(i * width, all[i]);
                    }
                    b = f ? bytes.asFloatBuffer() : bytes.asDoubleBuffer();
                    b.position(at).limit(at + n + slack);
                }
            }
            this.buffer = b;
            this.position = b.position();
            this.limit = b.limit();
            assertEquals(kind == Kind.WRAP || kind == Kind.SLICE, b.hasArray(), kind + ": hasArray");
        }

        FloatBuffer floats() {
            return (FloatBuffer) buffer;
        }

        DoubleBuffer doubles() {
            return (DoubleBuffer) buffer;
        }

        /** Every element of the memory behind the buffer. */
        double[] memory() {
            if (floats != null) return Harness.toDouble(floats);
            if (doubles != null) return doubles.clone();
            double[] all = new double[size];
            for (int i = 0; i < size; i++)
                all[i] = type == DType.FLOAT ? bytes.getFloat(i * Float.BYTES) : bytes.getDouble(i * Double.BYTES);
            return all;
        }

        /** The n elements from the position, after checking that nothing else was written. */
        double[] written(String what) {
            double[] all = memory(), region = new double[n];
            for (int i = 0; i < size; i++) {
                if (i >= at && i < at + n) region[i - at] = all[i];
                else assertEquals(SENTINEL, all[i], what + ": element " + (i - at) + " from the position was written");
            }
            return region;
        }

        void assertBoundsKept(String what) {
            assertEquals(List.of(position, limit), List.of(buffer.position(), buffer.limit()), what + ": bounds moved");
        }
    }

    static ByteOrder swapped() {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    /**
     * Makes the buffers, runs the call, and checks the output against the array API's result, the
     * input (unchanged), the memory around the output (untouched) and every position and limit.
     */
    private static void check(
            String what, double[] expected, DType t, Kind in, double[] input, Kind out, BiConsumer<Slot, Slot> call) {
        Slot src = new Slot(t, in, input, input.length, 0), dst = new Slot(t, out, null, expected.length, SLACK);
        double[] before = src.memory();
        call.accept(src, dst);
        assertBitwise(expected, dst.written(what), what);
        assertBitwise(before, src.memory(), what + ": input memory");
        src.assertBoundsKept(what + " input");
        dst.assertBoundsKept(what + " output");
    }

    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void everyKindAndMixGivesTheArrayApiResult(Engine e) {
        Random rnd = new Random(11);
        for (FoldGeometry g : GEOMETRIES) {
            for (DType t : DType.values()) {
                double[] image = Harness.random(rnd, t, (int) g.imageLength()),
                        columns = Harness.random(rnd, t, (int) g.columnLength()),
                        weights = Harness.random(rnd, t, (int) g.kernelVolume());
                weights[0] = 0; // a zero weight: MEAN's Σ w may be 0 somewhere
                double[] unfolded = Harness.unfold(e, t, Memory.HEAP_ARRAY, g, image);
                for (Kind in : Kind.values()) {
                    for (Kind out : Kind.values()) {
                        if (out == Kind.READ_ONLY) continue; // refused: readOnlyOutputsAreRefused
                        String what = e + " " + t + " " + g + " " + in + " -> " + out;
                        check("unfold " + what, unfolded, t, in, image, out, (i, o) -> {
                            if (t == DType.FLOAT) e.unfold(g, i.floats(), o.floats());
                            else e.unfold(g, i.doubles(), o.doubles());
                        });
                        for (Reduce r : Reduce.values()) {
                            for (double[] w : new double[][] {null, weights}) {
                                double[] expected = Harness.fold(e, t, Memory.HEAP_ARRAY, g, columns, r, w);
                                float[] wf = w == null ? null : Harness.toFloat(w);
                                check(
                                        "fold " + r + (w == null ? "" : " weighted ") + what,
                                        expected,
                                        t,
                                        in,
                                        columns,
                                        out,
                                        (i, o) -> {
                                            if (t == DType.FLOAT) e.fold(g, i.floats(), r, wf, o.floats());
                                            else e.fold(g, i.doubles(), r, w, o.doubles());
                                        });
                            }
                        }
                    }
                }
            }
        }
    }

    /** The array API of both engines agrees, so heap buffers on one engine equal those on the other. */
    @Test
    void heapBuffersGiveTheSameResultOnEveryEngine() {
        FoldGeometry g = GEOMETRIES.get(0);
        double[] image = Harness.random(new Random(5), DType.FLOAT, (int) g.imageLength());
        double[] first = null;
        for (Engine e : Engine.available()) {
            Slot in = new Slot(DType.FLOAT, Kind.SLICE, image, image.length, 0),
                    out = new Slot(DType.FLOAT, Kind.WRAP, null, (int) g.columnLength(), 0);
            e.unfold(g, in.floats(), out.floats());
            double[] result = out.written(e.toString());
            if (first == null) first = result;
            else
                assertBitwise(
                        first, result, e + " against " + Engine.available().get(0));
        }
    }

    /** The facade takes heap buffers too (FoldNd's example: arange(18) as (1, 2, 3, 3), 2x2 kernel). */
    @Test
    void facadeTakesHeapBuffers() {
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0};
        long[] shape = {1, 2, 3, 3}, colShape = {1, 8, 4};
        float[] image = new float[18];
        for (int i = 0; i < image.length; i++) image[i] = i;
        float[] cols = FoldNd.unfold(image, shape, k, one, zero, one);
        float[] colsArray = new float[40];
        FoldNd.unfold(FloatBuffer.wrap(image), shape, k, one, zero, one, FloatBuffer.wrap(colsArray, 4, 32));
        assertArrayEquals(cols, java.util.Arrays.copyOfRange(colsArray, 4, 36));
        double[] back = new double[18];
        DoubleBuffer colsView = ByteBuffer.allocate(32 * 8).asDoubleBuffer(); // big-endian: a heap view
        for (int i = 0; i < 32; i++) colsView.put(i, cols[i]);
        FoldNd.fold(
                colsView.asReadOnlyBuffer(),
                colShape,
                new int[] {3, 3},
                k,
                one,
                zero,
                one,
                Reduce.MEAN,
                null,
                DoubleBuffer.wrap(back));
        for (int i = 0; i < 18; i++) assertEquals(i, back[i], "MEAN of the unfold is the image at " + i);
    }

    /** Output over the input's own array: refused like overlapping direct buffers, nothing written. */
    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void outputOverlappingTheInputsArrayIsRefused(Engine e) {
        float[] shared = new float[200];
        for (int i = 0; i < shared.length; i++) shared[i] = i;
        float[] before = shared.clone();
        FloatBuffer in = FloatBuffer.wrap(shared, 10, 32);
        // One shared element: the output starting at the input's last element.
        assertOverlapRefused(() -> e.unfold(UNFOLD, in, FloatBuffer.wrap(shared, 41, 72)));
        // Through slices at different array offsets: input [10, 42), output [30, 102).
        FloatBuffer inSlice =
                FloatBuffer.wrap(shared).position(5).slice().position(5).limit(37);
        FloatBuffer outSlice = FloatBuffer.wrap(shared).position(30).slice();
        assertOverlapRefused(() -> e.unfold(UNFOLD, inSlice, outSlice));
        // fold: columns [0, 72), image [71, 103); and the output wholly inside the input.
        assertOverlapRefused(() ->
                e.fold(UNFOLD, FloatBuffer.wrap(shared, 0, 72), Reduce.SUM, null, FloatBuffer.wrap(shared, 71, 32)));
        assertOverlapRefused(() ->
                e.fold(UNFOLD, FloatBuffer.wrap(shared, 0, 72), Reduce.MAX, null, FloatBuffer.wrap(shared, 20, 32)));
        double[] sharedD = new double[200];
        assertOverlapRefused(() -> e.unfold(
                UNFOLD,
                DoubleBuffer.wrap(sharedD, 0, 32),
                DoubleBuffer.wrap(sharedD).position(31)));
        assertArrayEquals(before, shared, "nothing may be written when refused");
        assertArrayEquals(new double[200], sharedD, "nothing may be written when refused");
        // Adjacent ranges of one array are fine: input [10, 42), output [42, 114).
        e.unfold(UNFOLD, in, FloatBuffer.wrap(shared, 42, 72));
        float[] expected = e.unfold(UNFOLD, java.util.Arrays.copyOfRange(before, 10, 42));
        assertArrayEquals(expected, java.util.Arrays.copyOfRange(shared, 42, 114));
        assertArrayEquals(java.util.Arrays.copyOfRange(before, 0, 42), java.util.Arrays.copyOfRange(shared, 0, 42));
        assertArrayEquals(
                java.util.Arrays.copyOfRange(before, 114, 200), java.util.Arrays.copyOfRange(shared, 114, 200));
        assertEquals(List.of(10, 42), List.of(in.position(), in.limit()));
    }

    private static void assertOverlapRefused(Runnable call) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(x.getMessage().contains("output must not overlap input in memory"), x.getMessage());
    }

    /**
     * A read-only input has no accessible array, so no overlap can be seen: it is copied before the
     * call, and an output over the same array still gets the result of the input as it was.
     */
    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void readOnlyInputIsCopiedFirst(Engine e) {
        float[] shared = new float[120];
        for (int i = 0; i < shared.length; i++) shared[i] = i / 4f;
        float[] expected = e.unfold(UNFOLD, java.util.Arrays.copyOfRange(shared, 0, 32));
        e.unfold(UNFOLD, FloatBuffer.wrap(shared, 0, 32).asReadOnlyBuffer(), FloatBuffer.wrap(shared, 16, 72));
        assertArrayEquals(expected, java.util.Arrays.copyOfRange(shared, 16, 88));
    }

    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void readOnlyOutputsAreRefused(Engine e) {
        List<Runnable> calls = List.of(
                () -> e.unfold(
                        UNFOLD,
                        FloatBuffer.allocate(32),
                        FloatBuffer.allocate(72).asReadOnlyBuffer()),
                () -> e.unfold(
                        UNFOLD,
                        FloatBuffer.allocate(32),
                        ByteBuffer.allocate(288).asFloatBuffer().asReadOnlyBuffer()),
                () -> e.unfold(
                        UNFOLD,
                        Harness.directFloats(32),
                        FloatBuffer.allocate(72).asReadOnlyBuffer()),
                () -> e.fold(
                        UNFOLD,
                        DoubleBuffer.allocate(72),
                        Reduce.MEAN,
                        new double[4],
                        DoubleBuffer.allocate(32).asReadOnlyBuffer()));
        for (Runnable call : calls) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, call::run);
            assertTrue(x.getMessage().contains("output must be writable, got a read-only buffer"), x.getMessage());
        }
    }

    /** Wrong lengths are refused before anything is written, as for direct buffers. */
    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void wrongLengthsAreRefused(Engine e) {
        float[] out = new float[100];
        IllegalArgumentException x = assertThrows(
                IllegalArgumentException.class,
                () -> e.unfold(UNFOLD, FloatBuffer.allocate(32), FloatBuffer.wrap(out, 5, 71)));
        assertTrue(x.getMessage().contains("output must have at least 72 elements remaining, got 71"), x.getMessage());
        ByteBuffer view = ByteBuffer.allocate(400);
        x = assertThrows(
                IllegalArgumentException.class,
                () -> e.unfold(
                        UNFOLD, FloatBuffer.allocate(32), view.asFloatBuffer().limit(71)));
        assertTrue(x.getMessage().contains("output must have at least 72 elements remaining, got 71"), x.getMessage());
        x = assertThrows(
                IllegalArgumentException.class,
                () -> e.unfold(UNFOLD, FloatBuffer.wrap(new float[40], 3, 33), FloatBuffer.wrap(out)));
        assertTrue(
                x.getMessage().contains("input must have 32 elements remaining to match its shape, got 33"),
                x.getMessage());
        x = assertThrows(
                IllegalArgumentException.class,
                () -> e.fold(UNFOLD, DoubleBuffer.allocate(72), Reduce.SUM, null, DoubleBuffer.allocate(31)));
        assertTrue(x.getMessage().contains("output must have at least 32 elements remaining, got 31"), x.getMessage());
        x = assertThrows(
                IllegalArgumentException.class,
                () -> e.fold(UNFOLD, FloatBuffer.allocate(72), Reduce.SUM, new float[3], FloatBuffer.allocate(32)));
        assertTrue(x.getMessage().contains("weights must have 4 elements"), x.getMessage());
        assertArrayEquals(new float[100], out, "nothing may be written when refused");
        assertFalse(view.asFloatBuffer().hasArray());
        for (int i = 0; i < 100; i++) assertEquals(0f, view.getFloat(i * 4), "nothing may be written when refused");
    }

    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void nullBuffersNameTheArgument(Engine e) {
        NullPointerException x =
                assertThrows(NullPointerException.class, () -> e.unfold(UNFOLD, FloatBuffer.allocate(32), null));
        assertTrue(x.getMessage().contains("output"), x.getMessage());
        x = assertThrows(
                NullPointerException.class,
                () -> e.fold(UNFOLD, (DoubleBuffer) null, Reduce.SUM, null, DoubleBuffer.allocate(32)));
        assertTrue(x.getMessage().contains("input"), x.getMessage());
    }
}
