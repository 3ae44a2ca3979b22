package io.github.foldnd;

/**
 * The element types of memory that foldnd reads and writes as raw bytes ({@code ByteBuffer}s,
 * JavaCPP pointers, {@code FoldSegments}): integers of 1, 2, 4 and 8 bytes, IEEE half precision and
 * bfloat16 (both stored as 16-bit {@code short} bits), float and double.
 *
 * <p>{@code unfold} takes every type: it only moves elements and writes zeros (all bits clear: 0,
 * or +0.0), so its result is bit for bit the same whatever the type means, and in any byte order.
 * Unsigned data (NumPy's {@code uint8}, {@code uint16}) unfold as the signed type of their width.
 */
public enum ElementType {
    /** 8-bit integer ({@code byte}; also uint8). */
    INT8(0, 1),
    /** 16-bit integer ({@code short}; also uint16). */
    INT16(1, 2),
    /** 32-bit integer ({@code int}). */
    INT32(2, 4),
    /** 64-bit integer ({@code long}). */
    INT64(3, 8),
    /** IEEE 754 half precision, stored as {@code short} bits. */
    FLOAT16(4, 2),
    /** bfloat16 (the upper 16 bits of a float), stored as {@code short} bits. */
    BFLOAT16(5, 2),
    /** {@code float}. */
    FLOAT32(6, 4),
    /** {@code double}. */
    FLOAT64(7, 8);

    /** The value of foldnd::ElementType in native/include/foldnd/geometry.hpp (never the ordinal). */
    final int code;

    private final int bytes;

    ElementType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    /** Bytes per element: 1, 2, 4 or 8. */
    public int bytes() {
        return bytes;
    }
}
