// foldnd/half_fold.hpp: fold of float16 and bfloat16 columns, summing in
// float storage. The result is bit for bit what kernels.hpp's fold gives on
// Half16 (PyTorch's semantics, half.hpp): every addition rounded to the 16-bit
// type, in kernel-offset order. Only the storage of the partial sums differs:
// a float holding a value of the 16-bit type (Rounded), so that an addition
// converts one operand instead of two and rounds with integer operations
// instead of converting back and forth. Each fold item sums its band into a
// float copy of the band and writes the 16-bit output once, at the end.
//
// Where the processor has F16C (x86-64 since 2012), the contiguous rows of
// float16 (every row at stride 1: 3x3 convolutions and the like) run a
// hand-vectorised loop (F16cRows) whose conversions are the processor's
// (vcvtph2ps, and vcvtps2ph to round), chosen at run time (Cpu), so that the
// library still runs on any x86-64. FOLDND_BASELINE=1 in the environment, or
// foldnd_force_baseline(1), turns every such path off: the tests run both.
#ifndef FOLDND_HALF_FOLD_HPP
#define FOLDND_HALF_FOLD_HPP

#include <cstdint>
#include <memory>

#include "cpu.hpp"
#include "half.hpp"
#include "kernels.hpp"

namespace foldnd {

/** The 16-bit formats' roundings of a float, kept in float (NaN kept as it is). */
struct IeeeHalfRounding {
    static float round(float f) {
        const uint32_t x = detail::bitsOf(f), magnitude = x & 0x7FFFFFFFu, sign = x & 0x80000000u;
        // Normal halves: keep 10 fraction bits, to nearest even (a carry moves into the exponent).
        const uint32_t normal = (magnitude + 0xFFFu + ((magnitude >> 13) & 1u)) & ~0x1FFFu;
        // Below 2^-14 halves are the multiples of 2^-24: adding 0.5 (ulp 2^-24) rounds to one, to
        // nearest even, and subtracting it again is exact.
        const uint32_t subnormal = detail::bitsOf((detail::floatOf(magnitude) + 0.5f) - 0.5f);
        const uint32_t huge = mask(magnitude >= 0x477FF000u), tiny = mask(magnitude < 0x38800000u);
        const uint32_t nan = mask(magnitude > 0x7F800000u);
        const uint32_t r = (huge & 0x7F800000u) | (~huge & ((tiny & subnormal) | (~tiny & normal)));
        return detail::floatOf((nan & x) | (~nan & (sign | r)));
    }

  private:
    static uint32_t mask(bool c) { return 0u - uint32_t(c); }
};
struct BrainFloatRounding {
    static float round(float f) {
        const uint32_t u = detail::bitsOf(f);
        const uint32_t nan = 0u - uint32_t((u & 0x7FFFFFFFu) > 0x7F800000u);
        const uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
        return detail::floatOf((nan & u) | (~nan & r));
    }
};
template <class Format>
struct RoundingOf;
template <>
struct RoundingOf<IeeeHalf> {
    using type = IeeeHalfRounding;
};
template <>
struct RoundingOf<BrainFloat> {
    using type = BrainFloatRounding;
};

/**
 * A value of a 16-bit format held in a float; arithmetic rounds to the format
 * after every operation, as Half16's does, so the two give the same values.
 */
template <class Format>
struct Rounded {
    using Rounding = typename RoundingOf<Format>::type;
    float v;

