// foldnd/half_fold.hpp: fold of float16 and bfloat16 columns, summing in
// float storage. The result is bit for bit what kernels.hpp's fold gives on
// Half16 (PyTorch's semantics, half.hpp): every addition rounded to the 16-bit
// type, in kernel-offset order. Only the storage of the partial sums differs:
// a float holding a value of the 16-bit type (Rounded), so that an addition
// converts one operand instead of two and rounds with integer operations
// instead of converting back and forth. Each fold item sums its band into a
// float copy of the band and writes the 16-bit output once, at the end.
//
// Where the processor has AVX2 and F16C (x86-64 since 2013-2015; Cpu::avx2,
// asked at run time, so that the library still runs on any x86-64), both
// formats go eight lanes at a time, float16 converting and rounding with the
// processor's vcvtph2ps/vcvtps2ph, bfloat16 with BrainFloatRounding's integer
// operations (Lanes):
//   - at stride 1 in the last dimension, the offsets that differ only in their
//     last index form a run, and each output element is loaded once per run,
//     receives the run's offsets in order, and is stored once (RowRun, runRow);
//   - at stride >= 8 and dilation 1, eight consecutive offsets never share an
//     element, so their columns are read as an 8x8 tile, transposed (tiles.hpp)
//     and added eight elements at a time, the groups of eight in order
//     (stridedRun, chunkTiles); 1-d chunks the same way (ChunkRow);
//   - the finished band is stored eight values at a time (storeSums).
// Elsewhere float16 rows convert with F16C one row or one value at a time.
// Every path keeps each element's additions in kernel-offset order, so the
// bits are the baseline's. FOLDND_BASELINE=1 in the environment, or
// foldnd_force_baseline(1), turns every such path off: the tests run both.
#ifndef FOLDND_HALF_FOLD_HPP
#define FOLDND_HALF_FOLD_HPP

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

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
    bool simd;                     // the AVX2/F16C paths may run (Cpu::avx2(), asked once per call)
    const uint16_t *all, *allEnd;  // the whole columns array, which a vector load may not leave
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
 * Cpu::avx2() holds; a function of its own, so that its target reaches no other
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
 * processor's conversions. Only called when Cpu::avx2() holds.
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
        if (src.simd) {
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
        if (src.simd) {
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
        if (src.simd) {
            f16cSumChunk<Weighted>(&o->v, dilation, src.columns, rows, &w->v, ja, jb, l);
            return;
        }
#endif
        for (int64_t j = ja; j < jb; ++j) o[j * dilation] += src.value(rows[j].column + l, w[j]);
    }
};

#ifdef FOLDND_X86_DISPATCH
#define FOLDND_AVX2 __attribute__((target("avx2,f16c")))

/**
 * Eight values of a 16-bit format widened to floats (exact), and eight floats
 * rounded to the format, kept in float: for float16 the processor's
 * conversions (equal to IeeeHalfRounding but in a NaN's payload, which the
 * final store does not keep), for bfloat16 BrainFloatRounding's integer
 * operations, eight lanes at a time.
 */
template <class Format>
struct Lanes;
template <>
struct Lanes<IeeeHalf> {
    FOLDND_AVX2 static __m256 widen(__m128i h) { return _mm256_cvtph_ps(h); }
    FOLDND_AVX2 static __m256 round(__m256 x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }
};
template <>
struct Lanes<BrainFloat> {
    FOLDND_AVX2 static __m256 widen(__m128i b) {
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(b), 16));
    }
    FOLDND_AVX2 static __m256 round(__m256 x) {
        const __m256i u = _mm256_castps_si256(x), one = _mm256_set1_epi32(1);
        const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
        const __m256i r = _mm256_and_si256(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), odd),
                                           _mm256_set1_epi32(int32_t(0xFFFF0000u)));
        return _mm256_blendv_ps(_mm256_castsi256_ps(r), x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN kept
    }
};

