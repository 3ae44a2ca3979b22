// foldnd/conv_tiled.hpp: convolution as unfold + GEMM (and GEMM + fold) cut
// into tiles, the way oneDNN's GEMM convolution works: every thread of the team
// unfolds a tile of columns that fits its cache and multiplies it at once on
// a single-threaded GEMM, so both phases use every core, nothing
// oversubscribes, and the scratch is one tile per thread instead of the whole
// (C_in K, N L) column matrix.
//
// The GEMM is the caller's: a function with cblas_sgemm's (or cblas_dgemm's)
// signature, which foldnd-conv takes from OpenBLAS and runs single-threaded
// for the duration of the call. The core library links no BLAS.
//
// A tile is a run of blocks [b0, b1) of one sample (row-major over the output
// grid; whole rows of the last dimension where one fits): tile column j is
// block b0 + j.
// The three passes, per group (cin = C_in / groups input channels, cout =
// C_out / groups output channels, K kernel offsets, L blocks per sample):
//   forward         unit (n, tile):      cols = unfold(x[n], tile)            (C_in K, cols)
//                                        y[n, group, tile] = W_g cols_g  (+ bias)
//   backwardInput   unit (n, channels):  for each tile, in order:
//                                        D = W_g[:, channels]^T gy[n, group, tile]
//                                        gx[n, channels] += fold(D, tile)
//   backwardWeight  unit (group, rows):  for each sample and tile, in order:
//                                        gw_g[:, rows] += gy[n, group, tile] cols[rows]^T
// Two more forms where those GEMMs would be thin:
//   forward and backwardInput of layers with few blocks per sample (256
//   channels at 14x14): units are groups of whole samples, their columns side
//   by side in one GEMM (groupForward, groupBackwardInput);
//   backwardWeight of layers with small weights (the stem's 64 x 147): units
//   are chunks of (sample, tile) pairs, each into its own partial gradient,
//   the partials added in chunk order (chunkedBackwardWeight).
// A 1x1 kernel at stride 1 without padding has x for its columns: the GEMMs
// read x and write gx in place (plainProduct).
// Each unit writes its own part of the output, and how the work is cut into
// units and tiles depends on the problem only, never on the thread count: every
// output element is computed by the same calls in the same order on any team,
// so results are the same bit for bit on any thread count.
#ifndef FOLDND_CONV_TILED_HPP
#define FOLDND_CONV_TILED_HPP

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

#include "conv_direct.hpp"
#include "geometry.hpp"
#include "kernels.hpp"
#include "products.hpp"

namespace foldnd {

/**
 * cblas_sgemm's (T = float) or cblas_dgemm's signature, with the CBLAS
 * enumerations as their int values and blasint as int (OpenBLAS's LP64 build).
 */
template <typename T>
using GemmFunction = void (*)(int order, int transA, int transB, int m, int n, int k, T alpha, const T *a, int lda,
                              const T *b, int ldb, T beta, T *c, int ldc);

/** CBLAS's CblasRowMajor, CblasNoTrans and CblasTrans. */
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

/**
 * The bytes of one tile of columns: about a core's L2 (512 KiB here) and
 * twice that, so that the GEMM reads its B operand from cache while its
 * dimensions stay long enough for the micro-kernels.
 */
constexpr int64_t kConvTileBytes = int64_t(1) << 20;

/**
 * The narrowest tile a per-thread pass takes: a GEMM over fewer columns runs
 * well below its speed (OpenBLAS sgemm, one thread, 512 x 4608 weights: 42
 * GFLOPS on 49 columns, 59 on 392; transposed, 32 against 71).
 */
constexpr int64_t kMinTileBlocks = 256;

/**
 * The most bytes of columns in one tile of the sample-group form (layers whose
 * per-sample tiles would be narrower than kMinTileBlocks: few blocks per sample
 * and deep columns, as 512 channels at 7x7), per thread.
 */
constexpr int64_t kGroupTileBytes = int64_t(4) << 20;

/**
 * The most chunks of the chunked backwardWeight, and the most bytes their
 * partial gradients may hold together (beyond, the weight's columns are cut
 * instead).
 */
constexpr int64_t kWeightChunks = 16, kPartialBytes = int64_t(4) << 20;

/**
 * The narrowest block of the weight's columns backwardWeight cuts: below, it
 * takes the chunked form where the partials fit (ResNet's stem, 19 columns per
 * block: 0.47x PyTorch's time cut by columns, 0.77x by chunks; the 64-channel
 * 3x3 layer, 72 per block: 1.28x by columns, 0.95x by chunks; JMH runs minutes
 * apart on a noisy machine).
 */
constexpr int64_t kMinWeightColumns = 64;

/**
 * The most output channels per group for which forward computes each tile's
 * outputs transposed, (blocks, C_out) = columns^T w^T, and copies them into y:
 * OpenBLAS runs that product faster when C_out is small. One thread, tiles of
 * 1024-2048 blocks: 32 channels from 432 columns took 8.9-13.6 ms, the copy
 * included, against 12.9-22.1; 64 from 320 10.0-10.5 against 11.5-11.7, but
 * the whole 1-d pass of that shape (64 -> 64, k = 5) was no faster (13.1-17.7
 * ms against 12.4-15.3, three alternated runs); the 3-d pass (16 -> 32, 3^3 on
 * 8 x 32^3) took 98.7-99.8 ms against 105-121 (C++ harness, 2 threads, best of
 * 8; OpenBLAS 0.3.31, Intel Xeon). Only on the baseline: foldnd's own
 * kernels (products.hpp) read the columns in place, and took that pass from
 * 99-142 ms to 63-65 (C++ harness, 2 threads, best of 10, four alternated
 * pairs of runs; 64 -> 64, 3x3 on 8 x 56^2: 16.3-21.2 -> 11.4-12.4).
 */
constexpr int64_t kTransposedForwardChannels = 32;

/** The largest weights backwardInput copies transposed (bytes): the copy counts as scratch. */
constexpr int64_t kTransposedWeightBytes = int64_t(4) << 20;

/**
 * The tiling in use: the constants above, except where the C++ tests change
 * them to cut small layers into many tiles and to reach both forms (the cut
 * must not change a result beyond the GEMM's rounding, and never with the
 * thread count).
 */
struct ConvTiling {
    int64_t tileBytes = kConvTileBytes, minTileBlocks = kMinTileBlocks, groupTileBytes = kGroupTileBytes,
            partialBytes = kPartialBytes, transposedWeightBytes = kTransposedWeightBytes;

