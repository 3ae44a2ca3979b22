// foldnd/kernels.hpp: the unfold (im2col) and fold (col2im) loops, for 1 to
// kMaxDims spatial dimensions, templated over the element type. Knows nothing
// of Java.
//
// Layout: an image is (planes, *image) row-major, planes = batch * channels.
// Columns hold, for each plane, K = prod(kernel) kernel offsets (row-major) by
// L = prod(grid) blocks (row-major), either per sample, PyTorch's (planes, K,
// L), or batch-fused (C*K, N*L); Geometry::columnBase and kernelStride say
// where a plane's offsets lie. Block l at kernel offset k reads image position
//   x[i] = l[i] * stride[i] + k[i] * dilation[i] - padding[i]   (dropped when
//   outside the image).
// A "row" is one line of blocks along the last dimension (all other block
// indices fixed).
//
// Work items: a call's output is cut into independent work items, each output
// element written by exactly one item, with the same contributions in the same
// order whichever call runs that item. unfold's items are described by
// UnfoldWork (with the plane map or by shifts a plane each; otherwise a plane's chunk of
// offsets and a piece of their rows or blocks), fold's by foldItems ((plane,
// band) pairs, bands along dimension 0, bandsPerPlane). Every call runs an
// ItemRange [first, end) of them: a whole call is [0, items), and any cut of it
// into consecutive ranges gives the same bits (fold builds its coverage map for
// the range's bands only, partRows). api.h exposes the item counts and ranges
// so that the Java side can run a long call on heap arrays as several short
// calls, each in its own short JNI critical region. Within a range, parallelFor
// gives each thread a contiguous run of items; the thread count changes how
// fold cuts bands, never a result.
//
// Summation order (what makes every engine bit-identical with PyTorch's
// col2im): each output element of fold starts at the merge's identity (+0.0 for
// sums) and receives its contributions in increasing kernel-offset order,
// within the one item that writes it.
//
// Speed (measured on the JMH cases; see README, Performance): the rows of every
// kernel offset are the same for all planes, so they are computed once per call
// (RowSource); a band of output along dimension 0 stays in L2 while all offsets
// are applied, and bands let one image use every core; in 1-d, when the stride
// spans a cache line, consecutive offsets are applied together block by block
// ("chunks"); at stride 2, float and double sums fold each row of a run of
// offsets in one pass, the even and odd elements' sums in vectors
// (foldPhasedRow), or, where the processor has AVX-512 (AVX2 for rows of few
// offsets), each image row from every run that covers it in one pass
// (GatheredBand), and the other merges
// apply offsets k and k+1 as a pair; float and double sums whose last stride
// and kernel are whole AVX-512 vectors gather each piece of a hop from
// transposed column tiles (HopBand); at stride 1 with "same" padding past
// dimension 0, where every offset meets the image at one shift, float and
// double sums add whole planes a vector of image elements at a time from each
// offset's shifted column row (ShiftedPlanes), and unfold writes each column
// row as whole vectors loaded from the image at the shift (ShiftedUnfold),
// where the processor has AVX-512 or AVX2; unfold of other small planes gathers
// through a precomputed index map; unfold joins stride-1 rows that continue in both the
// image and the columns into one copy; unfold at strides of 4 and more moves
// chunks of consecutive offsets as transposed 16-byte tiles (tiles.hpp), in
// any dimension, and float and double fold sums add them so (kTiledSums). Each of these keeps every element's
// contributions in kernel-offset order.
#ifndef FOLDND_KERNELS_HPP
#define FOLDND_KERNELS_HPP

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <vector>

#include "cpu.hpp"
#include "geometry.hpp"
#include "tiles.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace foldnd {

/** Floor division and ceiling division for a positive divisor. */
inline int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

/**
 * Per dimension i and kernel index k[i] in [0, kernel[i]): the image coordinate
 * of block 0 (origin) and the half-open range [lo, hi) of block indices whose
 * coordinate lies inside the image. Separable, so it costs sum(kernel) entries
 * rather than prod(kernel).
 */
struct OffsetTables {
    int64_t first[kMaxDims];  // first[i]: where dimension i starts in the flat tables
    const int64_t *origin;    // the three flat tables, in this thread's scratch (see Scratch)
    const int64_t *lo;
    const int64_t *hi;
    int64_t innerVolume, lastKernel;  // offsets per value of the first index;
                                      // kernel size of the last

    explicit OffsetTables(const Geometry &g);
    int64_t at(int dim, int64_t k) const { return first[dim] + k; }
    /** The first and the last kernel index of flat offset k. */
    int64_t k0(int64_t k) const { return k / innerVolume; }
    int64_t kLast(int64_t k) const { return k % lastKernel; }
};

/** One row of blocks for one kernel offset. Blocks [lo, hi) are inside the
 * image. */
struct Row {
    int64_t column;  // offset of the row's block 0 from the plane's column base
                     // (see Geometry)
    int64_t image;   // image offset of block 0 (may be negative: block 0 can lie in
                     // the padding)
    int64_t lo, hi;
};

/** Narrows [lo, hi) to the blocks that every one of the n rows has (a chunk's common blocks). */
inline void commonBlocks(const Row *rows, int64_t n, int64_t &lo, int64_t &hi) {
    for (int64_t j = 0; j < n; ++j) {
        lo = std::max(lo, rows[j].lo);
        hi = std::min(hi, rows[j].hi);
    }
}

/**
 * Per-thread memory for the tables and the row plan of the calling thread's
 * current call, kept between calls so that a call allocates only when it needs
 * more than any before it on the thread (a tiny fold then costs no allocation
 * at all). Only the calling thread writes it; the OpenMP team reads it during
 * the call.
 */
struct Scratch {
    std::vector<int64_t> tables;
    std::vector<Row> plan;
    std::vector<int32_t> gatherStart, gatherColumn, gatherOffset;  // fold's GatherMap
    std::vector<int64_t> shifts, unfoldShifts;                     // fold's ShiftedPlanes, unfold's ShiftedUnfold
    std::vector<uint16_t> shiftMasks, unfoldMasks;
    static Scratch &local() {
        static thread_local Scratch scratch;
        return scratch;
    }
};

inline OffsetTables::OffsetTables(const Geometry &g) {
    int64_t total = 0;
    for (int i = 0; i < g.dims; ++i) {
        first[i] = total;
        total += g.kernel[i];
    }
    std::vector<int64_t> &store = Scratch::local().tables;
    if (store.size() < size_t(3 * total)) store.resize(3 * total);
    int64_t *o = store.data();
    int64_t *a = o + total;
    int64_t *b = a + total;
    for (int i = 0; i < g.dims; ++i) {
        const int64_t s = g.stride[i], n = g.image[i], grid = g.grid[i];
        for (int64_t k = 0; k < g.kernel[i]; ++k) {
            const int64_t x0 = k * g.dilation[i] - g.padding[i];
            const int64_t lo0 = std::min(std::max<int64_t>(ceilDiv(-x0, s), 0),
                                         grid);  // first block with x >= 0
            const int64_t hi0 = std::min(std::max<int64_t>(ceilDiv(n - x0, s), 0),
                                         grid);  // first block with x >= n
            const int64_t at = first[i] + k;
            o[at] = x0;
            a[at] = lo0;
            b[at] = std::max(lo0, hi0);
        }
    }
    origin = o;
    lo = a;
    hi = b;
    innerVolume = g.kernelVolume / g.kernel[0];
    lastKernel = g.kernel[g.dims - 1];
}

/** The kernel offset's multi-index, decoded from its flat index (row-major). */
struct KernelIndex {
    int64_t k[kMaxDims] = {};
    KernelIndex(const Geometry &g, int64_t flat) {
        for (int i = g.dims - 1; i >= 0; --i) {
            k[i] = flat % g.kernel[i];
            flat /= g.kernel[i];
        }
    }
};

/**
 * A range [first, end) of a call's work items: the independent pieces its
 * output is cut into (each output element is written by exactly one item, with
 * the same contributions in the same order whatever the range). A whole call is
 * [0, items); api.h lets a caller run any range, so that the Java side can cut
 * a long heap-array call into short critical regions.
 */
struct ItemRange {
    int64_t first, end;
};

/**
 * Share `part` of `parts` (0 <= part < parts) of n items: the parts' even
 * shares, [n p / parts, n (p + 1) / parts), each boundary rounded up to a
 * multiple of `multiple` (a team's size, so that no part leaves a thread idle
 * for want of an item) and clipped at n. Some parts may be empty. A pass run in
 * parts (ConvPart, DirectPart) cuts its items here, so that every item runs in
 * exactly one part.
 */
inline ItemRange partShare(int64_t n, int64_t part, int64_t parts, int64_t multiple) {
    auto bound = [&](int64_t p) {
        if (p >= parts) return n;
        const int64_t even = n / parts * p + n % parts * p / parts;  // n p / parts without overflow
        return std::min(n, ceilDiv(even, multiple) * multiple);
    };
    return ItemRange{bound(part), bound(part + 1)};
}

/**
 * The most rows that RowSource computes ahead, in this thread's Scratch (a Row
 * is 32 bytes: 2 MiB of plan at most); a geometry with more generates its rows
 * as it visits them. The C++ tests also build with 0, so that the generating
 * path runs on every test shape.
 */
#ifndef FOLDND_PLAN_LIMIT
#define FOLDND_PLAN_LIMIT (int64_t(1) << 16)
#endif
constexpr int64_t kPlanLimit = FOLDND_PLAN_LIMIT;

/**
 * The rows of every kernel offset. They are the same for every plane, so for
 * ordinary sizes they are computed once per call; for huge geometries they are
 * generated as they are visited.
 */
class RowSource {
  public:
    /**
     * plan: whether to compute the rows ahead (when the geometry is small enough); else they are
     * generated. A caller that visits only rows [first, end) of every offset (a part of a tiled
     * convolution) plans those alone; rows outside are generated.
     */
    RowSource(const Geometry &g, const OffsetTables &t, bool plan = true, ItemRange only = {0, -1})
        : g_(g), t_(t), first_(only.first), end_(only.end < 0 ? g.rowsPerKernelOffset() : only.end) {
        const int64_t rows = end_ - first_;
        if (plan && kPlanLimit > 0 && rows > 0 && g.kernelVolume <= kPlanLimit / rows) {
            std::vector<Row> &store = Scratch::local().plan;
            if (store.size() < size_t(g.kernelVolume * rows)) store.resize(g.kernelVolume * rows);
            Row *plan = store.data();
            for (int64_t k = 0; k < g.kernelVolume; ++k)
                generate(k, first_, end_, [&](int64_t q, const Row &r) { plan[k * rows + (q - first_)] = r; });
            plan_ = plan;
        }
    }

    /** Calls f(q, row) for rows [begin, end) of kernel offset k, in order. */
    template <class F>
    void forRows(int64_t k, int64_t begin, int64_t end, F &&f) const {
        if (plan_ != nullptr && begin >= first_ && end <= end_) {
            const Row *rows = plan_ + k * (end_ - first_) - first_;
            for (int64_t q = begin; q < end; ++q) f(q, rows[q]);
        } else {
            generate(k, begin, end, f);
        }
    }

    /** Row q of kernel offset k. */
    Row row(int64_t k, int64_t q) const {
        if (plan_ != nullptr && q >= first_ && q < end_) return plan_[k * (end_ - first_) + (q - first_)];
        Row r{};
        generate(k, q, q + 1, [&](int64_t, const Row &x) { r = x; });
        return r;
    }

    /**
     * Rows q of the n offsets k, k + 1, ...: offsets that differ only in their
     * last kernel index (a chunk), so that each row is the first one shifted
     * (by j offsets in the columns and j dilations in the image) with its own
     * blocks, or padding like the first.
     */
    void chunk(int64_t k, int64_t n, int64_t q, Row *out) const {
        const int last = g_.dims - 1;
        const Row r = row(k, q);
        const int64_t at = t_.at(last, t_.kLast(k));
        if (t_.lo[at] >= t_.hi[at]) {  // whether the first row is padding does not show in it: ask each
            for (int64_t j = 0; j < n; ++j) out[j] = row(k + j, q);
            return;
        }
        const bool padding = r.lo >= r.hi;
        for (int64_t j = 0; j < n; ++j) {
            const int64_t lo = t_.lo[at + j];
            out[j] =
                Row{r.column + j * g_.kernelStride, r.image + j * g_.dilation[last], lo, padding ? lo : t_.hi[at + j]};
        }
    }

    const OffsetTables &tables() const { return t_; }

  private:
    template <class F>
    void generate(int64_t k, int64_t begin, int64_t end, F &&f) const {
        const Geometry &g = g_;
        const int last = g.dims - 1;
        const KernelIndex kk(g, k);
        int64_t l[kMaxDims];
        int64_t q = begin;
        for (int i = last - 1; i >= 0; --i) {
            l[i] = q % g.grid[i];
            q /= g.grid[i];
        }
        const int64_t lt = t_.at(last, kk.k[last]);
        const int64_t width = g.lastGrid();
        for (q = begin; q < end; ++q) {
            Row r{k * g.kernelStride + q * width, t_.origin[lt], t_.lo[lt], t_.hi[lt]};
            for (int i = 0; i < last; ++i) {
                const int64_t ti = t_.at(i, kk.k[i]);
                if (l[i] < t_.lo[ti] || l[i] >= t_.hi[ti]) r.hi = r.lo;  // the whole row is padding
                r.image += (t_.origin[ti] + l[i] * g.stride[i]) * g.imageStride[i];
            }
            f(q, r);
            for (int i = last - 1; i >= 0; --i) {
                if (++l[i] < g.grid[i]) break;
                l[i] = 0;
            }
        }
    }

    const Geometry &g_;
    const OffsetTables &t_;
    const int64_t first_, end_;  // the planned rows of each kernel offset
    const Row *plan_ = nullptr;  // in this thread's Scratch; null: rows are generated as visited
};

/**
 * Below this many element operations (n * workPerItem) a job runs on the
 * caller's thread: starting an OpenMP team costs microseconds, more than a tiny
 * fold.
 */
constexpr int64_t kSerialWork = int64_t(1) << 15;

/** The index of the calling thread in parallelFor's team (0 when it runs serially). */
inline int64_t threadIndex() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/** Runs body(begin, end) over [0, n) split into contiguous runs, one per thread
 * (see kSerialWork). */
template <class Body>
inline void parallelFor(int64_t n, int threads, int64_t workPerItem, Body &&body) {
    int64_t team = std::min<int64_t>(std::max(threads, 1), n);
    const bool small = workPerItem > 0 && n <= kSerialWork / workPerItem;
#ifdef _OPENMP
    if (team > 1 && !small) {
        // An exception may not leave an OpenMP region (std::terminate would take
        // the JVM down): catch it in the team and rethrow here, where api.h
        // (detail::guarded) turns it into a status.
        std::atomic<bool> failed{false};
#pragma omp parallel num_threads(static_cast <int>(team))
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
    (void)team;
    (void)small;
    if (n > 0) body(0, n);
}

// ---- unfold
// ----------------------------------------------------------------------------------

/** The cache line of the processors we run on (x86-64 and most ARM64), in
 * bytes. */
constexpr int64_t kCacheLineBytes = 64;

/**
 * One way of the L1 data cache (64 sets of 64-byte lines on current x86-64
 * cores): addresses this far apart compete for the same set.
 */
constexpr int64_t kL1WayBytes = 4096;

/**
 * The most offsets in one chunk (chunkSize): bounds the stack arrays that hold
 * a chunk's rows and weights (unfoldItem, foldOffsets1d).
 */
constexpr int64_t kMaxChunk = 16;

/**
 * How many consecutive offsets are applied together ("chunks"), 1 for none.
 * Only in 1-d, and only when the stride spans a cache line, so that one offset
 * alone would touch a new line per block (and at power-of-two strides, the same
 * few cache sets). Measured on the benchmark cases: fold 7x and unfold 3x
 * faster on 1-d overlap-add (a chunk reads each line once and writes one
 * sequential stream per offset); in 2-d and up the bands already keep those
 * lines in L2 and chunks lose.
 */
template <typename T>
inline int64_t chunkSize(const Geometry &g) {
    const bool wide = g.dims == 1 && g.stride[0] * int64_t(sizeof(T)) >= kCacheLineBytes && g.kernel[0] > 1;
    return wide ? std::min<int64_t>(g.kernel[0], kMaxChunk) : 1;
}

#ifdef FOLDND_X86_DISPATCH
#define FOLDND_AVX512 __attribute__((target("avx512f")))
#define FOLDND_AVX2 __attribute__((target("avx2")))
/**
 * The vector traits' run (Avx512Moves, Avx2Moves, Avx512Pairs, Avx2Pairs, Avx512Hops):
 * Kernel(args...) compiled for the target, with everything it calls inlined
 * into it (flatten); reached only where Cpu::avx512() (Cpu::avx2()) holds.
 */
struct Avx512Target {
    template <auto Kernel, class... Args>
    __attribute__((target("avx512f"), flatten)) static void run(Args... args) {
        Kernel(args...);
    }
};
struct Avx2Target {
    template <auto Kernel, class... Args>
    __attribute__((target("avx2"), flatten)) static void run(Args... args) {
        Kernel(args...);
    }
};

#endif

/**
 * The chunk unfold uses (UnfoldWork): chunkSize, and also in any dimension
 * where a chunk of consecutive offsets at dilation 1 fills a 16-byte tile
 * (tiles.hpp) and the stride is 4 or more (at stride 1 to 3 the rows copy
 * faster). Measured on float32 (C++ harness, best of 7): 1-d overlap-add
 * frames (1024 at hop 256) 10-13 ms to 2.5, 32x32 blocks at stride 16 on a
 * 1024^2 RGB image 11-13.5 ms to 5.2.
 */
template <typename T>
inline int64_t unfoldChunkSize(const Geometry &g) {
    const int last = g.dims - 1;
#ifdef FOLDND_TILES
    if (g.dilation[last] == 1 && g.stride[last] >= 4 && g.kernel[last] * int64_t(sizeof(T)) >= 16)
        return std::min<int64_t>(g.kernel[last], kMaxChunk);
#endif
    return chunkSize<T>(g);
}

/**
 * The copies (bytes) that copyRun leaves to memcpy, whose wider and aligned
 * stores win once the call is paid for: measured on 8-bit unfold of joined
 * 3x3 rows (3 KiB copies), memcpy moved them in half the time of 16-byte
 * stores.
 */
constexpr int64_t kLongCopyBytes = 512;

/**
 * out[j] = in[j] for j in [0, n). The compiler vectorises the loop, with a
 * tail of up to 15 bytes copied one element at a time; for 8- and 16-bit
 * types, whose rows hold few bytes, that tail costs as much as the rest, so
 * they copy 16 bytes at a time and the last 16 bytes again, overlapping.
 */
template <typename T>
inline void copyRun(const T *in, T *out, int64_t n) {
    if (n * int64_t(sizeof(T)) >= kLongCopyBytes) {  // (joined rows) the C library's copy: wider, aligned stores
        std::memcpy(out, in, size_t(n) * sizeof(T));
        return;
    }
#ifdef FOLDND_TILES
    constexpr int64_t W = 16 / int64_t(sizeof(T));
    if (sizeof(T) <= 2 && n >= W) {
        for (int64_t j = 0; j + W <= n; j += W)
            _mm_storeu_si128(reinterpret_cast<__m128i *>(out + j),
                             _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + j)));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + n - W),
                         _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + n - W)));
        return;
    }