/** o = round(o + x), x the 16-bit value bits (times w and rounded, when weighted): one element. */
template <class Format, bool Weighted>
FOLDND_AVX2 inline void addOne(float &o, uint16_t bits, float w) {
    using R = typename RoundingOf<Format>::type;
    const float x = Format::toFloat(bits);
    o = R::round(o + (Weighted ? R::round(w * x) : x));
}

/** Lanes [lo, hi) of eight: all ones there, 0 elsewhere. */
FOLDND_AVX2 inline __m256i laneRange(int64_t lo, int64_t hi) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(int32_t(hi)), lane),
                            _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(int32_t(lo - 1))));
}

/**
 * A run (RowRun) as runRow takes it. In every row of the run, offset j's value
 * for element x (counted from offset 0's block 0) is columns[at[j] + x], where
 * xa[j] <= x < xb[j]: the same ranges in every row, only columns and the
 * output move. [first, end): the elements some offset reaches; [common,
 * commonEnd): those every offset reaches (empty: both end).
 */
struct RunRow {
    const uint16_t *columns, *all, *allEnd;  // this row's column base; the whole array (see HalfSource)
    int64_t at[kMaxChunk], xa[kMaxChunk], xb[kMaxChunk];
    float w[kMaxChunk];
    int64_t n, first, end, common, commonEnd;
};

/**
 * Eight elements [x, x + 8) of one row of a run (runRow) where some offsets
 * reach only some of them: each offset's values are added to its lanes only
 * (adding +0 to the others would turn -0 into +0). A value load stays inside
 * the columns array, or the values are staged through a small array.
 */
template <class Format, bool Weighted>
FOLDND_AVX2 inline __m256 runEdge(__m256 sum, const RunRow &r, int64_t x) {
    for (int64_t j = 0; j < r.n; ++j) {
        const int64_t lo = std::max(r.xa[j], x), hi = std::min(r.xb[j], x + 8);
        if (lo >= hi) continue;
        const uint16_t *from = r.columns + r.at[j] + x;
        alignas(16) uint16_t part[8] = {};
        if (from < r.all || from + 8 > r.allEnd) {
            for (int64_t i = lo; i < hi; ++i) part[i - x] = from[i - x];
            from = part;
        }
        __m256 v = Lanes<Format>::widen(_mm_loadu_si128(reinterpret_cast<const __m128i *>(from)));
        if (Weighted) v = Lanes<Format>::round(_mm256_mul_ps(_mm256_set1_ps(r.w[j]), v));
        const __m256 next = Lanes<Format>::round(_mm256_add_ps(sum, v));
        sum =
            lo == x && hi == x + 8 ? next : _mm256_blendv_ps(sum, next, _mm256_castsi256_ps(laneRange(lo - x, hi - x)));
    }
    return sum;
}

/** The sum over a run's offsets of eight elements that every offset reaches, from their current sum. */
template <class Format, bool Weighted>
FOLDND_AVX2 inline __m256 runSum(__m256 sum, const RunRow &r, int64_t x) {
    for (int64_t j = 0; j < r.n; ++j) {
        const uint16_t *from = r.columns + r.at[j] + x;
        __m256 v = Lanes<Format>::widen(_mm_loadu_si128(reinterpret_cast<const __m128i *>(from)));
        if (Weighted) v = Lanes<Format>::round(_mm256_mul_ps(_mm256_set1_ps(r.w[j]), v));
        sum = Lanes<Format>::round(_mm256_add_ps(sum, v));
    }
    return sum;
}

/**
 * One row of a run (RowRun): element x receives offset j's value, j
 * increasing. Eight elements at a time from the first that any offset reaches,
 * each loaded, summed over the run's offsets in order (rounded after every
 * addition) and stored once; two groups side by side where every offset
 * reaches all sixteen (each group is a chain of dependent roundings), through
 * runEdge where some offset misses some of the eight. The last group, if
 * shorter, goes through a small array.
 */
