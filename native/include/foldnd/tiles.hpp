// foldnd/tiles.hpp: transposes of small tiles of 8-, 16-, 32- and 64-bit
// values, one 16-byte vector per row, in SSE2 (part of every x86-64, so no
// dispatch). A chunk of consecutive kernel offsets at dilation 1 reads, at each
// block, consecutive image elements, and writes each to a different column
// row: a transpose. unfold (kernels.hpp, unfoldChunkRow), float and double fold
// (kernels.hpp, foldTiles) and 16-bit fold (half_fold.hpp, chunkTiles) move
// such chunks a tile at a time instead of one element at a time.
#ifndef FOLDND_TILES_HPP
#define FOLDND_TILES_HPP

#if defined(__SSE2__)
#include <emmintrin.h>
#define FOLDND_TILES 1

namespace foldnd {

/** Transposes eight rows of eight 16-bit values in place: v[i][j] becomes v[j][i]. */
__attribute__((always_inline)) inline void transpose8x8(__m128i *v) {
    __m128i a[8], b[8];
    for (int i = 0; i < 8; i += 2) {
        a[i] = _mm_unpacklo_epi16(v[i], v[i + 1]);  // v[i][0] v[i+1][0] v[i][1] v[i+1][1] ...
        a[i + 1] = _mm_unpackhi_epi16(v[i], v[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        b[i] = _mm_unpacklo_epi32(a[i], a[i + 2]);  // columns 0 and 1 of rows i..i+3
        b[i + 1] = _mm_unpackhi_epi32(a[i], a[i + 2]);
        b[i + 2] = _mm_unpacklo_epi32(a[i + 1], a[i + 3]);
        b[i + 3] = _mm_unpackhi_epi32(a[i + 1], a[i + 3]);
    }
    for (int i = 0; i < 4; ++i) {
        v[2 * i] = _mm_unpacklo_epi64(b[i], b[i + 4]);
        v[2 * i + 1] = _mm_unpackhi_epi64(b[i], b[i + 4]);
    }
}

/**
 * Transposes sixteen rows of sixteen bytes in place: v[i][j] becomes v[j][i].
 * Four rounds that interleave rows 2i and 2i+1 at widths 1, 2, 4 and 8 bytes;
 * they leave column c in row bitreverse4(c), put back in place at the end.
 */
__attribute__((always_inline)) inline void transpose16x16(__m128i *v) {
    __m128i t[16];
    for (int round = 0; round < 4; ++round) {
        for (int i = 0; i < 8; ++i) {
            const __m128i a = v[2 * i], b = v[2 * i + 1];
            switch (round) {
                case 0:
                    t[i] = _mm_unpacklo_epi8(a, b);
                    t[i + 8] = _mm_unpackhi_epi8(a, b);
                    break;
                case 1:
                    t[i] = _mm_unpacklo_epi16(a, b);
                    t[i + 8] = _mm_unpackhi_epi16(a, b);
                    break;
                case 2:
                    t[i] = _mm_unpacklo_epi32(a, b);
                    t[i + 8] = _mm_unpackhi_epi32(a, b);
                    break;
                default:
                    t[i] = _mm_unpacklo_epi64(a, b);
                    t[i + 8] = _mm_unpackhi_epi64(a, b);
            }
        }
        for (int i = 0; i < 16; ++i) v[i] = t[i];
    }
    static constexpr int kReversed[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    for (int c = 0; c < 16; ++c) v[c] = t[kReversed[c]];
}

/** Transposes four rows of four 32-bit values in place: v[i][j] becomes v[j][i]. */
__attribute__((always_inline)) inline void transpose4x4(__m128i *v) {
    const __m128i a0 = _mm_unpacklo_epi32(v[0], v[1]);  // v0[0] v1[0] v0[1] v1[1]
    const __m128i a1 = _mm_unpackhi_epi32(v[0], v[1]);  // v0[2] v1[2] v0[3] v1[3]
    const __m128i a2 = _mm_unpacklo_epi32(v[2], v[3]);
    const __m128i a3 = _mm_unpackhi_epi32(v[2], v[3]);
    v[0] = _mm_unpacklo_epi64(a0, a2);
    v[1] = _mm_unpackhi_epi64(a0, a2);
    v[2] = _mm_unpacklo_epi64(a1, a3);
    v[3] = _mm_unpackhi_epi64(a1, a3);
}

/** Transposes two rows of two 64-bit values in place: v[i][j] becomes v[j][i]. */
__attribute__((always_inline)) inline void transpose2x2(__m128i *v) {
    const __m128i a = _mm_unpacklo_epi64(v[0], v[1]);
    v[1] = _mm_unpackhi_epi64(v[0], v[1]);
    v[0] = a;
}

/**
 * Transposes a tile of 16 / Bytes rows of 16 / Bytes values of Bytes bytes in
 * place: the one of the four above that fits.
 */
template <int Bytes>
__attribute__((always_inline)) inline void transposeTile(__m128i *v) {
    static_assert(Bytes == 1 || Bytes == 2 || Bytes == 4 || Bytes == 8, "8- to 64-bit values");
    if constexpr (Bytes == 1)
        transpose16x16(v);
    else if constexpr (Bytes == 2)
        transpose8x8(v);
    else if constexpr (Bytes == 4)
        transpose4x4(v);
    else
        transpose2x2(v);
}

}  // namespace foldnd

#endif
#endif
