package io.github.foldnd;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.internal.NativeMemory;
import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Pointer;

/**
 * Captures each memory argument of a call once, at entry, and checks that capture: from then on the
 * call uses only what it captured, so another thread moving a buffer's or pointer's position or
 * limit during the call changes nothing that the kernels touch (time of check is time of use).
 *
 * <ul>
 *   <li>A buffer is captured as its position, read once. Its limit is read once too, and the
 *       call's elements must lie in [position, limit); since a buffer's capacity and base address
 *       never change, base + position then addresses memory the buffer owns, whatever happens next.
 *       The same holds for a heap buffer, whose array and array offset never change either:
 *       arrayOffset + position indexes elements of its array that it owns.
 *   <li>A JavaCPP pointer is captured as the address of its position, from its address, position,
 *       limit and capacity read once each: the position must be non-negative, the limit at or after
 *       it, and within the capacity when the capacity is known (a capacity of 0, as on a pointer
 *       from another library, means unknown: the limit is then trusted).
 * </ul>
 * Nothing here allocates, so the zero-copy paths stay at 0 bytes per call.
 */
final class Bounds {
    private Bounds() {}

    /** An input buffer: exactly {@code expected} elements from its position; returns that position. */
    static int input(Buffer buffer, String name, long expected) {
        return position(buffer, name, expected, false);
    }

    /** An output buffer: writable, at least {@code expected} elements from its position; returns that position. */
    static int output(Buffer buffer, String name, long expected) {
        return position(buffer, name, expected, true);
    }

    /** An input pointer: exactly {@code expected} elements from its position; returns their address. */
    static long input(Pointer pointer, String name, long expected, int elementBytes) {
        return address(pointer, name, expected, elementBytes, false);
    }

    /** An output pointer: at least {@code expected} elements from its position; returns their address. */
    static long output(Pointer pointer, String name, long expected, int elementBytes) {
        return address(pointer, name, expected, elementBytes, true);
    }

    /**
     * Refuses an output whose bytes overlap an input's: the kernels read inputs while they write,
     * so any shared byte would corrupt the result (or, for a pointer from another library, memory
     * the caller did not mean to hand in). Addresses of 0 are unknown and not compared.
     */
    static void disjoint(long output, long outputBytes, long input, long inputBytes, String inputName) {
        if (output != 0 && input != 0 && NativeMemory.overlap(output, outputBytes, input, inputBytes)) {
            throw fail(
                    "output must not overlap %s in memory (output: %d bytes at 0x%x, %s: %d bytes at 0x%x): "
                            + "fold/unfold do not work in place",
                    inputName, outputBytes, output, inputName, inputBytes, input);
        }
    }

    private static int position(Buffer buffer, String name, long expected, boolean output) {
        notNull(buffer, name);
        // A direct buffer's bytes are handed to the kernels as they are, so floating values must be
        // in native order; a heap buffer's values are read through its array or its get
        // (HeapFloatBuffers). Integer buffers only unfold, which moves bits in any order.
        ByteOrder order = buffer instanceof FloatBuffer f
                ? f.order()
                : buffer instanceof DoubleBuffer d ? d.order() : ByteOrder.nativeOrder();
        if (buffer.isDirect() && order != ByteOrder.nativeOrder()) {
            throw fail(
                    "%s must be in native byte order (%s), got %s (a direct buffer is read in place)",
                    name, ByteOrder.nativeOrder(), order);
        }
        if (output && buffer.isReadOnly()) throw fail("%s must be writable, got a read-only buffer", name);
        int position = buffer.position(), limit = buffer.limit(); // once each: see the class comment
        if (position > limit) {
            throw fail(
                    "%s must have its position at or before its limit, got position %d, limit %d "
                            + "(another thread moved them during the call)",
                    name, position, limit);
        }
        long n = limit - position;
        if (output ? n < expected : n != expected) {
            throw fail(
                    "%s must have %s%d elements remaining%s, got %d (position %d, limit %d)",
                    name, output ? "at least " : "", expected, output ? "" : " to match its shape", n, position, limit);
        }
        return position;
    }

    private static long address(Pointer pointer, String name, long expected, int elementBytes, boolean output) {
        notNull(pointer, name);
        long address = pointer.address(),
                position = pointer.position(),
                limit = pointer.limit(),
                capacity = pointer.capacity();
        if (address == 0) throw fail("%s must point to memory, got a null address", name);
        if (position < 0) throw fail("%s must have a non-negative position, got %d", name, position);
        if (limit < position) {
            throw fail(
                    "%s must have its limit at or after its position, got position %d, limit %d%s",
                    name,
                    position,
                    limit,
                    limit == 0 ? "; a pointer from another library has no known bounds until you call limit(n)" : "");
        }
        if (capacity != 0 && limit > capacity) {
            throw fail("%s must have its limit within its capacity, got limit %d, capacity %d", name, limit, capacity);
        }
        long n = limit - position;
        if (output ? n < expected : n != expected) {
            throw fail(
                    "%s must have %s%d elements between position and limit%s, got %d (position %d, limit %d)%s",
                    name,
                    output ? "at least " : "",
                    expected,
                    output ? "" : " to match its shape",
                    n,
                    position,
                    limit,
                    limit == 0 ? "; a pointer from another library has no known bounds until you call limit(n)" : "");
        }
        // The first and one-past-the-last byte must be addresses: no wrap-around past 2^64.
        long offset, end;
        try {
            offset = Math.multiplyExact(position, (long) elementBytes);
            end = Math.multiplyExact(limit, (long) elementBytes);
        } catch (ArithmeticException e) {
            throw fail("%s has a limit beyond any address, got position %d, limit %d", name, position, limit);
        }
        if (Long.compareUnsigned(address + end, address) < 0) {
            throw fail("%s has a limit beyond any address, got address 0x%x, limit %d", name, address, limit);
        }
        return address + offset;
    }
}
