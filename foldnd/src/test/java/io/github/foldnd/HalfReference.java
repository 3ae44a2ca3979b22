package io.github.foldnd;

import java.util.Arrays;

/**
 * IEEE half and bfloat16 rounding for the tests, written apart from src/main's {@code Half16}: a
 * value is rounded by searching the sorted table of every finite 16-bit value for its neighbours
 * and taking the nearer (ties to the even bit pattern), so the two implementations share nothing
 * but the definition.
 */
final class HalfReference {
    private HalfReference() {}

    /** The non-negative finite values of each type, ascending, and their bit patterns. */
    private static final double[] HALF = new double[0x7C00], BF16 = new double[0x7F80];

    static {
        for (int h = 0; h < 0x7C00; h++) {
            int e = h >> 10, f = h & 0x3FF;
            HALF[h] = e == 0 ? f * Math.pow(2, -24) : (1 + f / 1024.0) * Math.pow(2, e - 15);
        }
        for (int b = 0; b < 0x7F80; b++) BF16[b] = Float.intBitsToFloat(b << 16);
    }

    /** v (a float value) rounded to the type: its bits. */
    static short bits(ElementType type, double v) {
        boolean half = type == ElementType.FLOAT16;
        if (Double.isNaN(v)) return (short) (half ? 0x7E00 : 0x7FC0);
        double[] table = half ? HALF : BF16;
        int sign = v < 0 || (v == 0 && 1 / v < 0) ? 0x8000 : 0, inf = half ? 0x7C00 : 0x7F80;
        double a = Math.abs(v);
        int i = Arrays.binarySearch(table, a);
        int pick;
        if (i >= 0) {
            pick = i;
        } else {
            int hi = -i - 1, lo = hi - 1;
            // Past the largest value: infinity once the distance reaches half an ulp above it.
            double top = table[table.length - 1], ulp = top - table[table.length - 2];
            if (hi == table.length) {
                pick = a >= top + ulp / 2 ? inf : table.length - 1;
                if (a == top + ulp / 2 && ((table.length - 1) & 1) == 0) pick = table.length - 1;
            } else {
                double dl = a - table[lo], dh = table[hi] - a;
                pick = dl < dh ? lo : dh < dl ? hi : (lo & 1) == 0 ? lo : hi;
            }
        }
        return (short) (sign | pick);
    }

    /** The value of a type's bits. */
    static double value(ElementType type, short bits) {
        int b = bits & 0xFFFF, m = b & 0x7FFF;
        boolean half = type == ElementType.FLOAT16;
        int inf = half ? 0x7C00 : 0x7F80;
        double v = m == inf ? Double.POSITIVE_INFINITY : m > inf ? Double.NaN : (half ? HALF : BF16)[m];
        return (b & 0x8000) != 0 ? -v : v;
    }

    /** The type's arithmetic as PyTorch computes it: in float, then rounded to the type. */
    static double round(ElementType type, float f) {
        return value(type, bits(type, f));
    }
}
