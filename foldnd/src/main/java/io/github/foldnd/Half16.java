package io.github.foldnd;

/**
 * IEEE half precision and bfloat16 as {@code short} bits: the conversions of
 * native/include/foldnd/half.hpp, bit for bit, for the pure-Java engine (Java 17 has no
 * {@code Float.float16ToFloat}). float to 16 bits rounds to nearest, ties to even; NaN becomes
 * 0x7E00 with its sign (half) or 0x7FC0 (bfloat16), as PyTorch's c10::Half and c10::BFloat16 do.
 */
final class Half16 {
    private Half16() {}

    /** The float value of 16 bits of a FLOAT16 or BFLOAT16 type (exact). */
    static float toFloat(ElementType type, short bits) {
        return type == ElementType.BFLOAT16 ? Float.intBitsToFloat((bits & 0xFFFF) << 16) : halfToFloat(bits);
    }

    /** f rounded to a FLOAT16 or BFLOAT16 type. */
    static short fromFloat(ElementType type, float f) {
        return type == ElementType.BFLOAT16 ? floatToBfloat16(f) : floatToHalf(f);
    }

    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, fraction = h & 0x3FF;
        if (exponent == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (fraction << 13));
        if (exponent == 0) {
            float v = fraction * 5.9604644775390625e-8f; // fraction * 2^-24, exact
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (fraction << 13));
    }

    static short floatToHalf(float f) {
        int x = Float.floatToRawIntBits(f), magnitude = x & 0x7FFFFFFF, sign = (x >>> 16) & 0x8000;
        if (magnitude > 0x7F800000) return (short) (sign | 0x7E00); // NaN
        if (magnitude >= 0x477FF000) return (short) (sign | 0x7C00); // 65520 and up: infinity
        if (magnitude < 0x38800000) { // a subnormal half (or zero), in units of 2^-24
            float units = Float.intBitsToFloat(magnitude) * 16777216.0f; // exact
            int n = (int) units;
            float rest = units - n;
            if (rest > 0.5f || (rest == 0.5f && (n & 1) != 0)) n++;
            return (short) (sign | n);
        }
        int fraction = magnitude & 0x7FFFFF, rest = fraction & 0x1FFF;
        int h = (((magnitude >>> 23) - 112) << 10) | (fraction >>> 13);
        if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) h++; // a carry moves into the exponent
        return (short) (sign | h);
    }

    static short floatToBfloat16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7FFFFFFF) > 0x7F800000) return (short) 0x7FC0;
        return (short) ((u + ((u >>> 16) & 1) + 0x7FFF) >>> 16);
    }
}