#endif
    for (int64_t j = 0; j < n; ++j) out[j] = in[j];
}

/**
 * Copies blocks [a, b) of one row of one offset into its columns, zeros where
 * the blocks lie in the padding (a whole row is [0, width)).
 */
template <typename T>
inline void unfoldRow(const Row &r, int64_t a, int64_t b, int64_t step, const T *src, T *dst) {
    T *out = dst + r.column;
    const int64_t lo = std::clamp(r.lo, a, b), hi = std::clamp(r.hi, lo, b);
    if (lo > a) std::fill(out + a, out + lo, T(0));  // (a call to memset, mostly for nothing)
    if (step == 1) {                                 // contiguous
        copyRun(src + (r.image + lo), out + lo, hi - lo);
    } else if (step == 2) {  // a constant stride the compiler vectorises with shuffles
        const T *in = src + (r.image + lo * 2);
        for (int64_t j = 0; j < hi - lo; ++j) out[lo + j] = in[j * 2];
    } else {
        const T *in = src + (r.image + lo * step);
        for (int64_t j = 0; j < hi - lo; ++j) out[lo + j] = in[j * step];
    }
    if (b > hi) std::fill(out + hi, out + b, T(0));
}

#ifdef FOLDND_TILES
/**
 * Whether unfoldTiles writes a whole cache line of every column row of a
 * group before the next group (spans of 64 bytes of blocks), rather than tile
 * by tile: where consecutive offsets' column rows lie a multiple of 4 KiB
 * apart, give or take less than a line (kernelStride * sizeof(T)), all the
 * chunk's rows map to the same one or two L1 sets, and each tile's stores
 * evicted the lines the tile before had begun. Only where the span's image
 * reads stay close together (a step of at most 256 bytes); at a step of 4 KiB
 * they map to one set themselves. 1-d frames of 64 at hop 32 over 4 x 2^20
 * samples (column rows 131068 bytes apart, 4 short of 32 x 4 KiB): 3.70-4.37
 * ms to 2.58-2.69 (C++ harness, float, 2 threads, four alternated runs, Xeon),
 * where hop 31 took 1.91-2.02; spans everywhere cost 32x32/16 and 16x16/8
 * about 8%, and frames 4096/1024 (whose steps are 4 KiB) 30%.
 */
template <typename T>
inline bool lineSpans(const Row *rows, int64_t n, int64_t step) {
    if (n < 2 || step * int64_t(sizeof(T)) > 256) return false;
    const int64_t apart = ((rows[1].column - rows[0].column) * int64_t(sizeof(T))) % kL1WayBytes;
    return std::min(apart, kL1WayBytes - apart) < kCacheLineBytes;
}

/**
 * unfoldTiles over spans of S blocks (S a multiple of W, a compile-time
 * constant: as a run-time one, or in a lambda reading the caller's variables
 * by reference, frames 4096/1024 took twice as long), each span group by
 * group, each group tile by tile.
 */
template <typename T, int64_t S>
inline void unfoldSpans(const Row *rows, int64_t n, int64_t a, int64_t b, int64_t step, const T *base, T *dst) {
    constexpr int W = 16 / sizeof(T);
    const int64_t tiled = n / W * W;
    for (int64_t span = a; span < b; span += S) {
        const int64_t spanEnd = std::min(span + S, b);
        for (int64_t j0 = 0; j0 < tiled; j0 += W) {
            const Row *group = rows + j0;
            for (int64_t next = span; next < spanEnd; next += W) {
                // The last tile ends at b, overlapping the one before it: it writes the same values again.
                const int64_t l = std::min(next, b - W);
                __m128i v[W];
                for (int i = 0; i < W; ++i)
                    v[i] = _mm_loadu_si128(reinterpret_cast<const __m128i *>(base + (l + i) * step + j0));
                transposeTile<sizeof(T)>(v);
                for (int j = 0; j < W; ++j)
                    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + group[j].column + l), v[j]);
            }
        }
        for (int64_t j = tiled; j < n; ++j)
            for (int64_t i = span; i < spanEnd; ++i) dst[rows[j].column + i] = base[i * step + j];
    }
}

/**
 * unfold of blocks [a, b) of a chunk row (unfoldChunkRow) that every one of
 * its n offsets reaches, at dilation 1: offset j of block
 * l is image element base[l * step + j], and goes to dst[rows[j].column + l].
 * Tiles of W blocks by W offsets (W = 16 / sizeof(T): one 16-byte vector) are
 * loaded along the image, transposed, and stored along the columns; the
 * offsets left over (n % W) are copied one at a time. b - a >= W.
 */
template <typename T>
inline void unfoldTiles(const Row *rows, int64_t n, int64_t a, int64_t b, int64_t step, const T *base, T *dst) {
    constexpr int W = 16 / sizeof(T);
    n = std::min(n, kMaxChunk);  // (as every chunk is)
    if (lineSpans<T>(rows, n, step))
        unfoldSpans<T, kCacheLineBytes / int64_t(sizeof(T))>(rows, n, a, b, step, base, dst);
    else
        unfoldSpans<T, W>(rows, n, a, b, step, base, dst);
}

#endif

/**
 * Copies blocks [a, b) of one row of a chunk of n offsets that differ only in
 * their last index: offset j reads the image at r[0].image + l * step + j *
 * dilation. Block by block, the offsets valid at block l form a range [ja, jb)
 * that only moves down as l moves up, found with two pointers (which catch up
 * from any starting block).
 */
template <typename T>
inline void unfoldChunkRow(const Row *rows, int64_t n, int64_t a, int64_t b, int64_t step, int64_t dilation,
                           const T *src, T *dst) {
    int64_t first = b, end = a;
    for (int64_t j = 0; j < n; ++j) {
        T *out = dst + rows[j].column;
        const int64_t lo = std::clamp(rows[j].lo, a, b), hi = std::clamp(rows[j].hi, lo, b);
        if (lo > a) std::fill(out + a, out + lo, T(0));
        if (b > hi) std::fill(out + hi, out + b, T(0));
        if (lo < hi) {
            first = std::min(first, lo);
            end = std::max(end, hi);
        }
    }
    int64_t common = first, commonEnd = first;  // the blocks that every offset reaches, if tiled
#ifdef FOLDND_TILES
    if constexpr (sizeof(T) <= 8) {
        common = a;
        commonEnd = b;
        commonBlocks(rows, n, common, commonEnd);
        if (dilation == 1 && n * int64_t(sizeof(T)) >= 16 && commonEnd - common >= 16 / int64_t(sizeof(T)))
            unfoldTiles(rows, n, common, commonEnd, step, src + rows[0].image, dst);
        else
            common = commonEnd = first;
    }
#endif
    int64_t ja = n, jb = n;
    for (int64_t l = first; l < end; ++l) {
        if (l == common && common < commonEnd) l = commonEnd;  // tiled above
        if (l >= end) break;
        while (ja > 0 && rows[ja - 1].lo <= l) --ja;
        while (jb > 0 && rows[jb - 1].hi <= l) --jb;
        const T *in = src + (rows[0].image + l * step);  // offset j: in[j * dilation]
        for (int64_t j = ja; j < jb; ++j) dst[rows[j].column + l] = in[j * dilation];
    }
}

/**
 * Bounds of the plane map (see usesPlaneMap). kMapMaxPlane: each thread copies
 * the plane into a stack array (32 KiB of doubles at most); kMapMaxColumns: the
 * map holds one int32 per column element of a plane (256 KiB at most);
 * kMapShortRow: rows of fewer blocks than this cost more to set up than to
 * copy.
 */
constexpr int64_t kMapMaxPlane = 4096, kMapMaxColumns = int64_t(1) << 16, kMapShortRow = 16;

/**
 * Whether unfold gathers through a per-plane index map (small planes with short
 * rows, where setting up each row costs more than copying it); fold gathers
 * through a map of its own there (usesFoldGather; a scatter-add through this
 * one measured slower than rows).
 */
inline bool usesPlaneMap(const Geometry &g) {
    return g.imagePlane <= kMapMaxPlane && g.kernelVolume * g.blocks <= kMapMaxColumns && g.lastGrid() < kMapShortRow;
}

/**
 * The most elements one unfold work item writes (a cache-sized piece: 64 Ki
 * elements). The C++ tests build a variant with tiny items, so that every test
 * shape runs in many row blocks.
 */
#ifndef FOLDND_ITEM_ELEMENTS
#define FOLDND_ITEM_ELEMENTS (int64_t(1) << 16)
#endif
constexpr int64_t kItemElements = FOLDND_ITEM_ELEMENTS;

/**
 * The most image bytes one piece of a 1-d chunked unfold spans. A chunk reads
 * one line of each block's window, so chunk after chunk over the whole signal
 * read every line from memory at the stride of the hop; with the chunks of a
 * piece one after another, the piece's lines come from the cache after the
 * first chunk. Measured (C++ harness, float, 2 threads, five alternated runs,
 * Xeon, 4 signals of 2^20 samples): frames of 256 at hop 64 7.9-9.8 ms ->
 * 5.3-7.0; 4096/1024, 2048/512 and 64/32 within the noise (each about 3-12
 * ms either way); 128 and 256 KiB pieces measured no better than 1 MiB.
 */
constexpr int64_t kUnfoldPieceBytes = int64_t(1) << 20;

#ifdef FOLDND_X86_DISPATCH
/**
 * ShiftedUnfold's moves on AVX-512 (AVX2) vectors of B-byte elements (4 or 8,
 * moved as integers): kLanes elements read in the lanes of one mask (0 in the
 * others, nothing read there) and written in the lanes of another. Compiled
 * for the target only through run, as the fold's traits below.
 */
template <int B>
struct Avx512Moves;
template <>
struct Avx512Moves<4> : Avx512Target {
    static constexpr int kLanes = 16;
    FOLDND_AVX512 static void move(void *to, const void *from, uint16_t read, uint16_t write) {
        const __m512i v = _mm512_maskz_loadu_epi32(read, from);
        if (write == 0xFFFF)
            _mm512_storeu_si512(to, v);
        else
            _mm512_mask_storeu_epi32(to, write, v);
    }
};
template <>
struct Avx512Moves<8> : Avx512Target {
    static constexpr int kLanes = 8;
    FOLDND_AVX512 static void move(void *to, const void *from, uint16_t read, uint16_t write) {
        const __m512i v = _mm512_maskz_loadu_epi64(__mmask8(read), from);
        if ((write & 0xFF) == 0xFF)
            _mm512_storeu_si512(to, v);
        else
            _mm512_mask_storeu_epi64(to, __mmask8(write), v);
    }
};
template <int B>
struct Avx2Moves;
template <>
struct Avx2Moves<4> : Avx2Target {
    static constexpr int kLanes = 8;
    FOLDND_AVX2 static void lanes(__m256i &v, uint16_t k) {
        const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
        v = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(k), bit), bit);
    }
    FOLDND_AVX2 static void move(void *to, const void *from, uint16_t read, uint16_t write) {
        __m256i r, v;
        if ((read & 0xFF) == 0xFF) {
            v = _mm256_loadu_si256(static_cast<const __m256i *>(from));
        } else {
            lanes(r, read);
            v = _mm256_maskload_epi32(static_cast<const int *>(from), r);
        }
        if ((write & 0xFF) == 0xFF) {
            _mm256_storeu_si256(static_cast<__m256i *>(to), v);
        } else {
            __m256i w;
            lanes(w, write);
            _mm256_maskstore_epi32(static_cast<int *>(to), w, v);
        }
    }
};
template <>
struct Avx2Moves<8> : Avx2Target {
    static constexpr int kLanes = 4;
    FOLDND_AVX2 static void lanes(__m256i &v, uint16_t k) {
        const __m256i bit = _mm256_setr_epi64x(1, 2, 4, 8);
        v = _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(k), bit), bit);
    }
    FOLDND_AVX2 static void move(void *to, const void *from, uint16_t read, uint16_t write) {
        __m256i r, v;
        if ((read & 0xF) == 0xF) {
            v = _mm256_loadu_si256(static_cast<const __m256i *>(from));
        } else {
            lanes(r, read);
            v = _mm256_maskload_epi64(static_cast<const long long *>(from), r);
        }
        if ((write & 0xF) == 0xF) {
            _mm256_storeu_si256(static_cast<__m256i *>(to), v);
        } else {
            __m256i w;
            lanes(w, write);
            _mm256_maskstore_epi64(static_cast<long long *>(to), w, v);
        }
    }
};
#endif

/**
 * Whether every kernel offset of g can meet the image at one shift (the shape
 * test of ShiftedUnfold and ShiftedPlanes): stride 1 in every dimension, and as
 * many blocks as image elements in every dimension but the first ("same"
 * padding), so that a row of blocks continues in the columns where the image's
 * row continues.
 */
inline bool shiftsCanApply(const Geometry &g) {
    for (int i = 0; i < g.dims; ++i)
        if (g.stride[i] != 1 || (i > 0 && g.grid[i] != g.image[i])) return false;
    return true;
}

/**
 * Each offset k's shift, column element minus image element (k's row base
 * included), into shift[0..K), checked on every row: false where some offset
 * has two. cover(k, x, j, n) is called for each row's covered run: image
 * elements x..x+n-1 of the plane meet blocks j..j+n-1 of k's column row.
 */
template <class Cover>
bool offsetShifts(const Geometry &g, const RowSource &rows, int64_t *shift, Cover &&cover) {
    bool one = true;
    for (int64_t k = 0; k < g.kernelVolume; ++k) {
        bool seen = false;
        rows.forRows(k, 0, g.rowsPerKernelOffset(), [&](int64_t, const Row &r) {
            if (r.lo >= r.hi) return;
            const int64_t d = r.column - r.image;
            one = one && (!seen || d == shift[k]);
            shift[k] = d;
            seen = true;
            cover(k, r.image + r.lo, r.column - k * g.kernelStride + r.lo, r.hi - r.lo);
        });
    }
    return one;
}

/**
 * Whole planes unfolded by shifts (4- and 8-byte elements where the processor
 * has AVX-512 or AVX2), where every kernel offset k's column row reads the
 * image at one shift: block j of k reads image element j + origin[k] whenever
 * it reads one at all (ShiftedPlanes' geometries: stride 1, and as many blocks
 * as image elements in every dimension but the first). Each column row is then
 * written from start to end in whole vectors, each loaded from the image at
 * the shift, the lanes whose blocks lie in the padding 0 (masked loads read
 * nothing there), where the row paths copy a row of blocks at a time and the
 * plane map (usesPlaneMap) one element at a time.
 */
template <typename T>
class ShiftedUnfold {
  public:
    /** Whether unfold's items are whole planes, taken here where the processor has the vectors. */
    static bool takes(const Geometry &g) {
        if ((sizeof(T) != 4 && sizeof(T) != 8) || g.planes < kMinPlanes ||
            g.imagePlane > kPlaneBytes / int64_t(sizeof(T)) || g.kernelVolume * g.blocks > kMaxColumns)
            return false;
        return shiftsCanApply(g);
    }

    /** The shifts and lane masks of g (ok() false where the processor lacks the vectors or g is not taken). */
    ShiftedUnfold(const Geometry &g, const RowSource &rows) {
#ifdef FOLDND_X86_DISPATCH
        if (!takes(g) || !(Cpu::avx512() || Cpu::avx2())) return;
        lanes_ = (Cpu::avx512() ? 64 : 32) / int(sizeof(T));
        const int64_t K = g.kernelVolume;
        steps_ = ceilDiv(g.blocks, lanes_);
        Scratch &scratch = Scratch::local();
        scratch.unfoldShifts.assign(size_t(K), 0);
        scratch.unfoldMasks.assign(size_t(K * steps_), 0);
        int64_t *origin = scratch.unfoldShifts.data();
        uint16_t *masks = scratch.unfoldMasks.data();  // [offset][step]: a row's masks together
        if (!offsetShifts(g, rows, origin, [&](int64_t k, int64_t, int64_t j0, int64_t n) {
                for (int64_t j = j0; j < j0 + n; ++j) masks[k * steps_ + j / lanes_] |= uint16_t(1u << (j % lanes_));
            }))
            return;
        // block j of k's column row reads image element j + origin[k]
        for (int64_t k = 0; k < K; ++k) origin[k] = k * g.kernelStride - origin[k];
        origin_ = origin;
        masks_ = masks;
#else
        (void)g;
        (void)rows;
#endif
    }

    bool ok() const { return masks_ != nullptr; }

    /** Whole planes [p0, p1). */
    void planes(const Geometry &g, const T *image, T *columns, int64_t p0, int64_t p1) const {
#ifdef FOLDND_X86_DISPATCH
        if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
            if (lanes_ == 64 / int(sizeof(T)))
                return Avx512Moves<sizeof(T)>::template run<&moves<Avx512Moves<sizeof(T)>>, const Geometry *,
                                                            const ShiftedUnfold *, const T *, T *, int64_t, int64_t>(
                    &g, this, image, columns, p0, p1);
            return Avx2Moves<sizeof(T)>::template run<&moves<Avx2Moves<sizeof(T)>>, const Geometry *,
                                                      const ShiftedUnfold *, const T *, T *, int64_t, int64_t>(
                &g, this, image, columns, p0, p1);
        }
#endif
        (void)g;
        (void)image;
        (void)columns;
        (void)p0;
        (void)p1;
    }

  private:
    /**
     * takes()'s bounds: enough planes to share among threads (items are planes), a plane that stays in L2
     * while each of its offsets reads it, and at most 2^20 column elements a plane (masks of 512 KiB at
     * most). Measured (C++ harness, float, 2 threads, best of 20, alternated with the paths before, AMD
     * EPYC with AVX-512), ms: 3x3 at padding 1 on 8 x 256 planes of 28^2 2.82-2.86 -> 1.99, on 64 x 512
     * of 7x7 (the plane map before) 2.13-2.19 -> 1.80-1.85, on 8 x 64 of 56^2 2.22-2.24 -> 2.05-2.08,
     * dilation 2 2.21-2.22 -> 1.97-2.04, 5x5 on 28^2 1.85-1.87 -> 1.40-1.42, 1-d k = 5 on 8 x 64 of 4096
     * 3.5-4.7 -> 1.6-2.1, 3x3x3 on 16 planes of 32^3 4.0-4.3 -> 3.6-3.7; but batch 1 (64 planes of 56^2,
     * 7 MiB of columns, in L3) 0.072-0.073 -> 0.107.
     */
    static constexpr int64_t kMinPlanes = 16, kPlaneBytes = int64_t(256) << 10, kMaxColumns = int64_t(1) << 20;

    int lanes_ = 0;
    int64_t steps_ = 0;
    const int64_t *origin_ = nullptr;
    const uint16_t *masks_ = nullptr;

