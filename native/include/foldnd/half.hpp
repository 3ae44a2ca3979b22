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

/**
 * IEEE 754 binary16: 1 sign, 5 exponent, 10 fraction bits. Both conversions are
 * written with selects rather than branches, so that the compiler vectorises
 * the fold loops around them (with branches, float16 fold measured 19x slower
 * than float fold; bfloat16, whose conversions are shifts, was not).
 */
struct IeeeHalf {
    /** Exact: every half is a float. */
    static float toFloat(uint16_t h) {
        const uint32_t sign = uint32_t(h & 0x8000u) << 16, magnitude = uint32_t(h & 0x7FFFu) << 13;
        const uint32_t exponent = magnitude & 0x0F800000u;
        // Normal: rebias the exponent by 127 - 15; infinity and NaN (exponent 31) by 255 - 31 more.
        const uint32_t special = mask(exponent == 0x0F800000u), tiny = mask(exponent == 0);
        const uint32_t normal = magnitude + 0x38000000u + (special & 0x38000000u);
        // Subnormal (exponent 0): fraction * 2^-24, as (0.5 + fraction * 2^-24) - 0.5, both exact.
        const uint32_t subnormal = detail::bitsOf(detail::floatOf(0x3F000000u + (magnitude >> 13)) - 0.5f);
        return detail::floatOf(sign | (tiny & subnormal) | (~tiny & normal));
    }

    /** Rounded to nearest, ties to even; NaN becomes 0x7E00 with its sign (as c10::Half). */
    static uint16_t fromFloat(float f) {
        const uint32_t x = detail::bitsOf(f), magnitude = x & 0x7FFFFFFFu, sign = (x >> 16) & 0x8000u;
        // Normal halves: drop 13 fraction bits rounding to nearest even (add 0xFFF, plus 1 when the
        // kept part is odd), rebias the exponent, and saturate at infinity (0x7C00): a carry out of
        // the fraction moves into the exponent, as it should.
        const uint32_t rounded = ((magnitude + 0xFFFu + ((magnitude >> 13) & 1u)) >> 13) - 0x1C000u;
        const uint32_t huge = mask(magnitude >= 0x477FF000u);  // 65520 and up round to infinity
        const uint32_t normal = (huge & 0x7C00u) | (~huge & rounded);
        // Below 2^-14 a half is a multiple of 2^-24: adding 0.5 (whose ulp is 2^-24) rounds |f| to
        // one, to nearest even, in the float addition itself.
        const uint32_t subnormal = detail::bitsOf(detail::floatOf(magnitude) + 0.5f) - 0x3F000000u;
        const uint32_t tiny = mask(magnitude < 0x38800000u), nan = mask(magnitude > 0x7F800000u);
        const uint32_t h = (nan & 0x7E00u) | (~nan & ((tiny & subnormal) | (~tiny & normal)));
        return uint16_t(sign | h);
    }

  private:
    /** All ones when c holds, else 0: a select the compiler keeps branch-free, so the loops vectorise. */
    static uint32_t mask(bool c) { return 0u - uint32_t(c); }
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
