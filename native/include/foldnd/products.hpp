// foldnd/products.hpp: the convolution's products on kernels of foldnd's
// own, where the processor has AVX2 with FMA or AVX-512, reading the tiles of
// columns where unfold wrote them. Through cblas_sgemm the BLAS packs its
// operands again on every call: on the 3-d layer (16 -> 32, 3^3 on 8 x 32^3)
// OpenBLAS 0.3.31 spent 34% of forward packing the tile (its kernel 26%), and
// 17% + 3% of backwardWeight (its kernel 35%) (perf, Intel Xeon).
//
// backwardWeight (accumulateProducts): for each (sample, tile) item of the
// chunked form, the products of a tile of columns (depth rows of m blocks)
// with the matching rows of gy (C_out rows of the same m blocks):
//   P[r][o] += sum over l of cols[r][l] gy[o][l]
// Each kernel call holds an MR x (NV vectors) block of P in registers for the
// whole tile: per block l it broadcasts MR column elements (one per row, MR
// streams) and multiplies them by gy's values for NV vectors of output
// channels, read from gy transposed (bt, m x C_out rounded up to whole
// vectors: the one copy made per item, C_out x m elements against the depth x
// C_out x m products).
//
// forward (packRows, multiplyPacked): y[o][l] = sum over r of w[o][r]
// cols[r][l], the weights packed once per pass in blocks of MR rows (one
// stream of broadcasts), the columns read in place NV vectors of blocks at a
// time.
//
// Each output element is one chain of fused multiply-adds in the order of the
// sum (blocks, or the depth), from its old value or 0: the same operations on
// any team, so results stay independent of the thread count. They differ from
// a BLAS's by rounding only (its kernel also sums in its own order), within
// the bound the tests hold every pass to.
//
// Each kernel is written once, as a template over the vectors it runs on
// (Avx512Floats: 16 floats, tails masked by a mask register; Avx2Floats: 8
// floats with FMA, tails masked by a vector), and compiled for that target
// through the vectors' run (product_kernels' first comment says how).
#ifndef FOLDND_PRODUCTS_HPP
#define FOLDND_PRODUCTS_HPP

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "cpu.hpp"