#ifdef FOLDND_X86_DISPATCH
    /** planes() on V's vectors (reached through V::run only). */
    template <class V>
    __attribute__((always_inline)) static inline void moves(const Geometry *geometry, const ShiftedUnfold *self,
                                                            const T *image, T *columns, int64_t p0, int64_t p1) {
        constexpr int kLanes = V::kLanes;
        constexpr uint16_t kAll = uint16_t((1u << kLanes) - 1);
        const Geometry &g = *geometry;
        const int64_t K = g.kernelVolume, L = g.blocks, steps = self->steps_;
        const uint16_t tail = uint16_t((1u << (L - (steps - 1) * kLanes)) - 1);  // a row's last lanes
        for (int64_t p = p0; p < p1; ++p) {
            const T *src = image + p * g.imagePlane;
            T *dst = columns + g.columnBase(p);
            for (int64_t k = 0; k < K; ++k) {
                const T *from = src + self->origin_[k];
                T *to = dst + k * g.kernelStride;
                const uint16_t *m = self->masks_ + k * steps;
                for (int64_t s = 0; s + 1 < steps; ++s) V::move(to + s * kLanes, from + s * kLanes, m[s], kAll);
                V::move(to + (steps - 1) * kLanes, from + (steps - 1) * kLanes, m[steps - 1], tail);
            }
        }
    }
#endif
};

/**
 * How unfold cuts its work: with the plane map, one item per plane (at most
 * kMapMaxColumns elements written, kMapMaxPlane read); otherwise (plane, run of
 * offsets sharing all but the last kernel index, chunk of consecutive last
 * offsets (chunkSize), piece), where the pieces of about kItemElements written
 * elements are blocks of rows, or, when an offset has a single row (1-d),
 * ranges of that row's blocks.
 */
struct UnfoldWork {
    bool map, shifted;
    int64_t runs = 1, chunksPerRun = 1, chunk = 1, pieces = 1, items = 0;
    bool piecesOuter = false;  // items run piece by piece, the chunks inside (else chunk by chunk)

    template <typename T>
    static UnfoldWork of(const Geometry &g) {
        UnfoldWork w{usesPlaneMap(g), ShiftedUnfold<T>::takes(g)};
        if (w.map || w.shifted) {
            w.items = g.planes;
            return w;
        }
        const int64_t kLast = g.kernel[g.dims - 1], rowsPerOffset = g.rowsPerKernelOffset();
        w.chunk = unfoldChunkSize<T>(g);
        w.chunksPerRun = ceilDiv(kLast, w.chunk);
        w.runs = g.kernelVolume / kLast;
        const int64_t width = g.lastGrid(), splittable = rowsPerOffset > 1 ? rowsPerOffset : width;
        w.pieces = std::max<int64_t>(1, std::min(splittable, (rowsPerOffset * width * w.chunk) / kItemElements));
        if (rowsPerOffset == 1 && w.chunk > 1) {  // 1-d chunks: pieces whose image span fits the cache, chunks inside
            const int64_t span = width * g.stride[g.dims - 1] * int64_t(sizeof(T));
            w.pieces = std::max(w.pieces, std::min(width, ceilDiv(span, kUnfoldPieceBytes)));
            w.piecesOuter = true;
        }
        w.items = g.planes * w.runs * w.chunksPerRun * w.pieces;
        return w;
    }
};

/** The plane map: for each column element of a plane, the image element it
 * reads (padding: P, a zero). */
inline std::vector<int32_t> planeMap(const Geometry &g, const RowSource &rows) {
    const int64_t perPlane = g.kernelVolume * g.blocks;
    std::vector<int32_t> map(perPlane, static_cast<int32_t>(g.imagePlane));  // indexed k * L + l, whatever the layout
    const int64_t step = g.stride[g.dims - 1], width = g.lastGrid();
    for (int64_t k = 0; k < g.kernelVolume; ++k) {
        rows.forRows(k, 0, g.rowsPerKernelOffset(), [&](int64_t q, const Row &r) {
            int32_t *m = map.data() + k * g.blocks + q * width;
            for (int64_t l = r.lo; l < r.hi; ++l) m[l] = static_cast<int32_t>(r.image + l * step);
        });
    }
    return map;
}

/** unfold through the plane map: items are planes. */
template <typename T>
inline void unfoldMapped(const Geometry &g, const RowSource &rows, const T *image, T *columns, ItemRange part,
                         int threads) {
    const std::vector<int32_t> map = planeMap(g, rows);
    const int64_t perPlane = static_cast<int64_t>(map.size()), P = g.imagePlane, L = g.blocks;
    parallelFor(part.end - part.first, threads, perPlane, [&](int64_t begin, int64_t end) {
        T plane[kMapMaxPlane + 1];  // the plane (usesPlaneMap bounds it), then
                                    // the zero that padding reads
        plane[P] = T(0);
        for (int64_t p = part.first + begin; p < part.first + end; ++p) {
            std::copy(image + p * P, image + (p + 1) * P, plane);
            T *dst = columns + g.columnBase(p);
            for (int64_t k = 0; k < g.kernelVolume; ++k) {
                const int32_t *m = map.data() + k * L;
                T *d = dst + k * g.kernelStride;
                for (int64_t l = 0; l < L; ++l) d[l] = plane[m[l]];
            }
        }
    });
}

/**
 * Zeros p[0, n) for the few elements between joined rows, without the call to
 * memset that the compiler makes of a plain loop (a volatile zero).
 */
template <typename T>
inline void zeroFew(T *p, int64_t n) {
    static volatile T zero = T(0);
    for (int64_t j = 0; j < n; ++j) p[j] = zero;
}

/**
 * Rows [first, first + count) of one offset joined (unfoldJoinedRows): the
 * image and the columns both continue from each row to the next, and all have
 * blocks [lo, hi) of width. One copy, then the elements between the rows,
 * which fall in the padding, zeroed.
 */
template <typename T>
inline void unfoldJoined(const Row &first, int64_t count, int64_t width, const T *src, T *dst) {
    T *out = dst + first.column;
    const int64_t lo = first.lo, hi = first.hi;
    if (lo > 0) std::fill(out, out + lo, T(0));
    copyRun(src + (first.image + lo), out + lo, (count - 1) * width + (hi - lo));
    for (int64_t i = 1; i < count; ++i) zeroFew(out + i * width - (width - hi), width - hi + lo);
    if (hi < width) std::fill(out + (count - 1) * width + hi, out + count * width, T(0));
}

/**
 * unfold of whole rows [q0, q1) of offset k at stride 1 (rows of width
 * blocks), joining rows where both the image and the columns continue from
 * one row to the next (rows as long as the image's, as in "same"
 * convolutions) into one copy (unfoldJoined). Short rows cost their setup more
 * than their copy, 8-bit rows most. In 2-d the rows that are not padding are
 * one range, found from the tables; otherwise the rows are visited.
 */
template <typename T>
inline void unfoldJoinedRows(const Geometry &g, const RowSource &rows, int64_t k, int64_t q0, int64_t q1, int64_t width,
                             const T *src, T *dst) {
    if (g.dims == 2 && q1 > q0) {
        const OffsetTables &t = rows.tables();
        const int64_t at = t.at(0, t.k0(k));
        const int64_t qa = std::clamp(t.lo[at], q0, q1), qb = std::clamp(t.hi[at], qa, q1);
        const Row first = rows.row(k, qa == qb ? q0 : qa), last = rows.row(k, qa == qb ? q0 : qb - 1);
        const bool joins = qa == qb || (first.lo < first.hi && last.image - first.image == (qb - 1 - qa) * width);
        if (joins) {
            const int64_t base = first.column - (qa == qb ? q0 : qa) * width;   // column of row 0
            std::fill(dst + base + q0 * width, dst + base + qa * width, T(0));  // rows in the padding
            if (qa < qb) unfoldJoined(first, qb - qa, width, src, dst);
            std::fill(dst + base + qb * width, dst + base + q1 * width, T(0));
            return;
        }
    }
    Row first{}, last{};
    int64_t joined = 0;  // rows in the pending run, first to last
    rows.forRows(k, q0, q1, [&](int64_t, const Row &r) {
        const bool continues = joined > 0 && r.lo == last.lo && r.hi == last.hi && r.column == last.column + width &&
                               r.image == last.image + width;
        if (!continues && joined > 0) {
            unfoldJoined(first, joined, width, src, dst);
            joined = 0;
        }
        if (r.lo >= r.hi) {  // padding: zeros
            std::fill(dst + r.column, dst + r.column + width, T(0));
            return;
        }
        if (joined == 0) first = r;
        last = r;
        ++joined;
    });
    if (joined > 0) unfoldJoined(first, joined, width, src, dst);
}

/** One general unfold item: blocks [a, b) of rows [q0, q1) of a chunk of n
 * offsets from k0, for one plane. */
template <typename T>
inline void unfoldItem(const Geometry &g, const RowSource &rows, const T *src, T *dst, int64_t k0, int64_t n,
                       int64_t q0, int64_t q1, int64_t a, int64_t b) {
    const int last = g.dims - 1;
    const int64_t step = g.stride[last], dilation = g.dilation[last];
    if (n == 1 && step == 1 && a == 0 && b == g.lastGrid()) {
        unfoldJoinedRows(g, rows, k0, q0, q1, b, src, dst);
        return;
    }
    if (n == 1) {
        rows.forRows(k0, q0, q1, [&](int64_t, const Row &r) { unfoldRow(r, a, b, step, src, dst); });
        return;
    }
    Row chunk[kMaxChunk];  // chunkSize's bound
    for (int64_t q = q0; q < q1; ++q) {
        rows.chunk(k0, n, q, chunk);
        unfoldChunkRow(chunk, n, a, b, step, dilation, src, dst);
    }
}

/** unfold: columns(p, k, l) = image(p, x(k, l)), 0 where x lies in the padding;
 * the items of part only. */
template <typename T>
inline void unfold(const Geometry &g, const T *image, T *columns, int threads, ItemRange part) {
    const OffsetTables t(g);
    const UnfoldWork w = UnfoldWork::of<T>(g);
    // Chunks look up one row per chunk and row (RowSource::chunk): a plan of every offset's rows would
    // cost more to write than they save.
    const RowSource rows(g, t, w.chunk == 1);
    if (w.shifted) {  // items are whole planes
        const ShiftedUnfold<T> shifts(g, rows);
        if (shifts.ok()) {
            parallelFor(part.end - part.first, threads, g.kernelVolume * g.blocks, [&](int64_t begin, int64_t end) {
                shifts.planes(g, image, columns, part.first + begin, part.first + end);
            });
            return;
        }
    }
    if (w.map) {
        unfoldMapped(g, rows, image, columns, part, threads);
        return;
    }
    if (w.shifted) {  // without the vectors: whole planes by rows
        const int64_t perOffset = g.rowsPerKernelOffset(), width = g.lastGrid();
        parallelFor(part.end - part.first, threads, g.kernelVolume * g.blocks, [&](int64_t begin, int64_t end) {
            for (int64_t p = part.first + begin; p < part.first + end; ++p)
                for (int64_t k = 0; k < g.kernelVolume; ++k)
                    unfoldItem(g, rows, image + p * g.imagePlane, columns + g.columnBase(p), k, 1, 0, perOffset, 0,
                               width);
        });
        return;
    }
    const int64_t kLast = g.kernel[g.dims - 1], rowsPerOffset = g.rowsPerKernelOffset(), width = g.lastGrid();
    const int64_t chunks = w.runs * w.chunksPerRun, perPlane = chunks * w.pieces;
    parallelFor(part.end - part.first, threads, g.blocks * w.chunk / w.pieces, [&](int64_t begin, int64_t end) {
        for (int64_t item = part.first + begin; item < part.first + end; ++item) {
            const int64_t p = item / perPlane, rest = item % perPlane;
            const int64_t c = w.piecesOuter ? rest % chunks : rest / w.pieces;
            const int64_t piece = w.piecesOuter ? rest / chunks : rest % w.pieces;
            const int64_t k0 = (c / w.chunksPerRun) * kLast + (c % w.chunksPerRun) * w.chunk;
            const int64_t n = std::min(w.chunk, kLast - (c % w.chunksPerRun) * w.chunk);
            const T *src = image + p * g.imagePlane;
            T *dst = columns + g.columnBase(p);
            if (rowsPerOffset > 1) {  // pieces are blocks of rows
                const int64_t q0 = rowsPerOffset * piece / w.pieces, q1 = rowsPerOffset * (piece + 1) / w.pieces;
                unfoldItem(g, rows, src, dst, k0, n, q0, q1, 0, width);
            } else {  // one row: pieces are ranges of its blocks
                unfoldItem(g, rows, src, dst, k0, n, 0, 1, width * piece / w.pieces, width * (piece + 1) / w.pieces);
            }
        }
    });
}

/** A whole unfold. */
template <typename T>
inline void unfold(const Geometry &g, const T *image, T *columns, int threads) {
    unfold(g, image, columns, threads, ItemRange{0, UnfoldWork::of<T>(g).items});
}

// ---- fold
// ------------------------------------------------------------------------------------

/** How one contribution v merges into an output element o, per merge rule (MEAN
 * merges as SUM). */
template <Reduce Rule>
struct Merge;
template <>
struct Merge<SUM> {
    template <typename T>
    static T init() {
        return T(0);
    }
    template <typename T>
    static void apply(T &o, T v) {
        o += v;
    }
};
template <>
struct Merge<MAX> {
    template <typename T>
    static T init() {
        return -std::numeric_limits<T>::infinity();
    }
    // NaN wins, so a NaN contribution propagates as in PyTorch's amax.
    template <typename T>
    static void apply(T &o, T v) {
        if (v > o || v != v) o = v;
    }
};
template <>
struct Merge<MIN> {
    template <typename T>
    static T init() {
        return std::numeric_limits<T>::infinity();
    }
    template <typename T>
    static void apply(T &o, T v) {
        if (v < o || v != v) o = v;
    }
};

/** What fold merges: block values from one plane's columns, optionally times
 * the offset's weight. */
template <typename T, bool Weighted>
struct Source {
    const T *columns;
    const T *weights;
    T weight(int64_t k) const { return Weighted ? weights[k] : T(1); }
    T value(int64_t at, T w) const { return Weighted ? T(w * columns[at]) : columns[at]; }
};

/** The weights alone, as if every block held 1: folding this builds the
 * coverage map. */
template <typename T, bool Weighted>
struct WeightSource {
    const T *weights;
    T weight(int64_t k) const { return Weighted ? weights[k] : T(1); }
    T value(int64_t, T w) const { return w; }
};

/** The dimension-0 image coordinates [begin, end) of one fold band. */
struct Band {
    int64_t begin, end;

    /** The dimension-0 block indices [a, b) whose coordinate at dimension-0
     * kernel index k0 lies in the band. */
    void blocks(const Geometry &g, const OffsetTables &t, int64_t k0, int64_t &a, int64_t &b) const {
        const int64_t ti = t.at(0, k0);
        a = std::max(t.lo[ti], ceilDiv(begin - t.origin[ti], g.stride[0]));
        b = std::min(t.hi[ti], ceilDiv(end - t.origin[ti], g.stride[0]));
    }
};

/**
 * Applies a chunk of n offsets that differ only in their last index (j =
 * 0..n-1) to one row: offset j's rows[j] has the same blocks as offset 0's,
 * shifted by j * dilation in the image and by j * L in the columns. Blocks are
 * visited downward: for any one output element a later offset comes from an
 * earlier block, so each element still receives its offsets in increasing
 * order. The offsets valid at block l form a range [ja, jb) that only moves up
 * as l moves down (lo and hi fall as j rises), so two pointers find it without
 * testing every (block, offset) pair.
 */
/**
 * Merges one contiguous row: o[j] with src's value at + j, j in [0, n), in
 * order. The generic loop vectorises; half_fold.hpp specialises it for float16
 * sums where the processor converts 16-bit floats itself.
 */
template <typename T, Reduce Rule, class Src>
struct ContiguousRow {
    static void apply(T *o, const Src &src, int64_t at, T w, int64_t n) {
        const Src local = src;  // in registers: nothing the loop stores can change them
        for (int64_t j = 0; j < n; ++j) Merge<Rule>::apply(o[j], local.value(at + j, w));
    }
};

/**
 * Merges blocks [lo, hi) of one row whose blocks lie s > 1 apart: o[l * s]
 * with src's value at + l. Specialised as ContiguousRow is.
 */
template <typename T, Reduce Rule, class Src>
struct StridedRow {
    static void apply(T *o, int64_t s, const Src &src, int64_t at, T w, int64_t lo, int64_t hi) {
        const Src local = src;  // in registers: nothing the loop stores can change them
        for (int64_t l = lo; l < hi; ++l) Merge<Rule>::apply(o[l * s], local.value(at + l, w));
    }
};

/**
 * One block l of a chunk row (foldChunkRow): offsets j in [ja, jb) merged into
 * o[j * dilation], in increasing j. half_fold.hpp specialises it for float16
 * sums where the processor converts 16-bit floats itself.
 */
template <typename T, Reduce Rule, class Src>
struct ChunkStep {
    static void apply(T *o, int64_t dilation, const Src &src, const Row *rows, const T *w, int64_t ja, int64_t jb,
                      int64_t l) {
        for (int64_t j = ja; j < jb; ++j) Merge<Rule>::apply(o[j * dilation], src.value(rows[j].column + l, w[j]));
    }
};

/**
 * The blocks [from, to) of a chunk row, visited downward (see above); [0,
 * INT64_MAX) for all of them.
 */
template <typename T, Reduce Rule, class Src>
inline void foldChunkRow(const Src &src, const Row *rows, const T *w, int64_t n, int64_t step, int64_t dilation, T *out,
                         int64_t from = 0, int64_t to = std::numeric_limits<int64_t>::max()) {
    int64_t first = std::numeric_limits<int64_t>::max(), end = 0;
    for (int64_t j = 0; j < n; ++j) {
        if (rows[j].lo < rows[j].hi) {
            first = std::min(first, rows[j].lo);
            end = std::max(end, rows[j].hi);
        }
    }
    first = std::max(first, from);
    end = std::min(end, to);
    int64_t ja = 0, jb = 0;
    for (int64_t l = end - 1; l >= first; --l) {
        while (ja < n && rows[ja].lo > l) ++ja;
        while (jb < n && rows[jb].hi > l) ++jb;
        T *o = out + (rows[0].image + l * step);  // element of offset j: o[j * dilation]
        ChunkStep<T, Rule, Src>::apply(o, dilation, src, rows, w, ja, jb, l);
    }
}

/**
 * A whole chunk row (foldChunkRow). half_fold.hpp specialises it for 16-bit
 * sums, which transpose tiles of the chunk where the processor allows.
 */
template <typename T, Reduce Rule, class Src>
struct ChunkRow {
    static void apply(const Src &src, const Row *rows, const T *w, int64_t n, int64_t step, int64_t dilation, T *out) {
        foldChunkRow<T, Rule>(src, rows, w, n, step, dilation, out);
    }
};

/**
 * Column runs of at most this many bytes are too short for the hardware's
 * stream prefetchers to find (they follow a stream from its first misses), so
 * in 1-d fold asks for the next chunk's runs while it folds one chunk. A band
 * of frames at a large hop holds few blocks, so each offset's run in the band
 * is a few cache lines, and its first loads waited on memory: 1-d frames of
 * 4096 at hop 1024 over 4 x 2^20 samples took 7.2-9.0 ms against 9.4-19 (six
 * alternated runs), 2048/512 6.2 against 7.2 (medians of five) (C++ harness,
 * float, 2 threads, Xeon). Longer runs measured slower with it (256 at hop 64:
 * 4.3 ms against 2.9), so they are left to the hardware.
 */
constexpr int64_t kShortRunBytes = 512;

/**
 * 1-d: applies offsets [k, k + n) to a band, n > 1 as a chunk (chunkSize). Each
 * offset has a single row, whose blocks the band limits (per offset, as each
 * starts elsewhere).
 */
