// foldnd/half.hpp: the 16-bit floating types fold computes in, IEEE half
// precision and bfloat16, stored as their 16 bits. Arithmetic as PyTorch's CPU
// kernels do it on c10::Half and c10::BFloat16: each operation converts its
// operands to float, computes in float, and rounds the result back to the
// 16-bit type (to nearest, ties to even) at once. So fold's `o += v` is
// o = round(float(o) + float(v)) after every addition, in kernel-offset order,
// which is what makes foldnd's half and bfloat16 fold equal PyTorch's col2im
// bit for bit. The kernels of kernels.hpp run on these types unchanged.
#ifndef FOLDND_HALF_HPP
#define FOLDND_HALF_HPP

#include <cstdint>
#include <cstring>
#include <limits>

namespace foldnd {

namespace detail {
inline float floatOf(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}
inline uint32_t bitsOf(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}
}  // namespace detail

/** IEEE 754 binary16: 1 sign, 5 exponent, 10 fraction bits. */
struct IeeeHalf {
    /** Exact: every half is a float. */
    static float toFloat(uint16_t h) {
        const uint32_t sign = uint32_t(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1Fu, fraction = h & 0x3FFu;
        if (exponent == 0x1F) return detail::floatOf(sign | 0x7F800000u | (fraction << 13));  // inf, NaN
        if (exponent == 0) {  // zero or subnormal: fraction * 2^-24, exact in float
            const float v = float(fraction) * 5.9604644775390625e-8f;
            return sign ? -v : v;
        }
        return detail::floatOf(sign | ((exponent + 112) << 23) | (fraction << 13));
    }

    /** Rounded to nearest, ties to even; NaN becomes 0x7E00 with its sign (as c10::Half). */
    static uint16_t fromFloat(float f) {
        const uint32_t x = detail::bitsOf(f), magnitude = x & 0x7FFFFFFFu;
        const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
        if (magnitude > 0x7F800000u) return sign | 0x7E00u;   // NaN
        if (magnitude >= 0x477FF000u) return sign | 0x7C00u;  // 65520 and up round to infinity
        if (magnitude < 0x38800000u) {  // below 2^-14: a subnormal half (or zero), in units of 2^-24
            const float units = detail::floatOf(magnitude) * 16777216.0f;  // exact: a power-of-two scale
            uint32_t n = static_cast<uint32_t>(units);
            const float rest = units - float(n);
            if (rest > 0.5f || (rest == 0.5f && (n & 1u))) ++n;  // n = 0x400 is the smallest normal
            return uint16_t(sign | n);
        }
        const uint32_t fraction = magnitude & 0x7FFFFFu, rest = fraction & 0x1FFFu;
        uint32_t h = (((magnitude >> 23) - 112) << 10) | (fraction >> 13);
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry moves into the exponent, as it should
        return uint16_t(sign | h);
    }
};

/** bfloat16: the upper half of a float (1 sign, 8 exponent, 7 fraction bits). */
struct BrainFloat {
    static float toFloat(uint16_t b) { return detail::floatOf(uint32_t(b) << 16); }

    /** Rounded to nearest, ties to even; NaN becomes 0x7FC0 (as c10::BFloat16). */
    static uint16_t fromFloat(float f) {
        const uint32_t u = detail::bitsOf(f);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0u;
        return uint16_t((u + ((u >> 16) & 1u) + 0x7FFFu) >> 16);
    }
};

/**
 * A 16-bit floating value with float arithmetic rounded after every operation
 * (see the file comment). Comparisons go through float, so NaN compares
 * unequal to itself as the merge rules expect.
 */
template <class Format>
struct Half16 {
    uint16_t bits;

    Half16() = default;
    Half16(float f) : bits(Format::fromFloat(f)) {}  // NOLINT: T(0), T(w * x) in the kernels
    static Half16 ofBits(uint16_t b) {
        Half16 h;
        h.bits = b;
        return h;
    }
    operator float() const { return Format::toFloat(bits); }  // NOLINT: comparisons and arithmetic in float
    Half16 &operator+=(Half16 v) {
        bits = Format::fromFloat(float(*this) + float(v));
        return *this;
    }
    Half16 operator-() const { return ofBits(uint16_t(bits ^ 0x8000u)); }  // exact: the sign bit
};

template <class Format>
inline Half16<Format> operator*(Half16<Format> a, Half16<Format> b) {
    return Half16<Format>(float(a) * float(b));
}
template <class Format>
inline Half16<Format> operator/(Half16<Format> a, Half16<Format> b) {
    return Half16<Format>(float(a) / float(b));
}

using Float16 = Half16<IeeeHalf>;
using BFloat16 = Half16<BrainFloat>;
static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2, "16-bit storage, as the Java side's short[]");

}  // namespace foldnd

/** What the merge rules need of the 16-bit types: their infinities. */
template <class Format>
struct std::numeric_limits<foldnd::Half16<Format>> {
    static constexpr bool is_specialized = true;
    static foldnd::Half16<Format> infinity() { return foldnd::Half16<Format>(std::numeric_limits<float>::infinity()); }
};

#endif
