package io.github.foldnd.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.ElementType;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import io.github.foldnd.internal.NativeContract;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every refusal: the exception's type, and a message that names the argument. The call shape is
 * the seed example, image (1, 2, 3, 3) with a 2x2 kernel: 18 image elements, columns (1, 8, 4) = 32
 * elements, K = 4.
 */
class FoldSegmentsRefusalTest {
    static final long[] IMAGE = {1, 2, 3, 3}, COLUMNS = {1, 8, 4};
    static final int[] SIZE = {3, 3}, K = {2, 2}, ONE = {1, 1}, ZERO = {0, 0};

    static void unfold(MemorySegment in, ValueLayout type, MemorySegment out) {
        FoldSegments.unfold(in, type, IMAGE, K, ONE, ZERO, ONE, out);
    }

    static void fold(MemorySegment in, ValueLayout type, MemorySegment weights, MemorySegment out) {
        FoldSegments.fold(in, type, COLUMNS, SIZE, K, ONE, ZERO, ONE, Reduce.SUM, weights, out);
    }

    /** Asserts the call throws this type with every one of the fragments in its message. */
    static <T extends Throwable> T refused(Class<T> type, Executable call, String... fragments) {
        T e = assertThrows(type, call);
        for (String f : fragments) {
            assertTrue(
                    e.getMessage() != null && e.getMessage().contains(f),
                    "message lacks \"" + f + "\": " + e.getMessage());
        }
        return e;
    }

    static MemorySegment floats(int n) {
        return MemorySegment.ofArray(new float[n]);
    }