    static ConvTiling &current() {
        static ConvTiling tiling;
        return tiling;
    }
};

/**
 * The fewest units a pass is cut into where the problem allows: enough to
 * balance a team of a few threads whatever the batch (backwardInput splits a
 * sample's channels, backwardWeight the weight's columns, to get there).
 */
constexpr int64_t kConvMinUnits = 8;

/** The most native scratch any tiled pass has held at once since the last reset (bytes). */
inline std::atomic<int64_t> &convScratchPeak() {
    static std::atomic<int64_t> peak{0};
    return peak;
}

/** Records a pass's scratch in convScratchPeak. */
inline void noteConvScratch(int64_t bytes) {
    std::atomic<int64_t> &peak = convScratchPeak();
    int64_t seen = peak.load();
    while (bytes > seen && !peak.compare_exchange_weak(seen, bytes)) {
    }
}

/**
 * Blocks per tile when a tile has `rows` rows of columns: tileBytes of
 * them, at least one, and whole rows of the last dimension where one fits (a
 * 1-d layer's single row is cut, so that no tile outgrows the cache).
 */
template <typename T>
inline int64_t convTileBlocks(const Geometry &g, int64_t rows) {
    const int64_t width = g.lastGrid();
    int64_t blocks =
        std::max<int64_t>(1, ConvTiling::current().tileBytes / std::max<int64_t>(1, rows * int64_t(sizeof(T))));
    if (blocks >= width) blocks -= blocks % width;
    return std::min(blocks, g.blocks);
}

/**
 * Visits the rows of kernel offset k that blocks [b0, b1) of a sample meet:
 * f(at, lo, hi, image) for each row with blocks there, where blocks l in [lo,
 * hi) of the row are tile columns at + l and read image element image + l s
 * (of the plane). Rows come in order.
 */
template <class F>
inline void forTileRows(const Geometry &g, const RowSource &rows, int64_t k, int64_t b0, int64_t b1, F &&f) {
    const int64_t width = g.lastGrid();
    rows.forRows(k, b0 / width, (b1 - 1) / width + 1, [&](int64_t q, const Row &row) {
        const int64_t at = q * width - b0;  // the tile column of the row's block 0 (negative when cut)
        const int64_t lo = std::max(row.lo, -at), hi = std::min(row.hi, b1 - q * width);
        if (lo < hi) f(at, lo, hi, row.image);
    });
}

/**
 * Rows [r0, r1) of the columns of sample x (rows (c, k), c = r / K) for blocks
 * [b0, b1), into dst (row r at dst + (r - r0) ld); padding is 0.
 */
template <typename T>
inline void unfoldTile(const Geometry &g, const RowSource &rows, const T *x, int64_t r0, int64_t r1, int64_t b0,
                       int64_t b1, T *dst, int64_t ld) {
    const int64_t K = g.kernelVolume, P = g.imagePlane, s = g.stride[g.dims - 1], width = g.lastGrid();
    if (s == 1 && b0 % width == 0 && b1 % width == 0) {
        // Whole rows at stride 1: as unfold's, rows that continue one another in the image (a "same"
        // convolution's) joined into one copy. Short rows cost their setup more than their copy: the 3-d
        // layer's (32 blocks) took a third of its backwardWeight pass one memcpy per row.
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t k = r % K;  // row q of offset k is at column k * kernelStride + q * width of a plane
            unfoldJoinedRows(g, rows, k, b0 / width, b1 / width, width, x + (r / K) * P,
                             dst + (r - r0) * ld - (k * g.kernelStride + b0));
        }
        return;
    }
    for (int64_t r = r0; r < r1; ++r) {
        T *__restrict out = dst + (r - r0) * ld;
        const T *xp = x + (r / K) * P;
        int64_t next = 0;  // out[0, next) is written; rows come in order, so each gap is zeroed as it appears
        forTileRows(g, rows, r % K, b0, b1, [&](int64_t at, int64_t lo, int64_t hi, int64_t image) {
            std::fill(out + next, out + (at + lo), T(0));
            const T *__restrict in = xp + image;
            if (s == 1) {
                std::memcpy(out + (at + lo), in + lo, size_t(hi - lo) * sizeof(T));
            } else if (s == 2) {
                // The stride a constant, the compiler loads pairs and keeps every other element by shuffles:
                // the scalar copy took 15% of the 64 -> 128 layer's backwardWeight pass (rows of 28 blocks).
                for (int64_t l = lo; l < hi; ++l) out[at + l] = in[2 * l];
            } else {
                for (int64_t l = lo; l < hi; ++l) out[at + l] = in[l * s];
            }
            next = at + hi;
        });
        std::fill(out + next, out + (b1 - b0), T(0));
    }
}

/**
 * The transpose of unfoldTile for channels [0, channels) of D (rows (c, k) at
 * D + (c K + k) ld, blocks [b0, b1)): each value is added to the element of
 * gx (the first channel's plane) it came from; padding's are dropped.
 */
template <typename T>
inline void foldTile(const Geometry &g, const RowSource &rows, const T *D, int64_t ld, int64_t channels, int64_t b0,
                     int64_t b1, T *gx) {
    const int64_t K = g.kernelVolume, P = g.imagePlane, s = g.stride[g.dims - 1];
    for (int64_t c = 0; c < channels; ++c) {
        T *xp = gx + c * P;
        for (int64_t k = 0; k < K; ++k) {
            const T *row = D + (c * K + k) * ld;
            forTileRows(g, rows, k, b0, b1, [&](int64_t at, int64_t lo, int64_t hi, int64_t image) {
                const T *__restrict in = row + at;  // in[l] for l in [lo, hi): at + l >= 0
                T *__restrict out = xp + image;     // block l read out[l * s]
                if (s == 1) {
                    for (int64_t l = lo; l < hi; ++l) out[l] += in[l];
                } else {
                    for (int64_t l = lo; l < hi; ++l) out[l * s] += in[l];
                }
            });
        }
    }
}

