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

/**
 * The most accumulators (offsets x row width) backwardWeight keeps per thread;
 * a layer with more takes its offsets in groups, each group a pass over the
 * samples (the sums, and so the bits, are the same).
 */
constexpr int64_t kColumnSums = int64_t(1) << 15;

/** A 16-byte vector of T (GCC's and Clang's vector extension: SSE2 registers on x86-64). */
template <typename T>
struct Vector16;
template <>
struct Vector16<float> {
    typedef float type __attribute__((vector_size(16)));
};
template <>
struct Vector16<double> {
    typedef double type __attribute__((vector_size(16)));
};

/**
 * Part `part` of `parts` of a direct pass: each kernel below runs the same
 * share of its items, partShare(items, part, parts, 1), so that consecutive
 * parts cover every item once. An item computes what it computes in a whole pass, so the parts give
 * the whole pass's bits; Java runs a long pass on heap arrays as parts, each
 * in its own short JNI critical region.
 */
struct DirectPart {
    int64_t part = 0, parts = 1;

    /** Runs body(begin, end) on the team over this part's share of n items, work per item as parallelFor. */
    template <class Body>
    void forItems(int64_t n, int threads, int64_t workPerItem, Body &&body) const {
        const ItemRange mine = partShare(n, part, parts, 1);
        parallelFor(mine.end - mine.first, threads, workPerItem,
                    [&](int64_t begin, int64_t stop) { body(mine.first + begin, mine.first + stop); });
    }
};

/** Lanes of a bias gradient's sums (biasGradient). */
constexpr int kBiasLanes = 16;

/**
 * gradBias (C_out values, or null: nothing) = the sums of gy over samples and
 * blocks: for each channel, kBiasLanes partial sums, block l of every sample
 * adding to lane l mod kBiasLanes (samples in order, then blocks), then the
 * lanes added in order 0, 1, ... A single running sum per channel is a chain
 * of dependent additions, one per element of gy: it took 0.5-1 ms of the
 * depthwise layer's backwardWeight (8 x 128 x 28^2), longer than the weights'
 * products. Each channel is one thread's, so the bits do not depend on the
 * thread count; foldnd-conv's Java engine sums in the same order.
 */
template <typename T>
inline void biasGradient(const ConvLayer &c, const T *gy, T *gradBias, int threads, const DirectPart &part = {}) {
    if (gradBias == nullptr) return;
    using Vec = typename Vector16<T>::type;
    constexpr int W = 16 / sizeof(T), N = kBiasLanes / W;
    const int64_t L = c.g.blocks;
    part.forItems(c.outChannels, threads, c.g.batch * L, [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
            Vec acc[N];
            for (int m = 0; m < N; ++m) acc[m] = Vec{};
            for (int64_t n = 0; n < c.g.batch; ++n) {
                const T *yp = gy + (n * c.outChannels + o) * L;
                int64_t l = 0;
                for (; l + kBiasLanes <= L; l += kBiasLanes) {
                    for (int m = 0; m < N; ++m) {
                        Vec v;
                        std::memcpy(&v, yp + l + m * W, sizeof v);
                        acc[m] += v;
                    }
                }
                for (int64_t j = 0; l + j < L; ++j) acc[j / W][j % W] += yp[l + j];
            }
            T sum = T(0);
            for (int j = 0; j < kBiasLanes; ++j) sum += acc[j / W][j % W];
            gradBias[o] = sum;
        }
    });
}

/**
 * y (N, C_out, L) = the convolution of x (N, C_in, *image) with w (C_out,
 * C_in / groups, K), plus bias (C_out values, or null) added to each sum
 * last. Items are output planes (n, o).
 */
template <typename T>
inline void convForward(const ConvLayer &c, const RowSource &rows, const T *x, const T *w, const T *bias, T *y,
                        int threads, const DirectPart &part = {}) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, P = g.imagePlane, K = g.kernelVolume, R = g.rowsPerKernelOffset();
    const int64_t width = g.lastGrid(), s = g.stride[g.dims - 1], cin = c.inPerGroup();
    part.forItems(g.batch * c.outChannels, threads, cin * K * L, [&](int64_t begin, int64_t end) {
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
            if (bias != nullptr) {
                const T b = bias[o];
                for (int64_t l = 0; l < L; ++l) yp[l] += b;
            }
        }
    });
}

