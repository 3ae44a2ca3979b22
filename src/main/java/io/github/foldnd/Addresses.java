package io.github.foldnd;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Pointer;

/**
 * Native addresses of direct buffers, for the bounds snapshots and the overlap checks, and views
 * of captured addresses for the pure-Java engine. It extends JavaCPP's {@link Pointer} only to
 * reach its protected {@code getDirectBufferAddress}, a JNI call that allocates nothing, and its
 * protected fields; no instance of it is ever made.
 *
 * <p>A direct buffer's base address and capacity are fixed for its life, unlike its position and
 * limit, which another thread may move at any time: so a call captures the position and limit
 * once, checks them against the capacity, and from then on uses only base + position.
 */
final class Addresses extends Pointer {
    private static final class Holder {
        /** Whether JavaCPP's own native library loaded (its absence leaves only the pure-Java engine). */
        static final boolean AVAILABLE = load();

        private static boolean load() {
            try {
                return getDirectBufferAddress(java.nio.ByteBuffer.allocateDirect(1)) != 0;
            } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError: no JavaCPP natives here
                return false;
            }
        }
    }

    private Addresses() {
        throw new AssertionError("not instantiable");
    }

    /** True when addresses can be read (JavaCPP's native library loaded). */
    static boolean available() {
        return Holder.AVAILABLE;
    }

    /** The address of a direct buffer's element 0 (not of its position); 0 when it cannot be known. */
    static long base(Buffer direct) {
        return Holder.AVAILABLE ? getDirectBufferAddress(direct) : 0;
    }

    /** A direct buffer over n floats at address (n * 4 must fit in an int), native order. */
    static FloatBuffer floats(long address, long n) {
        return bytes(address, n * Float.BYTES).asFloatBuffer();
    }

    /** A direct buffer over n doubles at address (n * 8 must fit in an int), native order. */
    static DoubleBuffer doubles(long address, long n) {
        return bytes(address, n * Double.BYTES).asDoubleBuffer();
    }

    private static ByteBuffer bytes(long address, long n) {
        if (n > Integer.MAX_VALUE)
            throw new IllegalStateException("a view of " + n + " bytes; the caller splits larger spans");
        return new Span(address, n).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /** Exactly the bytes [address, address + n), owned by someone else (no deallocator). */
    private static final class Span extends Pointer {
        Span(long address, long n) {
            this.address = address;
            this.limit = n;
            this.capacity = n;
        }

        @Override
        public int sizeof() {
            return 1;
        }
    }

    /** True when [a, a + aBytes) and [b, b + bBytes) share a byte (empty ranges share none). */
    static boolean overlap(long a, long aBytes, long b, long bBytes) {
        if (aBytes <= 0 || bBytes <= 0) return false;
        // Unsigned: addresses are unsigned, and the ends never wrap (the spans were validated).
        return Long.compareUnsigned(a, b + bBytes) < 0 && Long.compareUnsigned(b, a + aBytes) < 0;
    }
}