/** One block of scratch per thread of the team, allocated before any output is written. */
template <typename T>
struct TeamScratch {
    std::unique_ptr<T[]> memory;
    int64_t perThread, bytes = 0;

    TeamScratch(int threads, int64_t units, int64_t perThread_) : perThread(std::max<int64_t>(1, perThread_)) {
        const int64_t team = std::max<int64_t>(1, std::min<int64_t>(threads, units));
        memory.reset(new T[static_cast<size_t>(team * perThread)]);
        bytes = team * perThread * int64_t(sizeof(T));
        noteConvScratch(bytes);
    }

    T *local() const { return memory.get() + threadIndex() * perThread; }

    /** The bytes allocated (as noted in convScratchPeak). */
    int64_t bytesInUse() const { return bytes; }
};

/**
 * Which part of a pass one call runs. A pass on the JVM's heap arrays runs in
 * parts, each one call in its own short JNI critical region (the collector
 * waits while one is open): part `part` of `parts`, called in order. What the
 * parts share (backwardInput's transposed weights, the chunked
 * backwardWeight's partial gradients) lives in `state`, caller memory of
 * tiledStateLength elements, which part 0 fills; a whole pass (one part)
 * without state allocates its own. Every unit runs in exactly one part and
 * computes there what it computes in a whole pass, in the same order, so the
 * parts' results are the whole pass's bit for bit.
 */
template <typename T>
struct ConvPart {
    int64_t part = 0, parts = 1;
    T *state = nullptr;

    bool first() const { return part == 0; }
    bool last() const { return part == parts - 1; }

    /** This part's share of n items, its boundaries multiples of `multiple` (partShare). */
    ItemRange share(int64_t n, int64_t multiple) const { return partShare(n, part, parts, multiple); }
};

/**
 * Whether a layer's columns are x itself: a 1x1 kernel at stride 1 without
 * padding reads image element l for block l, so each sample's columns (C_in,
 * L) are its image (C_in, P) and the GEMMs read x in place, with no unfold or
 * fold at all.
 */
inline bool plainProduct(const Geometry &g) {
    if (g.kernelVolume != 1) return false;
    for (int i = 0; i < g.dims; ++i)
        if (g.stride[i] != 1 || g.padding[i] != 0 || g.paddingEnd[i] != 0) return false;
    return true;
}

/**
 * Whether a pass whose tiles have `rows` rows of columns takes the
 * sample-group form: its per-sample tiles would be narrower than
 * minTileBlocks, and a whole sample's columns fit in groupTileBytes.
 */
template <typename T>
inline bool groupTiles(const Geometry &g, int64_t rows) {
    const ConvTiling &t = ConvTiling::current();
    return g.batch > 1 && convTileBlocks<T>(g, rows) < t.minTileBlocks &&
           rows <= t.groupTileBytes / int64_t(sizeof(T)) / g.blocks;
}

/**
 * Samples per tile of the sample-group form when a tile has `rows` rows: as
 * many whole samples as groupTileBytes of columns hold, at least one, and at
 * most half the batch (two units at least), the tiles equal but for the last.
 */
template <typename T>
inline int64_t samplesPerTile(const Geometry &g, int64_t rows) {
    const int64_t bytes = std::max<int64_t>(1, rows * g.blocks * int64_t(sizeof(T)));
    const int64_t most =
        std::max<int64_t>(1, std::min(ConvTiling::current().groupTileBytes / bytes, ceilDiv(g.batch, 2)));
    return ceilDiv(g.batch, ceilDiv(g.batch, most));
}

/** Channel blocks per group of backwardInput: enough units for kConvMinUnits where the channels allow. */
inline int64_t convChannelBlocks(const ConvLayer &c) {
    const int64_t perGroup = ceilDiv(kConvMinUnits, std::max<int64_t>(1, c.g.batch * c.groups));
    return std::max<int64_t>(1, std::min(c.inPerGroup(), perGroup));
}

/** Input channels per block of backwardInput (convChannelBlocks), the last block fewer. */
inline int64_t convChannelSpan(const ConvLayer &c) { return ceilDiv(c.inPerGroup(), convChannelBlocks(c)); }

/**
 * backwardInput's left operand, W_g^T: each group's weights transposed into a
 * copy, (C_in / groups x K, C_out / groups), where they take at most
 * transposedWeightBytes, else W read transposed by the GEMM. OpenBLAS packs a
 * transposed operand from strided reads in every call (16% of the 256-channel
 * layer's backwardInput in a profile, against 7% for the copy plus 3% to make
 * it), so the transpose is paid once per pass where it can.
 */
template <typename T>
struct TransposedWeights {
    std::unique_ptr<T[]> own;  // the copy, where the part brings no state
    const T *copy = nullptr, *w;
    int64_t cout, depth;
    /**
     * Where foldnd's own kernels multiply (products.hpp), the copy is W_g^T packed for them: each
     * channel block's rows (span K of them, as backwardInput's units cut them) by packRows.
     */
    ProductWidth width;
    int64_t blockRows;

    /** Whether the layer's weights are copied transposed: the state a pass in parts keeps (weightLength). */
    static bool copied(const ConvLayer &c) {
        return c.weightLength() <= ConvTiling::current().transposedWeightBytes / int64_t(sizeof(T));
    }