    @Test
    void elementTypes() {
        MemorySegment in = floats(18), out = floats(32);
        refused(NullPointerException.class, () -> unfold(in, null, out), "elementType");
        // unfold takes the integer layouts too (FoldSegmentsTypedUnfoldTest), fold float and double only
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(32), ValueLayout.JAVA_INT, null, out),
                "elementType",
                "int",
                "float or double");
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(32), ValueLayout.JAVA_SHORT, null, out),
                "elementType",
                "float16 and bfloat16");
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(32), ValueLayout.JAVA_BYTE, null, out),
                "elementType");
        refused(IllegalArgumentException.class, () -> unfold(in, ValueLayout.ADDRESS, out), "elementType");
        refused(IllegalArgumentException.class, () -> unfold(in, ValueLayout.JAVA_CHAR, out), "elementType", "char");
        ByteOrder other =
                ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        refused(
                IllegalArgumentException.class,
                () -> unfold(in, JAVA_FLOAT.withOrder(other), out),
                "elementType",
                "native byte order",
                other.toString());
        refused(
                IllegalArgumentException.class,
                () -> fold(MemorySegment.ofArray(new double[32]), JAVA_DOUBLE.withOrder(other), null, floats(18)),
                "elementType",
                "native byte order");
    }

    @Test
    void nullsAndGeometry() {
        MemorySegment in = floats(18), out = floats(32);
        refused(NullPointerException.class, () -> unfold(null, JAVA_FLOAT, out), "input");
        refused(NullPointerException.class, () -> unfold(in, JAVA_FLOAT, null), "output");
        refused(
                NullPointerException.class,
                () -> FoldSegments.unfold(in, JAVA_FLOAT, null, K, ONE, ZERO, ONE, out),
                "inputShape");
        refused(
                IllegalArgumentException.class,
                () -> FoldSegments.unfold(in, JAVA_FLOAT, IMAGE, new int[] {2, 0}, ONE, ZERO, ONE, out),
                "kernelSize");
        refused(
                IllegalArgumentException.class,
                () -> FoldSegments.unfold(in, JAVA_FLOAT, IMAGE, K, ONE, new int[] {-1, 0}, ONE, out),
                "padding");
        refused(
                IllegalArgumentException.class,
                () -> FoldSegments.unfold(in, JAVA_FLOAT, new long[] {1, 2, 3, 3, 3}, K, ONE, ZERO, ONE, out),
                "inputShape");
        refused(
                IllegalArgumentException.class,
                () -> FoldSegments.fold(
                        floats(32), JAVA_FLOAT, COLUMNS, new int[] {4, 4}, K, ONE, ZERO, ONE, Reduce.SUM, null, out),
                "inputShape[2]");
        refused(
                NullPointerException.class,
                () -> FoldSegments.fold(floats(32), JAVA_FLOAT, COLUMNS, SIZE, K, ONE, ZERO, ONE, null, null, out),
                "reduce");
    }

    @Test
    void sizes() {
        refused(
                IllegalArgumentException.class,
                () -> unfold(floats(17), JAVA_FLOAT, floats(32)),
                "input",
                "exactly 18");
        refused(
                IllegalArgumentException.class,
                () -> unfold(floats(19), JAVA_FLOAT, floats(32)),
                "input",
                "exactly 18");
        refused(
                IllegalArgumentException.class,
                () -> unfold(floats(18), JAVA_FLOAT, floats(31)),
                "output",
                "at least 32");
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(31), JAVA_FLOAT, null, floats(18)),
                "input",
                "exactly 32");
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(32), JAVA_FLOAT, null, floats(17)),
                "output",
                "at least 18");
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(32), JAVA_FLOAT, floats(3), floats(18)),
                "weights",
                "exactly 4");
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(32), JAVA_FLOAT, floats(5), floats(18)),
                "weights",
                "exactly 4");
        // a native input one byte short
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(18 * 4 - 1, 4);
            refused(IllegalArgumentException.class, () -> unfold(in, JAVA_FLOAT, floats(32)), "input", "71 bytes");
        }
    }

    @Test
    void readOnlyOutput() {
        refused(
                IllegalArgumentException.class,
                () -> unfold(floats(18), JAVA_FLOAT, floats(32).asReadOnly()),
                "output must be writable");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_FLOAT, 18).asReadOnly();
            refused(
                    IllegalArgumentException.class,
                    () -> fold(arena.allocate(JAVA_FLOAT, 32), JAVA_FLOAT, null, out),
                    "output must be writable");
        }
    }

    @Test
    void overlap() {
        // the same native memory
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = arena.allocate(JAVA_FLOAT, 64);
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(all.asSlice(0, 72), JAVA_FLOAT, all.asSlice(60)),
                    "output must not overlap input");
            refused(
                    IllegalArgumentException.class,
                    () -> fold(all.asSlice(0, 128), JAVA_FLOAT, null, all.asSlice(124, 72)),
                    "output must not overlap input");
            refused(
                    IllegalArgumentException.class,
                    () -> fold(all.asSlice(0, 128), JAVA_FLOAT, all.asSlice(128 + 60, 16), all.asSlice(128)),
                    "output must not overlap weights");
            // adjacent is fine; and so is output overlapping only its unused tail
            unfold(all.asSlice(0, 72), JAVA_FLOAT, all.asSlice(72, 128));
            MemorySegment region = arena.allocate(JAVA_FLOAT, 18 + 32);
            unfold(region.asSlice(32 * 4), JAVA_FLOAT, region);
            // read-only views of the same memory still overlap
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(all.asSlice(0, 72).asReadOnly(), JAVA_FLOAT, all.asSlice(40)),
                    "output must not overlap input");
        }
        // the same heap array, intersecting ranges
        float[] array = new float[64];
        MemorySegment heap = MemorySegment.ofArray(array);
        refused(
                IllegalArgumentException.class,
                () -> unfold(heap.asSlice(4, 72), JAVA_FLOAT, heap.asSlice(72)),
                "output must not overlap input");
        refused(
                IllegalArgumentException.class,
                () -> fold(heap.asSlice(0, 128), JAVA_FLOAT, heap.asSlice(128, 16), heap.asSlice(136, 72)),
                "output must not overlap weights");
        // the same array, disjoint ranges: fine; weights may share the input's memory
        unfold(heap.asSlice(0, 72), JAVA_FLOAT, heap.asSlice(72, 128));
        float[] both = new float[32 + 18];
        MemorySegment b = MemorySegment.ofArray(both);
        fold(b.asSlice(0, 128), JAVA_FLOAT, b.asSlice(0, 16), b.asSlice(128));
    }

    @Test
    void heapArraysOfTheWrongType() {
        refused(
                IllegalArgumentException.class,
                () -> unfold(floats(36), JAVA_DOUBLE, MemorySegment.ofArray(new double[32])),
                "input",
                "double[]",
                "float[]");
        refused(
                IllegalArgumentException.class,
                () -> unfold(floats(18), JAVA_FLOAT, MemorySegment.ofArray(new int[32])),
                "output",
                "int[]");
        refused(
                IllegalArgumentException.class,
                () -> unfold(MemorySegment.ofArray(new byte[72]), JAVA_FLOAT, floats(32)),
                "input",
                "byte[]");
        refused(
                IllegalArgumentException.class,
                () -> unfold(MemorySegment.ofArray(new long[9]), JAVA_DOUBLE, MemorySegment.ofArray(new double[16])),
                "input",
                "long[]");
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(32), JAVA_FLOAT, MemorySegment.ofArray(new int[4]), floats(18)),
                "weights",
                "int[]");
    }

    @Test
    void alignment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment raw = arena.allocate(4096, 16);
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(raw.asSlice(2, 72), JAVA_FLOAT, raw.asSlice(1024, 128)),
                    "input must be aligned to 4 bytes");
            refused(
                    IllegalArgumentException.class,
                    () -> unfold(raw.asSlice(4, 144), JAVA_DOUBLE, raw.asSlice(1024, 256)),
                    "input must be aligned to 8 bytes");
            refused(
                    IllegalArgumentException.class,
                    () -> fold(raw.asSlice(0, 128), JAVA_FLOAT, null, raw.asSlice(1025, 72)),
                    "output must be aligned to 4 bytes");
            refused(
                    IllegalArgumentException.class,
                    () -> fold(raw.asSlice(0, 128), JAVA_FLOAT, raw.asSlice(513, 16), raw.asSlice(1024, 72)),
                    "weights must be aligned to 4 bytes");
        }
        // a float[] segment at an offset that is no multiple of 4
        MemorySegment heap = floats(40);
        refused(
                IllegalArgumentException.class,
                () -> unfold(heap.asSlice(2, 72), JAVA_FLOAT, floats(32)),
                "input must be aligned to 4 bytes");
    }

    @Test
    void closedArenas() {
        Arena arena = Arena.ofShared();
        MemorySegment in = arena.allocate(JAVA_FLOAT, 32), w = arena.allocate(JAVA_FLOAT, 4);
        MemorySegment out = arena.allocate(JAVA_FLOAT, 18);
        arena.close();
        refused(
                IllegalStateException.class,
                () -> unfold(in.asSlice(0, 72), JAVA_FLOAT, floats(32)),
                "input's arena is closed");
        refused(IllegalStateException.class, () -> fold(floats(32), JAVA_FLOAT, null, out), "output's arena is closed");
        refused(
                IllegalStateException.class,
                () -> fold(floats(32), JAVA_FLOAT, w, floats(18)),
                "weights' arena is closed");
        Arena confined = Arena.ofConfined();
        MemorySegment c = confined.allocate(JAVA_FLOAT, 32);
        confined.close();
        refused(IllegalStateException.class, () -> fold(c, JAVA_FLOAT, null, floats(18)), "input's arena is closed");
    }

    @Test
    void confinedSegmentsOfAnotherThread() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(JAVA_FLOAT, 18), out = arena.allocate(JAVA_FLOAT, 32);
            float[] expected = new float[32];
            Throwable t = CompletableFuture.supplyAsync(() -> {
                        try {
                            unfold(in, JAVA_FLOAT, floats(32));
                            return null;
                        } catch (Throwable e) {
                            return e;
                        }
                    })
                    .get();
            assertTrue(t instanceof WrongThreadException && t.getMessage().startsWith("input "), String.valueOf(t));
            t = CompletableFuture.supplyAsync(() -> {
                        try {
                            unfold(floats(18), JAVA_FLOAT, out);
                            return null;
                        } catch (Throwable e) {
                            return e;
                        }
                    })
                    .get();
            assertTrue(t instanceof WrongThreadException && t.getMessage().startsWith("output "), String.valueOf(t));
            // on the owner thread, fine
            unfold(in, JAVA_FLOAT, out);
            assertArrayEquals(expected, out.toArray(JAVA_FLOAT));
        }
    }

    /** A refused call writes nothing. */
    @Test
    void aRefusedCallWritesNothing() {
        float[] out = new float[32];
        java.util.Arrays.fill(out, 7f);
        refused(
                IllegalArgumentException.class,
                () -> fold(floats(32), JAVA_FLOAT, floats(5), MemorySegment.ofArray(out)),
                "weights");
        for (float v : out) assertTrue(v == 7f);
    }

    /** The core's NativeContract takes its implementation from io.github.foldnd only. */
    @Test
    void noOtherPackageCanReplaceTheNativeContract() {
        NativeContract.Access fake = new NativeContract.Access() {
            @Override
            public long[] descriptor(FoldGeometry geometry) {
                return new long[] {1, 1, 1, 0, 1_000_000, 1, 1, 0, 1};
            }

            @Override
            public int code(Reduce reduce) {
                return 0;
            }

            @Override
            public String statusName(int status) {
                return "OK";
            }

            @Override
            public boolean nativeAvailable() {
                return false;
            }

            @Override
            public int convolve(NativeContract.ConvPass pass) {
                return 0;
            }

            @Override
            public int convolveArrays(NativeContract.ConvArrays pass) {
                return 0;
            }

            @Override
            public int convTiledPlan(
                    ElementType type,
                    int pass,
                    FoldGeometry x,
                    long outChannels,
                    long groups,
                    int threads,
                    long[] plan) {
                return 0;
            }

            @Override
            public long convScratchPeak(boolean reset) {
                return 0;
            }
        };
        refused(IllegalArgumentException.class, () -> NativeContract.install(fake), "FoldGeometry only");
    }
}