    Rounded() = default;
    Rounded(float f) : v(Rounding::round(f)) {}  // NOLINT: T(0), T(w * x) in the kernels
    static Rounded exact(float f) {
        Rounded r;
        r.v = f;
        return r;
    }
    operator float() const { return v; }  // NOLINT: comparisons in float
    Rounded &operator+=(Rounded o) {
        v = Rounding::round(v + o.v);
        return *this;
    }
};
static_assert(sizeof(Rounded<IeeeHalf>) == sizeof(float), "rows of Rounded are rows of float (the F16C loops)");

template <class Format>
inline Rounded<Format> operator*(Rounded<Format> a, Rounded<Format> b) {
    return Rounded<Format>(a.v * b.v);
}
template <class Format>
inline Rounded<Format> operator/(Rounded<Format> a, Rounded<Format> b) {
    return Rounded<Format>(a.v / b.v);
}

/** What half fold merges: a plane's 16-bit columns, read as floats, optionally
 * times the offset's weight (rounded, as Half16's product). */
template <class Format, bool Weighted>
struct HalfSource {
    const uint16_t *columns;
    const Rounded<Format> *weights;
    bool f16c;  // float16 rows may use the F16C loop (Cpu::f16c(), asked once per call)
    Rounded<Format> weight(int64_t k) const { return Weighted ? weights[k] : Rounded<Format>::exact(1.0f); }
    Rounded<Format> value(int64_t at, Rounded<Format> w) const {
        const float x = Format::toFloat(columns[at]);
        return Weighted ? Rounded<Format>(w.v * x) : Rounded<Format>::exact(x);
    }
};

#ifdef FOLDND_X86_DISPATCH
/**
 * o[j] = round(o[j] + x[j]) for j in [0, n), x[j] the float16 v[j] (times w
 * and rounded, when weighted): 8 lanes at a time with the processor's
 * conversions. Rounding a float to float16 and back is vcvtps2ph (to nearest
 * even) then vcvtph2ps; it equals IeeeHalfRounding::round except in a NaN's
 * payload, which the final store does not keep (fromFloat). Only called when
 * Cpu::f16c() holds; a function of its own, so that its target reaches no other
 * code.
 */
template <bool Weighted>
__attribute__((target("avx,f16c"))) inline void f16cSumRow(float *o, const uint16_t *v, float w, int64_t n) {
    // (A lambda here would be compiled without the target, and called.)
    const __m256 weight = _mm256_set1_ps(w);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 x = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(v + j)));
        if (Weighted) x = _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_mul_ps(weight, x), _MM_FROUND_TO_NEAREST_INT));
        const __m256 sum = _mm256_add_ps(_mm256_loadu_ps(o + j), x);
        _mm256_storeu_ps(o + j, _mm256_cvtph_ps(_mm256_cvtps_ph(sum, _MM_FROUND_TO_NEAREST_INT)));
    }
    for (; j < n; ++j) {
        const float x = IeeeHalf::toFloat(v[j]);
        o[j] = IeeeHalfRounding::round(o[j] + (Weighted ? IeeeHalfRounding::round(w * x) : x));
    }
}

