// foldnd/block_fold.hpp: streaming fold. Folds the columns of a contiguous
// range of blocks [first, first + count) of a geometry's grid into an existing
// image, merging with what is there (no zeroing), and adds each offset's weight
// to a weight-sum plane, so that a caller can fold a volume whose whole column
// matrix never exists at once (sliding-window inference), then finish: divide
// by the weight sum (MEAN), or clear what no block covered (MAX, MIN).
//
// Columns of the range: per sample (planes, K, count), batch-fused (C*K,
// N*count); block first + j is column j.
//
// Order (what makes a streamed fold bit-identical to one whole fold): an image
// element receives contributions from distinct blocks, and a higher kernel
// offset always comes from a lower block (row-major; per dimension, x = l s + k
// d - p fixed means k up <=> l down). So visiting blocks in descending order
// delivers every element's contributions in increasing kernel-offset order, as
// kernels.hpp's whole fold adds them. Within a call rows of blocks are visited
// downward and, within a row, offsets upward (the same thing); across calls,
// the caller visits ranges in descending block order.
//
// Work items: (plane, band) pairs, bands along image dimension 0, plus one more
// "plane" of bands for the weight sum, so that a heap-array call can be cut into
// short critical regions like the other kernels (every element is written by
// one item, whatever the cut or thread count).
#ifndef FOLDND_BLOCK_FOLD_HPP
#define FOLDND_BLOCK_FOLD_HPP

#include <algorithm>
#include <cstdint>

#include "geometry.hpp"
#include "kernels.hpp"

