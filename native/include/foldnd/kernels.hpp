// foldnd/kernels.hpp: the unfold (im2col) and fold (col2im) loops, for any number of spatial
// dimensions, templated over the element type. Knows nothing of Java.
//
// Layout (PyTorch's): an image is (planes, *image) row-major, planes = batch * channels; columns
// are (planes, K, L) where K = prod(kernel) kernel offsets in row-major order and L = prod(grid)
// blocks in row-major order. Block l at kernel offset k reads image position
//   x[i] = l[i] * stride[i] + k[i] * dilation[i] - padding[i]   (dropped when outside the image).
//
// Summation order (what makes every engine bit-identical with PyTorch's col2im): each output
// element of fold starts at +0.0 and receives its contributions in increasing kernel-offset order.
// Each output plane is owned by exactly one thread, so the thread count never changes a result.
#ifndef FOLDND_KERNELS_HPP
#define FOLDND_KERNELS_HPP

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "geometry.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace foldnd {

/**
 * Per dimension i and kernel index k[i] in [0, kernel[i]): the image coordinate of block 0
 * (origin) and the half-open range [lo, hi) of block indices whose coordinate lies inside the
 * image. Separable, so it costs sum(kernel) entries rather than prod(kernel).
 */
struct OffsetTables {
    std::vector<int64_t> first;  // first[i]: where dimension i starts in the flat tables
    std::vector<int64_t> origin, lo, hi;

    explicit OffsetTables(const Geometry& g) : first(g.dims) {
        int64_t total = 0;
        for (int i = 0; i < g.dims; ++i) { first[i] = total; total += g.kernel[i]; }
        origin.resize(total); lo.resize(total); hi.resize(total);
        for (int i = 0; i < g.dims; ++i) {
            const int64_t s = g.stride[i], n = g.image[i], grid = g.grid[i];
            for (int64_t k = 0; k < g.kernel[i]; ++k) {
                const int64_t x0 = k * g.dilation[i] - g.padding[i];
                int64_t a = x0 >= 0 ? 0 : (-x0 + s - 1) / s;       // first block with x >= 0
                int64_t b = (n - 1 - x0) < 0 ? 0 : (n - 1 - x0) / s + 1;  // first block with x >= n
                a = std::min(a, grid); b = std::min(b, grid); b = std::max(a, b);
                const int64_t at = first[i] + k;
                origin[at] = x0; lo[at] = a; hi[at] = b;
            }
        }
    }
};

/** Scratch for one thread: the kernel offset and block counters, allocated once per call. */
struct Cursor {
    std::vector<int64_t> k, l;
    explicit Cursor(int dims) : k(dims, 0), l(dims, 0) {}

    /** Sets k to the row-major decomposition of kernel index kidx. */
    void seekKernel(const Geometry& g, int64_t kidx) {
        for (int i = g.dims - 1; i >= 0; --i) { k[i] = kidx % g.kernel[i]; kidx /= g.kernel[i]; }
    }
    /** Advances k to the next kernel offset in row-major order. */
    void nextKernel(const Geometry& g) {
        for (int i = g.dims - 1; i >= 0; --i) { if (++k[i] < g.kernel[i]) return; k[i] = 0; }
    }
};

/**
 * Visits every row of blocks (all block dimensions but the last) for the kernel offset in
 * cursor.k, in row-major order: f(row, valid, offset, lo, hi, step). For a valid row, block j of
 * the row reads image element offset + j * step for j in [lo, hi) and lands in padding outside
 * that range; an invalid row lies wholly in padding.
 */
template <class F>
inline void forEachRow(const Geometry& g, const OffsetTables& t, Cursor& c, F&& f) {
    const int last = g.dims - 1;
    const int64_t at = t.first[last] + c.k[last];
    const int64_t lo = t.lo[at], hi = t.hi[at], origin = t.origin[at], step = g.stride[last];
    const int64_t rows = g.rowsPerKernelOffset();
    std::fill(c.l.begin(), c.l.end(), 0);
    for (int64_t row = 0; row < rows; ++row) {
        bool valid = lo < hi;
        int64_t offset = origin;
        for (int i = 0; i < last && valid; ++i) {
            const int64_t ti = t.first[i] + c.k[i], li = c.l[i];
            valid = li >= t.lo[ti] && li < t.hi[ti];
            offset += (t.origin[ti] + li * g.stride[i]) * g.imageStride[i];
        }
        f(row, valid, offset, lo, hi, step);
        for (int i = last - 1; i >= 0; --i) { if (++c.l[i] < g.grid[i]) break; c.l[i] = 0; }
    }
}