/** x rounded to float16 and back by the processor (one value): as IeeeHalfRounding::round, but a NaN's payload. */
__attribute__((target("f16c"))) inline float f16cRound(float x) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(x), _MM_FROUND_TO_NEAREST_INT)));
}
__attribute__((target("f16c"))) inline float f16cToFloat(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

/**
 * o[l * s] = round(o[l * s] + x[l]) for l in [lo, hi), x[l] the float16 v[l]
 * (times w and rounded, when weighted), one value at a time with the
 * processor's conversions. Only called when Cpu::f16c() holds.
 */
template <bool Weighted>
__attribute__((target("avx,f16c"))) inline void f16cSumStrided(float *o, int64_t s, const uint16_t *v, float w,
                                                               int64_t lo, int64_t hi) {
    for (int64_t l = lo; l < hi; ++l) {
        float x = f16cToFloat(v[l]);
        if (Weighted) x = f16cRound(w * x);
        o[l * s] = f16cRound(o[l * s] + x);
    }
}

/** One block l of a float16 chunk row (ChunkStep), with the processor's conversions. */
template <bool Weighted>
__attribute__((target("avx,f16c"))) inline void f16cSumChunk(float *o, int64_t dilation, const uint16_t *columns,
                                                             const Row *rows, const float *w, int64_t ja, int64_t jb,
                                                             int64_t l) {
    for (int64_t j = ja; j < jb; ++j) {
        float x = f16cToFloat(columns[rows[j].column + l]);
        if (Weighted) x = f16cRound(w[j] * x);
        o[j * dilation] = f16cRound(o[j * dilation] + x);
    }
}
#endif

/** float16 sums over a contiguous row: the F16C loop where the processor has it. */
template <bool Weighted>
struct ContiguousRow<Rounded<IeeeHalf>, SUM, HalfSource<IeeeHalf, Weighted>> {
    using T = Rounded<IeeeHalf>;
    static void apply(T *o, const HalfSource<IeeeHalf, Weighted> &src, int64_t at, T w, int64_t n) {
#ifdef FOLDND_X86_DISPATCH
        if (src.f16c) {
            f16cSumRow<Weighted>(&o->v, src.columns + at, w.v, n);
            return;
        }
#endif
        for (int64_t j = 0; j < n; ++j) o[j] += src.value(at + j, w);
    }
};

/** float16 sums over a strided row: F16C conversions where the processor has them. */
template <bool Weighted>
struct StridedRow<Rounded<IeeeHalf>, SUM, HalfSource<IeeeHalf, Weighted>> {
    using T = Rounded<IeeeHalf>;
    static void apply(T *o, int64_t s, const HalfSource<IeeeHalf, Weighted> &src, int64_t at, T w, int64_t lo,
                      int64_t hi) {
#ifdef FOLDND_X86_DISPATCH
        if (src.f16c) {
            f16cSumStrided<Weighted>(&o->v, s, src.columns + at, w.v, lo, hi);
            return;
        }
#endif
        for (int64_t l = lo; l < hi; ++l) o[l * s] += src.value(at + l, w);
    }
};

/** One block of a float16 chunk row: F16C conversions where the processor has them. */
template <bool Weighted>
struct ChunkStep<Rounded<IeeeHalf>, SUM, HalfSource<IeeeHalf, Weighted>> {
    using T = Rounded<IeeeHalf>;
    static void apply(T *o, int64_t dilation, const HalfSource<IeeeHalf, Weighted> &src, const Row *rows, const T *w,
                      int64_t ja, int64_t jb, int64_t l) {
#ifdef FOLDND_X86_DISPATCH
        if (src.f16c) {
            f16cSumChunk<Weighted>(&o->v, dilation, src.columns, rows, &w->v, ja, jb, l);
            return;
        }
#endif
        for (int64_t j = ja; j < jb; ++j) o[j * dilation] += src.value(rows[j].column + l, w[j]);
    }
};

/**
 * The SUM and MEAN part of a half fold: each (plane, band) item sums its band
 * into this thread's float copy of the plane (sums, one plane per thread, of
 * which only the band is touched), finishes it (MEAN: map, the coverage), and
 * stores it as 16-bit values.
 */
template <class Format, bool Weighted>
inline void foldHalfSums(const Geometry &g, const OffsetTables &t, const RowSource &rows, const uint16_t *columns,
                         const Rounded<Format> *weights, const Rounded<Format> *map, uint16_t *image, int threads,
                         ItemRange part) {
    const int64_t K = g.kernelVolume, L = g.blocks, P = g.imagePlane, n = part.end - part.first;
    const int64_t bands = bandsPerPlane<Half16<Format>>(g, threads), extent = g.image[0], slice = g.imageStride[0];
    // Allocated here, before any output is written, so that running out of memory writes nothing.
    const int64_t team = std::min<int64_t>(std::max(threads, 1), n);
    const std::unique_ptr<Rounded<Format>[]> scratch(new Rounded<Format>[static_cast<size_t>(team * P)]);
    const bool f16c = Cpu::f16c();
    parallelFor(n, threads, (K * L + P) / bands, [&](int64_t begin, int64_t end) {
        Rounded<Format> *sums = scratch.get() + threadIndex() * P;
        for (int64_t item = part.first + begin; item < part.first + end; ++item) {
            const int64_t p = item / bands, band = item % bands;
            const int64_t b0 = extent * band / bands, b1 = extent * (band + 1) / bands;
            const HalfSource<Format, Weighted> src{columns + g.columnBase(p), weights, f16c};
            foldBand<Rounded<Format>, SUM>(g, t, rows, src, b0, b1, sums);
            if (map != nullptr) finish(map, true, b0 * slice, b1 * slice, sums);
            uint16_t *out = image + p * P;
            for (int64_t i = b0 * slice; i < b1 * slice; ++i) out[i] = Format::fromFloat(sums[i].v);
        }
    });
}

/**
 * fold of float16 or bfloat16 (their bits): SUM and MEAN sum in float storage
 * (foldHalfSums), MAX and MIN, which only compare and copy, run kernels.hpp's
 * fold on Half16 (so a NaN's bits are copied as they are); the items of part
 * only. Bit for bit the same as kernels.hpp's fold on Half16.
 */
template <class Format>
inline void fold(const Geometry &g, const Half16<Format> *columns, Half16<Format> *image, Reduce reduce,
                 const Half16<Format> *weights, int threads, ItemRange part) {
    if (reduce == MAX || reduce == MIN) {
        fold<Half16<Format>>(g, columns, image, reduce, weights, threads, part);  // kernels.hpp's (explicit T)
        return;
    }
    if (part.first >= part.end) return;
    const OffsetTables t(g);
    const RowSource rows(g, t);
    std::unique_ptr<Rounded<Format>[]> w;
    if (weights != nullptr) {
        w.reset(new Rounded<Format>[static_cast<size_t>(g.kernelVolume)]);
        for (int64_t k = 0; k < g.kernelVolume; ++k) w[k] = Rounded<Format>::exact(float(weights[k]));
    }
    int64_t from = 0, to = 0;
    partRows<Half16<Format>>(g, threads, part, from, to);
    const std::unique_ptr<Coverage<Rounded<Format>>> coverage(
        reduce == SUM ? nullptr : new Coverage<Rounded<Format>>(g, t, rows, w.get(), from, to));
    const Rounded<Format> *map = coverage ? coverage->map.get() : nullptr;
    const auto *bits = reinterpret_cast<const uint16_t *>(columns);
    auto *out = reinterpret_cast<uint16_t *>(image);
    if (w)
        foldHalfSums<Format, true>(g, t, rows, bits, w.get(), map, out, threads, part);
    else
        foldHalfSums<Format, false>(g, t, rows, bits, nullptr, map, out, threads, part);
}

}  // namespace foldnd

#endif