template <class Format, bool Weighted>
FOLDND_AVX2 inline void runRow(float *o, const RunRow &r) {
    const int64_t end = r.end, common = r.common, commonEnd = r.commonEnd;
    int64_t x = r.first;
    while (x + 8 <= end) {
        if (x >= common && x + 16 <= commonEnd) {
            const __m256 a = runSum<Format, Weighted>(_mm256_loadu_ps(o + x), r, x);
            const __m256 b = runSum<Format, Weighted>(_mm256_loadu_ps(o + x + 8), r, x + 8);
            _mm256_storeu_ps(o + x, a);
            _mm256_storeu_ps(o + x + 8, b);
            x += 16;
            continue;
        }
        const __m256 sum = _mm256_loadu_ps(o + x);
        const bool whole = x >= common && x + 8 <= commonEnd;
        _mm256_storeu_ps(o + x, whole ? runSum<Format, Weighted>(sum, r, x) : runEdge<Format, Weighted>(sum, r, x));
        x += 8;
    }
    if (x < end) {  // fewer than eight left: the elements after them may be another item's
        alignas(32) float sums[8] = {};
        for (int64_t i = 0; i < end - x; ++i) sums[i] = o[x + i];
        _mm256_store_ps(sums, runEdge<Format, Weighted>(_mm256_load_ps(sums), r, x));
        for (int64_t i = 0; i < end - x; ++i) o[x + i] = sums[i];
    }
}

/**
 * Blocks [a, b) of a chunk row (ChunkRow) that every offset of the chunk
 * reaches, at dilation 1 and step >= n, so that no two (block, offset) pairs
 * of the chunk share an element and their order does not matter. o is offset
 * 0's element of block 0; offset j's element of block l is o[l * step + j].
 * Tiles of eight blocks by eight offsets are read as eight rows of the columns,
 * transposed, and added to eight elements at a time; the last tile may have
 * fewer blocks (the values read past them, inside the columns array, are not
 * used); allEnd: the end of the columns array.
 */
template <class Format, bool Weighted>
FOLDND_AVX2 inline void chunkTiles(float *o, const uint16_t *columns, const uint16_t *allEnd, const Row *rows,
                                   const float *w, int64_t n, int64_t step, int64_t a, int64_t b) {
    const int64_t tiled = n / 8 * 8;
    for (int64_t l = a; l < b; l += 8) {
        const int64_t blocks = std::min<int64_t>(8, b - l);
        for (int64_t j0 = 0; j0 < tiled; j0 += 8) {
            __m128i v[8];
            for (int i = 0; i < 8; ++i) {
                const uint16_t *from = columns + rows[j0 + i].column + l;
                alignas(16) uint16_t part[8] = {};
                if (from + 8 > allEnd) {  // the array's end: only the blocks used
                    for (int64_t x = 0; x < blocks; ++x) part[x] = from[x];
                    from = part;
                }
                v[i] = _mm_loadu_si128(reinterpret_cast<const __m128i *>(from));
            }
            transpose8x8(v);  // v[i]: offsets j0..j0+7 of block l + i
            const __m256 weight = Weighted ? _mm256_loadu_ps(w + j0) : _mm256_set1_ps(1.0f);
            for (int i = 0; i < blocks; ++i) {
                float *e = o + (l + i) * step + j0;
                __m256 x = Lanes<Format>::widen(v[i]);
                if (Weighted) x = Lanes<Format>::round(_mm256_mul_ps(weight, x));
                _mm256_storeu_ps(e, Lanes<Format>::round(_mm256_add_ps(_mm256_loadu_ps(e), x)));
            }
        }
        for (int64_t j = tiled; j < n; ++j)
            for (int64_t i = l; i < l + blocks; ++i)
                addOne<Format, Weighted>(o[i * step + j], columns[rows[j].column + i], w[j]);
    }
}

/**
 * A chunk row of 16-bit sums: the blocks that every offset reaches in
 * transposed tiles (chunkTiles) where they apply, the others one at a time.
 */