template <typename T, Reduce Rule, class Src>
inline void foldOffsets1d(const Geometry &g, const OffsetTables &t, const RowSource &rows, const Src &src,
                          const Band &band, int64_t k, int64_t n, T *out) {
    Row chunk[kMaxChunk] = {};  // (all set below; GCC 12 cannot see that through the prefetch loop)
    T w[kMaxChunk];
    for (int64_t j = 0; j < n; ++j) w[j] = src.weight(k + j);
    for (int64_t j = 0; j < n; ++j) {
        chunk[j] = rows.row(k + j, 0);
        band.blocks(g, t, k + j, chunk[j].lo,
                    chunk[j].hi);  // in 1-d, offset k is kernel index k
    }
    if constexpr (std::is_same<Src, Source<T, false>>::value || std::is_same<Src, Source<T, true>>::value) {
        // The next chunk's short column runs, asked for while this chunk is folded (kShortRunBytes).
        // Written here: in a function of its own, GCC found the loop free of effects and dropped the call.
        for (int64_t j = 0; j < std::min(n, g.kernelVolume - k - n); ++j) {
            const Row r = chunk[j];  // the next chunk's offset j: n * kernelStride on, about the same blocks
            if ((r.hi - r.lo) * int64_t(sizeof(T)) > kShortRunBytes) continue;
            for (int64_t l = r.lo; l < r.hi; l += kCacheLineBytes / int64_t(sizeof(T)))
                __builtin_prefetch(src.columns + (r.column + n * g.kernelStride + l));
        }
    }
    if (n > 1) {
        ChunkRow<T, Rule, Src>::apply(src, chunk, w, n, g.stride[0], g.dilation[0], out);
        return;
    }
    const Row &r = chunk[0];
    StridedRow<T, Rule, Src>::apply(out + r.image, g.stride[0], src, r.column, w[0], r.lo, r.hi);
}

/** Applies offset k's rows [qBegin, qEnd) one at a time. */
template <typename T, Reduce Rule, class Src>
inline void foldRows(const Geometry &g, const RowSource &rows, const Src &src, int64_t k, int64_t qBegin, int64_t qEnd,
                     T *out) {
    const int64_t s = g.stride[g.dims - 1];
    const T wk = src.weight(k);
    const Src local = src;  // in registers: nothing the loop stores can change them
    rows.forRows(k, qBegin, qEnd, [&](int64_t, const Row &r) {
        if (r.lo >= r.hi) return;
        if (s == 1) {  // contiguous: vectorised
            ContiguousRow<T, Rule, Src>::apply(out + (r.image + r.lo), local, r.column + r.lo, wk, r.hi - r.lo);
        } else {
            StridedRow<T, Rule, Src>::apply(out + r.image, s, local, r.column, wk, r.lo, r.hi);
        }
    });
}

/**
 * A run of offsets applied together to each row: those sharing all but the
 * last kernel index, at stride 1 in the last dimension, where an element
 * receives offset j of the run from block x - j * dilation. takes() says
 * whether the run starting at offset k is applied this way (apply() then folds
 * its rows [qBegin, qEnd)); never, in general. half_fold.hpp specialises it for
 * 16-bit sums, which then load and round each element once per run instead of
 * once per offset.
 */
template <typename T, Reduce Rule, class Src>
struct RowRun {
    static bool takes(const Geometry &, const OffsetTables &, int64_t, const Src &) { return false; }
    static void apply(const Geometry &, const OffsetTables &, const RowSource &, const Src &, int64_t, int64_t, int64_t,
                      T *) {}
};

/**
 * The shortest rows (in blocks) that fold applies offsets in pairs on (see
 * pairsWithNext): measured, pairs are 20% faster with 112-block rows, 25%
 * slower with 28 (the setup outweighs the short loop).
 */
constexpr int64_t kPairMinBlocks = 64;

/**
 * Whether fold applies offsets k and k+1 as a pair (foldPairedRows): stride 2
 * and dilation 1 in the last dimension, k+1 in the same last-dimension run as
 * k, and rows of at least kPairMinBlocks.
 */
inline bool pairsWithNext(const Geometry &g, const OffsetTables &t, int64_t k) {
    const int last = g.dims - 1;
    return g.stride[last] == 2 && g.dilation[last] == 1 && t.kLast(k) + 1 < g.kernel[last] &&
           g.lastGrid() >= kPairMinBlocks;
}

/**
 * Applies offsets k and k+1 to rows [qBegin, qEnd) together. At stride 2 they
 * hit alternate elements, so together they update a row densely (vectorisable)
 * and no element sees its order change; where only one of the two rows has
 * blocks, each is applied alone.
 */
template <typename T, Reduce Rule, class Src>
inline void foldPairedRows(const RowSource &rows, const Src &src, int64_t k, int64_t qBegin, int64_t qEnd, T *out) {
    const T wa = src.weight(k), wb = src.weight(k + 1);
    const Src local = src;  // in registers: nothing the loop stores can change them
    auto single = [&](const Row &r, T wr, int64_t from, int64_t to) {
        for (int64_t l = from; l < to; ++l) Merge<Rule>::apply(out[r.image + l * 2], local.value(r.column + l, wr));
    };
    rows.forRows(k, qBegin, qEnd, [&](int64_t q, const Row &ra) {
        const Row rb = rows.row(k + 1, q);
        const int64_t lo = std::max(ra.lo, rb.lo), hi = std::min(ra.hi, rb.hi);
        if (lo >= hi) {
            single(ra, wa, ra.lo, ra.hi);
            single(rb, wb, rb.lo, rb.hi);
            return;
        }
        single(ra, wa, ra.lo, lo);
        single(ra, wa, hi, ra.hi);
        single(rb, wb, rb.lo, lo);
        single(rb, wb, hi, rb.hi);
        T *o = out + (ra.image + 2 * lo);  // offset k+1's element of block l: o[2 (l - lo) + 1]
        const int64_t ca = ra.column + lo, cb = rb.column + lo;
        for (int64_t j = 0; j < hi - lo; ++j) {
            Merge<Rule>::apply(o[2 * j], local.value(ca + j, wa));
            Merge<Rule>::apply(o[2 * j + 1], local.value(cb + j, wb));
        }
    });
}

#ifdef FOLDND_TILES
/**
 * Sums of float and double in transposed tiles (tiles.hpp), where the stride
 * in the last dimension is 4 or more and the dilation 1: a group of W = 16 /
 * sizeof(T) consecutive offsets (4 floats or 2 doubles) then puts block l's
 * values on W consecutive elements, o[l * step + j], and no two (block, offset)
 * pairs of the group share an element, so the group's pairs may be added in
 * any order. Groups go in increasing offset order, the offsets left over after
 * them one at a time, so every element still receives its offsets in order.
 * Each tile is W loads along the columns, a transpose and W vector additions,
 * where one offset at a time costs a scalar addition per element at a stride
 * of whole cache lines. Measured on float32 (C++ harness, best of 7, two
 * runs): 32x32 blocks at stride 16 on a 1024^2 RGB image 23-25 ms to 8-9,
 * 1-d frames of 1024 at hop 256 8.4-9.7 to 2.4-2.7, 9x9 blocks at stride 4
 * with padding 4 on 512^2 RGB 4.1 to 1.5-2.0.
 */
template <typename T>
constexpr bool kTiledSums = std::is_same<T, float>::value || std::is_same<T, double>::value;

/** e[j] += (Weighted ? w[j] * x[j] : x[j]) for the 16 bytes of T at e: the scalar sum's operations, lane by lane. */
template <bool Weighted>
inline void addTileRow(float *e, __m128i bits, const float *w) {
    __m128 x = _mm_castsi128_ps(bits);
    if (Weighted) x = _mm_mul_ps(_mm_loadu_ps(w), x);
    _mm_storeu_ps(e, _mm_add_ps(_mm_loadu_ps(e), x));
}
template <bool Weighted>
inline void addTileRow(double *e, __m128i bits, const double *w) {
    __m128d x = _mm_castsi128_pd(bits);
    if (Weighted) x = _mm_mul_pd(_mm_loadu_pd(w), x);
    _mm_storeu_pd(e, _mm_add_pd(_mm_loadu_pd(e), x));
}

/**
 * One row of n offsets in groups of W (see kTiledSums), rows[0..n) with n a
 * multiple of W, at step >= W and dilation 1: the blocks every offset reaches
 * in W x W tiles, every group's tile of the same W blocks in turn, the other
 * blocks (and a part of fewer than W) one element at a time. Where step < n,
 * two offsets of the row share an element (offset j + step from block l - 1
 * with offset j from block l), so the tiles go downward through the blocks, as
 * foldChunkRow does, and each element still receives its offsets in increasing
 * order; otherwise upward, which measured faster (32x32 blocks at stride 16, one
 * group at a time: 3.2 ms upward, 3.9 downward).
 *
 * Why the groups take turns per tile: group by group over the whole row, at a
 * step of a multiple of 1 KiB, every block's output line maps to the same few
 * L1 sets, and the next group found it evicted. 1-d frames of 1024 at hop 256
 * took 1.88-1.90 ms against 0.89-0.90 at hops 255 and 257; with the turns,
 * 0.93-1.21 at hop 256 (C++ harness, float, 2 threads, best of 60, Xeon).
 */
template <typename T, bool Weighted>
inline void foldGroupsRow(const Source<T, Weighted> &src, const Row *rows, const T *w, int64_t n, int64_t step,
                          T *out) {
    constexpr int W = 16 / sizeof(T);
    int64_t a = 0, b = std::numeric_limits<int64_t>::max();
    commonBlocks(rows, n, a, b);
    if (a + W > b) {
        foldChunkRow<T, SUM>(src, rows, w, n, step, 1, out);
        return;
    }
    T *o = out + rows[0].image;  // offset j's element of block l: o[l * step + j]
    const T *columns = src.columns;
    auto tile = [columns, rows, w, n, step, o](int64_t first) {  // the W blocks from first, every group in turn
        for (int64_t j0 = 0; j0 < n; j0 += W) {
            __m128i v[W];
            for (int i = 0; i < W; ++i)
                v[i] = _mm_loadu_si128(reinterpret_cast<const __m128i *>(columns + rows[j0 + i].column + first));
            transposeTile<sizeof(T)>(v);  // v[i]: the W offsets of block first + i
            for (int i = 0; i < W; ++i) addTileRow<Weighted>(o + (first + i) * step + j0, v[i], w + j0);
        }
    };
    if (step >= n) {  // no two offsets share an element: upward, which measured faster
        foldChunkRow<T, SUM>(src, rows, w, n, step, 1, out, 0, a);
        int64_t l = a;
        for (; l + W <= b; l += W) tile(l);
        foldChunkRow<T, SUM>(src, rows, w, n, step, 1, out, l);
        return;
    }
    foldChunkRow<T, SUM>(src, rows, w, n, step, 1, out, b);  // the blocks above the common ones, downward
    int64_t l = b;
    for (; l - W >= a; l -= W) tile(l - W);
    foldChunkRow<T, SUM>(src, rows, w, n, step, 1, out, 0, l);  // the blocks below the tiles, downward
}

/** A 1-d chunk row of float or double sums: its groups of W in tiles (foldGroupsRow) where they apply. */
template <typename T, bool Weighted>
struct ChunkRow<T, SUM, Source<T, Weighted>> {
    static void apply(const Source<T, Weighted> &src, const Row *rows, const T *w, int64_t n, int64_t step,
                      int64_t dilation, T *out) {
        constexpr int64_t W = 16 / sizeof(T);
        if constexpr (kTiledSums<T>) {  // (Half16 sums are compiled, never run: half_fold.hpp sums in float)
            if (dilation == 1 && step >= std::max<int64_t>(W, 4) && n >= W) {
                const int64_t grouped = n / W * W;
                foldGroupsRow(src, rows, w, grouped, step, out);
                for (int64_t j = grouped; j < n; ++j)
                    StridedRow<T, SUM, Source<T, Weighted>>::apply(out + rows[j].image, step, src, rows[j].column, w[j],
                                                                   rows[j].lo, rows[j].hi);
                return;
            }
        }
        foldChunkRow<T, SUM>(src, rows, w, n, step, dilation, out);
    }
};

/**
 * V = 16 / sizeof(T) element pairs of a phased row (foldPhasedRow) from pair m
 * on, at p = o + 2 m: the even elements' sums and the odd ones' in two vectors,
 * offset j added to the even (j even) or odd ones from blocks m - j / 2 on, in
 * increasing j; each lane does the scalar sum's operations. Fresh: the sums
 * start from +0.0 rather than from p's elements (PermutationBand).
 */
template <typename T, bool Weighted, int64_t N, bool Fresh>
struct PhasedPairs;
template <bool Weighted, int64_t N, bool Fresh>
struct PhasedPairs<float, Weighted, N, Fresh> {
    static void apply(const float *columns, const Row *rows, const float *w, int64_t runtimeN, int64_t m, float *p) {
        const int64_t n = N > 0 ? N : runtimeN;
        __m128 even = _mm_setzero_ps(), odd = _mm_setzero_ps();
        if (!Fresh) {
            const __m128 v0 = _mm_loadu_ps(p), v1 = _mm_loadu_ps(p + 4);
            even = _mm_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0));
            odd = _mm_shuffle_ps(v0, v1, _MM_SHUFFLE(3, 1, 3, 1));
        }
        for (int64_t j = 0; j < n; ++j) {
            __m128 x = _mm_loadu_ps(columns + rows[j].column + m - j / 2);
            if (Weighted) x = _mm_mul_ps(_mm_set1_ps(w[j]), x);
            if (j & 1)
                odd = _mm_add_ps(odd, x);
            else
                even = _mm_add_ps(even, x);
        }
        _mm_storeu_ps(p, _mm_unpacklo_ps(even, odd));
        _mm_storeu_ps(p + 4, _mm_unpackhi_ps(even, odd));
    }
};
template <bool Weighted, int64_t N, bool Fresh>
struct PhasedPairs<double, Weighted, N, Fresh> {
    static void apply(const double *columns, const Row *rows, const double *w, int64_t runtimeN, int64_t m, double *p) {
        const int64_t n = N > 0 ? N : runtimeN;
        __m128d even = _mm_setzero_pd(), odd = _mm_setzero_pd();
        if (!Fresh) {
            const __m128d v0 = _mm_loadu_pd(p), v1 = _mm_loadu_pd(p + 2);
            even = _mm_unpacklo_pd(v0, v1);
            odd = _mm_unpackhi_pd(v0, v1);
        }
        for (int64_t j = 0; j < n; ++j) {
            __m128d x = _mm_loadu_pd(columns + rows[j].column + m - j / 2);
            if (Weighted) x = _mm_mul_pd(_mm_set1_pd(w[j]), x);
            if (j & 1)
                odd = _mm_add_pd(odd, x);
            else
                even = _mm_add_pd(even, x);
        }
        _mm_storeu_pd(p, _mm_unpacklo_pd(even, odd));
        _mm_storeu_pd(p + 2, _mm_unpackhi_pd(even, odd));
    }
};

/** The most offsets in a run that foldPhasedRow takes (the run's rows live on the stack). */
constexpr int64_t kMaxPhasedRun = 32;

/**
 * Whether fold is a permutation that PermutationBand writes image row by image
 * row, without a fill before: 2-d or more, and every image element is one
 * block's, once (in every dimension stride = kernel, dilation 1 where the
 * kernel is wider than 1, no padding before, and the grid covering the image
 * exactly), with stride 2 in the last dimension. Each element is then +0.0 plus
 * its one value, the sum from zero that PyTorch's col2im computes (-0.0 gives
 * +0.0), written once: no fill pass, and no read of the output, where a copy
 * touches it once. Measured (C++ harness, float, 2 threads, best of 60, three
 * alternated runs, on a machine whose 300 MB L3 held the whole problem): the
 * 2x2/2 fold of 64x32x32^2 1.03-1.18 ms (before the phased rows), 1.07-1.24
 * (phased rows with the fill), 0.97-1.06 (phased rows without it); see
 * PermutationBand for the rows in image order.
 */
inline bool phasedPermutation(const Geometry &g) {
    if (g.dims < 2 || g.stride[g.dims - 1] != 2) return false;
    for (int i = 0; i < g.dims; ++i)
        if (g.stride[i] != g.kernel[i] || (g.kernel[i] > 1 && g.dilation[i] != 1) || g.padding[i] != 0 ||
            g.grid[i] * g.stride[i] != g.image[i])
            return false;
    return true;
}

/**
 * Sums of float and double at stride 2 and dilation 1 in the last dimension:
 * one row of a run of n offsets (all but the last kernel index shared; rows[j]
 * is offset j's). Offset j puts block l on element 2 l + j of the image row,
 * so element 2 m + parity receives the offsets j of its parity, j = parity,
 * parity + 2, ..., from blocks m - j / 2. The row is folded in one pass, each
 * element written once with its offsets added in increasing order: in vectors
 * of V = 16 / sizeof(T) element pairs where every offset has a block (the even
 * elements' and the odd ones' sums side by side, then interleaved), offset by
 * offset at the ends, which keeps each element's order. Offsets one at a time
 * cost a scalar read-modify-write per element at a stride of 2 and a pass over
 * the row per offset. N > 0: n = N, unrolled. Measured (C++ harness, float, 2
 * threads, best of 40, runs alternated on a noisy machine): the stem's fold
 * (7x7/2, 8x3x224^2) 2.3-3.2 ms -> 1.4-1.9; 3x3/2 on 16x128x56^2 4.3-8.7 ->
 * 3.6-7.6; 2x2/2 on 64x32x32^2 1.2-1.3 -> 1.0-1.3 (permutations now go
 * through PermutationBand).
 */
template <typename T, bool Weighted, int64_t N>
inline void foldPhasedRow(const Source<T, Weighted> &src, const Row *rows, const T *w, int64_t runtimeN, T *out) {
    const int64_t n = N > 0 ? N : runtimeN;
    constexpr int64_t V = 16 / sizeof(T);
    int64_t mA = 0, mB = std::numeric_limits<int64_t>::max();  // the pairs every offset reaches
    for (int64_t j = 0; j < n; ++j) {
        mA = std::max(mA, rows[j].lo + j / 2);
        mB = std::min(mB, rows[j].hi + j / 2);
    }
    T *o = out + rows[0].image;             // offset j's element of block l: o[2 l + j]
    const Source<T, Weighted> local = src;  // in registers: nothing the loop stores can change them
    // Offset j's blocks [from, to) one at a time; called for j = 0, 1, ... on a range of elements,
    // so that each of them still receives its offsets in increasing order.
    auto single = [&](int64_t j, int64_t from, int64_t to) {
        const Row &r = rows[j];
        for (int64_t l = std::max(from, r.lo); l < std::min(to, r.hi); ++l) {
            Merge<SUM>::apply(o[2 * l + j], local.value(r.column + l, w[j]));
        }
    };
    if (mA >= mB) {
        for (int64_t j = 0; j < n; ++j) single(j, rows[j].lo, rows[j].hi);
        return;
    }
    const int64_t mEnd = mA + (mB - mA) / V * V;                        // pairs [mA, mEnd) in vectors
    for (int64_t j = 0; j < n; ++j) single(j, rows[j].lo, mA - j / 2);  // elements before 2 mA
    for (int64_t m = mA; m < mEnd; m += V)
        PhasedPairs<T, Weighted, N, false>::apply(local.columns, rows, w, n, m, o + 2 * m);
    for (int64_t j = 0; j < n; ++j) single(j, mEnd - j / 2, rows[j].hi);  // elements from 2 mEnd on
}