namespace foldnd {

/** Bands per plane of a block-range fold: about 256 KiB of image each; depends on the geometry only. */
template <typename T>
inline int64_t blockFoldBands(const Geometry &g) {
    const int64_t bytes = g.imagePlane * int64_t(sizeof(T));
    return std::max<int64_t>(1, std::min(g.image[0], ceilDiv(bytes, kBandBytes)));
}

/** Work items of a block-range fold: (planes + 1) x bands, the last plane's bands being the weight sum's. */
template <typename T>
inline int64_t blockFoldItems(const Geometry &g) {
    return (g.planes + 1) * blockFoldBands<T>(g);
}

/**
 * One item: the contributions of blocks [first, end) to image elements whose
 * dimension-0 coordinate lies in [bandBegin, bandEnd) of one plane. src
 * supplies values (columns times weight, or the weight alone for the weight
 * sum), Rule merges them.
 */
template <typename T, Reduce Rule, class Src>
inline void foldBlockBand(const Geometry &g, const Src &src, int64_t kernelStride, int64_t first, int64_t end,
                          int64_t bandBegin, int64_t bandEnd, T *out) {
    const int d = g.dims, last = d - 1;
    const int64_t W = g.lastGrid(), step = g.stride[last], n = g.image[last];
    const int64_t qa = first / W, qb = (end - 1) / W;
    int64_t l[kMaxDims], k[kMaxDims];
    for (int64_t q = qb; q >= qa; --q) {  // rows downward
        const int64_t la = q == qa ? first % W : 0, lb = q == qb ? (end - 1) % W + 1 : W;
        for (int64_t rest = q, i = last - 1; i >= 0; --i) {  // the row's block index before the last dimension
            l[i] = rest % g.grid[i];
            rest /= g.grid[i];
        }
        std::fill(k, k + d, int64_t(0));
        for (int64_t kk = 0; kk < g.kernelVolume; ++kk) {  // offsets upward
            if (kk > 0)
                for (int i = last; i >= 0 && ++k[i] == g.kernel[i]; --i) k[i] = 0;
            int64_t at = 0;
            bool inside = true;
            for (int i = 0; i < last && inside; ++i) {
                const int64_t x = l[i] * g.stride[i] + k[i] * g.dilation[i] - g.padding[i];
                inside = x >= 0 && x < g.image[i] && (i > 0 || (x >= bandBegin && x < bandEnd));
                at += x * g.imageStride[i];
            }
            if (!inside) continue;
            // The last dimension: x = l step + x0 must lie in [0, n), and for d = 1 also in the band.
            const int64_t x0 = k[last] * g.dilation[last] - g.padding[last];
            const int64_t lowX = d == 1 ? bandBegin : 0, highX = d == 1 ? bandEnd : n;
            const int64_t lo = std::max(la, ceilDiv(lowX - x0, step)), hi = std::min(lb, ceilDiv(highX - x0, step));
            if (lo >= hi) continue;
            T *o = out + at + x0;
            const int64_t column = kk * kernelStride + q * W - first;  // column of block (q, l = 0)
            const T w = src.weight(kk);
            for (int64_t j = lo; j < hi; ++j) Merge<Rule>::apply(o[j * step], src.value(column + j, w));
        }
    }
}

/**
 * The items [part.first, part.end) of a block-range fold of blocks [first, first
 * + count) (count >= 1): merges with reduce into image, and adds the weights
 * (1 each when null) to weightSum (one plane) when it is not null.
 */
template <typename T>
inline void foldBlocks(const Geometry &g, const T *columns, T *image, T *weightSum, Reduce reduce, const T *weights,
                       int64_t first, int64_t count, int threads, ItemRange part) {
    const int64_t bands = blockFoldBands<T>(g), extent = g.image[0];
    const int64_t end = first + count, P = g.imagePlane, K = g.kernelVolume;
    // The range's columns: as the geometry's, with count blocks in place of L.
    const int64_t kernelStride = g.layout == PER_SAMPLE ? count : g.batch * count;
    auto base = [&](int64_t p) {
        if (g.layout == PER_SAMPLE) return p * K * count;
        return ((p % g.channels) * K * g.batch + p / g.channels) * count;
    };
    parallelFor(part.end - part.first, threads, (K * count + P) / bands, [&](int64_t begin, int64_t stop) {
        for (int64_t item = part.first + begin; item < part.first + stop; ++item) {
            const int64_t p = item / bands, band = item % bands;
            const int64_t b0 = extent * band / bands, b1 = extent * (band + 1) / bands;
            if (p == g.planes) {  // the weight sum's band
                if (weightSum == nullptr) continue;
                if (weights != nullptr)
                    foldBlockBand<T, SUM>(g, WeightSource<T, true>{weights}, kernelStride, first, end, b0, b1,
                                          weightSum);
                else
                    foldBlockBand<T, SUM>(g, WeightSource<T, false>{nullptr}, kernelStride, first, end, b0, b1,
                                          weightSum);
                continue;
            }
            T *out = image + p * P;
            const T *cols = columns + base(p);
            const bool w = weights != nullptr;
            switch (reduce) {
                case SUM:
                case MEAN:
                    if (w)
                        foldBlockBand<T, SUM>(g, Source<T, true>{cols, weights}, kernelStride, first, end, b0, b1, out);
                    else
                        foldBlockBand<T, SUM>(g, Source<T, false>{cols, weights}, kernelStride, first, end, b0, b1,
                                              out);
                    break;
                case MAX:
                    if (w)
                        foldBlockBand<T, MAX>(g, Source<T, true>{cols, weights}, kernelStride, first, end, b0, b1, out);
                    else
                        foldBlockBand<T, MAX>(g, Source<T, false>{cols, weights}, kernelStride, first, end, b0, b1,
                                              out);
                    break;
                case MIN:
                    if (w)
                        foldBlockBand<T, MIN>(g, Source<T, true>{cols, weights}, kernelStride, first, end, b0, b1, out);
                    else
                        foldBlockBand<T, MIN>(g, Source<T, false>{cols, weights}, kernelStride, first, end, b0, b1,
                                              out);
                    break;
            }
        }
    });
}

/**
 * The finishing step of a streamed fold, as the whole fold's finish(): MEAN
 * divides each plane by the weight sum, MAX/MIN leave it; both give 0 where
 * the weight sum is 0 (no block covered the element). SUM changes nothing.
 */
template <typename T>
inline void finishBlocks(const Geometry &g, T *image, const T *weightSum, Reduce reduce, int threads) {
    if (reduce == SUM) return;
    const int64_t P = g.imagePlane;
    parallelFor(g.planes, threads, P, [&](int64_t begin, int64_t stop) {
        for (int64_t p = begin; p < stop; ++p) finish(weightSum, reduce == MEAN, 0, P, image + p * P);
    });
}

}  // namespace foldnd

#endif