/**
 * Runs body(begin, end) over [0, n) split into contiguous chunks, one per thread. Small jobs run
 * on the caller's thread: starting an OpenMP team costs microseconds, more than a tiny fold.
 */
template <class Body>
inline void parallelFor(int64_t n, int threads, int64_t workPerItem, Body&& body) {
    constexpr int64_t kSerialWork = int64_t(1) << 15;
    int64_t team = std::min<int64_t>(std::max(threads, 1), n);
    const bool small = workPerItem > 0 && n <= kSerialWork / workPerItem;
#ifdef _OPENMP
    if (team > 1 && !small) {
        // An exception may not leave an OpenMP region (std::terminate would take the JVM down):
        // catch it in the team and rethrow here, where the JavaCPP glue turns it into a Java one.
        std::atomic<bool> failed{false};
#pragma omp parallel num_threads(static_cast<int>(team))
        {
            const int64_t id = omp_get_thread_num(), size = omp_get_num_threads();
            const int64_t begin = n * id / size, end = n * (id + 1) / size;
            try {
                if (begin < end) body(begin, end);
            } catch (...) {
                failed = true;
            }
        }
        if (failed) throw std::bad_alloc();  // the only exception the bodies can raise
        return;
    }
#endif
    (void)team; (void)small;
    if (n > 0) body(0, n);
}

/** unfold: columns(p, k, l) = image(p, x(k, l)), 0 where x lies in the padding. */
template <typename T>
inline void unfold(const Geometry& g, const T* image, T* columns, int threads) {
    const OffsetTables t(g);
    const int64_t K = g.kernelVolume, L = g.blocks, width = g.lastGrid();
    parallelFor(g.planes * K, threads, L, [&](int64_t begin, int64_t end) {
        Cursor c(g.dims);
        c.seekKernel(g, begin % K);
        for (int64_t r = begin; r < end; ++r, c.nextKernel(g)) {
            const T* src = image + (r / K) * g.imagePlane;
            T* dst = columns + r * L;
            forEachRow(g, t, c, [&](int64_t row, bool valid, int64_t offset, int64_t lo, int64_t hi, int64_t step) {
                T* out = dst + row * width;
                if (!valid) { std::fill(out, out + width, T(0)); return; }
                std::fill(out, out + lo, T(0));
                if (step == 1) {  // contiguous: the compiler vectorises this copy
                    const T* in = src + (offset + lo);
                    for (int64_t j = 0; j < hi - lo; ++j) out[lo + j] = in[j];
                } else {
                    for (int64_t j = lo; j < hi; ++j) out[j] = src[offset + j * step];
                }
                std::fill(out + hi, out + width, T(0));
            });
        }
    });
}

/** How one contribution v merges into an output element o. */
template <int R>
struct Merge;
template <>
struct Merge<SUM> {
    template <typename T> static T init() { return T(0); }
    template <typename T> static void apply(T& o, T v) { o += v; }
};
template <>
struct Merge<MAX> {
    template <typename T> static T init() { return -std::numeric_limits<T>::infinity(); }
    // NaN wins, so a NaN contribution propagates as in PyTorch's amax.
    template <typename T> static void apply(T& o, T v) { if (v > o || v != v) o = v; }
};
template <>
struct Merge<MIN> {
    template <typename T> static T init() { return std::numeric_limits<T>::infinity(); }
    template <typename T> static void apply(T& o, T v) { if (v < o || v != v) o = v; }
};

/**
 * Folds one plane: out(x) = merge over (k, l) hitting x of weight[k] * columns(k, l), visited in
 * increasing k. `column(k)` returns the K x L plane's row k, or nullptr to use the constant
 * weight alone (how the coverage map is built).
 */