/**
 * Float and double sums in 2-d and up (see kTiledSums): the offsets of a run
 * (all but the last kernel index shared) a group of W at a time, each over all
 * the rows in tiles (foldGroupsRow), then the offsets left over one at a time.
 * A group reads W column streams from start to end: row by row across all the
 * run's groups (32 streams for 32x32 blocks), that case took 9.5-10 ms
 * against 7.5-8.8.
 */
template <typename T, bool Weighted>
struct RowRun<T, SUM, Source<T, Weighted>> {
    using Src = Source<T, Weighted>;
    static constexpr int64_t W = 16 / sizeof(T);
    static bool takes(const Geometry &g, const OffsetTables &t, int64_t k, const Src &) {
        const int last = g.dims - 1;
        return kTiledSums<T> && t.kLast(k) == 0 && g.dilation[last] == 1 &&
               ((g.stride[last] >= std::max<int64_t>(W, 4) && g.kernel[last] >= W) || phased(g));
    }
    static void apply(const Geometry &g, const OffsetTables &, const RowSource &rows, const Src &src, int64_t k,
                      int64_t qBegin, int64_t qEnd, T *out) {
        if constexpr (kTiledSums<T>) {
            if (phased(g))
                phasedRows(g, rows, src, k, qBegin, qEnd, out);
            else
                groupedRows(g, rows, src, k, qBegin, qEnd, out);
        }
    }

  private:
    /** Stride 2 (dilation 1, checked by takes): each row of the run in one pass (foldPhasedRow). */
    static bool phased(const Geometry &g) {
        const int last = g.dims - 1;
        return g.stride[last] == 2 && g.kernel[last] >= 2 && g.kernel[last] <= kMaxPhasedRun;
    }

    static void phasedRows(const Geometry &g, const RowSource &rows, const Src &src, int64_t k, int64_t qBegin,
                           int64_t qEnd, T *out) {
        const int64_t n = g.kernel[g.dims - 1];
        T w[kMaxPhasedRun];
        Row run[kMaxPhasedRun];
        for (int64_t j = 0; j < n; ++j) w[j] = src.weight(k + j);
        switch (n) {  // the usual kernel widths, unrolled: a loop over n per vector cost as much as the old path
            case 2:
                return phasedRowsOf<2>(rows, src, k, n, w, run, qBegin, qEnd, out);
            case 3:
                return phasedRowsOf<3>(rows, src, k, n, w, run, qBegin, qEnd, out);
            case 4:
                return phasedRowsOf<4>(rows, src, k, n, w, run, qBegin, qEnd, out);
            case 5:
                return phasedRowsOf<5>(rows, src, k, n, w, run, qBegin, qEnd, out);
            case 7:
                return phasedRowsOf<7>(rows, src, k, n, w, run, qBegin, qEnd, out);
            default:
                return phasedRowsOf<0>(rows, src, k, n, w, run, qBegin, qEnd, out);
        }
    }

    template <int64_t N>
    static void phasedRowsOf(const RowSource &rows, const Src &src, int64_t k, int64_t n, const T *w, Row *run,
                             int64_t qBegin, int64_t qEnd, T *out) {
        for (int64_t q = qBegin; q < qEnd; ++q) {
            rows.chunk(k, n, q, run);
            foldPhasedRow<T, Weighted, N>(src, run, w, n, out);
        }
    }

    static void groupedRows(const Geometry &g, const RowSource &rows, const Src &src, int64_t k, int64_t qBegin,
                            int64_t qEnd, T *out) {
        const int last = g.dims - 1;
        const int64_t n = g.kernel[last], s = g.stride[last], grouped = n / W * W;
        for (int64_t j0 = 0; j0 < grouped; j0 += W) {
            T w[W];
            for (int64_t i = 0; i < W; ++i) w[i] = src.weight(k + j0 + i);
            for (int64_t q = qBegin; q < qEnd; ++q) {
                Row group[W];
                rows.chunk(k + j0, W, q, group);
                foldGroupsRow(src, group, w, W, s, out);
            }
        }
        for (int64_t j = grouped; j < n; ++j) foldRows<T, SUM>(g, rows, src, k + j, qBegin, qEnd, out);
    }
};
#endif

/**
 * foldBand's bands of a fold that is a permutation: never, in general (applies
 * is false and foldBand fills and folds the band offset by offset); float and
 * double sums of a phased permutation (phasedPermutation) below.
 */
template <typename T, Reduce Rule, class Src>
struct PermutationBand {
    static bool applies(const Geometry &) { return false; }
    static void fold(const Geometry &, const Src &, int64_t, int64_t, T *) {}
};
#ifdef FOLDND_TILES
/**
 * A phased permutation's band (phasedPermutation: each image element is one
 * block's, and image row pairs interleave two offsets' blocks), written image
 * row by image row in order, each element once as +0.0 plus its value: no fill,
 * no read of the output and no row plan. Image row (y_0, ..., y_{d-2}) is block
 * row (y_i / kernel_i) of kernel offset (y_i mod kernel_i, 0) and the next
 * offset (last index 1), element 2 m + j from block m of offset j. Going offset
 * by offset instead writes every other image row, then the rows between, each
 * row after its setup (RowSource::chunk, foldPhasedRow's common blocks): the
 * 2x2/2 fold of 64x32x32^2 took 0.73-0.74 ms that way against 0.41 for a
 * memcpy-like loop in image order and 0.33-0.35 for a memcpy of its size, and
 * 0.43-0.59 this way (C++ harness, float, 2 threads, best of 200, three
 * alternated runs, Intel Xeon, whole problem in L3).
 */
template <typename T, bool Weighted>
struct PermutationBand<T, SUM, Source<T, Weighted>> {
    static bool applies(const Geometry &g) { return kTiledSums<T> && phasedPermutation(g); }
    static void fold(const Geometry &g, const Source<T, Weighted> &src, int64_t bandBegin, int64_t bandEnd, T *out) {
        if constexpr (kTiledSums<T>) {
            constexpr int64_t V = 16 / sizeof(T);
            const int last = g.dims - 1;
            const int64_t pairs = g.grid[last], width = g.image[last], vectored = pairs / V * V;
            const int64_t rowsPerY0 = g.imageStride[0] / width;  // image rows per dimension-0 coordinate
            const Source<T, Weighted> local = src;
            for (int64_t r = bandBegin * rowsPerY0; r < bandEnd * rowsPerY0; ++r) {
                int64_t rest = r, k = 0, q = 0, kScale = g.kernel[last], qScale = pairs;
                for (int i = last - 1; i >= 0; --i) {  // image row r's coordinates, to offset k and block row q
                    const int64_t y = i == 0 ? rest : rest % g.image[i];
                    rest /= g.image[i];
                    k += y % g.kernel[i] * kScale;
                    q += y / g.kernel[i] * qScale;
                    kScale *= g.kernel[i];
                    qScale *= g.grid[i];
                }
                const Row run[2] = {{k * g.kernelStride + q, 0, 0, pairs}, {(k + 1) * g.kernelStride + q, 0, 0, pairs}};
                const T w[2] = {local.weight(k), local.weight(k + 1)};
                T *o = out + r * width;
                for (int64_t m = 0; m < vectored; m += V)
                    PhasedPairs<T, Weighted, 2, true>::apply(local.columns, run, w, 2, m, o + 2 * m);
                for (int64_t m = vectored; m < pairs; ++m)
                    for (int64_t j = 0; j < 2; ++j) {
                        T &e = o[2 * m + j];
                        e = Merge<SUM>::template init<T>();
                        Merge<SUM>::apply(e, local.value(run[j].column + m, w[j]));
                    }
            }
        }
    }
};
#endif

/**
 * foldBand's bands gathered image row by image row in wide vectors: never, in
 * general (applies is false); float and double sums at stride 2 in the last
 * dimension (gatheredRows) where the processor has AVX-512 or AVX2, below.
 */
template <typename T, Reduce Rule, class Src, class = void>
struct GatheredBand {
    static bool applies(const Geometry &) { return false; }
    static void fold(const Geometry &, const OffsetTables &, const Src &, int64_t, int64_t, T *) {}
};
#ifdef FOLDND_X86_DISPATCH
/** The most offsets that meet in one image row of a GatheredBand (their column indices live on the stack). */
constexpr int64_t kMaxGatheredRows = 64;

/**
 * The most offsets that meet in one image row where GatheredBand may take a
 * fold's bands (float and double sums), else 0: 2-d or more, stride 2 and
 * dilation 1 in the last dimension with a kernel of 2 to kMaxPhasedRun there,
 * not a phased permutation (PermutationBand writes those), dilation 1 in every
 * other dimension where the kernel is wider than 1 (the kernel indices that
 * cover a coordinate are then one residue class modulo the stride), and at
 * most kMaxGatheredRows offsets meeting in a row.
 */
inline int64_t gatheredRows(const Geometry &g) {
    const int last = g.dims - 1;
    if (g.dims < 2 || g.stride[last] != 2 || g.dilation[last] != 1 || g.kernel[last] < 2 ||
        g.kernel[last] > kMaxPhasedRun || phasedPermutation(g))
        return 0;
    int64_t meeting = g.kernel[last];
    for (int i = 0; i < last; ++i) {
        if (g.kernel[i] > 1 && g.dilation[i] != 1) return 0;
        meeting *= ceilDiv(g.kernel[i], g.stride[i]);  // at most this many indices cover one coordinate
        if (meeting > kMaxGatheredRows) return 0;
    }
    return meeting;
}

/**
 * The most offsets meeting in a row that GatheredBand sums on AVX2 (it takes up
 * to kMaxGatheredRows on AVX-512). Measured on an Intel Xeon with AVX-512, the
 * AVX2 kernels forced (C++ harness, float, one thread, data in L3, best of
 * 200, three alternated runs, against RowRun's phased rows): 3x3/2 on 256
 * planes of 56^2 (6 offsets) 0.80-0.84 ms -> 0.66-0.70, 4x4/2 with padding 1
 * on 64 of 112^2 (8) 0.83-0.86 -> 0.63-0.72, 5x5/2 (15) 1.15-1.75 -> 0.89-1.11,
 * but the stem's 7x7/2 (28) 0.66-0.85 -> 0.70-0.85, and on the full stem
 * (2 threads) slower in 2 of 3 runs.
 */
constexpr int64_t kMaxGatheredRowsAvx2 = 16;

/**
 * GatheredBand's operations on AVX-512 vectors of T: kLanes element pairs per
 * step (the even elements' sums in one vector, the odd ones' in another),
 * lanes chosen by a mask's bits (laneRange), nothing read or written in the
 * others. As in products.hpp, the kernel (GatheredBand::rows) is a template
 * over these vectors with no target of its own, compiled for the target only
 * through run (target and flatten: everything inlined into it), and vectors
 * pass by reference.
 */
template <typename T>
struct Avx512Pairs;
template <>
struct Avx512Pairs<float> : Avx512Target {
    using Vec = __m512;
    static constexpr int kLanes = 16;
    FOLDND_AVX512 static void zero(Vec &v) { v = _mm512_setzero_ps(); }
    FOLDND_AVX512 static void add(Vec &sum, const float *from, float w, bool weighted) {
        __m512 x = _mm512_loadu_ps(from);
        if (weighted) x = _mm512_mul_ps(_mm512_set1_ps(w), x);
        sum = _mm512_add_ps(sum, x);
    }
    /** sum += x in the lanes of k only (the others keep their bits), x read in those lanes only. */
    FOLDND_AVX512 static void add(Vec &sum, uint16_t k, const float *from, float w, bool weighted) {
        __m512 x = _mm512_maskz_loadu_ps(k, from);
        if (weighted) x = _mm512_mul_ps(_mm512_set1_ps(w), x);
        sum = _mm512_mask_add_ps(sum, k, sum, x);
    }
    /** v's lanes of k to `to` (ShiftedPlanes), nothing written in the others. */
    FOLDND_AVX512 static void put(float *to, const Vec &v, uint16_t k) {
        if (k == 0xFFFF)
            _mm512_storeu_ps(to, v);
        else
            _mm512_mask_storeu_ps(to, k, v);
    }
    /** The 2 kLanes elements even[0], odd[0], even[1], ... to `to`, those of mask[0] and mask[1] alone. */
    FOLDND_AVX512 static void store(float *to, const Vec &even, const Vec &odd, const uint16_t *mask) {
        const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const __m512 a = _mm512_permutex2var_ps(even, lo, odd), b = _mm512_permutex2var_ps(even, hi, odd);
        if ((mask[0] & mask[1]) == 0xFFFF) {
            _mm512_storeu_ps(to, a);
            _mm512_storeu_ps(to + kLanes, b);
        } else {
            _mm512_mask_storeu_ps(to, mask[0], a);
            _mm512_mask_storeu_ps(to + kLanes, mask[1], b);
        }
    }
};
template <>
struct Avx512Pairs<double> : Avx512Target {
    using Vec = __m512d;
    static constexpr int kLanes = 8;
    FOLDND_AVX512 static void zero(Vec &v) { v = _mm512_setzero_pd(); }
    FOLDND_AVX512 static void add(Vec &sum, const double *from, double w, bool weighted) {
        __m512d x = _mm512_loadu_pd(from);
        if (weighted) x = _mm512_mul_pd(_mm512_set1_pd(w), x);
        sum = _mm512_add_pd(sum, x);
    }
    FOLDND_AVX512 static void add(Vec &sum, uint16_t k, const double *from, double w, bool weighted) {
        __m512d x = _mm512_maskz_loadu_pd(__mmask8(k), from);
        if (weighted) x = _mm512_mul_pd(_mm512_set1_pd(w), x);
        sum = _mm512_mask_add_pd(sum, __mmask8(k), sum, x);
    }
    FOLDND_AVX512 static void put(double *to, const Vec &v, uint16_t k) {
        if ((k & 0xFF) == 0xFF)
            _mm512_storeu_pd(to, v);
        else
            _mm512_mask_storeu_pd(to, __mmask8(k), v);
    }
    FOLDND_AVX512 static void store(double *to, const Vec &even, const Vec &odd, const uint16_t *mask) {
        const __m512i lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11),
                      hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
        const __m512d a = _mm512_permutex2var_pd(even, lo, odd), b = _mm512_permutex2var_pd(even, hi, odd);
        if ((mask[0] & mask[1] & 0xFF) == 0xFF) {
            _mm512_storeu_pd(to, a);
            _mm512_storeu_pd(to + kLanes, b);
        } else {
            _mm512_mask_storeu_pd(to, __mmask8(mask[0]), a);
            _mm512_mask_storeu_pd(to + kLanes, __mmask8(mask[1]), b);
        }
    }
};

/**
 * The same operations on AVX2 vectors of T (each member as Avx512Pairs' of
 * the same name): a mask's bits become a vector of all-ones lanes, masked
 * loads (vmaskmov: nothing read in the other lanes), a blend for the masked
 * add, and the pairs interleaved within each 128-bit half, then the halves
 * put in order. Nothing here may need AVX-512.
 */
template <typename T>
struct Avx2Pairs;
template <>
struct Avx2Pairs<float> : Avx2Target {
    using Vec = __m256;
    static constexpr int kLanes = 8;
    FOLDND_AVX2 static void lanes(__m256i &v, uint16_t k) {
        const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
        v = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(k), bit), bit);
    }
    FOLDND_AVX2 static void zero(Vec &v) { v = _mm256_setzero_ps(); }
    FOLDND_AVX2 static void add(Vec &sum, const float *from, float w, bool weighted) {
        __m256 x = _mm256_loadu_ps(from);
        if (weighted) x = _mm256_mul_ps(_mm256_set1_ps(w), x);
        sum = _mm256_add_ps(sum, x);
    }
    FOLDND_AVX2 static void add(Vec &sum, uint16_t k, const float *from, float w, bool weighted) {
        __m256i m;
        lanes(m, k);
        __m256 x = _mm256_maskload_ps(from, m);
        if (weighted) x = _mm256_mul_ps(_mm256_set1_ps(w), x);
        sum = _mm256_blendv_ps(sum, _mm256_add_ps(sum, x), _mm256_castsi256_ps(m));
    }
    FOLDND_AVX2 static void put(float *to, const Vec &v, uint16_t k) {
        if ((k & 0xFF) == 0xFF) {
            _mm256_storeu_ps(to, v);
        } else {
            __m256i m;
            lanes(m, k);
            _mm256_maskstore_ps(to, m, v);
        }
    }
    FOLDND_AVX2 static void store(float *to, const Vec &even, const Vec &odd, const uint16_t *mask) {
        const __m256 lo = _mm256_unpacklo_ps(even, odd), hi = _mm256_unpackhi_ps(even, odd);
        const __m256 a = _mm256_permute2f128_ps(lo, hi, 0x20), b = _mm256_permute2f128_ps(lo, hi, 0x31);
        if ((mask[0] & mask[1] & 0xFF) == 0xFF) {
            _mm256_storeu_ps(to, a);
            _mm256_storeu_ps(to + kLanes, b);
        } else {
            __m256i m0, m1;
            lanes(m0, mask[0]);
            lanes(m1, mask[1]);
            _mm256_maskstore_ps(to, m0, a);
            _mm256_maskstore_ps(to + kLanes, m1, b);
        }
    }
};
template <>
struct Avx2Pairs<double> : Avx2Target {
    using Vec = __m256d;
    static constexpr int kLanes = 4;
    FOLDND_AVX2 static void lanes(__m256i &v, uint16_t k) {
        const __m256i bit = _mm256_setr_epi64x(1, 2, 4, 8);
        v = _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(k), bit), bit);
    }
    FOLDND_AVX2 static void zero(Vec &v) { v = _mm256_setzero_pd(); }
    FOLDND_AVX2 static void add(Vec &sum, const double *from, double w, bool weighted) {
        __m256d x = _mm256_loadu_pd(from);
        if (weighted) x = _mm256_mul_pd(_mm256_set1_pd(w), x);
        sum = _mm256_add_pd(sum, x);
    }
    FOLDND_AVX2 static void add(Vec &sum, uint16_t k, const double *from, double w, bool weighted) {
        __m256i m;
        lanes(m, k);
        __m256d x = _mm256_maskload_pd(from, m);
        if (weighted) x = _mm256_mul_pd(_mm256_set1_pd(w), x);
        sum = _mm256_blendv_pd(sum, _mm256_add_pd(sum, x), _mm256_castsi256_pd(m));
    }
    FOLDND_AVX2 static void put(double *to, const Vec &v, uint16_t k) {
        if ((k & 0xF) == 0xF) {
            _mm256_storeu_pd(to, v);
        } else {
            __m256i m;
            lanes(m, k);
            _mm256_maskstore_pd(to, m, v);
        }
    }
    FOLDND_AVX2 static void store(double *to, const Vec &even, const Vec &odd, const uint16_t *mask) {
        const __m256d lo = _mm256_unpacklo_pd(even, odd), hi = _mm256_unpackhi_pd(even, odd);
        const __m256d a = _mm256_permute2f128_pd(lo, hi, 0x20), b = _mm256_permute2f128_pd(lo, hi, 0x31);
        if ((mask[0] & mask[1] & 0xF) == 0xF) {
            _mm256_storeu_pd(to, a);
            _mm256_storeu_pd(to + kLanes, b);
        } else {
            __m256i m0, m1;
            lanes(m0, mask[0]);
            lanes(m1, mask[1]);
            _mm256_maskstore_pd(to, m0, a);
            _mm256_maskstore_pd(to + kLanes, m1, b);
        }
    }
};