namespace foldnd {

/** The output channels one vector holds on the widest kernel (AVX-512 floats): bt's rows are padded to it. */
constexpr int64_t kProductLanes = 16;

/** bt's row length for c_out channels: whole vectors of the widest kernel. */
inline int64_t productRow(int64_t cout) { return (cout + kProductLanes - 1) / kProductLanes * kProductLanes; }

/** The product kernels: none (the caller's BLAS), 8 floats wide (AVX2 with FMA), 16 (AVX-512). */
enum class ProductWidth { NONE, AVX2, AVX512 };

/**
 * The widest product kernels allowed: AVX512 (whatever the processor has),
 * except where the C++ tests narrow it to reach the AVX2 kernels on a
 * processor with AVX-512.
 */
inline ProductWidth &productWidthCap() {
    static ProductWidth cap = ProductWidth::AVX512;
    return cap;
}

/** The product kernels a pass on T runs: the widest the processor has and the cap allows; none but for float. */
template <typename T>
inline ProductWidth productWidth() {
    if (!std::is_same<T, float>::value) return ProductWidth::NONE;
    const ProductWidth cap = productWidthCap();
    if (cap >= ProductWidth::AVX512 && Cpu::avx512()) return ProductWidth::AVX512;
    if (cap >= ProductWidth::AVX2 && Cpu::avx2Fma()) return ProductWidth::AVX2;
    return ProductWidth::NONE;
}

/** Whether the weight gradient's products on T run on foldnd's kernels (productWidth). */
template <typename T>
inline bool ownProducts() {
    return productWidth<T>() != ProductWidth::NONE;
}

#ifdef FOLDND_X86_DISPATCH
namespace product_kernels {

// How one template becomes a kernel compiled for AVX-512 or for AVX2. The
// kernels below (block, packedBlock and their pieces) take the vectors as a
// template parameter V (Avx512Floats, Avx2Floats) and carry no target of
// their own: a template cannot take its target attribute from a parameter.
// They are called only through V::run, which carries V's target and flatten:
// GCC inlines into it every call, the kernel's and, through the kernel, V's
// members (each compiled for the target), so that each instantiation is one
// function of that target, its loops unrolled and its accumulators in
// registers, as the hand-written twins of each kernel were before (GCC 12
// -O3: the same inner loops, FMA for FMA and load for load).
//
// GCC also optimises each kernel's body on its own, without the target,
// before inlining it into run. There it would refuse, with an error
// ("target specific option mismatch"), to inline always_inline members, so
// the members are plain inline: calls there, inlined once inside run. And a
// vector passed or returned by value between that body and a member would
// cross two ABIs (GCC's -Wpsabi), so vectors pass by reference: a kernel
// body left out of line would be slow, never wrong. The kernels and their
// pieces are always_inline (they need no target), so that a compiler whose
// flatten inlines only the calls written in the function itself (clang 14)
// still inlines them all into run, and the members, a few instructions each,
// by its own measure.
#define FOLDND_AVX512 __attribute__((target("avx512f")))
#define FOLDND_AVX2_FMA __attribute__((target("avx2,fma")))

/** The kernels' operations on AVX-512 floats: 16 lanes, a tail's lanes chosen by a mask register. */
struct Avx512Floats {
    using Vec = __m512;
    using Mask = __mmask16;
    static constexpr int kLanes = 16;
    /**
     * Accumulators a block holds: 24 of the 32 registers, the others for the
     * row of up to 4 vectors it multiplies by and the broadcast element.
     */
    static constexpr int kAccumulators = 24;
    /** Vectors of output channels the weight gradient's blocks span (blocks of 6 rows). */
    static constexpr int kChannelVectors = 4;

    /** The first `left` lanes (1 to 16). */
    FOLDND_AVX512 static void tail(Mask &mask, int left) { mask = Mask((1u << left) - 1); }
    /** 0 in every lane. */
    FOLDND_AVX512 static void zero(Vec &v) { v = _mm512_setzero_ps(); }
    /** kLanes floats from `from` (no alignment needed). */
    FOLDND_AVX512 static void load(Vec &v, const float *from) { v = _mm512_loadu_ps(from); }
    /** The lanes of `mask` loaded, the others zero: nothing read past them. */
    FOLDND_AVX512 static void loadMasked(Vec &v, const Mask &mask, const float *from) {
        v = _mm512_maskz_loadu_ps(mask, from);
    }
    /** kLanes floats to `to` (no alignment needed). */
    FOLDND_AVX512 static void store(float *to, const Vec &v) { _mm512_storeu_ps(to, v); }
    /** The lanes of `mask` stored: nothing written past them. */
    FOLDND_AVX512 static void storeMasked(float *to, const Mask &mask, const Vec &v) {
        _mm512_mask_storeu_ps(to, mask, v);
    }
    /** *from in every lane (a vbroadcastss from memory, or folded into the FMA). */
    FOLDND_AVX512 static void broadcast(Vec &v, const float *from) { v = _mm512_set1_ps(*from); }
    /** sum = a b + sum, rounded once: one link of each lane's chain. */
    FOLDND_AVX512 static void fma(Vec &sum, const Vec &a, const Vec &b) { sum = _mm512_fmadd_ps(a, b, sum); }

    /**
     * Kernel(args...) compiled for AVX-512, everything it calls inlined (see
     * above); reached only where productWidth<float>() is AVX512.
     */
    template <auto Kernel, class... Args>
    __attribute__((target("avx512f"), flatten)) static void run(Args... args) {
        Kernel(args...);
    }
};

/**
 * The kernels' operations on AVX2 floats with FMA: 8 lanes, a tail's lanes
 * chosen by a vector (all ones in them); each member as Avx512Floats' of
 * the same name. Nothing here may need AVX-512: these run on processors
 * without it.
 */
struct Avx2Floats {
    using Vec = __m256;
    using Mask = __m256i;
    static constexpr int kLanes = 8;
    /**
     * Accumulators a block holds: 12 of the 16 registers, the others for the
     * row of up to 3 vectors it multiplies by and the broadcast element.
     */
    static constexpr int kAccumulators = 12;
    /** Vectors of output channels the weight gradient's blocks span (blocks of 6 rows). */
    static constexpr int kChannelVectors = 2;