template <class Format, bool Weighted>
inline void tiledChunkRow(const HalfSource<Format, Weighted> &src, const Row *rows, const Rounded<Format> *w, int64_t n,
                          int64_t step, int64_t dilation, Rounded<Format> *out) {
    int64_t a = 0, b = std::numeric_limits<int64_t>::max();
    commonBlocks(rows, n, a, b);
    if (!src.simd || dilation != 1 || n < 8 || step < n || a + 8 > b) {
        foldChunkRow<Rounded<Format>, SUM>(src, rows, w, n, step, dilation, out);
        return;
    }
    // Each (block, offset) pair of the chunk has an element of its own: the parts go in any order.
    foldChunkRow<Rounded<Format>, SUM>(src, rows, w, n, step, dilation, out, 0, a);
    chunkTiles<Format, Weighted>(&out->v + rows[0].image, src.columns, src.allEnd, rows, &w->v, n, step, a, b);
    foldChunkRow<Rounded<Format>, SUM>(src, rows, w, n, step, dilation, out, b);
}

/**
 * 16-bit sums over a run of offsets (2-d and up, stride 1 in the last
 * dimension): each row's elements loaded and stored once per run (runRow).
 */
template <class Format, bool Weighted>
struct RowRun<Rounded<Format>, SUM, HalfSource<Format, Weighted>> {
    using T = Rounded<Format>;
    using Src = HalfSource<Format, Weighted>;
    static bool takes(const Geometry &g, const OffsetTables &t, int64_t k, const Src &src) {
        const int last = g.dims - 1;
        if (!src.simd || t.kLast(k) != 0) return false;
        return (g.stride[last] == 1 && g.kernel[last] > 1 && g.kernel[last] <= kMaxChunk) || strided(g);
    }
    static void apply(const Geometry &g, const OffsetTables &t, const RowSource &rows, const Src &src, int64_t k,
                      int64_t qBegin, int64_t qEnd, T *out) {
        if (strided(g)) {
            stridedRun(g, rows, src, k, qBegin, qEnd, out);
            return;
        }
        // The ranges of each offset in the last dimension: the same in every row that is not padding.
        const int last = g.dims - 1;
        RunRow run;
        run.n = g.kernel[last];
        run.all = src.all;
        run.allEnd = src.allEnd;
        run.first = run.commonEnd = std::numeric_limits<int64_t>::max();
        run.end = run.common = std::numeric_limits<int64_t>::min();
        int64_t probe = -1;  // an offset with blocks in the last dimension: whether a row is padding shows there
        for (int64_t j = 0; j < run.n; ++j) {
            const int64_t at = t.at(last, j), shift = j * g.dilation[last];  // block l of offset j: element shift + l
            run.w[j] = src.weight(k + j).v;
            run.at[j] = j * g.kernelStride - shift;
            run.xa[j] = t.lo[at] + shift;
            run.xb[j] = t.hi[at] + shift;
            if (run.xa[j] < run.xb[j]) {
                if (probe < 0) probe = j;
                run.first = std::min(run.first, run.xa[j]);
                run.end = std::max(run.end, run.xb[j]);
            }
            run.common = std::max(run.common, run.xa[j]);
            run.commonEnd = std::min(run.commonEnd, run.xb[j]);
        }
        if (probe < 0) return;  // no offset of the run reaches the image
        if (run.common >= run.commonEnd) run.common = run.commonEnd = run.end;
        rows.forRows(k, qBegin, qEnd, [&](int64_t q, const Row &r) {
            const Row p = probe == 0 ? r : rows.row(k + probe, q);
            if (p.lo >= p.hi) return;  // a row in the padding of another dimension
            run.columns = src.columns + r.column;
            runRow<Format, Weighted>(&out->v + r.image, run);
        });
    }

  private:
    /** Whether runs go through stridedRun: stride >= 8 and dilation 1 in the last dimension, 8 offsets or more. */
    static bool strided(const Geometry &g) {
        const int last = g.dims - 1;
        return g.stride[last] >= 8 && g.dilation[last] == 1 && g.kernel[last] >= 8;
    }

