// foldnd/conv_direct.hpp: convolution without columns, for depthwise and
// small-group layers (few input channels per group), where the GEMM of the
// columns is a thin product that costs less than building its operand. Each
// kernel offset's rows (RowSource, as unfold's) say which image elements meet
// which output blocks; a layer's three passes run straight on the image, the
// weights and the output:
//   forward         y[n, o, l]   = sum_{c in group(o), k} w[o, c', k] x[n, c, at(k, l)]
//   backwardInput   gx[n, c, i]  = sum_{o in group(c), k, l: at(k, l) = i} w[o, c', k] gy[n, o, l]
//   backwardWeight  gw[o, c', k] = sum_{n, l} gy[n, o, l] x[n, c, at(k, l)]
// (c' = c's index within its group, at(k, l) the image element that block l
// reads at offset k, nothing where that is padding). Each output element is
// computed by one thread, its terms in a fixed order (channels, then offsets,
// then blocks), so the result does not depend on the thread count.
#ifndef FOLDND_CONV_DIRECT_HPP
#define FOLDND_CONV_DIRECT_HPP

#include <algorithm>
#include <cstdint>
#include <memory>

#include "geometry.hpp"
#include "kernels.hpp"

namespace foldnd {

/** Which pass of a layer a direct call computes (the Java side sends these codes). */
enum ConvPass : int { CONV_FORWARD = 0, CONV_BACKWARD_INPUT = 1, CONV_BACKWARD_WEIGHT = 2 };

/**
 * A layer for the direct kernels: x's unfold geometry g (planes N x C_in, its
 * grid the output's spatial size), outChannels C_out and groups.
 */
struct ConvLayer {
    const Geometry &g;
    int64_t outChannels, groups;

    int64_t inPerGroup() const { return g.channels / groups; }
    int64_t outPerGroup() const { return outChannels / groups; }
    int64_t xLength() const { return g.imageLength; }
    int64_t yLength() const { return g.batch * outChannels * g.blocks; }
    int64_t weightLength() const { return outChannels * inPerGroup() * g.kernelVolume; }
};

/**
 * The most accumulators (offsets x row width) backwardWeight keeps per thread;
 * a layer with more takes its offsets in groups, each group a pass over the
 * samples (the sums, and so the bits, are the same).
 */
constexpr int64_t kColumnSums = int64_t(1) << 15;

/**
 * y (N, C_out, L) = the convolution of x (N, C_in, *image) with w (C_out,
 * C_in / groups, K); no bias. Items are output planes (n, o).
 */
template <typename T>
inline void convForward(const ConvLayer &c, const RowSource &rows, const T *x, const T *w, T *y, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, P = g.imagePlane, K = g.kernelVolume, R = g.rowsPerKernelOffset();
    const int64_t width = g.lastGrid(), s = g.stride[g.dims - 1], cin = c.inPerGroup();
    parallelFor(g.batch * c.outChannels, threads, cin * K * L, [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
            const int64_t n = item / c.outChannels, o = item % c.outChannels, first = (o / c.outPerGroup()) * cin;
            T *yp = y + item * L;
            std::fill(yp, yp + L, T(0));
            for (int64_t ci = 0; ci < cin; ++ci) {
                const T *xp = x + (n * g.channels + first + ci) * P;
                const T *wp = w + (o * cin + ci) * K;
                for (int64_t k = 0; k < K; ++k) {
                    const T wk = wp[k];
                    rows.forRows(k, 0, R, [&](int64_t q, const Row &r) {
                        T *__restrict out = yp + q * width;     // y and x never overlap (api.h checks)
                        const T *__restrict in = xp + r.image;  // block l reads in[l * s]
                        if (s == 1) {
                            for (int64_t l = r.lo; l < r.hi; ++l) out[l] += wk * in[l];
                        } else {
                            for (int64_t l = r.lo; l < r.hi; ++l) out[l] += wk * in[l * s];
                        }
                    });
                }
            }
        }
    });
}

/**
 * gx (N, C_in, *image) from gy (N, C_out, L) and w: each block's gradient
 * spread back over the elements it read. Items are input planes (n, c).
 */