/**
 * gx (N, C_in, *image) from gy (N, C_out, L) and w: each block's gradient
 * spread back over the elements it read. Items are input planes (n, c).
 */
template <typename T>
inline void convBackwardInput(const ConvLayer &c, const RowSource &rows, const T *gy, const T *w, T *gx, int threads,
                              const DirectPart &part = {}) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, P = g.imagePlane, K = g.kernelVolume, R = g.rowsPerKernelOffset();
    const int64_t width = g.lastGrid(), s = g.stride[g.dims - 1], cin = c.inPerGroup(), cout = c.outPerGroup();
    part.forItems(g.planes, threads, cout * K * L, [&](int64_t begin, int64_t end) {
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
inline void convBackwardWeight(const ConvLayer &c, const RowSource &rows, const T *x, const T *gy, T *gw, int threads,
                               const DirectPart &part = {}) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, P = g.imagePlane, K = g.kernelVolume, R = g.rowsPerKernelOffset();
    const int64_t width = g.lastGrid(), s = g.stride[g.dims - 1], cin = c.inPerGroup();
    const int64_t perGroup = std::max<int64_t>(1, std::min(K, kColumnSums / width));  // offsets per pass
    // This thread's (threadIndex) columns, allocated before any output is written.
    const int64_t team = std::min<int64_t>(std::max(threads, 1), c.outChannels * cin);
    const std::unique_ptr<T[]> allColumns(new T[static_cast<size_t>(team * perGroup * width)]);
    part.forItems(c.outChannels * cin, threads, g.batch * K * L, [&](int64_t begin, int64_t end) {
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

/** The most elements of scratch per thread (a padded x plane and the columns) of convBackwardWeight2d. */
constexpr int64_t kPaddedPlaneElements = int64_t(1) << 18;

/**
 * Lanes of convBackwardWeight2d's columns: a row of blocks rounded up to whole
 * vectors of 8 (the padded x plane is as wide as these lanes read).
 */
inline int64_t paddedLanes(const Geometry &g) { return ceilDiv(g.lastGrid(), int64_t(8)) * 8; }

/** The padded x plane's rows and columns in convBackwardWeight2d: every block and offset lands inside it. */
inline void paddedPlane(const Geometry &g, int64_t &rows, int64_t &columns) {
    rows = (g.grid[0] - 1) * g.stride[0] + (g.kernel[0] - 1) * g.dilation[0] + 1;
    columns = (paddedLanes(g) - 1) * g.stride[1] + (g.kernel[1] - 1) * g.dilation[1] + 1;
}

/** Whether convBackwardWeight2d takes the layer: 2-d, and its scratch per thread within kPaddedPlaneElements. */
inline bool paddedBackwardWeight(const Geometry &g) {
    if (g.dims != 2) return false;
    int64_t rows, columns;
    paddedPlane(g, rows, columns);
    const int64_t lanes = paddedLanes(g);
    return rows <= kPaddedPlaneElements / columns && rows * columns + g.kernelVolume * lanes <= kPaddedPlaneElements;
}

/**
 * The lane sums of G offsets along a row of the kernel (offset i at dilated
 * distance i d from the first) over a plane's rows, for the V lanes j:
 *   col[i colStride + j] += sum over rows q of out[q outStride + j] in[q inStride + i d + j s]
 * each lane's terms in row order. The sums stay in registers across the rows
 * (a loop over the lanes inside one over the rows would store and reload every
 * sum once per row, a chain of dependent memory operations that took longer
 * than the products), and gy's row is loaded once for the G offsets: at 3x3,
 * 8 vector loads for 6 products instead of 12. Whole vectors are GCC's vector
 * type: the same sums as a T[G][V], which it kept on the stack. With the plane
 * copies below, the 8 x 128 x 28^2 depthwise layer went from 0.94-0.99 ms to
 * 0.44 ms (C++ harness, 2 threads, best of 300, three rounds each). Compiled
 * for AVX2 instead of SSE2 the offset-at-a-time form had run no faster.
 */
template <int V, int G, typename T>
inline void laneSums(T *col, int64_t colStride, const T *out, int64_t outStride, const T *in, int64_t inStride,
                     int64_t s, int64_t d, int64_t rows) {
    if constexpr (V % (16 / sizeof(T)) == 0) {
        if (s == 1) {  // whole vectors: the form the compiler keeps in registers (a T[G][V] it spilled)
            using Vec = typename Vector16<T>::type;
            constexpr int N = V / (16 / sizeof(T));
            const auto load = [](const T *p) {
                Vec v;
                std::memcpy(&v, p, sizeof v);
                return v;
            };
            Vec acc[G][N];
            for (int i = 0; i < G; ++i)
                for (int m = 0; m < N; ++m) acc[i][m] = load(col + i * colStride + m * (V / N));
            for (int64_t q = 0; q < rows; ++q) {
                const T *o = out + q * outStride, *x = in + q * inStride;
                Vec ov[N];
                for (int m = 0; m < N; ++m) ov[m] = load(o + m * (V / N));
                for (int i = 0; i < G; ++i)
                    for (int m = 0; m < N; ++m) acc[i][m] += ov[m] * load(x + i * d + m * (V / N));
            }
            for (int i = 0; i < G; ++i)
                for (int m = 0; m < N; ++m) std::memcpy(col + i * colStride + m * (V / N), &acc[i][m], sizeof(Vec));
            return;
        }
    }
    T acc[G][V];
    for (int i = 0; i < G; ++i)
        for (int j = 0; j < V; ++j) acc[i][j] = col[i * colStride + j];
    for (int64_t q = 0; q < rows; ++q) {
        const T *o = out + q * outStride, *x = in + q * inStride;
        for (int i = 0; i < G; ++i)
            for (int j = 0; j < V; ++j) acc[i][j] += o[j] * x[i * d + j * s];
    }
    for (int i = 0; i < G; ++i)
        for (int j = 0; j < V; ++j) col[i * colStride + j] = acc[i][j];
}

/**
 * G offsets' lane sums over a plane's rows of width lanes (gy's own rows, no
 * padding): in chunks of 8 lanes, then 4, then single lanes.
 */
template <int G, typename T>
inline void offsetSums(T *col, int64_t colStride, const T *out, int64_t width, const T *in, int64_t inStride, int64_t s,
                       int64_t d, int64_t rows) {
    int64_t l = 0;
    for (; l + 8 <= width; l += 8) laneSums<8, G>(col + l, colStride, out + l, width, in + l * s, inStride, s, d, rows);
    if (l + 4 <= width) {
        laneSums<4, G>(col + l, colStride, out + l, width, in + l * s, inStride, s, d, rows);
        l += 4;
    }
    for (; l < width; ++l) laneSums<1, G>(col + l, colStride, out + l, width, in + l * s, inStride, s, d, rows);
}

/**
 * convBackwardWeight for 2-d layers, with the same sums: each (sample,
 * channel) plane of x is first copied into a zero-padded plane, so that every
 * offset's terms over a plane are one loop nest of fixed trip counts: no row
 * ranges, which cost more than the products on the small planes of depthwise
 * layers (per row of 28 blocks, 28 products). The padding is zeroed once per
 * thread (the copies rewrite the same interior every time), and gy's rows are
 * read where they are. A padding element contributes a product with +0, which
 * changes no sum here (see convBackwardWeight) while gy is finite (an
 * infinite gy there gives NaN, as the GEMM of unfolded columns does).
 */
template <typename T>
inline void convBackwardWeight2d(const ConvLayer &c, const T *x, const T *gy, T *gw, int threads,
                                 const DirectPart &part = {}) {
    const Geometry &g = c.g;
    const int64_t H = g.image[0], W = g.image[1], R = g.grid[0], width = g.grid[1], L = g.blocks;
    const int64_t kh = g.kernel[0], kw = g.kernel[1], K = g.kernelVolume, P = g.imagePlane, cin = c.inPerGroup();
    const int64_t s0 = g.stride[0], s1 = g.stride[1], d0 = g.dilation[0], d1 = g.dilation[1];
    const int64_t lanes = paddedLanes(g);
    int64_t Hp, Wp;
    paddedPlane(g, Hp, Wp);
    // x's plane lands at (padding[0], padding[1]) of the padded one: rows i0..i1, columns j0..j1 of it
    const int64_t i0 = std::min(Hp, std::max<int64_t>(0, g.padding[0])),
                  i1 = std::max(i0, std::min(Hp, g.padding[0] + H));
    const int64_t j0 = std::min(Wp, std::max<int64_t>(0, g.padding[1])),
                  j1 = std::max(j0, std::min(Wp, g.padding[1] + W));
    const int64_t perThread = Hp * Wp + K * lanes;
    const int64_t team = std::min<int64_t>(std::max(threads, 1), c.outChannels * cin);
    const std::unique_ptr<T[]> all(new T[static_cast<size_t>(team * perThread)]);
    part.forItems(c.outChannels * cin, threads, g.batch * K * L, [&](int64_t begin, int64_t end) {
        T *xpad = all.get() + threadIndex() * perThread, *columns = xpad + Hp * Wp;
        std::fill(xpad, xpad + Hp * Wp, T(0));
        for (int64_t item = begin; item < end; ++item) {
            const int64_t o = item / cin, ci = item % cin, ch = (o / c.outPerGroup()) * cin + ci;
            std::fill(columns, columns + K * lanes, T(0));
            for (int64_t n = 0; n < g.batch; ++n) {
                const T *xp = x + (n * g.channels + ch) * P, *yp = gy + (n * c.outChannels + o) * L;
                for (int64_t i = i0; i < i1; ++i) {
                    T *__restrict row = xpad + i * Wp + j0;
                    const T *__restrict src = xp + (i - g.padding[0]) * W + (j0 - g.padding[1]);
                    for (int64_t j = 0; j < j1 - j0; ++j) row[j] = src[j];  // inline: a call per short row cost more
                }
                for (int64_t ki = 0; ki < kh; ++ki) {
                    for (int64_t kj = 0; kj < kw;) {
                        T *col = columns + (ki * kw + kj) * lanes;
                        const T *in = xpad + ki * d0 * Wp + kj * d1;
                        switch (std::min<int64_t>(kw - kj, 4)) {
                            case 4:
                                offsetSums<4>(col, lanes, yp, width, in, s0 * Wp, s1, d1, R);
                                kj += 4;
                                break;
                            case 3:
                                offsetSums<3>(col, lanes, yp, width, in, s0 * Wp, s1, d1, R);
                                kj += 3;
                                break;
                            case 2:
                                offsetSums<2>(col, lanes, yp, width, in, s0 * Wp, s1, d1, R);
                                kj += 2;
                                break;
                            default:
                                offsetSums<1>(col, lanes, yp, width, in, s0 * Wp, s1, d1, R);
                                kj += 1;
                                break;
                        }
                    }
                }
            }
            for (int64_t k = 0; k < K; ++k) {
                const T *col = columns + k * lanes;
                T sum = T(0);
                for (int64_t j = 0; j < width; ++j) sum += col[j];
                gw[item * K + k] = sum;
            }
        }
    });
}

/**
 * One direct pass, or part of one (DirectPart): a and b are its inputs (x and
 * w, gy and w, x and gy), out its output; extra forward's bias (read) or
 * backwardWeight's bias gradient (written), or null.
 */
template <typename T>
inline void convDirect(const ConvLayer &c, int pass, const T *a, const T *b, T *extra, T *out, int threads,
                       const DirectPart &part = {}) {
    const OffsetTables t(c.g);
    const RowSource rows(c.g, t);
    switch (pass) {
        case CONV_FORWARD:
            convForward(c, rows, a, b, static_cast<const T *>(extra), out, threads, part);
            break;
        case CONV_BACKWARD_INPUT:
            convBackwardInput(c, rows, a, b, out, threads, part);
            break;
        default:
            if (paddedBackwardWeight(c.g)) {
                convBackwardWeight2d(c, a, b, out, threads, part);
            } else {
                convBackwardWeight(c, rows, a, b, out, threads, part);
            }
            biasGradient(c, b, extra, threads, part);
            break;
    }
}

}  // namespace foldnd

#endif