    /**
     * The copy in part's state (made by part 0 only) or in memory of its own; packed for the own kernels
     * where `ownKernels` allows them (the per-sample form: the sample-group form of the 256-channel 3x3 layer
     * took 11.9-12.9 ms on them against 8.0-11.3 on OpenBLAS).
     */
    TransposedWeights(const ConvLayer &c, const T *w_, const ConvPart<T> &part, int threads, bool ownKernels)
        : w(w_),
          cout(c.outPerGroup()),
          depth(c.inPerGroup() * c.g.kernelVolume),
          width(copied(c) && ownKernels ? productWidth<T>() : ProductWidth::NONE),
          blockRows(convChannelSpan(c) * c.g.kernelVolume) {
        if (!copied(c)) return;
        T *to = part.state;
        if (to == nullptr) {
            own.reset(new T[static_cast<size_t>(c.weightLength())]);
            to = own.get();
        }
        copy = to;
        if (part.state != nullptr && !part.first()) return;
        if constexpr (std::is_same<T, float>::value) {
            if (width != ProductWidth::NONE) {
                const int64_t blocks = ceilDiv(depth, blockRows);
                parallelFor(c.groups * blocks, threads, blockRows * cout, [&](int64_t begin, int64_t end) {
                    for (int64_t item = begin; item < end; ++item) {
                        const int64_t grp = item / blocks, r0 = item % blocks * blockRows;
                        const int64_t rows = std::min(depth, r0 + blockRows) - r0;  // W_g^T[r][o] = W_g[o][r]
                        packRows(width, w + grp * cout * depth + r0, 1, depth, rows, cout,
                                 to + (grp * depth + r0) * cout);
                    }
                });
                return;
            }
        }
        parallelFor(c.groups * depth, threads, cout, [&](int64_t begin, int64_t end) {
            for (int64_t row = begin; row < end; ++row) {
                const int64_t grp = row / depth, r = row % depth;
                const T *in = w + grp * cout * depth + r;
                T *out = to + row * cout;
                for (int64_t o = 0; o < cout; ++o) out[o] = in[o * depth];
            }
        });
    }

    int64_t bytes() const { return copy ? cout * depth * int64_t(sizeof(T)) : 0; }
    int trans() const { return copy ? kNoTrans : kTrans; }
    int ld() const { return int(copy ? cout : depth); }
    /** W_g^T from its row r on. */
    const T *rows(int64_t grp, int64_t r) const {
        return copy ? copy + (grp * depth + r) * cout : w + grp * cout * depth + r;
    }

    /**
     * D (rows x m, ld m) = W_g^T's rows [r, r + rows) times G (cout x m, ld ldg); on the own kernels, r and
     * r + rows are channel blocks' bounds.
     */
    template <class Gemm>
    void multiply(Gemm gemm, int64_t grp, int64_t r, int64_t rowCount, int64_t m, const T *G, int64_t ldg, T *D,
                  int64_t ldd) const {
        if constexpr (std::is_same<T, float>::value) {
            if (width != ProductWidth::NONE) {
                for (int64_t r0 = r; r0 < r + rowCount; r0 += blockRows) {
                    const int64_t rows = std::min(r + rowCount, r0 + blockRows) - r0;
                    multiplyPacked(width, copy + (grp * depth + r0) * cout, rows, cout, G, ldg, m, D + (r0 - r) * ldd,
                                   ldd);
                }
                return;
            }
        }
        gemm(kRowMajor, trans(), kNoTrans, int(rowCount), int(m), int(cout), T(1), rows(grp, r), ld(), G, int(ldg),
             T(0), D, int(ldd));
    }
};

/**
 * forward for layers whose per-sample tiles would be narrow (few blocks per
 * sample, deep columns): a unit is a group of whole samples, their columns
 * side by side in one tile and multiplied at once into a (C_out, m) product,
 * whose parts then go to y with the bias.
 */
template <typename T>
inline void groupForward(const ConvLayer &c, const RowSource &rows, GemmFunction<T> gemm, const T *x, const T *w,
                         const T *bias, T *y, const ConvPart<T> &part, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, K = g.kernelVolume, cin = c.inPerGroup(), cout = c.outPerGroup();
    const int64_t rowsAll = g.channels * K, depth = cin * K, spt = samplesPerTile<T>(g, rowsAll), width = spt * L;
    const ItemRange units = part.share(ceilDiv(g.batch, spt), threads);
    const TeamScratch<T> scratch(threads, units.end - units.first, (rowsAll + c.outChannels) * width);
    parallelFor(units.end - units.first, threads, rowsAll * width * cout, [&](int64_t begin, int64_t end) {
        T *cols = scratch.local(), *product = cols + rowsAll * width;
        for (int64_t unit = units.first + begin; unit < units.first + end; ++unit) {
            const int64_t n0 = unit * spt, n1 = std::min(g.batch, n0 + spt), m = (n1 - n0) * L;
            for (int64_t n = n0; n < n1; ++n)
                unfoldTile(g, rows, x + n * g.channels * g.imagePlane, 0, rowsAll, 0, L, cols + (n - n0) * L, m);
            for (int64_t grp = 0; grp < c.groups; ++grp)
                gemm(kRowMajor, kNoTrans, kNoTrans, int(cout), int(m), int(depth), T(1), w + grp * cout * depth,
                     int(depth), cols + grp * depth * m, int(m), T(0), product + grp * cout * m, int(m));
            for (int64_t n = n0; n < n1; ++n) {
                for (int64_t o = 0; o < c.outChannels; ++o) {
                    const T *in = product + o * m + (n - n0) * L;
                    T *out = y + (n * c.outChannels + o) * L;
                    if (bias == nullptr) {
                        std::memcpy(out, in, size_t(L) * sizeof(T));
                    } else {
                        const T b = bias[o];
                        for (int64_t l = 0; l < L; ++l) out[l] = in[l] + b;
                    }
                }
            }
        }
    });
}

/**
 * backwardInput for layers whose per-sample tiles would be narrow: a unit is
 * a group of whole samples (so that it alone writes their planes of gx): gy's
 * parts are gathered side by side into a (C_out, m) tile, multiplied at once
 * into the group's columns, and folded sample by sample.
 */