    /** The first `left` lanes (1 to 8). */
    FOLDND_AVX2_FMA static void tail(Mask &mask, int left) {
        mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    FOLDND_AVX2_FMA static void zero(Vec &v) { v = _mm256_setzero_ps(); }
    FOLDND_AVX2_FMA static void load(Vec &v, const float *from) { v = _mm256_loadu_ps(from); }
    FOLDND_AVX2_FMA static void loadMasked(Vec &v, const Mask &mask, const float *from) {
        v = _mm256_maskload_ps(from, mask);
    }
    FOLDND_AVX2_FMA static void store(float *to, const Vec &v) { _mm256_storeu_ps(to, v); }
    FOLDND_AVX2_FMA static void storeMasked(float *to, const Mask &mask, const Vec &v) {
        _mm256_maskstore_ps(to, mask, v);
    }
    FOLDND_AVX2_FMA static void broadcast(Vec &v, const float *from) { v = _mm256_broadcast_ss(from); }
    FOLDND_AVX2_FMA static void fma(Vec &sum, const Vec &a, const Vec &b) { sum = _mm256_fmadd_ps(a, b, sum); }

    /**
     * Kernel(args...) compiled for AVX2 with FMA, everything it calls inlined;
     * reached only where productWidth<float>() is AVX2.
     */
    template <auto Kernel, class... Args>
    __attribute__((target("avx2,fma"), flatten)) static void run(Args... args) {
        Kernel(args...);
    }
};

#undef FOLDND_AVX512
#undef FOLDND_AVX2_FMA

/** Vectors of columns forward's packed blocks span, on both widths (rows of 8 and 4: kPackedRows). */
constexpr int kPackedVectors = 3;

/** Rows per packed block for the vectors V: as many as its accumulators allow (packedRowBlock). */
template <class V>
constexpr int kPackedRows = V::kAccumulators / kPackedVectors;

/**
 * f(std::integral_constant<int, N>()) for the N in [1, Max] equal to n (1 <=
 * n <= Max): a count known at run time turned into the template argument of
 * a kernel compiled for each.
 */
template <int Max, class F>
inline void withCount(int64_t n, const F &f) {
    if constexpr (Max > 1) {
        if (n < Max) return withCount<Max - 1>(n, f);
    }
    f(std::integral_constant<int, Max>());
}

/** NV vectors from `from`, the last one only in the lanes of `tail` where MaskLast. */
template <class V, int NV, bool MaskLast>
__attribute__((always_inline)) inline void loadRow(typename V::Vec (&row)[NV], const float *from,
                                                   const typename V::Mask &tail) {
    for (int v = 0; v < NV; ++v) {
        if (MaskLast && v == NV - 1)
            V::loadMasked(row[v], tail, from + V::kLanes * v);
        else
            V::load(row[v], from + V::kLanes * v);
    }
}

/** NV vectors to `to`, the last one only in the lanes of `tail` where MaskLast. */
template <class V, int NV, bool MaskLast>
__attribute__((always_inline)) inline void storeRow(float *to, const typename V::Vec (&row)[NV],
                                                    const typename V::Mask &tail) {
    for (int v = 0; v < NV; ++v) {
        if (MaskLast && v == NV - 1)
            V::storeMasked(to + V::kLanes * v, tail, row[v]);
        else
            V::store(to + V::kLanes * v, row[v]);
    }
}

/**
 * acc[i][v] += a[i * step] row[v] for MR rows, one fused multiply-add per
 * accumulator: one step of every chain, row i's element broadcast once.
 */
template <class V, int MR, int NV>
__attribute__((always_inline)) inline void multiplyAdd(typename V::Vec (&acc)[MR][NV], const float *a, int64_t step,
                                                       const typename V::Vec (&row)[NV]) {
    for (int i = 0; i < MR; ++i) {
        typename V::Vec x;
        V::broadcast(x, a + i * step);
        for (int v = 0; v < NV; ++v) V::fma(acc[i][v], x, row[v]);
    }
}

/**
 * P (MR rows, ldp) = (first ? 0 : P) + a (MR rows of m, lda) bt (m rows of
 * NV vectors, ldb): the last vector's lanes past `left` are neither read from
 * P nor written (bt's are, its rows padded to whole vectors).
 */
template <class V, int MR, int NV>
__attribute__((always_inline)) inline void block(const float *a, int64_t lda, const float *bt, int64_t ldb, int64_t m,
                                                 float *p, int64_t ldp, bool first, int left) {
    typename V::Mask tail;
    V::tail(tail, left);
    typename V::Vec acc[MR][NV], b[NV];
    for (int i = 0; i < MR; ++i) {
        if (first)
            for (int v = 0; v < NV; ++v) V::zero(acc[i][v]);
        else
            loadRow<V, NV, true>(acc[i], p + i * ldp, tail);
    }
    for (int64_t l = 0; l < m; ++l) {
        loadRow<V, NV, false>(b, bt + l * ldb, tail);
        multiplyAdd<V>(acc, a + l, lda, b);
    }
    for (int i = 0; i < MR; ++i) storeRow<V, NV, true>(p + i * ldp, acc[i], tail);
}

/**
 * All rows for NV vectors of channels: blocks of V::kAccumulators / NV rows,
 * then the last rows (fewer) in one block of their own.
 */
template <class V, int NV>
inline void rowBlocks(const float *a, int64_t lda, int64_t rows, const float *bt, int64_t ldb, int64_t m, float *p,
                      int64_t ldp, bool first, int left) {
    constexpr int MR = V::kAccumulators / NV;
    int64_t r = 0;
    for (; r + MR <= rows; r += MR)
        V::template run<block<V, MR, NV>>(a + r * lda, lda, bt, ldb, m, p + r * ldp, ldp, first, left);
    if constexpr (MR > 1) {
        if (r < rows)
            withCount<MR - 1>(rows - r, [&](auto h) {
                V::template run<block<V, decltype(h)::value, NV>>(a + r * lda, lda, bt, ldb, m, p + r * ldp, ldp, first,
                                                                  left);
            });
    }
}

/**
 * P (rows x cout, ldp) = (first ? 0 : P) + a bt on the vectors V: bt (m rows
 * of cout, ldt) as transposeRows leaves it; V::kChannelVectors vectors of
 * channels at a time, the last ones fewer.
 */
template <class V>
inline void accumulate(const float *a, int64_t lda, int64_t rows, const float *bt, int64_t ldt, int64_t cout, int64_t m,
                       float *p, int64_t ldp, bool first) {
    constexpr int64_t panel = int64_t(V::kChannelVectors) * V::kLanes;
    for (int64_t o0 = 0; o0 < cout; o0 += panel) {
        const int64_t n = std::min(panel, cout - o0), vectors = (n + V::kLanes - 1) / V::kLanes;
        const int left = int(n - (vectors - 1) * V::kLanes);
        withCount<V::kChannelVectors>(vectors, [&](auto nv) {
            rowBlocks<V, decltype(nv)::value>(a, lda, rows, bt + o0, ldt, m, p + o0, ldp, first, left);
        });
    }
}

/** d[j * ldd + i] = s[i * lds + j] for i, j < 8: eight rows in, eight columns out. */
__attribute__((target("avx2"))) inline void transpose8(const float *s, int64_t lds, float *d, int64_t ldd) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);      // rows i, i+1 interleaved: lanes 0-1, 4-5
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);  // lanes 2-3, 6-7
    }
    for (int i = 0; i < 8; i += 4) {  // four rows' columns j, j + 4 in each 128-bit half
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int j = 0; j < 4; ++j) {  // the low halves hold columns 0-3, the high ones 4-7
        _mm256_storeu_ps(d + j * ldd, _mm256_permute2f128_ps(r[j], r[j + 4], 0x20));
        _mm256_storeu_ps(d + (j + 4) * ldd, _mm256_permute2f128_ps(r[j], r[j + 4], 0x31));
    }
}