    /**
     * A run at stride s >= 8, row by row: each group of eight consecutive
     * offsets as a chunk (tiledChunkRow: within a group no two (block, offset)
     * pairs share an element), the groups in order, then the offsets left over
     * one at a time; so every element still receives its offsets in order.
     */
    static void stridedRun(const Geometry &g, const RowSource &rows, const Src &src, int64_t k, int64_t qBegin,
                           int64_t qEnd, T *out) {
        const int last = g.dims - 1;
        const int64_t n = g.kernel[last], s = g.stride[last], grouped = n / 8 * 8;
        for (int64_t q = qBegin; q < qEnd; ++q) {
            for (int64_t j0 = 0; j0 < grouped; j0 += 8) {
                Row group[8];
                T w[8];
                rows.chunk(k + j0, 8, q, group);
                for (int64_t i = 0; i < 8; ++i) w[i] = src.weight(k + j0 + i);
                tiledChunkRow<Format, Weighted>(src, group, w, 8, s, 1, out);
            }
            for (int64_t j = grouped; j < n; ++j) {
                const Row r = rows.row(k + j, q);
                StridedRow<T, SUM, Src>::apply(out + r.image, s, src, r.column, src.weight(k + j), r.lo, r.hi);
            }
        }
    }
};

/** A 1-d chunk row of 16-bit sums (tiledChunkRow). */
template <class Format, bool Weighted>
struct ChunkRow<Rounded<Format>, SUM, HalfSource<Format, Weighted>> {
    static void apply(const HalfSource<Format, Weighted> &src, const Row *rows, const Rounded<Format> *w, int64_t n,
                      int64_t step, int64_t dilation, Rounded<Format> *out) {
        tiledChunkRow<Format, Weighted>(src, rows, w, n, step, dilation, out);
    }
};

/**
 * out[i] = the 16-bit bits of sums[i] (values of the format: exact), for i in
 * [0, n), eight at a time; a NaN stored as Format::fromFloat stores it.
 */
template <class Format>
FOLDND_AVX2 inline void storeSums(const float *sums, uint16_t *out, int64_t n) {
    const bool half = std::is_same<Format, IeeeHalf>::value;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(sums + i);
        const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        __m128i bits;
        if (half) {
            bits = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
            // A NaN as fromFloat gives it: 0x7E00 with its sign.
            const __m128i sign = _mm_and_si128(bits, _mm_set1_epi16(int16_t(0x8000)));
            const __m128i canonical = _mm_or_si128(sign, _mm_set1_epi16(0x7E00));
            const __m128i wide = _mm_packs_epi32(_mm256_castsi256_si128(nan), _mm256_extracti128_si256(nan, 1));
            bits = _mm_blendv_epi8(bits, canonical, wide);
        } else {
            const __m256i upper = _mm256_srli_epi32(_mm256_castps_si256(v), 16);
            const __m256i b = _mm256_blendv_epi8(upper, _mm256_set1_epi32(0x7FC0), nan);  // fromFloat's NaN
            bits = _mm_packus_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
        }
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + i), bits);
    }
    for (; i < n; ++i) out[i] = Format::fromFloat(sums[i]);
}
#undef FOLDND_AVX2
#endif

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
    const bool simd = Cpu::avx2();
    parallelFor(n, threads, (K * L + P) / bands, [&](int64_t begin, int64_t end) {
        Rounded<Format> *sums = scratch.get() + threadIndex() * P;
        for (int64_t item = part.first + begin; item < part.first + end; ++item) {
            const int64_t p = item / bands, band = item % bands;
            const int64_t b0 = extent * band / bands, b1 = extent * (band + 1) / bands;
            const HalfSource<Format, Weighted> src{columns + g.columnBase(p), weights, simd, columns,
                                                   columns + g.columnLength};
            foldBand<Rounded<Format>, SUM>(g, t, rows, src, b0, b1, sums);
            if (map != nullptr) finish(map, true, b0 * slice, b1 * slice, sums);
            uint16_t *out = image + p * P;
#ifdef FOLDND_X86_DISPATCH
            if (simd) {
                storeSums<Format>(&sums[b0 * slice].v, out + b0 * slice, (b1 - b0) * slice);
                continue;
            }
#endif
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
    const RowSource rows(g, t, plansRows<Half16<Format>>(g, part, threads));
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