template <typename T>
inline void groupBackwardInput(const ConvLayer &c, const RowSource &rows, GemmFunction<T> gemm, const T *gy, const T *w,
                               T *gx, const ConvPart<T> &part, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, K = g.kernelVolume, P = g.imagePlane, cin = c.inPerGroup(), cout = c.outPerGroup();
    const int64_t rowsAll = g.channels * K, depth = cin * K, spt = samplesPerTile<T>(g, rowsAll), width = spt * L;
    const ItemRange units = part.share(ceilDiv(g.batch, spt), threads);
    const TeamScratch<T> scratch(threads, units.end - units.first, (rowsAll + c.outChannels) * width);
    const TransposedWeights<T> wt(c, w, part, threads, false);
    noteConvScratch(scratch.bytesInUse() + wt.bytes() * c.groups);
    parallelFor(units.end - units.first, threads, rowsAll * width * cout, [&](int64_t begin, int64_t end) {
        T *D = scratch.local(), *grads = D + rowsAll * width;
        for (int64_t unit = units.first + begin; unit < units.first + end; ++unit) {
            const int64_t n0 = unit * spt, n1 = std::min(g.batch, n0 + spt), m = (n1 - n0) * L;
            for (int64_t n = n0; n < n1; ++n)
                for (int64_t o = 0; o < c.outChannels; ++o)
                    std::memcpy(grads + o * m + (n - n0) * L, gy + (n * c.outChannels + o) * L, size_t(L) * sizeof(T));
            for (int64_t grp = 0; grp < c.groups; ++grp)
                wt.multiply(gemm, grp, 0, depth, m, grads + grp * cout * m, m, D + grp * depth * m, m);
            T *xp = gx + n0 * g.channels * P;
            std::fill(xp, xp + (n1 - n0) * g.channels * P, T(0));
            for (int64_t n = n0; n < n1; ++n)
                foldTile(g, rows, D + (n - n0) * L, m, g.channels, 0, L, gx + n * g.channels * P);
        }
    });
}

/**
 * The grid rows (of every kernel offset; rows as RowSource's) that a part of
 * forward visits: its units' tiles where they lie in one sample, else all.
 * A part plans these alone: planning all 27 x 1024 rows of the 3-d layer took
 * 115 us, in each of its parts.
 */
template <typename T>
inline ItemRange forwardRows(const ConvLayer &c, const ConvPart<T> &part, int threads) {
    const Geometry &g = c.g;
    const ItemRange all{0, g.rowsPerKernelOffset()};
    const int64_t rowsAll = g.channels * g.kernelVolume;
    if (part.parts == 1 || plainProduct(g) || groupTiles<T>(g, rowsAll)) return all;
    const int64_t tile = convTileBlocks<T>(g, rowsAll), tiles = ceilDiv(g.blocks, tile), width = g.lastGrid();
    const ItemRange units = part.share(g.batch * tiles, threads);
    if (units.first >= units.end || units.first / tiles != (units.end - 1) / tiles) return all;
    const int64_t b0 = units.first % tiles * tile, b1 = std::min(g.blocks, ((units.end - 1) % tiles + 1) * tile);
    return ItemRange{b0 / width, (b1 - 1) / width + 1};
}

/** y (N, C_out, L) = conv(x, w) + bias (bias: C_out values or null). Units: (sample, tile). */
template <typename T>
inline void tiledForward(const ConvLayer &c, const RowSource &rows, GemmFunction<T> gemm, const T *x, const T *w,
                         const T *bias, T *y, const ConvPart<T> &part, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, K = g.kernelVolume;
    const int64_t cin = c.inPerGroup(), cout = c.outPerGroup(), rowsAll = g.channels * K, depth = cin * K;
    const bool plain = plainProduct(g);
    if (!plain && groupTiles<T>(g, rowsAll)) return groupForward(c, rows, gemm, x, w, bias, y, part, threads);
    const int64_t tile = convTileBlocks<T>(g, rowsAll), tiles = ceilDiv(L, tile);
    const ItemRange units = part.share(g.batch * tiles, threads);
    const ProductWidth width = productWidth<T>();  // asked once: the whole pass on the same kernels
    const bool packs = width != ProductWidth::NONE && TransposedWeights<T>::copied(c);  // see packed below
    const bool transposed = !packs && !plain && cout <= kTransposedForwardChannels;
    const TeamScratch<T> scratch(threads, units.end - units.first,
                                 plain ? 0 : rowsAll * tile + (transposed ? tile * cout : 0));
    // The own kernels' weights, packed once for every thread (packRows): C_out x depth per group, where they
    // take no more scratch than backwardInput's transposed copy may (larger layers stay on the BLAS).
    const std::unique_ptr<T[]> packed(packs ? new T[size_t(c.weightLength())] : nullptr);
    if constexpr (std::is_same<T, float>::value) {
        if (packed != nullptr) {
            for (int64_t grp = 0; grp < c.groups; ++grp)
                packRows(width, w + grp * cout * depth, depth, 1, cout, depth, packed.get() + grp * cout * depth);
            noteConvScratch(scratch.bytesInUse() + c.weightLength() * int64_t(sizeof(T)));
        }
    }
    parallelFor(units.end - units.first, threads, rowsAll * tile * cout, [&](int64_t begin, int64_t end) {
        T *cols = scratch.local(), *yt = cols + rowsAll * tile;
        for (int64_t unit = units.first + begin; unit < units.first + end; ++unit) {
            const int64_t n = unit / tiles, b0 = (unit % tiles) * tile, b1 = std::min(L, b0 + tile), m = b1 - b0;
            const T *xn = x + n * g.channels * g.imagePlane;
            if (!plain) unfoldTile(g, rows, xn, 0, rowsAll, b0, b1, cols, m);
            for (int64_t grp = 0; grp < c.groups; ++grp) {
                T *out = y + (n * c.outChannels + grp * cout) * L + b0;
                const T *in = plain ? xn + grp * depth * L + b0 : cols + grp * depth * m;  // (depth, m) from ld
                if constexpr (std::is_same<T, float>::value) {
                    if (packed != nullptr) {  // the columns read in place, no BLAS packing (products.hpp)
                        multiplyPacked(width, packed.get() + grp * cout * depth, cout, depth, in, plain ? L : m, m, out,
                                       L);
                        continue;
                    }
                }
                if (transposed) {  // yt (m, cout) = in^T w^T, then y's rows from its columns
                    gemm(kRowMajor, kTrans, kTrans, int(m), int(cout), int(depth), T(1), in, int(m),
                         w + grp * cout * depth, int(depth), T(0), yt, int(cout));
                    for (int64_t o = 0; o < cout; ++o)
                        for (int64_t j = 0; j < m; ++j) out[o * L + j] = yt[j * cout + o];
                } else {
                    gemm(kRowMajor, kNoTrans, kNoTrans, int(cout), int(m), int(depth), T(1), w + grp * cout * depth,
                         int(depth), in, int(plain ? L : m), T(0), out, int(L));
                }
            }
            if (bias != nullptr) {
                for (int64_t o = 0; o < c.outChannels; ++o) {
                    T *out = y + (n * c.outChannels + o) * L + b0;
                    const T b = bias[o];
                    for (int64_t j = 0; j < m; ++j) out[j] += b;
                }
            }
        }
    });
}

