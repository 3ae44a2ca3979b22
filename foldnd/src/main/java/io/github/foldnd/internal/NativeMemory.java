package io.github.foldnd.internal;

import java.nio.Buffer;
import org.bytedeco.javacpp.Pointer;

/**
 * Addresses of direct buffers, for the bounds snapshots and the overlap checks of every foldnd
 * module. It extends JavaCPP's {@link Pointer} only to reach its protected
 * {@code getDirectBufferAddress}, a JNI call that allocates nothing; no instance is ever made.
 *
 * <p>A direct buffer's base address and capacity are fixed for its life, unlike its position and
 * limit, which another thread may move at any time: so a call captures the position and limit
 * once, checks them against the capacity, and from then on uses only base + position.
 *
 * <p>Not API: {@code io.github.foldnd.internal} is exported only to foldnd's own modules.
 */
public final class NativeMemory extends Pointer {
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

    private NativeMemory() {
        throw new AssertionError("not instantiable");
    }

    /** True when addresses can be read (JavaCPP's native library loaded). */
    public static boolean available() {
        return Holder.AVAILABLE;
    }

    /** The address of a direct buffer's element 0 (not of its position); 0 when it cannot be known. */
    public static long base(Buffer direct) {
        return Holder.AVAILABLE ? getDirectBufferAddress(direct) : 0;
    }

    /** True when [a, a + aBytes) and [b, b + bBytes) share a byte (empty ranges share none). */
    public static boolean overlap(long a, long aBytes, long b, long bBytes) {
        if (aBytes <= 0 || bBytes <= 0) return false;
        // Unsigned: addresses are unsigned, and the ends never wrap (the spans were validated).
        return Long.compareUnsigned(a, b + bBytes) < 0 && Long.compareUnsigned(b, a + aBytes) < 0;
    }
}
