package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The memory-safety promise tried as a hostile caller would: another thread moves positions and
 * limits during the calls, pointers lie about their bounds. Guard zones around every output, in
 * the same allocation, must stay untouched, and every call must either succeed or throw
 * IllegalArgumentException. Anything else (another exception, a written guard, a crash) fails.
 */
class BoundaryAttackTest {
    private static final int GUARD = 64, CALLS = 4000;
    private static final float SENTINEL = -7.25f;
    /** unfold of a (1, 2, 4, 4) image with a 2x2 kernel: 32 in, 72 out. */
    private static final FoldGeometry UNFOLD =
            FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 4, 4);

    private static final FoldGeometry FOLD =
            FoldGeometry.builder().kernelSize(2, 2).forFold(new long[] {1, 8, 9}, 4, 4);

    /** Runs calls while a racer thread moves bounds; returns the first unexpected throwable (null: none). */
    private static Throwable race(Runnable call, Runnable move) throws InterruptedException {
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread racer = new Thread(() -> {
            while (!done.get()) move.run();
        });
        racer.start();
        try {
            for (int i = 0; i < CALLS && failure.get() == null; i++) {
                try {
                    call.run();
                } catch (IllegalArgumentException refused) {
                    // a validated refusal of an inconsistent capture: fine
                } catch (Throwable t) {
                    failure.set(t);
                }
            }
        } finally {
            done.set(true);
            racer.join();
        }
        return failure.get();
    }

    private static void fill(FloatBuffer b, float v) {
        for (int i = 0; i < b.capacity(); i++) b.put(i, v);
    }

    private static void assertGuards(FloatBuffer whole, int from, int to, String what) {
        for (int i = 0; i < whole.capacity(); i++) {
            if (i < from || i >= to)
                assertEquals(SENTINEL, whole.get(i), what + ": guard element " + i + " was written");
        }
    }

    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void racingBufferBoundsNeverMoveAWriteOutsideTheBuffer(Engine e) throws Exception {
        for (boolean fold : new boolean[] {false, true}) {
            FoldGeometry g = fold ? FOLD : UNFOLD;
            int in = (int) (fold ? g.columnLength() : g.imageLength()),
                    out = (int) (fold ? g.imageLength() : g.columnLength());
            int span = out + 31; // the output slice: room for positions 0..31
            FloatBuffer whole = ByteBuffer.allocateDirect((GUARD + span + GUARD) * 4)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            fill(whole, SENTINEL);
            FloatBuffer output = whole.slice(GUARD, span);
            FloatBuffer input = ByteBuffer.allocateDirect(in * 4)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            for (int i = 0; i < in; i++) input.put(i, i);
            Random r = new Random(42);
            Throwable failure = race(
                    fold ? () -> e.fold(g, input, Reduce.SUM, null, output) : () -> e.unfold(g, input, output), () -> {
                        int p = r.nextInt(32);
                        output.limit(r.nextInt(4) == 0 ? r.nextInt(span + 1) : span); // may drop below the position
                        output.position(Math.min(p, output.limit()));
                    });
            assertEquals(null, failure, () -> e + " fold=" + fold + ": unexpected " + failure);
            assertGuards(whole, GUARD, GUARD + span, e + " fold=" + fold);
        }
    }

    /**
     * The same race on heap outputs: one over part of an array (used in place, from its array
     * offset), and a view of a heap ByteBuffer (no array: computed into a copy, then copied out).
     * The guards are the rest of the same array or bytes.
     */
    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void racingHeapBufferBoundsNeverMoveAWriteOutsideTheBuffer(Engine e) throws Exception {
        for (boolean fold : new boolean[] {false, true}) {
            for (boolean view : new boolean[] {false, true}) {
                FoldGeometry g = fold ? FOLD : UNFOLD;
                int in = (int) (fold ? g.columnLength() : g.imageLength()),
                        out = (int) (fold ? g.imageLength() : g.columnLength());
                int span = out + 31;
                FloatBuffer whole, output;
                if (view) {
                    ByteBuffer bytes = ByteBuffer.allocate((GUARD + span + GUARD) * 4);
                    whole = bytes.asFloatBuffer();
                    output = bytes.slice(GUARD * 4, span * 4).asFloatBuffer();
                } else {
                    whole = FloatBuffer.wrap(new float[GUARD + span + GUARD]);
                    output = whole.slice(GUARD, span);
                }
                fill(whole, SENTINEL);
                FloatBuffer input = FloatBuffer.allocate(in);
                for (int i = 0; i < in; i++) input.put(i, i);
                Random r = new Random(43);
                Throwable failure = race(
                        fold ? () -> e.fold(g, input, Reduce.SUM, null, output) : () -> e.unfold(g, input, output),
                        () -> {
                            int p = r.nextInt(32);
                            output.limit(r.nextInt(4) == 0 ? r.nextInt(span + 1) : span);
                            output.position(Math.min(p, output.limit()));
                        });
                String what = e + " fold=" + fold + " view=" + view;
                assertEquals(null, failure, () -> what + ": unexpected " + failure);
                assertGuards(whole, GUARD, GUARD + span, what);
            }
        }
    }

    /**
     * A racing heap input, over part of an array (in place) or a view (copied in): the call reads
     * only the elements from the position it captured. The rest of the array holds a marker that
     * an unfold would copy into its output had it read there.
     */
    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void racingHeapInputBoundsNeverMoveAReadOutsideTheBuffer(Engine e) throws Exception {
        float marker = 1e30f;
        for (boolean view : new boolean[] {false, true}) {
            int span = 32 + 31;
            FloatBuffer whole, input;
            if (view) {
                ByteBuffer bytes =
                        ByteBuffer.allocate((GUARD + span + GUARD) * 4).order(ByteOrder.nativeOrder());
                whole = bytes.asFloatBuffer();
                input = bytes.slice(GUARD * 4, span * 4)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
            } else {
                whole = FloatBuffer.wrap(new float[GUARD + span + GUARD]);
                input = whole.slice(GUARD, span);
            }
            fill(whole, marker);
            for (int i = 0; i < span; i++) input.put(i, i);
            FloatBuffer output = FloatBuffer.allocate(72);
            Random r = new Random(44);
            Throwable failure = race(
                    () -> {
                        e.unfold(UNFOLD, input, output);
                        for (int i = 0; i < 72; i++) {
                            if (output.get(i) == marker) throw new AssertionError("read outside the input");
                        }
                    },
                    () -> {
                        int p = r.nextInt(32);
                        input.limit(r.nextInt(4) == 0 ? r.nextInt(span + 1) : p + 32); // mostly exactly 32 elements
                        input.position(Math.min(p, input.limit()));
                    });
            assertEquals(null, failure, () -> e + " view=" + view + ": unexpected " + failure);
        }
    }

    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void racingPointerBoundsNeverMoveAWriteOutsideThePointer(Engine e) throws Exception {
        int span = 72 + 31;
        FloatPointer memory = new FloatPointer(GUARD + span + GUARD);
        FloatBuffer whole = memory.asBuffer();
        fill(whole, SENTINEL);
        FloatPointer output = memory.getPointer(GUARD);
        output.capacity(span).limit(span);
        FloatPointer input = new FloatPointer(32);
        for (int i = 0; i < 32; i++) input.put(i, i);
        Random r = new Random(7);
        Throwable failure = race(() -> e.unfold(UNFOLD, input, output), () -> {
            output.position(r.nextInt(4) == 0 ? -1 - r.nextInt(GUARD) : r.nextInt(32)); // negative: before the memory
            output.limit(r.nextInt(4) == 0 ? r.nextInt(2 * span) : span); // beyond the capacity, or below the position
        });
        assertEquals(null, failure, () -> e + ": unexpected " + failure);
        assertGuards(whole, GUARD, GUARD + span, e.toString());
        memory.close();
        input.close();
    }

    /** The README promises that positions and limits are left as they were. */
    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void callsLeavePositionsAndLimitsAsTheyWere(Engine e) {
        FloatBuffer in = ByteBuffer.allocateDirect(40 * 4)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer()
                .position(3)
                .limit(35);
        FloatBuffer out = ByteBuffer.allocateDirect(90 * 4)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer()
                .position(5)
                .limit(80);
        e.unfold(UNFOLD, in, out);
        assertEquals(List.of(3, 35, 5, 80), List.of(in.position(), in.limit(), out.position(), out.limit()));
        e.fold(UNFOLD, out.position(5).limit(77), Reduce.MEAN, null, in);
        assertEquals(List.of(3, 35, 5, 77), List.of(in.position(), in.limit(), out.position(), out.limit()));
        FloatPointer pin = new FloatPointer(40).position(2).limit(34),
                pout = new FloatPointer(90).position(9).limit(85);
        e.unfold(UNFOLD, pin, pout);
        assertEquals(List.of(2L, 34L, 9L, 85L), List.of(pin.position(), pin.limit(), pout.position(), pout.limit()));
        e.fold(UNFOLD, pout.limit(81), Reduce.MAX, null, pin);
        assertEquals(List.of(2L, 34L, 9L, 81L), List.of(pin.position(), pin.limit(), pout.position(), pout.limit()));
    }

    /** A pointer from another library: capacity 0 means unknown, so its limit is trusted (as documented). */
    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void foreignPointersAreBoundedByTheirLimit(Engine e) {
        FloatPointer memory = new FloatPointer(GUARD + 72 + GUARD);
        FloatBuffer whole = memory.asBuffer();
        fill(whole, SENTINEL);
        FloatPointer foreign = new FloatPointer(memory.getPointer(GUARD))
                .capacity(0)
                .position(0)
                .limit(72);
        e.unfold(UNFOLD, new FloatPointer(32).fill(0), foreign);
        assertGuards(whole, GUARD, GUARD + 72, e.toString());
        memory.close();
    }

    /**
     * Every heap-array call larger than NativeEngine.CRITICAL_BYTES is cut into parts of about that
     * size (whole work items of the kernels, the same number for each thread), each in its own
     * critical region, so no region holds the GC for long; and the parts give the whole call's
     * result, bit for bit.
     */
    @Test
    void heapArrayCallsHoldCriticalRegionsForBoundedWork() {
        Engine e = Engine.nativeEngine().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(e != null, "no native engine on this platform");
        // (-Xcheck:jni copies each array that a critical region pins, so parts cost a copy each here: keep these
        // small.)
        List<FoldGeometry> geometries = List.of(
                FoldGeometry.builder().kernelSize(3, 3).padding(1, 1).forUnfold(16, 16, 56, 56), // many small planes
                FoldGeometry.builder()
                        .kernelSize(3, 3)
                        .padding(1, 1)
                        .forUnfold(16, 16, 56, 56)
                        .withColumnLayout(ColumnLayout.BATCH_FUSED),
                FoldGeometry.builder().kernelSize(3, 3).padding(1, 1).forUnfold(1, 1, 700, 700), // one large plane
                FoldGeometry.builder().kernelSize(16).stride(8).forUnfold(1, 2, 1_200_000)); // 1-d
        for (FoldGeometry g : geometries) {
            long[] d = g.descriptor();
            for (int bytes : new int[] {Float.BYTES, Double.BYTES}) {
                long total = (g.imageLength() + g.columnLength()) * bytes;
                assertTrue(total > NativeEngine.CRITICAL_BYTES, g + " is too small to be cut");
                for (long items : new long[] {
                    NativeKernels.unfoldItems(d, d.length, bytes), NativeKernels.foldItems(d, d.length, bytes, 2)
                }) {
                    long perItem = total / items, perRegion = NativeEngine.itemsPerRegion(total, items, 2);
                    assertTrue(perItem <= NativeEngine.CRITICAL_BYTES, g + ": items of " + perItem + " bytes");
                    assertEquals(0, perRegion % 2, g + ": regions of " + perRegion + " items on 2 threads");
                    assertTrue(
                            perRegion == 2 || perRegion * perItem <= NativeEngine.CRITICAL_BYTES,
                            g + ": a region covers " + perRegion * perItem + " bytes");
                    assertTrue(perRegion * perItem > NativeEngine.CRITICAL_BYTES / 2, g + ": regions needlessly small");
                }
            }
            double[] image = new double[(int) g.imageLength()];
            Random r = new Random(3);
            for (int i = 0; i < image.length; i++) image[i] = r.nextInt(1000) / 8.0;
            double[] columns = e.unfold(g, image);
            assertArrayEquals(Engine.pureJava().unfold(g, image), columns, g + " unfold");
            for (Reduce reduce : Reduce.values()) {
                assertArrayEquals(
                        Engine.pureJava().fold(g, columns, reduce, null),
                        e.fold(g, columns, reduce, null),
                        g + " fold " + reduce);
            }
        }
    }

    /**
     * Pointers beyond what one Java buffer can view (2^31 - 1 bytes): the pure-Java engine goes
     * plane by plane and gives the native engine's result bit for bit. Columns of 540M floats
     * (2.16 GB) from a (60, 1000, 1000) image with 3x3 blocks; then folded back (MEAN).
     */
    @Test
    void pureJavaEngineHandlesPointersBeyondTwoGigabytes() {
        Engine n = Engine.nativeEngine().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(n != null, "no native engine to compare with");
        FoldGeometry g = FoldGeometry.builder().kernelSize(3, 3).padding(1, 1).forUnfold(60, 1000, 1000);
        assertTrue(g.columnLength() * Float.BYTES > Integer.MAX_VALUE);
        try (FloatPointer image = new FloatPointer(g.imageLength());
                FloatPointer javaColumns = new FloatPointer(g.columnLength());
                FloatPointer nativeColumns = new FloatPointer(g.columnLength())) {
            FloatBuffer img = image.asBuffer();
            for (int i = 0; i < img.capacity(); i++) img.put(i, (i * 31 % 1009) / 8f);
            Engine.pureJava().unfold(g, image, javaColumns);
            n.unfold(g, image, nativeColumns);
            assertSame(javaColumns, nativeColumns, g.columnLength(), "unfold");
            try (FloatPointer javaImage = new FloatPointer(g.imageLength());
                    FloatPointer nativeImage = new FloatPointer(g.imageLength())) {
                Engine.pureJava().fold(g, javaColumns, Reduce.MEAN, null, javaImage);
                n.fold(g, nativeColumns, Reduce.MEAN, null, nativeImage);
                assertSame(javaImage, nativeImage, g.imageLength(), "fold");
            }
        }
    }

    /** Element-wise, bit for bit, a view of at most 2^28 floats at a time. */
    private static void assertSame(FloatPointer a, FloatPointer b, long n, String what) {
        for (long at = 0; at < n; at += 1 << 28) {
            int len = (int) Math.min(1 << 28, n - at);
            FloatBuffer x = a.getPointer(at).capacity(len).limit(len).asBuffer(),
                    y = b.getPointer(at).capacity(len).limit(len).asBuffer();
            assertEquals(-1, x.mismatch(y), what + ": first difference in the chunk at " + at);
        }
    }

    /** A single plane that no Java array can hold: refused by the pure-Java engine before any access. */
    @Test
    void pureJavaEngineRefusesAPlaneItCannotHold() {
        FoldGeometry g = FoldGeometry.forUnfold(
                new long[] {1, 1L << 29}, new int[] {1}, new int[] {1}, new int[] {0}, new int[] {1});
        FloatPointer small = new FloatPointer(4);
        // Capacity 0, as from another library: the limits are trusted, and must never be reached.
        FloatPointer in = new FloatPointer(small).capacity(0).position(0).limit(1L << 29);
        // 4 GB further on: never touched, and far enough that the two trusted spans do not overlap.
        FloatPointer out = new FloatPointer(small.getPointer(1L << 30))
                .capacity(0)
                .position(0)
                .limit(1L << 29);
        IllegalArgumentException x = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> Engine.pureJava().unfold(g, in, out));
        assertTrue(x.getMessage().contains("the pure-Java engine handles planes of at most"), x.getMessage());
    }
}