/** gx (N, C_in, *image) from gy (N, C_out, L) and w. Units: (sample, block of a group's input channels). */
template <typename T>
inline void tiledBackwardInput(const ConvLayer &c, const RowSource &rows, GemmFunction<T> gemm, const T *gy, const T *w,
                               T *gx, const ConvPart<T> &part, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, K = g.kernelVolume;
    const int64_t P = g.imagePlane, cin = c.inPerGroup(), cout = c.outPerGroup();
    const bool plain = plainProduct(g);
    if (!plain && groupTiles<T>(g, g.channels * K)) return groupBackwardInput(c, rows, gemm, gy, w, gx, part, threads);
    const int64_t blocks = convChannelBlocks(c), span = convChannelSpan(c);
    const int64_t tile = convTileBlocks<T>(g, span * K);
    const ItemRange units = part.share(g.batch * c.groups * blocks, threads);
    const TransposedWeights<T> wt(c, w, part, threads, true);
    // On the own kernels, gy's tile is copied together first (rows m apart): read in place, its rows lie
    // L apart, a power of two in the 1-d and 3-d layers, and the kernels' loads of one panel met in
    // one set of the L1. Packing b in panels inside multiplyPacked instead (128 rows of 3 vectors, in
    // L1) measured slower on forward, which shares the kernel (64 -> 64: 8.1-10.8 ms -> 9.7-12.7; C++
    // harness, alternated), and no faster in the sample-group form.
    const bool gather = wt.width != ProductWidth::NONE && !plain;
    const TeamScratch<T> scratch(threads, units.end - units.first,
                                 (plain ? 0 : span * K * tile) + (gather ? cout * tile : 0));
    noteConvScratch(scratch.bytesInUse() + wt.bytes() * c.groups);
    parallelFor(units.end - units.first, threads, span * K * L * cout, [&](int64_t begin, int64_t end) {
        T *D = scratch.local(), *G = D + span * K * tile;
        for (int64_t unit = units.first + begin; unit < units.first + end; ++unit) {
            const int64_t n = unit / (c.groups * blocks), grp = unit / blocks % c.groups, b = unit % blocks;
            const int64_t c0 = std::min(cin, b * span), c1 = std::min(cin, c0 + span);
            if (c0 >= c1) continue;
            T *xp = gx + (n * g.channels + grp * cin + c0) * P;
            if (plain) {  // gx's planes are the product's rows: written in place, nothing to fold
                for (int64_t b0 = 0; b0 < L; b0 += tile) {
                    const int64_t m = std::min(L, b0 + tile) - b0;
                    wt.multiply(gemm, grp, c0, c1 - c0, m, gy + (n * c.outChannels + grp * cout) * L + b0, L, xp + b0,
                                L);
                }
                continue;
            }
            std::fill(xp, xp + (c1 - c0) * P, T(0));
            const T *yg = gy + (n * c.outChannels + grp * cout) * L;
            for (int64_t b0 = 0; b0 < L; b0 += tile) {
                const int64_t b1 = std::min(L, b0 + tile), m = b1 - b0;
                if (gather) {
                    for (int64_t o = 0; o < cout; ++o) std::memcpy(G + o * m, yg + o * L + b0, size_t(m) * sizeof(T));
                    wt.multiply(gemm, grp, c0 * K, (c1 - c0) * K, m, G, m, D, m);
                } else {
                    wt.multiply(gemm, grp, c0 * K, (c1 - c0) * K, m, yg + b0, L, D, m);
                }
                foldTile(g, rows, D, m, c1 - c0, b0, b1, xp);
            }
        }
    });
}

/** Column blocks per group of backwardWeight: enough units for kConvMinUnits, at least 16 columns each. */
inline int64_t convWeightBlocks(const ConvLayer &c) {
    const int64_t depth = c.inPerGroup() * c.g.kernelVolume;
    const int64_t perGroup = ceilDiv(kConvMinUnits, c.groups);
    return std::max<int64_t>(1, std::min(ceilDiv(depth, 16), perGroup));
}

/** Rows and output channels of the blocks in which the chunked backwardWeight adds its partials. */
constexpr int64_t kReducedRows = 16, kReducedChannels = 64;

/**
 * backwardWeight for layers with small weights (ResNet's stem: 64 x 147; 1-d
 * and 3-d layers): the (sample, tile) units of forward are cut into at most
 * kWeightChunks chunks of consecutive units, set by the problem; each chunk
 * sums its units' products (all of a tile's columns at once: C_out x C_in K /
 * groups, m deep) into its own partial gradient, and the partials are added in
 * chunk order. Cutting the weight's columns instead gives these layers thin
 * GEMMs (kMinWeightColumns). Each partial is the gradient transposed, (C_in K /
 * groups, C_out) per group: columns times gy^T, the tile as the GEMM's first
 * operand. OpenBLAS packs a first operand whose rows run along the products'
 * depth faster than a second one: for 32 output channels, 432 columns and
 * tiles of 512-1024 blocks, one thread took 5.0-7.7 ms where gy times the
 * tile's transpose took 6.6-10.4 (the same bits; OpenBLAS 0.3.31, Intel Xeon).
 * The whole pass (C++ harness, 2 threads, best of 8-10, six alternated pairs of
 * runs): the 3-d layer 16 -> 32, 3^3 on 8 x 32^3, 59-95 ms against 75-143; the
 * 1-d layer 64 -> 64, k = 5 on 8 x 4096, 7.7-12.5 against 10.0-16.0.
 */
