package io.github.foldnd.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Test support: segments of every kind holding given values, with guard elements around the region
 * a call may use, so that a test sees any write outside it.
 */
final class Segments implements AutoCloseable {
    /** Guard elements before and after a region. */
    static final int GUARD = 3;

    static final double SENTINEL = -12345.5;

    /** Where a segment lives. */
    enum Where {
        CONFINED,
        SHARED,
        AUTO,
        GLOBAL,
        /** A heap segment over a whole array, exactly the region (no guards). */
        HEAP,
        /** A heap segment over part of an array, at a nonzero offset. */
        HEAP_SLICE;

        boolean heap() {
            return this == HEAP || this == HEAP_SLICE;
        }
    }

    /** Where a call's input, output and weights live. */
    enum Placement {
        CONFINED(Where.CONFINED, Where.CONFINED, Where.CONFINED),
        SHARED(Where.SHARED, Where.SHARED, Where.SHARED),
        AUTO(Where.AUTO, Where.AUTO, Where.AUTO),
        GLOBAL(Where.GLOBAL, Where.GLOBAL, Where.GLOBAL),
        HEAP(Where.HEAP, Where.HEAP, Where.HEAP),
        HEAP_SLICE(Where.HEAP_SLICE, Where.HEAP_SLICE, Where.HEAP_SLICE),
        HEAP_INPUT_NATIVE_OUTPUT(Where.HEAP_SLICE, Where.CONFINED, Where.HEAP),
        NATIVE_INPUT_HEAP_OUTPUT(Where.SHARED, Where.HEAP_SLICE, Where.CONFINED),
        NATIVE_WITH_HEAP_WEIGHTS(Where.CONFINED, Where.SHARED, Where.HEAP_SLICE);
        final Where input, output, weights;

        Placement(Where input, Where output, Where weights) {
            this.input = input;
            this.output = output;
            this.weights = weights;
        }
    }

    /** A region of n elements in a larger segment, {@code before} guards ahead and {@code after} behind. */
    record Region(MemorySegment whole, ValueLayout type, int before, int n, int after) {
        /** The segment a call gets: the region, and for an output the guards after it too. */
        MemorySegment view(boolean withTail) {
            long size = type.byteSize();
            return whole.asSlice(before * size, (n + (withTail ? after : 0)) * size);
        }

        double get(int i) {
            return type == ValueLayout.JAVA_FLOAT
                    ? whole.getAtIndex(ValueLayout.JAVA_FLOAT, i)
                    : whole.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
        }

        /** The region's values, after checking that every guard still holds the sentinel. */
        double[] contents() {
            for (int i = 0; i < before; i++) assertEquals(SENTINEL, get(i), "write before the region");
            for (int i = 0; i < after; i++) assertEquals(SENTINEL, get(before + n + i), "write after the region");
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = get(before + i);
            return v;
        }
    }

    private final Arena confined = Arena.ofConfined(), shared = Arena.ofShared();

    /** A region of values (null: sentinels) of the element type, in the given memory. */
    Region region(Where where, ValueLayout type, double[] values, int n) {
        boolean f = type == ValueLayout.JAVA_FLOAT;
        int guard = where == Where.HEAP ? 0 : GUARD, before = guard, after = guard, total = before + n + after;
        MemorySegment whole = switch (where) {
            case CONFINED -> confined.allocate(type, total);
            case SHARED -> shared.allocate(type, total);
            case AUTO -> Arena.ofAuto().allocate(type, total);
            case GLOBAL -> Arena.global().allocate(type, total);
            case HEAP, HEAP_SLICE ->
                f ? MemorySegment.ofArray(new float[total]) : MemorySegment.ofArray(new double[total]);
        };
        for (int i = 0; i < total; i++) {
            double v = values != null && i >= before && i < before + n ? values[i - before] : SENTINEL;
            if (f) whole.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
            else whole.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        }
        return new Region(whole, type, before, n, after);
    }

    @Override
    public void close() {
        confined.close();
        shared.close();
    }
}
