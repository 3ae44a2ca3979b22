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

/**
 * P (MR rows, ldp) = (first ? 0 : P) + a (MR rows of m, lda) bt (m rows of
 * NV vectors, ldb): 16-float vectors; the last vector's lanes past `tail` are
 * neither read from P nor written.
 */
template <int MR, int NV>
__attribute__((target("avx512f"))) inline void block16(const float *a, int64_t lda, const float *bt, int64_t ldb,
                                                       int64_t m, float *p, int64_t ldp, bool first, __mmask16 tail) {
    __m512 acc[MR][NV];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v)
            acc[i][v] = first ? _mm512_setzero_ps()
                              : _mm512_maskz_loadu_ps(v == NV - 1 ? tail : __mmask16(0xFFFF), p + i * ldp + 16 * v);
    for (int64_t l = 0; l < m; ++l) {
        __m512 b[NV];
        for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(bt + l * ldb + 16 * v);
        for (int i = 0; i < MR; ++i) {
            const __m512 x = _mm512_set1_ps(a[i * lda + l]);
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(x, b[v], acc[i][v]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v)
            _mm512_mask_storeu_ps(p + i * ldp + 16 * v, v == NV - 1 ? tail : __mmask16(0xFFFF), acc[i][v]);
}

/** block16 for the last rows (fewer than a block's MR): R of them, then fewer. */
template <int NV, int R>
__attribute__((target("avx512f"))) inline void lastRows16(int64_t rows, const float *a, int64_t lda, const float *bt,
                                                          int64_t ldb, int64_t m, float *p, int64_t ldp, bool first,
                                                          __mmask16 tail) {
    if constexpr (R > 0) {
        if (rows == R) return block16<R, NV>(a, lda, bt, ldb, m, p, ldp, first, tail);
        lastRows16<NV, R - 1>(rows, a, lda, bt, ldb, m, p, ldp, first, tail);
    }
}

/** All rows for NV vectors of channels: blocks of 24 / NV rows (24 accumulators of the 32 registers). */
template <int NV>
__attribute__((target("avx512f"))) inline void rows16(const float *a, int64_t lda, int64_t rows, const float *bt,
                                                      int64_t ldb, int64_t m, float *p, int64_t ldp, bool first,
                                                      __mmask16 tail) {
    constexpr int MR = 24 / NV;
    int64_t r = 0;
    for (; r + MR <= rows; r += MR) block16<MR, NV>(a + r * lda, lda, bt, ldb, m, p + r * ldp, ldp, first, tail);
    lastRows16<NV, MR - 1>(rows - r, a + r * lda, lda, bt, ldb, m, p + r * ldp, ldp, first, tail);
}

/** The AVX2 twin of block16: 8-float vectors, the last one's first `left` lanes read and written. */
template <int MR, int NV>
__attribute__((target("avx2,fma"))) inline void block8(const float *a, int64_t lda, const float *bt, int64_t ldb,
                                                       int64_t m, float *p, int64_t ldp, bool first, int left) {
    const __m256i all = _mm256_set1_epi32(-1);
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 acc[MR][NV];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v)
            acc[i][v] = first ? _mm256_setzero_ps() : _mm256_maskload_ps(p + i * ldp + 8 * v, v == NV - 1 ? tail : all);
    for (int64_t l = 0; l < m; ++l) {
        __m256 b[NV];
        for (int v = 0; v < NV; ++v) b[v] = _mm256_loadu_ps(bt + l * ldb + 8 * v);
        for (int i = 0; i < MR; ++i) {
            const __m256 x = _mm256_broadcast_ss(a + i * lda + l);
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(x, b[v], acc[i][v]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) _mm256_maskstore_ps(p + i * ldp + 8 * v, v == NV - 1 ? tail : all, acc[i][v]);
}

template <int NV, int R>
__attribute__((target("avx2,fma"))) inline void lastRows8(int64_t rows, const float *a, int64_t lda, const float *bt,
                                                          int64_t ldb, int64_t m, float *p, int64_t ldp, bool first,
                                                          int left) {
    if constexpr (R > 0) {
        if (rows == R) return block8<R, NV>(a, lda, bt, ldb, m, p, ldp, first, left);
        lastRows8<NV, R - 1>(rows, a, lda, bt, ldb, m, p, ldp, first, left);
    }
}

/** All rows for NV vectors of channels: blocks of 12 / NV rows (12 accumulators of the 16 registers). */
template <int NV>
__attribute__((target("avx2,fma"))) inline void rows8(const float *a, int64_t lda, int64_t rows, const float *bt,
                                                      int64_t ldb, int64_t m, float *p, int64_t ldp, bool first,
                                                      int left) {
    constexpr int MR = 12 / NV;
    int64_t r = 0;
    for (; r + MR <= rows; r += MR) block8<MR, NV>(a + r * lda, lda, bt, ldb, m, p + r * ldp, ldp, first, left);
    lastRows8<NV, MR - 1>(rows - r, a + r * lda, lda, bt, ldb, m, p + r * ldp, ldp, first, left);
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
 * c (MR rows of 16 NV, ldc) = ap b: ap packed (depth rows of MR), b depth
 * rows (ldb) read in place; with Tail, the last vector's lanes past `tail`
 * are neither read from b nor written.
 */
template <int MR, int NV, bool Tail>
__attribute__((target("avx512f"))) inline void packedBlock16(const float *ap, const float *b, int64_t ldb,
                                                             int64_t depth, float *c, int64_t ldc, __mmask16 tail) {
    __m512 acc[MR][NV];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
    for (int64_t k = 0; k < depth; ++k) {
        __m512 x[NV];
        for (int v = 0; v < NV; ++v)
            x[v] = Tail && v == NV - 1 ? _mm512_maskz_loadu_ps(tail, b + k * ldb + 16 * v)
                                       : _mm512_loadu_ps(b + k * ldb + 16 * v);
        for (int i = 0; i < MR; ++i) {
            const __m512 a = _mm512_set1_ps(ap[k * MR + i]);
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(a, x[v], acc[i][v]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) {
            if (Tail && v == NV - 1)
                _mm512_mask_storeu_ps(c + i * ldc + 16 * v, tail, acc[i][v]);
            else
                _mm512_storeu_ps(c + i * ldc + 16 * v, acc[i][v]);
        }
}

/** The AVX2 twin of packedBlock16: 8-float vectors, the last one's first `left` lanes with Tail. */
template <int MR, int NV, bool Tail>
__attribute__((target("avx2,fma"))) inline void packedBlock8(const float *ap, const float *b, int64_t ldb,
                                                             int64_t depth, float *c, int64_t ldc, int left) {
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 acc[MR][NV];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
    for (int64_t k = 0; k < depth; ++k) {
        __m256 x[NV];
        for (int v = 0; v < NV; ++v)
            x[v] = Tail && v == NV - 1 ? _mm256_maskload_ps(b + k * ldb + 8 * v, tail)
                                       : _mm256_loadu_ps(b + k * ldb + 8 * v);
        for (int i = 0; i < MR; ++i) {
            const __m256 a = _mm256_broadcast_ss(ap + k * MR + i);
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(a, x[v], acc[i][v]);
        }
    }
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) {
            if (Tail && v == NV - 1)
                _mm256_maskstore_ps(c + i * ldc + 8 * v, tail, acc[i][v]);
            else
                _mm256_storeu_ps(c + i * ldc + 8 * v, acc[i][v]);
        }
}

/**
 * One block of rows (h <= MR of them, packed as h-wide rows) against every
 * column of b: panels of NV full vectors, then the columns left, in panels of
 * fewer vectors and one masked.
 */
template <int MR, int NV, int Lanes>
inline void packedRows(const float *ap, const float *b, int64_t ldb, int64_t depth, int64_t n, float *c, int64_t ldc) {
    constexpr int64_t panel = int64_t(NV) * Lanes;
    int64_t j = 0;
    auto block = [&](auto vectors, auto tail, int64_t left) {
        if constexpr (Lanes == 16)
            packedBlock16<MR, decltype(vectors)::value, decltype(tail)::value>(ap, b + j, ldb, depth, c + j, ldc,
                                                                               __mmask16((1u << left) - 1));
        else
            packedBlock8<MR, decltype(vectors)::value, decltype(tail)::value>(ap, b + j, ldb, depth, c + j, ldc,
                                                                              int(left));
    };
    for (; j + panel <= n; j += panel) block(std::integral_constant<int, NV>(), std::false_type(), Lanes);
    while (j < n) {  // fewer than a panel: whole vectors, then one masked
        const int64_t rest = n - j;
        if (rest >= Lanes) {
            block(std::integral_constant<int, 1>(), std::false_type(), Lanes);
            j += Lanes;
        } else {
            block(std::integral_constant<int, 1>(), std::true_type(), rest);
            j = n;
        }
    }
}

}  // namespace product_kernels
#endif

/** Rows per block of packRows for the kernels of `width`: 8 on AVX-512, 4 on AVX2 (NV = 3 vectors wide). */
inline int64_t packedRowBlock(ProductWidth width) { return width == ProductWidth::AVX512 ? 8 : 4; }

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
    const int64_t mr = packedRowBlock(width);
    for (int64_t r0 = 0; r0 < rows; r0 += mr) {
        const int64_t h = std::min(mr, rows - r0);
        const float *block = ap + r0 * depth;
        float *out = c + r0 * ldc;
        if (width == ProductWidth::AVX512) {
            switch (h) {
                case 8:
                    packedRows<8, 3, 16>(block, b, ldb, depth, n, out, ldc);
                    break;
                case 7:
                    packedRows<7, 3, 16>(block, b, ldb, depth, n, out, ldc);
                    break;
                case 6:
                    packedRows<6, 3, 16>(block, b, ldb, depth, n, out, ldc);
                    break;
                case 5:
                    packedRows<5, 3, 16>(block, b, ldb, depth, n, out, ldc);
                    break;
                case 4:
                    packedRows<4, 3, 16>(block, b, ldb, depth, n, out, ldc);
                    break;
                case 3:
                    packedRows<3, 3, 16>(block, b, ldb, depth, n, out, ldc);
                    break;
                case 2:
                    packedRows<2, 3, 16>(block, b, ldb, depth, n, out, ldc);
                    break;
                default:
                    packedRows<1, 3, 16>(block, b, ldb, depth, n, out, ldc);
            }
        } else {
            switch (h) {
                case 4:
                    packedRows<4, 3, 8>(block, b, ldb, depth, n, out, ldc);
                    break;
                case 3:
                    packedRows<3, 3, 8>(block, b, ldb, depth, n, out, ldc);
                    break;
                case 2:
                    packedRows<2, 3, 8>(block, b, ldb, depth, n, out, ldc);
                    break;
                default:
                    packedRows<1, 3, 8>(block, b, ldb, depth, n, out, ldc);
            }
        }
    }
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
    if (width == ProductWidth::AVX512) {
        for (int64_t o0 = 0; o0 < cout; o0 += 64) {  // 4 vectors of channels at a time, the last ones fewer
            const int64_t n = std::min<int64_t>(64, cout - o0), vectors = (n + 15) / 16, left = n - (vectors - 1) * 16;
            const __mmask16 tail = __mmask16((1u << left) - 1);
            const float *bo = bt + o0;
            float *po = p + o0;
            switch (vectors) {
                case 1:
                    rows16<1>(a, lda, rows, bo, ldt, m, po, ldp, first, tail);
                    break;
                case 2:
                    rows16<2>(a, lda, rows, bo, ldt, m, po, ldp, first, tail);
                    break;
                case 3:
                    rows16<3>(a, lda, rows, bo, ldt, m, po, ldp, first, tail);
                    break;
                default:
                    rows16<4>(a, lda, rows, bo, ldt, m, po, ldp, first, tail);
            }
        }
        return;
    }
    for (int64_t o0 = 0; o0 < cout; o0 += 16) {  // 2 vectors of channels at a time, the last ones fewer
        const int64_t n = std::min<int64_t>(16, cout - o0), vectors = (n + 7) / 8, left = n - (vectors - 1) * 8;
        if (vectors == 1)
            rows8<1>(a, lda, rows, bt + o0, ldt, m, p + o0, ldp, first, int(left));
        else
            rows8<2>(a, lda, rows, bt + o0, ldt, m, p + o0, ldp, first, int(left));
    }
#else
    (void)width, (void)a, (void)lda, (void)rows, (void)b, (void)ldb, (void)cout, (void)m, (void)p, (void)ldp,
        (void)first, (void)bt;
#endif
}

}  // namespace foldnd

#endif