template <typename T>
inline void chunkedBackwardWeight(const ConvLayer &c, const RowSource &rows, GemmFunction<T> gemm, const T *x,
                                  const T *gy, T *gw, int64_t chunks, const ConvPart<T> &part, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, K = g.kernelVolume, cin = c.inPerGroup(), cout = c.outPerGroup();
    const int64_t rowsAll = g.channels * K, depth = cin * K, W = c.weightLength();
    const int64_t tile = convTileBlocks<T>(g, rowsAll), tiles = ceilDiv(L, tile), items = g.batch * tiles;
    const bool plain = plainProduct(g);
    const ProductWidth width = productWidth<T>();  // asked once: the whole pass on the same kernels
    const ItemRange mine = part.share(chunks, threads);
    const int64_t transposed =
        width != ProductWidth::NONE ? tile * productRow(cout) : 0;  // gy's tile transposed, for the own products
    const TeamScratch<T> scratch(threads, mine.end - mine.first, (plain ? 0 : rowsAll * tile) + transposed);
    const std::unique_ptr<T[]> own(part.state != nullptr ? nullptr : new T[static_cast<size_t>(chunks * W)]);
    T *const partials = part.state != nullptr ? part.state : own.get();
    noteConvScratch(int64_t(sizeof(T)) *
                    (chunks * W + std::min<int64_t>(std::max(threads, 1), chunks) * scratch.perThread));
    parallelFor(
        mine.end - mine.first, threads, items / chunks * rowsAll * tile * cout, [&](int64_t begin, int64_t end) {
            T *cols = scratch.local(), *bt = cols + (plain ? 0 : rowsAll * tile);
            for (int64_t chunk = mine.first + begin; chunk < mine.first + end; ++chunk) {
                const int64_t i0 = items * chunk / chunks, i1 = items * (chunk + 1) / chunks;
                for (int64_t item = i0; item < i1; ++item) {
                    const int64_t n = item / tiles, b0 = item % tiles * tile, b1 = std::min(L, b0 + tile), m = b1 - b0;
                    const T *xn = x + n * g.channels * g.imagePlane;
                    if (!plain) unfoldTile(g, rows, xn, 0, rowsAll, b0, b1, cols, m);
                    for (int64_t grp = 0; grp < c.groups; ++grp) {
                        const T *in = plain ? xn + grp * depth * L + b0 : cols + grp * depth * m;
                        const T *y = gy + (n * c.outChannels + grp * cout) * L + b0;
                        T *sums = partials + chunk * W + grp * cout * depth;
                        if constexpr (std::is_same<T, float>::value) {
                            if (width != ProductWidth::NONE) {
                                accumulateProducts(width, in, plain ? L : m, depth, y, L, cout, m, sums, cout,
                                                   item == i0, bt);
                                continue;
                            }
                        }
                        gemm(kRowMajor, kNoTrans, kTrans, int(depth), int(cout), int(m), T(1), in, int(plain ? L : m),
                             y, int(L), item == i0 ? T(0) : T(1), sums, int(cout));
                    }
                }
            }
        });
    if (!part.last()) return;  // the partials wait in the state for the last part's chunks
    // gw[grp][o][r] = the sum over chunks, in chunk order, of partials[chunk][grp][r][o], a block of
    // (kReducedRows rows, kReducedChannels channels) at a time: each chunk's block read as rows of contiguous
    // channels into independent sums (one running sum per element, read in gw's order, was a chain of dependent
    // additions per element, a tenth of the batch-1 layer's pass), then written as rows of gw.
    constexpr int64_t RB = kReducedRows, OB = kReducedChannels;
    const int64_t rowBlocks = ceilDiv(depth, RB), channelBlocks = ceilDiv(cout, OB);
    parallelFor(c.groups * rowBlocks * channelBlocks, threads, chunks * RB * OB, [&](int64_t begin, int64_t end) {
        T sum[RB * OB];
        for (int64_t unit = begin; unit < end; ++unit) {
            const int64_t grp = unit / (rowBlocks * channelBlocks), r0 = unit / channelBlocks % rowBlocks * RB,
                          o0 = unit % channelBlocks * OB;
            const int64_t rn = std::min(RB, depth - r0), on = std::min(OB, cout - o0);
            const T *block = partials + grp * cout * depth + r0 * cout + o0;
            for (int64_t i = 0; i < rn; ++i)
                for (int64_t j = 0; j < on; ++j) sum[i * OB + j] = block[i * cout + j];
            for (int64_t chunk = 1; chunk < chunks; ++chunk) {
                const T *p = block + chunk * W;
                for (int64_t i = 0; i < rn; ++i)
                    for (int64_t j = 0; j < on; ++j) sum[i * OB + j] += p[i * cout + j];
            }
            T *out = gw + grp * cout * depth + o0 * depth + r0;
            for (int64_t j = 0; j < on; ++j)
                for (int64_t i = 0; i < rn; ++i) out[j * depth + i] = sum[i * OB + j];
        }
    });
}

/**
 * How many chunks backwardWeight's chunked form cuts the layer into, or 0
 * where it takes the column blocks instead. Chunked: where foldnd's own
 * product kernels run (ownProducts: they read each tile whole, so the column
 * blocks would unfold and transpose gy's tiles once per block), or a block
 * would have fewer than kMinWeightColumns columns; and at least two chunks'
 * partial gradients fit in partialBytes. As many chunks as fit, up to
 * kWeightChunks and the (sample, tile) items, in multiples of 4 above 4 so
 * that teams of 2 and 4 get equal shares. Whole passes, chunked on the own
 * kernels against OpenBLAS's column blocks or chunks (C++ harness, 2 threads,
 * best of 10-40, three alternated pairs in a quiet phase, Intel Xeon; the
 * joined-row unfold of whole-row tiles included): 64 -> 64, 3x3 on 8 x 56^2
 * 11.7-15.0 ms -> 8.6-11.5; 64 -> 128 at stride 2 5.4 -> 4.5; the stem 14.1-14.4
 * -> 11.7-12.0; 3-d 52-68 -> 38-51; 1-d 6.8-6.9 -> 5.8-6.0; batch 1 1.43 ->
 * 1.17-1.24.
 *
 * The count, and so the state a pass in parts keeps (tiledStateLength),
 * depends on the processor and FOLDND_BASELINE through ownProducts. Both are
 * fixed for a process (the flag is read once; no Java binding calls
 * foldnd_force_baseline), so every part of a pass, and the caller that sized
 * the state between them, see the same count; only the C++ tests change the
 * baseline switch and the kernels' cap, between passes.
 */