/**
 * bt (m rows, ldt) = b^T for b (cout rows of m, ldb), bt's lanes past cout
 * zeroed: eight by eight through registers where both run that far (a scalar
 * copy, with its strided stores, cost a tenth of the products at 128
 * channels).
 */
__attribute__((target("avx2"))) inline void transposeRows(const float *b, int64_t ldb, int64_t cout, int64_t m,
                                                          float *bt, int64_t ldt) {
    const int64_t o8 = cout / 8 * 8, m8 = m / 8 * 8;
    for (int64_t l0 = 0; l0 < m8; l0 += 8)
        for (int64_t o0 = 0; o0 < o8; o0 += 8) transpose8(b + o0 * ldb + l0, ldb, bt + l0 * ldt + o0, ldt);
    for (int64_t l = 0; l < m; ++l) {
        for (int64_t o = l < m8 ? o8 : 0; o < cout; ++o) bt[l * ldt + o] = b[o * ldb + l];
        for (int64_t o = cout; o < ldt; ++o) bt[l * ldt + o] = 0.0f;
    }
}

/**
 * c (MR rows of NV vectors, ldc) = ap b: ap packed (depth rows of MR), b
 * depth rows (ldb) read in place; with Tail, the last vector's lanes past
 * `left` are neither read from b nor written.
 */