/**
 * HopBand's operations on AVX-512 vectors of T: kLanes rows of kLanes
 * elements loaded (lanes chosen by a mask's bits, nothing read in the others,
 * which hold +0.0), transposed in registers, added and stored. Same pattern as
 * Avx512Pairs: the kernel compiles for the target through run alone.
 */
template <typename T>
struct Avx512Hops;
template <>
struct Avx512Hops<float> : Avx512Target {
    using Vec = __m512;
    static constexpr int kLanes = 16;
    FOLDND_AVX512 static void zero(Vec &v) { v = _mm512_setzero_ps(); }
    FOLDND_AVX512 static void load(Vec &v, uint16_t k, const float *from) { v = _mm512_maskz_loadu_ps(k, from); }
    /**
     * v[i] lane j becomes v[j] lane i: pairs of rows interleaved, then pairs of
     * pairs, then the 128-bit quarters put in order in two rounds (each a
     * two-source permute: GCC 12's unpack and shuffle intrinsics read an
     * undefined vector that -Werror=maybe-uninitialized refuses).
     */
    FOLDND_AVX512 static void transpose(Vec *v) {
        const __m512i lo1 = _mm512_setr_epi32(0, 16, 1, 17, 4, 20, 5, 21, 8, 24, 9, 25, 12, 28, 13, 29),
                      hi1 = _mm512_setr_epi32(2, 18, 3, 19, 6, 22, 7, 23, 10, 26, 11, 27, 14, 30, 15, 31),
                      lo2 = _mm512_setr_epi32(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),
                      hi2 = _mm512_setr_epi32(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31),
                      halfLo = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
                      halfHi = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31),
                      even = _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27),
                      odd = _mm512_setr_epi32(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
        __m512 a[16];
        for (int i = 0; i < 16; i += 2) {  // quarter q: rows i, i + 1 at columns 4 q, 4 q + 1 (a[i]), 4 q + 2, 4 q + 3
            a[i] = _mm512_permutex2var_ps(v[i], lo1, v[i + 1]);
            a[i + 1] = _mm512_permutex2var_ps(v[i], hi1, v[i + 1]);
        }
        for (int i = 0; i < 16; i += 4) {  // v[i + c], quarter q: column 4 q + c of rows i to i + 3
            v[i] = _mm512_permutex2var_ps(a[i], lo2, a[i + 2]);
            v[i + 1] = _mm512_permutex2var_ps(a[i], hi2, a[i + 2]);
            v[i + 2] = _mm512_permutex2var_ps(a[i + 1], lo2, a[i + 3]);
            v[i + 3] = _mm512_permutex2var_ps(a[i + 1], hi2, a[i + 3]);
        }
        for (int c = 0; c < 4; ++c) {  // column 4 q + c: quarter q of v[c], v[4 + c], v[8 + c], v[12 + c]
            const __m512 e0 = _mm512_permutex2var_ps(v[c], halfLo, v[4 + c]),
                         e1 = _mm512_permutex2var_ps(v[c], halfHi, v[4 + c]),
                         e2 = _mm512_permutex2var_ps(v[8 + c], halfLo, v[12 + c]),
                         e3 = _mm512_permutex2var_ps(v[8 + c], halfHi, v[12 + c]);
            a[c] = _mm512_permutex2var_ps(e0, even, e2);
            a[4 + c] = _mm512_permutex2var_ps(e0, odd, e2);
            a[8 + c] = _mm512_permutex2var_ps(e1, even, e3);
            a[12 + c] = _mm512_permutex2var_ps(e1, odd, e3);
        }
        for (int i = 0; i < 16; ++i) v[i] = a[i];
    }
    /** sum += x, or sum += w[lane] x where weighted: the scalar sum's operations, lane by lane. */
    FOLDND_AVX512 static void add(Vec &sum, const Vec &x, const float *w, bool weighted) {
        sum = _mm512_add_ps(sum, weighted ? _mm512_mul_ps(_mm512_loadu_ps(w), x) : x);
    }
    FOLDND_AVX512 static void store(float *to, const Vec &v, uint16_t k) {
        if (k == 0xFFFF)
            _mm512_storeu_ps(to, v);
        else
            _mm512_mask_storeu_ps(to, k, v);
    }
};
template <>
struct Avx512Hops<double> : Avx512Target {
    using Vec = __m512d;
    static constexpr int kLanes = 8;
    FOLDND_AVX512 static void zero(Vec &v) { v = _mm512_setzero_pd(); }
    FOLDND_AVX512 static void load(Vec &v, uint16_t k, const double *from) {
        v = _mm512_maskz_loadu_pd(__mmask8(k), from);
    }
    /** As the float transpose, with one round of interleaves: 128-bit quarters hold 2 doubles. */
    FOLDND_AVX512 static void transpose(Vec *v) {
        const __m512i lo = _mm512_setr_epi64(0, 8, 2, 10, 4, 12, 6, 14),
                      hi = _mm512_setr_epi64(1, 9, 3, 11, 5, 13, 7, 15),
                      halfLo = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11),
                      halfHi = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15),
                      even = _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13),
                      odd = _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15);
        __m512d a[8];
        for (int i = 0; i < 8; i += 2) {  // a[i + c], quarter q: column 2 q + c of rows i, i + 1
            a[i] = _mm512_permutex2var_pd(v[i], lo, v[i + 1]);
            a[i + 1] = _mm512_permutex2var_pd(v[i], hi, v[i + 1]);
        }
        for (int c = 0; c < 2; ++c) {  // column 2 q + c: quarter q of a[c], a[2 + c], a[4 + c], a[6 + c]
            const __m512d e0 = _mm512_permutex2var_pd(a[c], halfLo, a[2 + c]),
                          e1 = _mm512_permutex2var_pd(a[c], halfHi, a[2 + c]),
                          e2 = _mm512_permutex2var_pd(a[4 + c], halfLo, a[6 + c]),
                          e3 = _mm512_permutex2var_pd(a[4 + c], halfHi, a[6 + c]);
            v[c] = _mm512_permutex2var_pd(e0, even, e2);
            v[2 + c] = _mm512_permutex2var_pd(e0, odd, e2);
            v[4 + c] = _mm512_permutex2var_pd(e1, even, e3);
            v[6 + c] = _mm512_permutex2var_pd(e1, odd, e3);
        }
    }
    FOLDND_AVX512 static void add(Vec &sum, const Vec &x, const double *w, bool weighted) {
        sum = _mm512_add_pd(sum, weighted ? _mm512_mul_pd(_mm512_loadu_pd(w), x) : x);
    }
    FOLDND_AVX512 static void store(double *to, const Vec &v, uint16_t k) {
        if ((k & 0xFF) == 0xFF)
            _mm512_storeu_pd(to, v);
        else
            _mm512_mask_storeu_pd(to, __mmask8(k), v);
    }
};
#undef FOLDND_AVX512
#undef FOLDND_AVX2

/**
 * The image rows of a fold band, one after another (row-major, the dimension
 * before the last fastest), each with the runs of kernel offsets whose blocks
 * cover it: the walk of GatheredBand and HopBand (2-d and up; dilation 1
 * wherever the kernel is wider than 1, so that the kernel indices covering a
 * coordinate are one residue class modulo the stride; at most
 * kMaxGatheredRows runs). n: the kernel's last size.
 */
class RowCover {
  public:
    RowCover(const Geometry &g, int64_t n, int64_t bandBegin) : g_(g) {
        const int last = g.dims - 1;
        for (int d = last - 1; d >= 0; --d) {
            kScale_[d] = d == last - 1 ? n : kScale_[d + 1] * g.kernel[d + 1];
            qScale_[d] = d == last - 1 ? g.grid[last] : qScale_[d + 1] * g.grid[d + 1];
            at_[d].set(g, d, 0);
        }
        at_[0].set(g, 0, bandBegin);
    }

    /**
     * The runs of offsets that cover the current row, in increasing offset
     * order: run i starts at flat offset kernel[i] (last kernel index 0) and
     * reads the blocks from column index block[i] (its row of blocks times the
     * last dimension's blocks). Returns their count, 0 where no block covers
     * the row.
     */
    int64_t runs(int64_t *kernel, int64_t *block) const {
        const Geometry &g = g_;
        int64_t runs = 1;
        kernel[0] = 0;
        block[0] = 0;
        for (int d = 0; d < g.dims - 1; ++d) {  // each run so far, times this dimension's covering indices
            int64_t ks[kMaxGatheredRows], bs[kMaxGatheredRows], count = 0;
            for (int64_t k = at_[d].residue, b = at_[d].block; k < g.kernel[d] && b >= 0; k += g.stride[d], --b) {
                if (b >= g.grid[d]) continue;
                ks[count] = k * kScale_[d];
                bs[count++] = b * qScale_[d];
            }
            if (count == 0) return 0;
            for (int64_t e = runs - 1; e >= 0; --e)  // in place from the end: run e becomes runs e count + c
                for (int64_t c = count - 1; c >= 0; --c) {
                    kernel[e * count + c] = kernel[e] + ks[c];
                    block[e * count + c] = block[e] + bs[c];
                }
            runs *= count;
        }
        return runs;
    }

    /** Moves to the next image row. */
    void next() {
        for (int d = g_.dims - 2; d >= 0; --d) {
            at_[d].next(g_, d);
            if (d == 0 || at_[d].y < g_.image[d]) return;
            at_[d].set(g_, d, 0);
        }
    }

  private:
    /**
     * The current row's coordinate y in one dimension before the last, with
     * c = y + padding split into c mod stride (the first kernel index that
     * covers y) and c / stride (that index's block): index residue + i stride
     * covers y from block block - i. Carried from row to row: no division.
     */
    struct Coordinate {
        int64_t y, residue, block;
        void set(const Geometry &g, int d, int64_t to) {
            y = to;
            residue = (to + g.padding[d]) % g.stride[d];
            block = (to + g.padding[d]) / g.stride[d];
        }
        void next(const Geometry &g, int d) {
            ++y;
            if (++residue == g.stride[d]) {
                residue = 0;
                ++block;
            }
        }
    };

    const Geometry &g_;
    int64_t kScale_[kMaxDims], qScale_[kMaxDims];  // row-major scales of the kernel and block indices
    Coordinate at_[kMaxDims];
};

/** Lanes [a, b) of `lanes` (at most 16), clipped to [0, lanes), as bits (lane i: bit i). */
inline uint16_t laneRange(int64_t a, int64_t b, int lanes) {
    a = std::min<int64_t>(std::max<int64_t>(a, 0), lanes);
    b = std::min<int64_t>(std::max<int64_t>(b, 0), lanes);
    return a >= b ? uint16_t(0) : uint16_t(((1u << b) - 1) & ~((1u << a) - 1));
}

/**
 * A band of a float or double sum at stride 2 in the last dimension
 * (gatheredRows), written image row by image row in AVX-512 vectors (AVX2
 * where at most kMaxGatheredRowsAvx2 offsets meet in a row), each
 * element once: no fill before, no read of the output, and no scalar loop at
 * the ends of a row (masked lanes there). For each image row, the kernel
 * indices of the other dimensions whose blocks cover it, in increasing order,
 * each with the run of the last dimension's n offsets: all summed in one pass
 * over the row, in steps of kLanes element pairs. Offset j puts block l on
 * element 2 l + j (from the row's origin), so pair m's even element receives
 * the even offsets j from blocks m - j / 2, its odd element the odd ones:
 * each lane sums its element's offsets in increasing order from +0.0, as
 * PyTorch's col2im adds them into a zeroed image (a lane an offset does not
 * reach keeps its bits: masked adds). RowRun instead fills the band, then
 * reads and writes each image row once per run of offsets that covers it,
 * with a scalar loop at each row's ends. Measured against RowRun (C++
 * harness, float, 2 threads, best of 30, seven alternated runs, Intel Xeon in
 * a slow phase, AVX-512): 3x3/2 on 16x128x56^2 3.3-7.5 ms -> 2.6-6.9 (6 of 7
 * faster), the stem (7x7/2 on 8x3x224^2) 1.36-1.88 -> 1.29-1.57 (6 of 7).
 * The same gather on 16-byte vectors (SSE, with a fill of the rows' ends) was
 * slower than RowRun on data in cache (3x3/2, 256 planes, one thread:
 * 0.87-0.92 ms against 0.81), so the baseline keeps RowRun.
 */
template <typename T, bool Weighted>
struct GatheredBand<T, SUM, Source<T, Weighted>, std::enable_if_t<kTiledSums<T>>> {
    using Src = Source<T, Weighted>;

    static bool applies(const Geometry &g) {
        const int64_t meeting = gatheredRows(g);
        return meeting > 0 && (Cpu::avx512() || (Cpu::avx2() && meeting <= kMaxGatheredRowsAvx2));
    }
    static void fold(const Geometry &g, const OffsetTables &t, const Src &src, int64_t bandBegin, int64_t bandEnd,
                     T *out) {
        if (Cpu::avx512()) return folder<Avx512Pairs<T>>(g)(&g, &t, &src, bandBegin, bandEnd, out);
        return folder<Avx2Pairs<T>>(g)(&g, &t, &src, bandBegin, bandEnd, out);
    }

  private:
    using Rows = void (*)(const Geometry *, const OffsetTables *, const Src *, int64_t, int64_t, T *);

    /** rows on V's vectors, for the kernel's last size: the usual widths unrolled, as in RowRun. */
    template <class V>
    static Rows folder(const Geometry &g) {
        switch (g.kernel[g.dims - 1]) {
            case 2:
                return compiled<V, 2>();
            case 3:
                return compiled<V, 3>();
            case 4:
                return compiled<V, 4>();
            case 5:
                return compiled<V, 5>();
            case 7:
                return compiled<V, 7>();
            default:
                return compiled<V, 0>();
        }
    }

    /** rows<V, N> compiled for V's target (V::run). */
    template <class V, int64_t N>
    static Rows compiled() {
        return &V::template run<&rows<V, N>, const Geometry *, const OffsetTables *, const Src *, int64_t, int64_t,
                                T *>;
    }

    /**
     * The masks of one step of a row, from pair m0: mask[j] the lanes (pairs)
     * whose block of offset j lies in [lo[j], hi[j]), mask[n] and mask[n + 1]
     * the elements of the step's two stores that lie in the row.
     */
    template <int kLanes>
    static void stepMasks(int64_t m0, int64_t n, const int64_t *lo, const int64_t *hi, int64_t origin, int64_t width,
                          uint16_t *mask) {
        for (int64_t j = 0; j < n; ++j) mask[j] = laneRange(lo[j] + j / 2 - m0, hi[j] + j / 2 - m0, kLanes);
        const int64_t from = -origin - 2 * m0, to = width - origin - 2 * m0;  // the row, from the step's first element
        mask[n] = laneRange(from, to, kLanes);
        mask[n + 1] = laneRange(from - kLanes, to - kLanes, kLanes);
    }

    /** The masks of the first kMaskedSteps steps of a row are computed once per band; later ones per row. */
    static constexpr int64_t kMaskedSteps = 32;

    /** The band's rows on V's vectors (reached through V::run only); N > 0: the kernel's last size, unrolled. */
    template <class V, int64_t N>
    __attribute__((always_inline)) static inline void rows(const Geometry *geometry, const OffsetTables *tables,
                                                           const Src *source, int64_t bandBegin, int64_t bandEnd,
                                                           T *out) {
        constexpr int kLanes = V::kLanes;
        const Geometry &g = *geometry;
        const OffsetTables &t = *tables;
        const Src &src = *source;
        const int last = g.dims - 1;
        const int64_t n = N > 0 ? N : g.kernel[last], width = g.image[last];
        int64_t lo[kMaxPhasedRun], hi[kMaxPhasedRun];              // offset j's blocks in the last dimension
        int64_t mA = 0, mB = std::numeric_limits<int64_t>::max();  // the pairs every offset reaches
        for (int64_t j = 0; j < n; ++j) {
            lo[j] = t.lo[t.at(last, j)];
            hi[j] = t.hi[t.at(last, j)];
            mA = std::max(mA, lo[j] + j / 2);
            mB = std::min(mB, hi[j] + j / 2);
        }
        const int64_t origin = t.origin[t.at(last, 0)];  // offset j's element of block l: origin + 2 l + j
        const int64_t p0 = -origin / 2, p1 = (width - origin + 1) / 2;  // the pairs that hold the row's elements
        const int64_t steps = ceilDiv(p1 - p0, kLanes);
        uint16_t masks[kMaskedSteps * (kMaxPhasedRun + 2)];
        for (int64_t s = 0; s < std::min(steps, kMaskedSteps); ++s)
            stepMasks<kLanes>(p0 + s * kLanes, n, lo, hi, origin, width, masks + s * (n + 2));
        uint16_t all[kMaxPhasedRun + 2];                // a step inside the row that every offset reaches
        std::fill(all, all + n + 2, uint16_t(0xFFFF));  // (the traits compare only their lanes)
        RowCover cover(g, n, bandBegin);
        const Src local = src;  // in registers: nothing the loop stores can change them
        const int64_t rowsPerY0 = g.imageStride[0] / width;
        for (int64_t r = bandBegin * rowsPerY0; r < bandEnd * rowsPerY0; ++r, cover.next()) {
            int64_t kernel[kMaxGatheredRows], block[kMaxGatheredRows];
            const int64_t runs = cover.runs(kernel, block);
            int64_t column[kMaxGatheredRows];  // run i's offset j: column index column[i n + j], weight w[i n + j]
            T w[kMaxGatheredRows];
            for (int64_t i = 0; i < runs; ++i)
                for (int64_t j = 0; j < n; ++j) {
                    column[i * n + j] = (kernel[i] + j) * g.kernelStride + block[i];
                    w[i * n + j] = local.weight(kernel[i] + j);
                }
            T *const o = out + r * width + origin;
            uint16_t late[kMaxPhasedRun + 2];
            for (int64_t s = 0; s < steps; ++s) {
                const int64_t m0 = p0 + s * kLanes;
                const bool inner = m0 >= mA && m0 + kLanes <= mB;  // every offset reaches every lane
                typename V::Vec even, odd;
                V::zero(even);
                V::zero(odd);
                const uint16_t *mask = masks + s * (n + 2);
                if (s >= kMaskedSteps) {  // (s > 0: the step starts inside the row)
                    if (!inner || 2 * (m0 + kLanes) > width - origin)
                        stepMasks<kLanes>(m0, n, lo, hi, origin, width, late);
                    mask = inner && 2 * (m0 + kLanes) <= width - origin ? all : late;
                }
                if (inner) {
                    for (int64_t i = 0; i < runs; ++i)
                        for (int64_t j = 0; j < n; ++j)
                            V::add(j & 1 ? odd : even, local.columns + column[i * n + j] + m0 - j / 2, w[i * n + j],
                                   Weighted);
                } else {
                    for (int64_t i = 0; i < runs; ++i)
                        for (int64_t j = 0; j < n; ++j)
                            V::add(j & 1 ? odd : even, mask[j], local.columns + column[i * n + j] + m0 - j / 2,
                                   w[i * n + j], Weighted);
                }
                V::store(o + 2 * m0, even, odd, mask + n);
            }
        }
    }
};
#endif