template <typename T>
inline int64_t weightChunks(const ConvLayer &c) {
    const Geometry &g = c.g;
    const int64_t span = ceilDiv(c.inPerGroup() * g.kernelVolume, convWeightBlocks(c));
    const int64_t items = g.batch * ceilDiv(g.blocks, convTileBlocks<T>(g, g.channels * g.kernelVolume));
    const int64_t fit = ConvTiling::current().partialBytes / int64_t(sizeof(T)) / c.weightLength();
    int64_t chunks = std::min({kWeightChunks, items, fit});
    if (chunks > 4) chunks -= chunks % 4;
    const bool chunked = (span < kMinWeightColumns || ownProducts<T>()) && chunks > 1;
    return chunked ? chunks : 0;
}

/**
 * gw (C_out, C_in / groups, K) from x and gy; gradBias (C_out) too where not
 * null. Units: (group, block of the weight's columns), each summing its
 * samples and tiles in order; a part takes a share of the samples for every
 * unit, and the last part the bias gradient.
 */
template <typename T>
inline void tiledBackwardWeight(const ConvLayer &c, const RowSource &rows, GemmFunction<T> gemm, const T *x,
                                const T *gy, T *gw, T *gradBias, const ConvPart<T> &part, int threads) {
    const Geometry &g = c.g;
    const int64_t L = g.blocks, K = g.kernelVolume;
    const int64_t cin = c.inPerGroup(), cout = c.outPerGroup(), depth = cin * K;
    const int64_t blocks = convWeightBlocks(c), span = ceilDiv(depth, blocks);  // weight columns per block
    if (const int64_t chunks = weightChunks<T>(c); chunks > 0) {
        chunkedBackwardWeight(c, rows, gemm, x, gy, gw, chunks, part, threads);
        if (part.last()) biasGradient(c, gy, gradBias, threads);
        return;
    }
    const int64_t tile = convTileBlocks<T>(g, span);
    const int64_t units = c.groups * blocks;
    const ItemRange samples = part.share(g.batch, 1);
    const bool plain = plainProduct(g);
    const TeamScratch<T> scratch(threads, units, plain ? 0 : span * tile);
    parallelFor(units, threads, (samples.end - samples.first) * span * L * cout, [&](int64_t begin, int64_t end) {
        T *cols = scratch.local();
        for (int64_t unit = begin; unit < end; ++unit) {
            const int64_t grp = unit / blocks, b = unit % blocks;
            const int64_t r0 = std::min(depth, b * span), r1 = std::min(depth, r0 + span);
            if (r0 >= r1) continue;
            T *out = gw + grp * cout * depth + r0;
            for (int64_t n = samples.first; n < samples.end; ++n) {
                const T *xn = x + (n * g.channels + grp * cin) * g.imagePlane;
                const T *yg = gy + (n * c.outChannels + grp * cout) * L;
                for (int64_t b0 = 0; b0 < L; b0 += tile) {
                    const int64_t b1 = std::min(L, b0 + tile), m = b1 - b0;
                    if (!plain) unfoldTile(g, rows, xn, r0, r1, b0, b1, cols, m);
                    const T *in = plain ? xn + r0 * L + b0 : cols;   // rows [r0, r1) of the columns, from ld
                    const T beta = n == 0 && b0 == 0 ? T(0) : T(1);  // the first product sets the sums (in part 0)
                    gemm(kRowMajor, kNoTrans, kTrans, int(cout), int(r1 - r0), int(m), T(1), yg + b0, int(L), in,
                         int(plain ? L : m), beta, out, int(depth));
                }
            }
        }
    });
    if (part.last()) biasGradient(c, gy, gradBias, threads);
}

/**
 * The state (elements) a pass in more than one part keeps between them (see
 * ConvPart): backwardInput's transposed weights, the chunked backwardWeight's
 * partial gradients; 0 where there is none.
 */
template <typename T>
inline int64_t tiledStateLength(const ConvLayer &c, int pass) {
    if (pass == CONV_BACKWARD_INPUT) return TransposedWeights<T>::copied(c) ? c.weightLength() : 0;
    if (pass == CONV_BACKWARD_WEIGHT) return weightChunks<T>(c) * c.weightLength();
    return 0;
}

/**
 * The most parts worth cutting a pass into on `threads` threads: one per
 * round of the team's units (ConvPart::share), or per sample for
 * backwardWeight's column blocks, whose every part runs all of them. Beyond,
 * parts would be empty calls.
 */
template <typename T>
inline int64_t tiledParts(const ConvLayer &c, int pass, int threads) {
    const Geometry &g = c.g;
    const int64_t K = g.kernelVolume, team = std::max(threads, 1);
    auto rounds = [&](int64_t units) { return std::max<int64_t>(1, ceilDiv(units, team)); };
    const bool plain = plainProduct(g);
    if (pass == CONV_FORWARD) {
        const int64_t rowsAll = g.channels * K;
        if (!plain && groupTiles<T>(g, rowsAll)) return rounds(ceilDiv(g.batch, samplesPerTile<T>(g, rowsAll)));
        return rounds(g.batch * ceilDiv(g.blocks, convTileBlocks<T>(g, rowsAll)));
    }
    if (pass == CONV_BACKWARD_INPUT) {
        if (!plain && groupTiles<T>(g, g.channels * K))
            return rounds(ceilDiv(g.batch, samplesPerTile<T>(g, g.channels * K)));
        return rounds(g.batch * c.groups * convChannelBlocks(c));
    }
    const int64_t chunks = weightChunks<T>(c);
    return chunks > 0 ? rounds(chunks) : std::max<int64_t>(1, g.batch);
}

/**
 * Whether every size a tiled pass gives the GEMM fits its int arguments: the
 * products' dimensions and leading dimensions are at most L, C_out and
 * C_in / groups x K.
 */
inline bool tiledFits(const ConvLayer &c) {
    const int64_t limit = std::numeric_limits<int>::max();
    return c.g.blocks <= limit && c.outChannels <= limit && c.inPerGroup() * c.g.kernelVolume <= limit;
}

}  // namespace foldnd

#endif
