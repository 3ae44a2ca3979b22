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
#include <cstring>
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

/** The lanes of backwardWeight's dot products: fixed, so that the sums are the same on every machine. */
constexpr int kDotLanes = 4;

/**
 * kDotLanes partial sums: lane j += a[j] * b[j] per step. A vector where the
 * compiler has vector extensions (GCC's and Clang's split it into the
 * machine's registers: SSE2 at the baseline), because GCC does not vectorise
 * eight independent scalar sums itself (measured: scalar mulss/addss, 3x
 * slower); elsewhere eight scalars. The same roundings either way: each lane
 * is a product rounded, then a sum rounded (no contraction, -ffp-contract=off).
 */
template <typename T>
struct DotLanes {
#if defined(__GNUC__) || defined(__clang__)
    typedef T Vector __attribute__((vector_size(sizeof(T) * kDotLanes)));
    Vector acc = {};
    /** lane j += a[j] * b[j * s]. */
    void add(const T *a, const T *b, int64_t s) {
        Vector va, vb;
        std::memcpy(&va, a, sizeof va);
        if (s == 1) {
            std::memcpy(&vb, b, sizeof vb);
        } else {
            for (int j = 0; j < kDotLanes; ++j) vb[j] = b[j * s];
        }
        acc += va * vb;
    }
    T lane(int j) const { return acc[j]; }
#else
    T acc[kDotLanes] = {};
    void add(const T *a, const T *b, int64_t s) {
        for (int j = 0; j < kDotLanes; ++j) acc[j] += a[j] * b[j * s];
    }
    T lane(int j) const { return acc[j]; }
#endif
};

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
 * gw (C_out, C_in / groups, K) from x and gy. Items are (o, c') pairs; each
 * weight's dot product runs over samples, then rows, in kDotLanes partial sums
 * (a row's blocks inside the image taken kDotLanes at a time, from the first:
 * block j of each step into lane j) and one more sum for each row's last
 * (< kDotLanes) blocks, in order; at the end the lanes are added in lane
 * order, then that tail: vectorisable without reordering any sum.
 */
template <typename T>
inline void convBackwardWeight(const ConvLayer &c, const RowSource &rows, const T *x, const T *gy, T *gw, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, P = g.imagePlane, K = g.kernelVolume, R = g.rowsPerKernelOffset();
    const int64_t width = g.lastGrid(), s = g.stride[g.dims - 1], cin = c.inPerGroup();
    // Every offset's sums at once, so that the additions of different offsets overlap (one offset's
    // lanes alone are a chain of dependent additions); this thread's (threadIndex) K lanes and tails,
    // allocated before any output is written.
    const int64_t team = std::min<int64_t>(std::max(threads, 1), c.outChannels * cin);
    const std::unique_ptr<DotLanes<T>[]> allLanes(new DotLanes<T>[static_cast<size_t>(team * K)]);
    const std::unique_ptr<T[]> allTails(new T[static_cast<size_t>(team * K)]);
    parallelFor(c.outChannels * cin, threads, g.batch * K * L, [&](int64_t begin, int64_t end) {
        DotLanes<T> *lanes = allLanes.get() + threadIndex() * K;
        T *tails = allTails.get() + threadIndex() * K;
        for (int64_t item = begin; item < end; ++item) {
            const int64_t o = item / cin, ci = item % cin, ch = (o / c.outPerGroup()) * cin + ci;
            std::fill(lanes, lanes + K, DotLanes<T>());
            std::fill(tails, tails + K, T(0));
            for (int64_t n = 0; n < g.batch; ++n) {
                const T *xp = x + (n * g.channels + ch) * P;
                const T *yp = gy + (n * c.outChannels + o) * L;
                for (int64_t q = 0; q < R; ++q) {
                    const T *out = yp + q * width;
                    for (int64_t k = 0; k < K; ++k) {
                        const Row r = rows.row(k, q);
                        const T *in = xp + r.image;
                        // Whole steps of kDotLanes blocks into the lanes, the rest (< kDotLanes) into the tail.
                        const int64_t whole = r.lo + (r.hi - r.lo) / kDotLanes * kDotLanes;
                        int64_t l = r.lo;
                        DotLanes<T> row = lanes[k];  // in registers along the row, not through memory
                        for (; l < whole; l += kDotLanes) row.add(out + l, in + l * s, s);
                        lanes[k] = row;
                        T tail = tails[k];
                        for (; l < r.hi; ++l) tail += out[l] * in[l * s];
                        tails[k] = tail;
                    }
                }
            }
            for (int64_t k = 0; k < K; ++k) {
                T sum = T(0);
                for (int j = 0; j < kDotLanes; ++j) sum += lanes[k].lane(j);
                gw[item * K + k] = sum + tails[k];
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