template <typename T>
inline void convBackwardInput(const ConvLayer &c, const RowSource &rows, const T *gy, const T *w, T *gx, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, P = g.imagePlane, K = g.kernelVolume, R = g.rowsPerKernelOffset();
    const int64_t width = g.lastGrid(), s = g.stride[g.dims - 1], cin = c.inPerGroup(), cout = c.outPerGroup();
    parallelFor(g.planes, threads, cout * K * L, [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
            const int64_t n = item / g.channels, ch = item % g.channels, ci = ch % cin;
            const int64_t firstOut = (ch / cin) * cout;
            T *xp = gx + item * P;
            std::fill(xp, xp + P, T(0));
            for (int64_t oi = 0; oi < cout; ++oi) {
                const int64_t o = firstOut + oi;
                const T *yp = gy + (n * c.outChannels + o) * L;
                const T *wp = w + (o * cin + ci) * K;
                for (int64_t k = 0; k < K; ++k) {
                    const T wk = wp[k];
                    rows.forRows(k, 0, R, [&](int64_t q, const Row &r) {
                        const T *__restrict in = yp + q * width;
                        T *__restrict out = xp + r.image;  // block l writes out[l * s]
                        if (s == 1) {
                            for (int64_t l = r.lo; l < r.hi; ++l) out[l] += wk * in[l];
                        } else {
                            for (int64_t l = r.lo; l < r.hi; ++l) out[l * s] += wk * in[l];
                        }
                    });
                }
            }
        }
    });
}

/**
 * gw (C_out, C_in / groups, K) from x and gy. Items are (o, c') pairs. Each
 * weight's sum is taken by columns: one partial sum per block position j of a
 * row (j in [0, width), the last dimension), to which the terms of every
 * sample and row add in that order (n, then rows), each column updated like a
 * row of forward (vectorised, and no sum reordered); the weight is then the
 * columns added in order j = 0, 1, ... (a column no term reached holds +0, and
 * adding +0 changes no sum here: a sum of products that starts at +0 is never
 * -0).
 */
template <typename T>
inline void convBackwardWeight(const ConvLayer &c, const RowSource &rows, const T *x, const T *gy, T *gw, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, P = g.imagePlane, K = g.kernelVolume, R = g.rowsPerKernelOffset();
    const int64_t width = g.lastGrid(), s = g.stride[g.dims - 1], cin = c.inPerGroup();
    const int64_t perGroup = std::max<int64_t>(1, std::min(K, kColumnSums / width));  // offsets per pass
    // This thread's (threadIndex) columns, allocated before any output is written.
    const int64_t team = std::min<int64_t>(std::max(threads, 1), c.outChannels * cin);
    const std::unique_ptr<T[]> allColumns(new T[static_cast<size_t>(team * perGroup * width)]);
    parallelFor(c.outChannels * cin, threads, g.batch * K * L, [&](int64_t begin, int64_t end) {
        T *columns = allColumns.get() + threadIndex() * perGroup * width;
        for (int64_t item = begin; item < end; ++item) {
            const int64_t o = item / cin, ci = item % cin, ch = (o / c.outPerGroup()) * cin + ci;
            for (int64_t k0 = 0; k0 < K; k0 += perGroup) {
                const int64_t k1 = std::min(K, k0 + perGroup);
                std::fill(columns, columns + (k1 - k0) * width, T(0));
                for (int64_t n = 0; n < g.batch; ++n) {
                    const T *xp = x + (n * g.channels + ch) * P;
                    const T *yp = gy + (n * c.outChannels + o) * L;
                    for (int64_t k = k0; k < k1; ++k) {
                        T *__restrict col = columns + (k - k0) * width;
                        rows.forRows(k, 0, R, [&](int64_t q, const Row &r) {
                            const T *__restrict out = yp + q * width;
                            const T *__restrict in = xp + r.image;  // block l reads in[l * s]
                            if (s == 1) {
                                for (int64_t l = r.lo; l < r.hi; ++l) col[l] += out[l] * in[l];
                            } else {
                                for (int64_t l = r.lo; l < r.hi; ++l) col[l] += out[l] * in[l * s];
                            }
                        });
                    }
                }
                for (int64_t k = k0; k < k1; ++k) {
                    const T *col = columns + (k - k0) * width;
                    T sum = T(0);
                    for (int64_t j = 0; j < width; ++j) sum += col[j];
                    gw[item * K + k] = sum;
                }
            }
        }
    });
}

/** One direct pass: a and b are its inputs (x and w, gy and w, x and gy), out its output. */
template <typename T>
inline void convDirect(const ConvLayer &c, int pass, const T *a, const T *b, T *out, int threads) {
    const OffsetTables t(c.g);
    const RowSource rows(c.g, t);
    switch (pass) {
        case CONV_FORWARD:
            convForward(c, rows, a, b, out, threads);
            break;
        case CONV_BACKWARD_INPUT:
            convBackwardInput(c, rows, a, b, out, threads);
            break;
        default:
            convBackwardWeight(c, rows, a, b, out, threads);
            break;
    }
}

}  // namespace foldnd

#endif
