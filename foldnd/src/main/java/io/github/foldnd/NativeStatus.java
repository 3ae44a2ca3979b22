package io.github.foldnd;

/**
 * The status codes the native entry points return: the Java mirror of {@code foldnd::Status} in
 * native/include/foldnd/geometry.hpp, with each code written out (never an ordinal), as zstd-jni's
 * enums carry their native values. NativeContractTest reads the header and checks both sides agree.
 */
enum NativeStatus {
    OK(0),
    BAD_DESCRIPTOR(1),
    BAD_LENGTH(2),
    OVERLAP(3),
    BAD_REDUCE(4),
    NULL_POINTER(5),
    OUT_OF_MEMORY(6),
    BAD_THREADS(7),
    BAD_RANGE(8),
    BAD_TYPE(9),
    /** Any code the header does not define: a mismatch between the two sides. */
    UNKNOWN(-1);

    final int code;

    private static final NativeStatus[] BY_CODE = new NativeStatus[10];

    static {
        for (NativeStatus s : values()) {
            if (s.code >= 0) BY_CODE[s.code] = s;
        }
    }

    NativeStatus(int code) {
        this.code = code;
    }

    /** The status of a code, without allocating (UNKNOWN for a code outside the header's). */
    static NativeStatus of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNKNOWN;
    }
}
