package io.github.foldnd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Pointer;

/**
 * Views of captured native addresses for the pure-Java engine: direct buffers over exactly the
 * span a call captured and checked (see {@code Bounds}), never the caller's own buffer, whose
 * position and limit another thread may move. Addresses themselves come from
 * {@link io.github.foldnd.internal.NativeMemory}.
 */
final class Addresses {
    private Addresses() {}

    /** A direct buffer over n floats at address (n * 4 must fit in an int), native order. */
    static FloatBuffer floats(long address, long n) {
        return bytes(address, n * Float.BYTES).asFloatBuffer();
    }

    /** A direct buffer over n doubles at address (n * 8 must fit in an int), native order. */
    static DoubleBuffer doubles(long address, long n) {
        return bytes(address, n * Double.BYTES).asDoubleBuffer();
    }

    /** A direct buffer over n bytes at address (n must fit in an int), native order. */
    static ByteBuffer bytes(long address, long n) {
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
}
