package io.github.foldnd;

import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;

/**
 * Argument checks shared by the whole public surface. Each failure names the argument, the value
 * received and what was expected, and happens before any native call or large allocation: the
 * JavaCPP glue checks nothing, so a check missed here would be a JVM crash, not an exception.
 */
final class Check {
    /** The largest array the JVM reliably allocates (a few header words below Integer.MAX_VALUE). */
    static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private Check() {}

    static <T> T notNull(T value, String name) {
        if (value == null) throw new NullPointerException(name + " must not be null");
        return value;
    }

    static IllegalArgumentException fail(String format, Object... args) {
        return new IllegalArgumentException(String.format(format, args));
    }

    /** The exact product of the values, or an exception naming what overflowed. */
    static long product(long[] values, int from, int to, String what) {
        long p = 1;
        try {
            for (int i = from; i < to; i++) p = Math.multiplyExact(p, values[i]);
        } catch (ArithmeticException e) {
            throw fail("%s has more elements than a long can count, got %s", what, Arrays.toString(values));
        }
        return p;
    }

    static long multiply(long a, long b, String what) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw fail("%s overflows a long (%d * %d)", what, a, b);
        }
    }

    /** An element count that must fit in a Java array allocated by the library. */
    static int arrayLength(long length, String what) {
        if (length > MAX_ARRAY) {
            throw fail("%s would have %d elements, more than a Java array can hold (%d); use the buffer API",
                    what, length, MAX_ARRAY);
        }
        return (int) length;
    }

    static void length(String name, int actual, long expected) {
        if (actual != expected) {
            throw fail("%s must have %d elements to match its shape, got %d", name, expected, actual);
        }
    }

    /**
     * Input memory, a direct buffer or a JavaCPP pointer: exactly {@code expected} elements between
     * position and limit (buffers also direct and in native order).
     */
    static void input(Object memory, String name, long expected) {
        notNull(memory, name);
        if (memory instanceof Pointer pointer) {
            long n = elements(pointer, name);
            if (n != expected) {
                throw fail("%s must have %d elements between position and limit to match its shape, got %d (position %d, limit %d)%s",
                        name, expected, n, pointer.position(), pointer.limit(), limitHint(pointer));
            }
            return;
        }
        Buffer buffer = (Buffer) memory;
        direct(buffer, name);
        if (buffer.remaining() != expected) {
            throw fail("%s must have %d elements remaining to match its shape, got %d (position %d, limit %d)",
                    name, expected, buffer.remaining(), buffer.position(), buffer.limit());
        }
    }

    /** Output memory: as input, but writable and with at least {@code expected} elements. */
    static void output(Object memory, String name, long expected) {
        notNull(memory, name);
        if (memory instanceof Pointer pointer) {
            long n = elements(pointer, name);
            if (n < expected) {
                throw fail("%s must have at least %d elements between position and limit, got %d (position %d, limit %d)%s",
                        name, expected, n, pointer.position(), pointer.limit(), limitHint(pointer));
            }
            return;
        }
        Buffer buffer = (Buffer) memory;
        direct(buffer, name);
        if (buffer.isReadOnly()) throw fail("%s must be writable, got a read-only buffer", name);
        if (buffer.remaining() < expected) {
            throw fail("%s must have at least %d elements remaining, got %d (position %d, limit %d)",
                    name, expected, buffer.remaining(), buffer.position(), buffer.limit());
        }
    }

    /** The element count a pointer promises: its memory beyond the limit is never touched. */
    private static long elements(Pointer pointer, String name) {
        if (pointer.isNull()) throw fail("%s must point to memory, got a null address", name);
        return Math.max(0, pointer.limit() - pointer.position());
    }

    private static String limitHint(Pointer pointer) {
        return pointer.limit() == 0 ? "; a pointer from another library has no known bounds until you call limit(n)" : "";
    }

    private static void direct(Buffer buffer, String name) {
        ByteOrder order = buffer instanceof FloatBuffer f ? f.order() : ((DoubleBuffer) buffer).order();
        if (!buffer.isDirect()) {
            throw fail("%s must be a direct buffer (ByteBuffer.allocateDirect(..).order(ByteOrder.nativeOrder())), got a heap buffer", name);
        }
        if (order != ByteOrder.nativeOrder()) {
            throw fail("%s must be in native byte order (%s), got %s", name, ByteOrder.nativeOrder(), order);
        }
    }

    /** Two buffers handed to one call must not be the same object (the kernels do not work in place). */
    static void distinct(Object input, Object output) {
        if (input == output) throw fail("output must not be the same buffer as input: fold/unfold do not work in place");
        if (input instanceof Pointer a && output instanceof Pointer b && a.address() == b.address() && a.position() == b.position()
                && a.sizeof() == b.sizeof()) {
            throw fail("output must not be the same buffer as input (both point to address %d): fold/unfold do not work in place",
                    a.address() + a.position() * a.sizeof());
        }
    }
}