template <class V, int MR, int NV, bool Tail>
__attribute__((always_inline)) inline void packedBlock(const float *ap, const float *b, int64_t ldb, int64_t depth,
                                                       float *c, int64_t ldc, int left) {
    typename V::Mask tail;
    V::tail(tail, left);
    typename V::Vec acc[MR][NV], x[NV];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) V::zero(acc[i][v]);
    for (int64_t k = 0; k < depth; ++k) {
        loadRow<V, NV, Tail>(x, b + k * ldb, tail);
        multiplyAdd<V>(acc, ap + k * MR, 1, x);
    }
    for (int i = 0; i < MR; ++i) storeRow<V, NV, Tail>(c + i * ldc, acc[i], tail);
}

/**
 * One block of rows (MR of them, packed as MR-wide rows) against every column
 * of b: panels of kPackedVectors vectors, then the columns left in single
 * vectors, the last one masked.
 */
template <class V, int MR>
inline void packedRows(const float *ap, const float *b, int64_t ldb, int64_t depth, int64_t n, float *c, int64_t ldc) {
    constexpr int64_t panel = int64_t(kPackedVectors) * V::kLanes;
    int64_t j = 0;
    for (; j + panel <= n; j += panel)
        V::template run<packedBlock<V, MR, kPackedVectors, false>>(ap, b + j, ldb, depth, c + j, ldc, V::kLanes);
    for (; j + V::kLanes <= n; j += V::kLanes)
        V::template run<packedBlock<V, MR, 1, false>>(ap, b + j, ldb, depth, c + j, ldc, V::kLanes);
    if (j < n) V::template run<packedBlock<V, MR, 1, true>>(ap, b + j, ldb, depth, c + j, ldc, int(n - j));
}

/**
 * c (rows x n, ldc) = a b on the vectors V: a packed by packRows in blocks of
 * kPackedRows<V> rows (the last one fewer), b read in place.
 */