/**
 * foldBand's bands gathered a hop at a time: never, in general (applies is
 * false); float and double sums whose last stride and kernel are whole
 * vectors (hopRuns) where the processor has AVX-512, below.
 */
template <typename T, Reduce Rule, class Src, class = void>
struct HopBand {
    static bool applies(const Geometry &) { return false; }
    static bool joinsBands(const Geometry &) { return false; }
    static void fold(const Geometry &, const OffsetTables &, const Src &, int64_t, int64_t, T *) {}
};
#ifdef FOLDND_X86_DISPATCH
/**
 * The most runs of offsets that meet in one image row where HopBand may take a
 * fold's bands of `lanes`-element vectors, else 0: dilation 1, and a stride and
 * a kernel that are multiples of `lanes`, in the last dimension; dilation 1
 * in every other dimension where the kernel is wider than 1 (RowCover), and
 * at most kMaxGatheredRows runs meeting in a row.
 */
inline int64_t hopRuns(const Geometry &g, int64_t lanes) {
    const int last = g.dims - 1;
    if (g.dilation[last] != 1 || g.stride[last] % lanes != 0 || g.kernel[last] % lanes != 0) return 0;
    int64_t meeting = 1;
    for (int i = 0; i < last; ++i) {
        if (g.kernel[i] > 1 && g.dilation[i] != 1) return 0;
        meeting *= ceilDiv(g.kernel[i], g.stride[i]);  // at most this many indices cover one coordinate
        if (meeting > kMaxGatheredRows) return 0;
    }
    return meeting;
}

/**
 * A band of a float or double sum whose last stride s and kernel are whole
 * vectors of kLanes elements (hopRuns), on AVX-512: each image element
 * written once, from +0.0, no fill and no read of the output. With c = x +
 * padding an element's coordinate along the last dimension, c = q s + r, it
 * receives offset j s + r (for each j with j s + r below the kernel) of block
 * q - j, in increasing j, from each run of offsets that covers its row
 * (RowCover), in increasing order: the scalar sum's order. A "piece" is
 * kLanes elements of one hop (r from a multiple r0 of kLanes): kLanes pieces
 * of consecutive hops (q0 to q0 + kLanes - 1) read, for each run and j, the
 * same kLanes column rows (offsets j s + r0 to j s + r0 + kLanes - 1) at
 * kLanes consecutive blocks (q0 - j on), one vector each, and a transpose
 * turns them into the pieces' addends. Blocks outside the grid are masked out
 * of the loads, and their pieces out of the adds; pieces outside the band or
 * the image out of the stores. The other paths add 16-byte tiles of 4 offsets
 * (float) into the band, a read and a write of the output per offset.
 *
 * Measured against them (C++ harness, float, 2 threads, best of 20, three
 * alternated runs, Intel Xeon with AVX-512): 32x32 blocks at stride 16 on
 * 3x1024^2 3.78-5.46 ms -> 1.84-2.87; frames 4096/1024 over 4x2^20
 * 8.24-9.78 -> 7.35-7.62, 1024/256 over 2^20 1.13-1.28 -> 0.86-1.05, 64/32
 * 1.85-1.97 -> 1.53-2.17 (2 of 3 faster). The prefetches matter: without
 * them (bands of 64 MiB, one pair each) 32x32/16 took 3.5-4.8 ms against
 * 1.75-1.87 and 4096/1024 6.7-7.0 against 3.9-4.1 (the next tile into L1,
 * then; now the next row's tiles into L2: see row). The same kernel on AVX2
 * vectors (8 floats a piece, half a line, whose other half a later pass
 * writes) was no faster than the band paths, forced on this Xeon (32x32/16
 * 6.4-6.9 ms against 4.6-6.6; 16x16 blocks at stride 8, 0.82-1.20 against
 * 0.78-1.14), so AVX2 machines keep those.
 */
template <typename T, bool Weighted>
struct HopBand<T, SUM, Source<T, Weighted>, std::enable_if_t<kTiledSums<T>>> {
    using Src = Source<T, Weighted>;
    using V = Avx512Hops<T>;

    static bool applies(const Geometry &g) { return Cpu::avx512() && hopRuns(g, V::kLanes) > 0; }

    /**
     * Whether a thread's consecutive bands of one plane go to fold as one
     * band (foldPart): each element is written once whatever the band, and a
     * long band reads each column row in long runs, which the prefetchers
     * follow. Where a hop holds one piece, or at least 3 offsets meet in an
     * element (the column reads outweigh the image writes). Measured (C++
     * harness, float, 2 threads, best of 20, three alternated runs, joined /
     * not): frames 4096/1024 over 4 x 2^20 4.1-11.3 ms / 8.9-15.3, 1024/256
     * 0.92-1.46 / 1.06-1.70, 32x32/16 on 3x1024^2 3.6-5.5 / 4.4-7.7; but
     * frames 64/32 (two pieces a hop, two offsets) 1.74-2.26 / 1.64-2.12,
     * each pass then writing every other line of the whole share.
     */
    static bool joinsBands(const Geometry &g) {
        const int last = g.dims - 1;
        return applies(g) && (g.stride[last] == V::kLanes || ceilDiv(g.kernel[last], g.stride[last]) >= 3);
    }
    static void fold(const Geometry &g, const OffsetTables &, const Src &src, int64_t bandBegin, int64_t bandEnd,
                     T *out) {
        V::template run<&rows, const Geometry *, const Src *, int64_t, int64_t, T *>(&g, &src, bandBegin, bandEnd, out);
    }

  private:
    /** The runs of offsets that cover one image row (RowCover::runs). */
    struct Runs {
        int64_t kernel[kMaxGatheredRows], block[kMaxGatheredRows], count = 0;
    };

    /**
     * How many tiles ahead along a 1-d row the column rows are asked for. Measured with the next row's
     * prefetch below (C++ harness, float, 2 threads, best of 20, two alternated runs, AMD EPYC with
     * AVX-512): frames 4096/1024 over 4 x 2^20 3.10-3.17 ms at 2 tiles, 3.21-3.31 at 4, 3.98-4.09 at 16;
     * frames 64/32 2.10-2.19 at 2, 2.19-2.23 at 4.
     */
    static constexpr int64_t kTilesAhead = 2;

    /** The band's rows (reached through V::run only): in 1-d the band is a piece of the one row. */
    __attribute__((always_inline)) static inline void rows(const Geometry *geometry, const Src *source,
                                                           int64_t bandBegin, int64_t bandEnd, T *out) {
        const Geometry &g = *geometry;
        const Src local = *source;  // in registers: nothing the loop stores can change them
        const int last = g.dims - 1;
        const int64_t width = g.image[last], pad = g.padding[last];
        Runs runs[2];  // this row's and the next's, alternately
        if (g.dims == 1) {
            runs[0].kernel[0] = runs[0].block[0] = 0;
            runs[0].count = 1;
            return row(g, local, runs[0], runs[1], bandBegin + pad, bandEnd + pad, out - pad);
        }
        RowCover cover(g, g.kernel[last], bandBegin);
        const int64_t rowsPerY0 = g.imageStride[0] / width, r0 = bandBegin * rowsPerY0, r1 = bandEnd * rowsPerY0;
        runs[0].count = cover.runs(runs[0].kernel, runs[0].block);
        for (int64_t r = r0; r < r1; ++r) {
            Runs &now = runs[(r - r0) & 1], &next = runs[(r - r0 + 1) & 1];
            cover.next();
            next.count = r + 1 < r1 ? cover.runs(next.kernel, next.block) : 0;
            row(g, local, now, next, pad, width + pad, out + r * width - pad);
        }
    }

    /**
     * Coordinates [c0, c1) of one image row, o[c] the element at coordinate
     * c, from the runs that cover it (now): the pieces from r0 = 0 up, each
     * the hops' pieces kLanes at a time. `next`: the next row's runs, whose
     * tiles are asked for while this row's are read.
     */
    __attribute__((always_inline)) static inline void row(const Geometry &g, const Src &src, const Runs &now,
                                                          const Runs &next, int64_t c0, int64_t c1, T *o) {
        constexpr int W = V::kLanes;
        const int last = g.dims - 1;
        const int64_t s = g.stride[last], n = g.kernel[last], grid = g.grid[last], step = g.kernelStride;
        for (int64_t r0 = 0; r0 < s; r0 += W) {
            const int64_t qa = floorDiv(c0 - r0 - W, s) + 1, qb = ceilDiv(c1 - r0, s);  // hops with a piece in [c0, c1)
            const int64_t hops = ceilDiv(n - r0, s);  // the j with j s + r0 in the kernel
            for (int64_t q0 = qa; q0 < qb; q0 += W) {
                typename V::Vec sum[W];
                for (int e = 0; e < W; ++e) V::zero(sum[e]);
                for (int64_t i = 0; i < now.count; ++i)
                    for (int64_t j = 0; j < hops; ++j) {
                        const uint16_t valid = laneRange(j - q0, grid + j - q0, W);  // piece e: block q0 + e - j
                        if (valid == 0) continue;
                        const int64_t k = now.kernel[i] + j * s + r0;  // the first of the W offsets
                        const T *from = src.columns + k * step + now.block[i] + q0 - j;
                        // A row of blocks is a few tiles long in 2-d and up, too short for the hardware
                        // prefetchers: the same tile of the next image row is asked for now, a row's work
                        // ahead (a 1-d row is one long run: kTilesAhead tiles on). Into L2, not L1: the
                        // row's tiles would evict each other from L1 before they are read. Measured (C++
                        // harness, float, 2 threads, best of 20, alternated, AMD EPYC with AVX-512, 32 MiB
                        // of L3): 32x32 blocks at stride 16 on 3 x 1024^2 4.35-4.36 ms with the next tile
                        // into L1 -> 3.31-3.38 with it into L2 -> 1.99-2.13 with the next row's into L2;
                        // frames 4096/1024 5.56-5.57 -> 3.68-3.73 -> 3.10-3.17 (kTilesAhead).
                        const T *ahead = g.dims == 1 ? (q0 + kTilesAhead * W < qb ? from + kTilesAhead * W : nullptr)
                                         : i < next.count ? src.columns + (next.kernel[i] + j * s + r0) * step +
                                                                next.block[i] + q0 - j
                                                          : nullptr;
                        typename V::Vec x[W];
                        for (int e = 0; e < W; ++e) {
                            V::load(x[e], valid, from + e * step);
                            if (ahead != nullptr) {  // both lines the row's W elements may span
                                __builtin_prefetch(ahead + e * step, 0, 2);
                                __builtin_prefetch(ahead + e * step + W - 1, 0, 2);
                            }
                        }
                        V::transpose(x);  // x[e]: piece e's W addends
                        const T *w = Weighted ? src.weights + k : nullptr;
                        if (valid == uint16_t((1u << W) - 1)) {
                            for (int e = 0; e < W; ++e) V::add(sum[e], x[e], w, Weighted);
                        } else {
                            for (int e = 0; e < W; ++e)
                                if (valid >> e & 1) V::add(sum[e], x[e], w, Weighted);
                        }
                    }
                for (int e = 0; e < W && q0 + e < qb; ++e) {
                    const int64_t c = (q0 + e) * s + r0;
                    V::store(o + c, sum[e], laneRange(c0 - c, c1 - c, W));
                }
            }
        }
    }
};
#endif

/**
 * Folds the part of one plane whose dimension-0 coordinate lies in [bandBegin,
 * bandEnd) into out (the plane's output), offsets in increasing order for every
 * element: in 1-d a chunk of offsets at a time (chunkSize; 1-d is the only
 * place chunks form), else one offset at a time, or two where they pair.
 */
template <typename T, Reduce Rule, class Src>
inline void foldBand(const Geometry &g, const OffsetTables &t, const RowSource &rows, const Src &src, int64_t bandBegin,
                     int64_t bandEnd, T *out) {
    const int64_t slice = g.imageStride[0];  // elements per dimension-0 coordinate (1 in 1-d)
    if (PermutationBand<T, Rule, Src>::applies(g))
        return PermutationBand<T, Rule, Src>::fold(g, src, bandBegin, bandEnd, out);
    if (GatheredBand<T, Rule, Src>::applies(g))
        return GatheredBand<T, Rule, Src>::fold(g, t, src, bandBegin, bandEnd, out);
    if (HopBand<T, Rule, Src>::applies(g)) return HopBand<T, Rule, Src>::fold(g, t, src, bandBegin, bandEnd, out);
    std::fill(out + bandBegin * slice, out + bandEnd * slice, Merge<Rule>::template init<T>());
    const Band band{bandBegin, bandEnd};
    if (g.dims == 1) {
        const int64_t perChunk = chunkSize<T>(g);
        for (int64_t k = 0, n = 1; k < g.kernelVolume; k += n) {
            n = std::min(perChunk, g.kernelVolume - k);
            foldOffsets1d<T, Rule>(g, t, rows, src, band, k, n, out);
        }
        return;
    }
    const int64_t rowsPerL0 = g.rowsPerKernelOffset() / g.grid[0];  // rows per dimension-0 block index
    for (int64_t k = 0, n = 1; k < g.kernelVolume; k += n) {
        n = 1;
        int64_t a, b;
        band.blocks(g, t, t.k0(k), a, b);
        if (a >= b) continue;
        if (RowRun<T, Rule, Src>::takes(g, t, k, src)) {
            n = g.kernel[g.dims - 1];
            RowRun<T, Rule, Src>::apply(g, t, rows, src, k, a * rowsPerL0, b * rowsPerL0, out);
        } else if (pairsWithNext(g, t, k)) {
            n = 2;
            foldPairedRows<T, Rule>(rows, src, k, a * rowsPerL0, b * rowsPerL0, out);
        } else {
            foldRows<T, Rule>(g, rows, src, k, a * rowsPerL0, b * rowsPerL0, out);
        }
    }
}

#ifdef FOLDND_X86_DISPATCH
/**
 * foldBand compiled for AVX2: flatten inlines everything it calls, so that the
 * whole band, its row loops included, is compiled for that target (GCC 12
 * vectorises the rows' adds eight floats wide instead of four). Each element
 * still receives its contributions one at a time in kernel-offset order, so
 * the bits are foldBand's (the target has no FMA, and the build turns
 * contraction off). Only called where Cpu::avx2() holds.
 */
template <typename T, Reduce Rule, class Src>
__attribute__((target("avx2"), flatten)) void foldBandAvx2(const Geometry &g, const OffsetTables &t,
                                                           const RowSource &rows, const Src &src, int64_t bandBegin,
                                                           int64_t bandEnd, T *out) {
    foldBand<T, Rule>(g, t, rows, src, bandBegin, bandEnd, out);
}
#endif

/**
 * The band kernel of a call: foldBandAvx2 where the processor has AVX2 (and
 * FOLDND_BASELINE does not hide it), except at stride 2 in the last
 * dimension, whose phased rows are written in 16-byte vectors already. Whole
 * folds, float, 2 threads (C++ harness, best of 20-40, baseline and AVX2
 * builds alternated 3-4 times, Intel Xeon): 16x16 blocks at stride 1 on 256^2
 * 2.4-2.9 ms -> 2.0-2.1, 4096/1024 frames on 4 x 2^20 samples 9.8-10.2 ->
 * 8.3-9.3, the other cases of the suite within the noise, but the stem (7x7/2)
 * 1.35-1.94 -> 1.42-2.22, slower in all of 7 pairs.
 */
template <typename T, Reduce Rule, class Src>
inline auto bandFolder(const Geometry &g) {
#ifdef FOLDND_X86_DISPATCH
    if (Cpu::avx2() && g.stride[g.dims - 1] != 2) return &foldBandAvx2<T, Rule, Src>;
#else
    (void)g;
#endif
    return &foldBand<T, Rule, Src>;
}

/**
 * The most output bytes in one fold band, so that a band stays in one core's L2
 * while every offset is applied to it (current x86-64 and ARM64 cores have 256
 * KiB of L2 or more).
 */
constexpr int64_t kBandBytes = int64_t(256) << 10;

/**
 * The fold items per thread that bandsPerPlane aims for when planes are few, so
 * that parallelFor's static split still gives every thread work, and shares of
 * similar cost.
 */
constexpr int64_t kItemsPerThread = 4;

/**
 * How many bands each plane is cut into along dimension 0: enough that a band's
 * output fits in L2 while every offset is applied (kBandBytes), and that few
 * planes still give every thread work.
 */
template <typename T>
inline int64_t bandsPerPlane(const Geometry &g, int threads) {
    const int64_t extent = g.image[0], slice = g.imageStride[0];
    if (g.planes * (g.kernelVolume * g.blocks + g.imagePlane) <= kSerialWork) return 1;  // runs serially anyway
    // 16-bit types sum a band in float (half_fold.hpp): the band's bytes are those of the floats.
    const int64_t bytes = int64_t(std::max(sizeof(T), sizeof(float)));
    const int64_t forCache = ceilDiv(extent * slice * bytes, kBandBytes);
    const int64_t items = kItemsPerThread * threads;
    const int64_t forThreads = g.planes >= items ? 1 : ceilDiv(items, std::max<int64_t>(g.planes, 1));
    return std::max<int64_t>(1, std::min(extent, std::max(forCache, forThreads)));
}

/**
 * The coverage map of one plane over dimension-0 coordinates [from, to): for
 * each image element there, the sum of the weights (1 when weights is null) of
 * the kernel offsets whose blocks cover it, added in kernel-offset order. Left
 * uninitialised elsewhere, where no finish() reads it (a part of a call needs
 * only its own bands: computing the whole plane per part would repeat it).
 */
template <typename T>
struct Coverage {
    std::unique_ptr<T[]> map;

    Coverage(const Geometry &g, const OffsetTables &t, const RowSource &rows, const T *weights, int64_t from,
             int64_t to)
        : map(new T[static_cast<size_t>(g.imagePlane)]) {
        if (weights != nullptr)
            foldBand<T, SUM>(g, t, rows, WeightSource<T, true>{weights}, from, to, map.get());
        else
            foldBand<T, SUM>(g, t, rows, WeightSource<T, false>{nullptr}, from, to, map.get());
    }
};

/** MEAN divides by the coverage; MAX/MIN only clear what no block covers (0
 * there). */
template <typename T>
inline void finish(const T *map, bool divide, int64_t from, int64_t to, T *out) {
    for (int64_t i = from; i < to; ++i) {
        const T m = map[i];
        out[i] = m == T(0) ? T(0) : (divide ? out[i] / m : out[i]);
    }
}

/** How fold cuts its work: items are (plane, band), bands along dimension 0
 * (bandsPerPlane). */
template <typename T>
inline int64_t foldItems(const Geometry &g, int threads) {
    return g.planes * bandsPerPlane<T>(g, threads);
}

/**
 * Planes gathered together (GatherMap::gatherPlanes). Whole folds, float, 2
 * threads (C++ harness, best of 20-30, alternated 7 times, Intel Xeon): 3x3
 * at padding 1 on 64 x 512 planes of 7x7 8.4-9.1 ms one plane at a time ->
 * 2.6-6.2 in groups of 8, on 64 x 256 of 6x6 1.9-2.7 -> 0.9-1.6; groups of 4
 * and 16 within the noise of 8, and the group compiled for AVX2 no faster.
 */
constexpr int kGatherGroup = 8;

