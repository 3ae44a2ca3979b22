package io.github.foldnd.internal;

import java.util.Arrays;

/**
 * Argument checks shared by the whole public surface of foldnd's modules. Each failure names the argument, the value
 * received and what was expected, and happens before any native call or large allocation: the
 * JavaCPP glue checks nothing, so a check missed here would be a JVM crash, not an exception.
 *
 * <p>Not API: {@code io.github.foldnd.internal} is exported only to foldnd's own modules
 * (foldnd-conv, foldnd-ffm), and may change in any release.
 */
public final class Check {
    /** The largest array the JVM reliably allocates (a few header words below Integer.MAX_VALUE). */
    public static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private Check() {}

    public static <T> T notNull(T value, String name) {
        if (value == null) throw new NullPointerException(name + " must not be null");
        return value;
    }

    public static IllegalArgumentException fail(String format, Object... args) {
        return new IllegalArgumentException(String.format(format, args));
    }

    /** The exact product of the values, or an exception naming what overflowed. */
    public static long product(long[] values, int from, int to, String what) {
        long p = 1;
        try {
            for (int i = from; i < to; i++) p = Math.multiplyExact(p, values[i]);
        } catch (ArithmeticException e) {
            throw fail("%s has more elements than a long can count, got %s", what, Arrays.toString(values));
        }
        return p;
    }

    public static long multiply(long a, long b, String what) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw fail("%s overflows a long (%d * %d)", what, a, b);
        }
    }

    /** An element count that must fit in a Java array allocated by the library. */
    public static int arrayLength(long length, String what) {
        if (length > MAX_ARRAY) {
            throw fail(
                    "%s would have %d elements, more than a Java array can hold (%d); use the buffer API",
                    what, length, MAX_ARRAY);
        }
        return (int) length;
    }

    public static void length(String name, int actual, long expected) {
        if (actual != expected) {
            throw fail("%s must have %d elements to match its shape, got %d", name, expected, actual);
        }
    }
}