template <typename T, int R, bool Weighted, class Row>
inline void foldPlane(const Geometry& g, const OffsetTables& t, Cursor& c, Row column, const T* weights, T* out) {
    using M = Merge<R>;
    std::fill(out, out + g.imagePlane, M::template init<T>());
    const int64_t width = g.lastGrid();
    c.seekKernel(g, 0);
    for (int64_t k = 0; k < g.kernelVolume; ++k, c.nextKernel(g)) {
        const T* src = column(k);
        const T w = Weighted ? weights[k] : T(1);
        forEachRow(g, t, c, [&](int64_t row, bool valid, int64_t offset, int64_t lo, int64_t hi, int64_t step) {
            if (!valid) return;
            if (src == nullptr) {
                for (int64_t j = lo; j < hi; ++j) M::apply(out[offset + j * step], w);
                return;
            }
            const T* in = src + row * width;
            if (step == 1) {  // never form out + offset itself: it may point before the plane
                T* o = out + (offset + lo);
                in += lo;
                for (int64_t j = 0; j < hi - lo; ++j) M::apply(o[j], Weighted ? T(w * in[j]) : in[j]);
            } else {
                for (int64_t j = lo; j < hi; ++j) M::apply(out[offset + j * step], Weighted ? T(w * in[j]) : in[j]);
            }
        });
    }
}

/**
 * The coverage map of one plane: for each image element, the sum of the weights (1 when weights
 * is null) of the kernel offsets whose blocks cover it, added in kernel-offset order.
 */
template <typename T>
inline std::vector<T> coverage(const Geometry& g, const OffsetTables& t, const T* weights) {
    std::vector<T> map(g.imagePlane);
    Cursor c(g.dims);
    auto none = [](int64_t) -> const T* { return nullptr; };
    if (weights != nullptr) foldPlane<T, SUM, true>(g, t, c, none, weights, map.data());
    else foldPlane<T, SUM, false>(g, t, c, none, weights, map.data());
    return map;
}

template <typename T, int R, bool Weighted>
inline void foldAll(const Geometry& g, const OffsetTables& t, const T* columns, const T* weights,
                    const std::vector<T>& map, bool divide, T* image, int threads) {
    const int64_t K = g.kernelVolume, L = g.blocks, P = g.imagePlane;
    parallelFor(g.planes, threads, K * L + P, [&](int64_t begin, int64_t end) {
        Cursor c(g.dims);
        for (int64_t p = begin; p < end; ++p) {
            const T* plane = columns + p * K * L;
            T* out = image + p * P;
            foldPlane<T, R, Weighted>(g, t, c, [&](int64_t k) { return plane + k * L; }, weights, out);
            if (map.empty()) continue;
            // MEAN divides by the coverage; MAX/MIN only clear what no block covers (0 there).
            for (int64_t i = 0; i < P; ++i) {
                const T m = map[i];
                out[i] = m == T(0) ? T(0) : (divide ? out[i] / m : out[i]);
            }
        }
    });
}

/** fold with a merge rule; weights (K values) may be null. */
template <typename T>
inline void fold(const Geometry& g, const T* columns, T* image, Reduce reduce, const T* weights, int threads) {
    const OffsetTables t(g);
    const std::vector<T> map = reduce == SUM ? std::vector<T>() : coverage(g, t, weights);
    const bool w = weights != nullptr;
    switch (reduce) {
        case SUM:
            if (w) foldAll<T, SUM, true>(g, t, columns, weights, map, false, image, threads);
            else foldAll<T, SUM, false>(g, t, columns, weights, map, false, image, threads);
            break;
        case MEAN:
            if (w) foldAll<T, SUM, true>(g, t, columns, weights, map, true, image, threads);
            else foldAll<T, SUM, false>(g, t, columns, weights, map, true, image, threads);
            break;
        case MAX:
            if (w) foldAll<T, MAX, true>(g, t, columns, weights, map, false, image, threads);
            else foldAll<T, MAX, false>(g, t, columns, weights, map, false, image, threads);
            break;
        case MIN:
            if (w) foldAll<T, MIN, true>(g, t, columns, weights, map, false, image, threads);
            else foldAll<T, MIN, false>(g, t, columns, weights, map, false, image, threads);
            break;
    }
}

}  // namespace foldnd

#endif