/**
 * Rows of fewer blocks than this fold gathers (usesFoldGather). Measured (C++
 * harness, float, 3x3 at padding 1): 512 channels of 7x7 at batch 64 went from
 * 9.4-9.9 ms to 6.7-7.4 and 2x2/2 on 7x7 from 2.8 to 1.6, but 256 channels of
 * 8x8 from 5.2-5.4 to 6.7-8.7, and 12x12 took twice as long: from 8 blocks on,
 * rows are added in vectors.
 */
constexpr int64_t kGatherShortRow = 8;

/**
 * The fewest planes fold gathers on: the map costs about what folding one
 * plane by rows does, so it must be shared by several (a tiny fold of one
 * plane stays on rows).
 */
constexpr int64_t kGatherMinPlanes = 16;

/**
 * Whether fold gathers through a per-plane map (GatherMap) instead of adding
 * rows: small planes with rows so short that setting one up costs more than
 * adding it.
 */
inline bool usesFoldGather(const Geometry &g) {
    return usesPlaneMap(g) && g.lastGrid() < kGatherShortRow && g.planes >= kGatherMinPlanes &&
           (g.kernelVolume - 1) * g.kernelStride + g.blocks <= INT32_MAX;
}

/**
 * For each image element x of a plane, the column elements that fold merges
 * into it, in kernel-offset order: entries [start[x], start[x + 1]), each a
 * column index from the plane's base (Row::column + l) and its offset k (for
 * the weight). Each element then starts at the merge's identity and merges its
 * entries in that order, as the rows would, and is written once: no fill, and
 * no read-modify-write per offset.
 */
struct GatherMap {
    const int32_t *start, *column, *offset;  // in this thread's Scratch

    GatherMap(const Geometry &g, const RowSource &rows) {
        Scratch &scratch = Scratch::local();
        std::vector<int32_t> &first = scratch.gatherStart, &columns = scratch.gatherColumn,
                             &offsets = scratch.gatherOffset;
        first.assign(size_t(g.imagePlane) + 1, 0);
        const int64_t step = g.stride[g.dims - 1], perOffset = g.rowsPerKernelOffset();
        auto visit = [&](auto &&f) {
            for (int64_t k = 0; k < g.kernelVolume; ++k)
                rows.forRows(k, 0, perOffset, [&](int64_t, const Row &r) {
                    for (int64_t l = r.lo; l < r.hi; ++l) f(k, r.image + l * step, r.column + l);
                });
        };
        visit([&](int64_t, int64_t x, int64_t) { ++first[size_t(x) + 1]; });
        for (size_t x = 1; x < first.size(); ++x) first[x] += first[x - 1];
        const size_t entries = size_t(first.back());
        if (columns.size() < entries) columns.resize(entries);
        if (offsets.size() < entries) offsets.resize(entries);
        visit([&](int64_t k, int64_t x, int64_t c) {
            const int32_t at = first[size_t(x)]++;  // first[x] moves on to x's next entry...
            columns[size_t(at)] = static_cast<int32_t>(c);
            offsets[size_t(at)] = static_cast<int32_t>(k);
        });
        for (size_t x = first.size() - 1; x > 0; --x) first[x] = first[x - 1];  // ...and ends at x + 1's start
        first[0] = 0;
        start = first.data();
        column = columns.data();
        offset = offsets.data();
    }

    /**
     * Whole planes [p0, p1) of a fold, each output element its entries merged
     * in order from the identity (gather's sums), kGatherGroup planes at a
     * time: each entry's indices are read once for the group, and the group's
     * sums are independent chains the processor runs side by side, where one
     * plane's are a chain of dependent adds.
     */
    template <typename T, Reduce Rule, bool Weighted>
    void gatherPlanes(const Geometry &g, const T *columns, const T *weights, int64_t p0, int64_t p1, T *image) const {
        int64_t p = p0;
        for (; p + kGatherGroup <= p1; p += kGatherGroup)
            gather<T, Rule, Weighted, kGatherGroup>(g, columns, weights, p, 0, g.imagePlane, image);
        for (; p < p1; ++p) gather<T, Rule, Weighted, 1>(g, columns, weights, p, 0, g.imagePlane, image);
    }

    /**
     * Elements [from, to) of planes [p, p + G): each output element its
     * entries merged in order from the identity.
     */
    template <typename T, Reduce Rule, bool Weighted, int G>
    void gather(const Geometry &g, const T *columns, const T *weights, int64_t p, int64_t from, int64_t to,
                T *image) const {
        Source<T, Weighted> src[G];
        T *out[G];
        for (int j = 0; j < G; ++j) {
            src[j] = Source<T, Weighted>{columns + g.columnBase(p + j), weights};
            out[j] = image + (p + j) * g.imagePlane;
        }
        const int32_t *s = start, *c = column, *k = offset;
        for (int64_t x = from; x < to; ++x) {
            T acc[G];
            for (int j = 0; j < G; ++j) acc[j] = Merge<Rule>::template init<T>();
            for (int32_t e = s[x]; e < s[x + 1]; ++e) {
                const T w = src[0].weight(k[e]);
                for (int j = 0; j < G; ++j) Merge<Rule>::apply(acc[j], src[j].value(c[e], w));
            }
            for (int j = 0; j < G; ++j) out[j][x] = acc[j];
        }
    }
};

/**
 * Whole planes folded by shifts (float and double sums where the processor has
 * AVX-512 or AVX2), where every kernel offset k's blocks meet the image at one
 * shift: image element x receives, from offset k, column element x + shift[k]
 * of its plane (shift[k] counts from the plane's column base, k's row
 * included) whenever a block of k covers x. That holds at stride 1 in every
 * dimension with as many blocks as image elements in every dimension but the
 * first ("same" padding: a row of blocks continues in the columns where the
 * image's row continues), and the constructor checks it on every row. Each
 * vector of kLanes image elements is then summed in registers from +0.0,
 * offset by offset in increasing order (each element's contributions in
 * PyTorch's order: the same bits), reading kLanes consecutive column elements
 * per offset, masked to the lanes the offset covers, and written once. Without
 * it, small planes are gathered (GatherMap: one index per contribution, one
 * element at a time) and larger ones folded row by row into bands (each
 * offset's rows read and write the band). Bounds and measurements: kMaxOffsets.
 */
template <typename T>
class ShiftedPlanes {
  public:
    /**
     * Whether a sum fold of g's whole planes takes this path where the processor has the vectors: one
     * shift per offset (see the class), from the geometry's sizes alone, at most kMaxOffsets offsets, and a
     * plane's columns within kPlaneBytes.
     */
    static bool takes(const Geometry &g) {
        if (!kTiledSums<T> || g.kernelVolume > kMaxOffsets ||
            g.kernelVolume * g.imagePlane > kPlaneBytes / int64_t(sizeof(T)))
            return false;
        return shiftsCanApply(g);
    }

    /** The shifts and lane masks of g (ok() false where they do not apply). */
    ShiftedPlanes(const Geometry &g, const RowSource &rows) {
#ifdef FOLDND_X86_DISPATCH
        if (!takes(g) || !(Cpu::avx512() || Cpu::avx2())) return;
        lanes_ = (Cpu::avx512() ? 64 : 32) / int(sizeof(T));
        const int64_t K = g.kernelVolume;
        steps_ = ceilDiv(g.imagePlane, lanes_);
        Scratch &scratch = Scratch::local();
        scratch.shifts.assign(size_t(K), 0);
        scratch.shiftMasks.assign(size_t(steps_ * K), 0);
        int64_t *shift = scratch.shifts.data();
        uint16_t *masks = scratch.shiftMasks.data();  // [step][offset]: a step's K masks together
        if (!offsetShifts(g, rows, shift, [&](int64_t k, int64_t x0, int64_t, int64_t n) {
                for (int64_t x = x0; x < x0 + n; ++x) masks[(x / lanes_) * K + k] |= uint16_t(1u << (x % lanes_));
            }))
            return;
        shift_ = shift;
        masks_ = masks;
#else
        (void)g;
        (void)rows;
#endif
    }

    bool ok() const { return masks_ != nullptr; }

    /** Whole planes [p0, p1) of a sum fold (weights: K values, or null). */
    template <bool Weighted>
    void planes(const Geometry &g, const T *columns, const T *weights, int64_t p0, int64_t p1, T *image) const {
#ifdef FOLDND_X86_DISPATCH
        if constexpr (kTiledSums<T>) {
            if (lanes_ == 64 / int(sizeof(T)))
                return Avx512Pairs<T>::template run<&sums<Avx512Pairs<T>, Weighted>, const Geometry *,
                                                    const ShiftedPlanes *, const T *, const T *, int64_t, int64_t, T *>(
                    &g, this, columns, weights, p0, p1, image);
            return Avx2Pairs<T>::template run<&sums<Avx2Pairs<T>, Weighted>, const Geometry *, const ShiftedPlanes *,
                                              const T *, const T *, int64_t, int64_t, T *>(&g, this, columns, weights,
                                                                                           p0, p1, image);
        }
#endif
        (void)g;
        (void)columns;
        (void)weights;
        (void)p0;
        (void)p1;
        (void)image;
    }

  private:
    /**
     * The bounds of takes(): an image vector reads one column stream per offset, and a plane's streams
     * stay within L2. Measured (C++ harness, float, 2 threads, best of 20, alternated with the row paths,
     * AMD EPYC with AVX-512): 3x3 at padding 1 on 8 x 64 planes of 56^2 1.73-1.78 ms against 2.12-2.16,
     * on 64 x 512 of 7x7 (gathered before) 1.64-1.69 against 6.3-6.4, dilation 2 at padding 2 on 56^2
     * 2.41-2.44 against 3.73-3.76, 1-d k = 5 on 8 x 64 of 4096 0.96-1.14 against 1.29-2.09; but 5x5 on
     * 28^2 (25 offsets) 1.65-2.11 against 1.55-1.77, and 3x3x3 on 16 planes of 32^3 (27 offsets, 3.4 MiB
     * of columns a plane) 3.7-4.3 against 2.9-3.7.
     */
    static constexpr int64_t kMaxOffsets = 16, kPlaneBytes = int64_t(256) << 10;

    int lanes_ = 0;
    int64_t steps_ = 0;
    const int64_t *shift_ = nullptr;
    const uint16_t *masks_ = nullptr;

#ifdef FOLDND_X86_DISPATCH
    /** planes() on V's vectors (reached through V::run only). */
    template <class V, bool Weighted>
    __attribute__((always_inline)) static inline void sums(const Geometry *geometry, const ShiftedPlanes *self,
                                                           const T *columns, const T *weights, int64_t p0, int64_t p1,
                                                           T *image) {
        constexpr int kLanes = V::kLanes;
        constexpr uint16_t kAll = uint16_t((1u << kLanes) - 1);
        const Geometry &g = *geometry;
        const int64_t K = g.kernelVolume, P = g.imagePlane, steps = self->steps_;
        const int64_t *const shift = self->shift_;
        const uint16_t *const masks = self->masks_;
        const uint16_t tail = uint16_t((1u << (P - (steps - 1) * kLanes)) - 1);  // the plane's last lanes
        for (int64_t p = p0; p < p1; ++p) {
            const T *c = columns + g.columnBase(p);
            T *o = image + p * P;
            for (int64_t s = 0; s < steps; ++s) {
                typename V::Vec sum;
                V::zero(sum);
                const uint16_t *m = masks + s * K;
                for (int64_t k = 0; k < K; ++k) {
                    const T w = Weighted ? weights[k] : T(1);
                    // AVX-512's masked loads and adds cost what plain ones do; AVX2's take a blend more.
                    if (kLanes * sizeof(T) == 64 || m[k] != kAll)
                        V::add(sum, m[k], c + shift[k] + s * kLanes, w, Weighted);
                    else
                        V::add(sum, c + shift[k] + s * kLanes, w, Weighted);
                }
                V::put(o + s * kLanes, sum, s + 1 < steps ? kAll : tail);
            }
        }
    }
#endif
};

/**
 * The most rows (kernel offsets x rows per offset) a fold plans whatever the
 * planes it folds: 16 Ki rows, 512 KiB of plan, about a core's L2.
 */
constexpr int64_t kPlanRows = int64_t(1) << 14;

/** The fewest planes per thread for which a fold part plans more rows than kPlanRows. */
constexpr int64_t kPlanPlanes = 4;

/**
 * Whether a fold part of this many planes computes its rows ahead (RowSource's
 * plan, by the calling thread alone, before the team starts) rather than
 * generating them as it visits them. The plan pays once the rows are reused
 * across planes; a large one read back from beyond L2 costs more than
 * generating the rows. Whole calls, 2 threads (C++ harness, best of 15, no
 * plan / plan): 16x16 blocks at stride 1 on one 256^2 plane (62 Ki rows) 5.4 /
 * 6.2 ms, 32x32/16 on 1024^2 RGB (64 Ki) 8.2 / 8.9 ms, 16x16/8 on 1024^2 (32 Ki)
 * 1.8 / 1.9 ms; 3x3x3 on 16 planes of 32^3 (28 Ki rows) 4.9 / 4.6 ms; the stem
 * (24 planes, 5.5 Ki rows) 7.9 / 6.7 ms, 3x3/2 on 2048 planes of 56^2 10.4 /
 * 8.6 ms, 9x9/4 on 512^2 RGB (10 Ki rows) 1.24 / 1.12 ms. A heap-array call
 * runs as parts (NativeEngine.inParts), each planning anew: 32x32/16 in 16
 * parts took 40-42 ms with plans against 17-22 without.
 */
template <typename T>
inline bool plansRows(const Geometry &g, ItemRange part, int threads) {
    const int64_t planes = ceilDiv(part.end - part.first, bandsPerPlane<T>(g, threads));
    return g.kernelVolume * g.rowsPerKernelOffset() <= kPlanRows || planes >= kPlanPlanes * std::max(threads, 1);
}

/**
 * Folds the items of part with one merge rule: each (plane, band) item folds
 * its band (a thread's consecutive bands of one plane as one band where
 * HopBand::joinsBands), then, when map is given (MEAN, MAX, MIN), finishes it.
 */
template <typename T, Reduce Rule, bool Weighted>
inline void foldPart(const Geometry &g, const OffsetTables &t, const RowSource &rows, const GatherMap *gathers,
                     const ShiftedPlanes<T> *shifted, const T *columns, const T *weights, const T *map, bool divide,
                     T *image, int threads, ItemRange part) {
    const int64_t K = g.kernelVolume, L = g.blocks, P = g.imagePlane;
    const int64_t bands = bandsPerPlane<T>(g, threads), extent = g.image[0];
    const int64_t slice = g.imageStride[0];
    const auto foldBandOf = bandFolder<T, Rule, Source<T, Weighted>>(g);
    const bool joinsBands = gathers == nullptr && HopBand<T, Rule, Source<T, Weighted>>::joinsBands(g);
    parallelFor(part.end - part.first, threads, (K * L + P) / bands, [&](int64_t begin, int64_t end) {
        if (shifted != nullptr || (gathers != nullptr && bands == 1)) {  // items are whole planes
            if (shifted != nullptr)                                      // (a sum's, bands == 1)
                shifted->template planes<Weighted>(g, columns, weights, part.first + begin, part.first + end, image);
            else
                gathers->gatherPlanes<T, Rule, Weighted>(g, columns, weights, part.first + begin, part.first + end,
                                                         image);
            if (map != nullptr)
                for (int64_t p = part.first + begin; p < part.first + end; ++p)
                    finish(map, divide, 0, P, image + p * P);
            return;
        }
        for (int64_t item = part.first + begin, next; item < part.first + end; item = next) {
            const int64_t p = item / bands, band = item % bands;
            // HopBand::joinsBands: the thread's consecutive bands of plane p as one band
            next = joinsBands ? std::min(part.first + end, (p + 1) * bands) : item + 1;
            const int64_t b0 = extent * band / bands, b1 = extent * ((next - 1) % bands + 1) / bands;
            T *out = image + p * P;
            const Source<T, Weighted> src{columns + g.columnBase(p), weights};
            if (gathers != nullptr)
                gathers->gather<T, Rule, Weighted, 1>(g, columns, weights, p, b0 * slice, b1 * slice, image);
            else
                foldBandOf(g, t, rows, src, b0, b1, out);
            if (map != nullptr) finish(map, divide, b0 * slice, b1 * slice, out);
        }
    });
}

/** The dimension-0 coordinates that the items of part write: one plane's bands,
 * or whole planes. */
template <typename T>
inline void partRows(const Geometry &g, int threads, ItemRange part, int64_t &from, int64_t &to) {
    const int64_t bands = bandsPerPlane<T>(g, threads), extent = g.image[0];
    if (part.first / bands != (part.end - 1) / bands) {
        from = 0;
        to = extent;
        return;
    }
    from = extent * (part.first % bands) / bands;
    to = extent * ((part.end - 1) % bands + 1) / bands;
}

/** fold with a merge rule; weights (K values) may be null; the items of part
 * only. */
template <typename T>
inline void fold(const Geometry &g, const T *columns, T *image, Reduce reduce, const T *weights, int threads,
                 ItemRange part) {
    if (part.first >= part.end) return;
    const OffsetTables t(g);
    const RowSource rows(g, t, plansRows<T>(g, part, threads));
    int64_t from = 0, to = 0;
    partRows<T>(g, threads, part, from, to);
    const std::unique_ptr<Coverage<T>> coverage(reduce == SUM ? nullptr
                                                              : new Coverage<T>(g, t, rows, weights, from, to));
    const T *map = coverage ? coverage->map.get() : nullptr;
    // Whole planes summed by shifts where they may be; small planes gathered otherwise.
    std::optional<ShiftedPlanes<T>> shiftedPlanes;
    if ((reduce == SUM || reduce == MEAN) && bandsPerPlane<T>(g, threads) == 1 && ShiftedPlanes<T>::takes(g))
        shiftedPlanes.emplace(g, rows);
    const ShiftedPlanes<T> *shifted = shiftedPlanes && shiftedPlanes->ok() ? &*shiftedPlanes : nullptr;
    std::optional<GatherMap> gatherMap;
    if (usesFoldGather(g) && shifted == nullptr) gatherMap.emplace(g, rows);
    const GatherMap *gathers = gatherMap ? &*gatherMap : nullptr;
    const bool w = weights != nullptr, mean = reduce == MEAN;
    switch (reduce) {
        case SUM:
        case MEAN:
            if (w)
                foldPart<T, SUM, true>(g, t, rows, gathers, shifted, columns, weights, map, mean, image, threads, part);
            else
                foldPart<T, SUM, false>(g, t, rows, gathers, shifted, columns, weights, map, mean, image, threads,
                                        part);
            break;
        case MAX:
            if (w)
                foldPart<T, MAX, true>(g, t, rows, gathers, shifted, columns, weights, map, false, image, threads,
                                       part);
            else
                foldPart<T, MAX, false>(g, t, rows, gathers, shifted, columns, weights, map, false, image, threads,
                                        part);
            break;
        case MIN:
            if (w)
                foldPart<T, MIN, true>(g, t, rows, gathers, shifted, columns, weights, map, false, image, threads,
                                       part);
            else
                foldPart<T, MIN, false>(g, t, rows, gathers, shifted, columns, weights, map, false, image, threads,
                                        part);
            break;
    }
}

/** A whole fold. */
template <typename T>
inline void fold(const Geometry &g, const T *columns, T *image, Reduce reduce, const T *weights, int threads) {
    fold(g, columns, image, reduce, weights, threads, ItemRange{0, foldItems<T>(g, threads)});
}

}  // namespace foldnd

#endif