template <class V>
inline void multiply(const float *ap, int64_t rows, int64_t depth, const float *b, int64_t ldb, int64_t n, float *c,
                     int64_t ldc) {
    constexpr int MR = kPackedRows<V>;
    for (int64_t r0 = 0; r0 < rows; r0 += MR) {
        withCount<MR>(std::min<int64_t>(MR, rows - r0), [&](auto h) {
            packedRows<V, decltype(h)::value>(ap + r0 * depth, b, ldb, depth, n, c + r0 * ldc, ldc);
        });
    }
}

}  // namespace product_kernels
#endif

/**
 * Rows per block of packRows for the kernels of `width`: 8 on AVX-512, 4 on
 * AVX2 (product_kernels::kPackedRows: kPackedVectors = 3 vectors wide).
 */
constexpr int64_t packedRowBlock(ProductWidth width) { return width == ProductWidth::AVX512 ? 8 : 4; }

/**
 * ap = a (rows x depth; a[r][k] at a + r rowStride + k depthStride) packed
 * for multiplyPacked: blocks of packedRowBlock(width) rows (the last one
 * fewer), each stored depth x (its rows), so that a kernel's broadcasts read
 * one stream. rows * depth floats.
 */
inline void packRows(ProductWidth width, const float *a, int64_t rowStride, int64_t depthStride, int64_t rows,
                     int64_t depth, float *ap) {
    const int64_t mr = packedRowBlock(width);
    for (int64_t r0 = 0; r0 < rows; r0 += mr) {
        const int64_t h = std::min(mr, rows - r0);
        float *block = ap + r0 * depth;
        for (int64_t k = 0; k < depth; ++k)
            for (int64_t i = 0; i < h; ++i) block[k * h + i] = a[(r0 + i) * rowStride + k * depthStride];
    }
}

/**
 * c (rows x n, ldc) = a b: a packed by packRows (the same width), b depth x n
 * (ldb) read in place. Each element of c is one chain of fused multiply-adds
 * in depth order from 0, on any team.
 */
inline void multiplyPacked(ProductWidth width, const float *ap, int64_t rows, int64_t depth, const float *b,
                           int64_t ldb, int64_t n, float *c, int64_t ldc) {
#ifdef FOLDND_X86_DISPATCH
    using namespace product_kernels;
    static_assert(packedRowBlock(ProductWidth::AVX512) == kPackedRows<Avx512Floats> &&
                  packedRowBlock(ProductWidth::AVX2) == kPackedRows<Avx2Floats>);
    if (width == ProductWidth::AVX512)
        multiply<Avx512Floats>(ap, rows, depth, b, ldb, n, c, ldc);
    else
        multiply<Avx2Floats>(ap, rows, depth, b, ldb, n, c, ldc);
#else
    (void)width, (void)ap, (void)rows, (void)depth, (void)b, (void)ldb, (void)n, (void)c, (void)ldc;
#endif
}

/**
 * P (rows x cout, ldp) = (first ? 0 : P) + a b^T: a is rows x m (lda), b is
 * cout x m (ldb), bt scratch of m * productRow(cout) floats; on the kernels
 * of `width` (productWidth<float>(), asked once per pass: not NONE).
 */
inline void accumulateProducts(ProductWidth width, const float *a, int64_t lda, int64_t rows, const float *b,
                               int64_t ldb, int64_t cout, int64_t m, float *p, int64_t ldp, bool first, float *bt) {
#ifdef FOLDND_X86_DISPATCH
    using namespace product_kernels;
    const int64_t ldt = productRow(cout);
    transposeRows(b, ldb, cout, m, bt, ldt);
    if (width == ProductWidth::AVX512)
        accumulate<Avx512Floats>(a, lda, rows, bt, ldt, cout, m, p, ldp, first);
    else
        accumulate<Avx2Floats>(a, lda, rows, bt, ldt, cout, m, p, ldp, first);
#else
    (void)width, (void)a, (void)lda, (void)rows, (void)b, (void)ldb, (void)cout, (void)m, (void)p, (void)ldp,
        (void)first, (void)bt;
#endif
}

}  // namespace foldnd

#endif
