// foldnd/api.h: the flat entry points that the JavaCPP binding calls (and the
// C++ tests use). Every call re-validates its arguments and returns a
// foldnd::Status instead of touching memory it was not given or throwing:
// lengths are the element counts available behind each pointer.
#ifndef FOLDND_API_H
#define FOLDND_API_H

#include <algorithm>
#include <cstdint>
#include <new>

#include "block_fold.hpp"
#include "conv_direct.hpp"
#include "conv_tiled.hpp"
#include "geometry.hpp"
#include "half.hpp"
#include "half_fold.hpp"
#include "kernels.hpp"

namespace foldnd {

/** The bound of maxThreads(): kThreadsPerProcessor per processor, and at least
 * kMinThreadLimit. */
constexpr int kThreadsPerProcessor = 4, kMinThreadLimit = 256;

/**
 * The most threads a call may ask for: 4 per processor, and at least 256.
 * libgomp ends the process (exit(), no exception) when it cannot create a
 * thread, so an unbounded count is a way to kill the JVM. The Java side refuses
 * more than 4 per processor (at least 64) first (io.github.foldnd.Threads.MAX);
 * this looser bound is the second line of defence.
 */
inline int maxThreads() {
#ifdef _OPENMP
    return std::max(kMinThreadLimit, kThreadsPerProcessor * omp_get_num_procs());
#else
    return kMinThreadLimit;
#endif
}

namespace detail {

/** True when [a, a + na) and [b, b + nb) share a byte. */
template <typename T>
inline bool overlaps(const T *a, int64_t na, const T *b, int64_t nb) {
    if (a == nullptr || b == nullptr || na <= 0 || nb <= 0) return false;
    const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
    return pa < pb + uintptr_t(nb) * sizeof(T) && pb < pa + uintptr_t(na) * sizeof(T);
}

/**
 * Runs a validated call, turning an allocation failure into a status: no C++
 * exception may cross into the JavaCPP glue, which would raise the Java
 * exception while a heap-array call still holds its critical region (JNI calls
 * there are illegal).
 */
template <class Call>
inline int guarded(Call &&call) noexcept {
    try {
        return call();
    } catch (const std::bad_alloc &) {
        return OUT_OF_MEMORY;
    } catch (...) {  // the kernels throw nothing else; should that change, still
                     // no exception leaves
        return OUT_OF_MEMORY;
    }
}

/** Decodes and checks the thread count; what every entry point checks first. */
inline Status prepare(const int64_t *descriptor, int64_t descriptorLength, int threads, Geometry &g) {
    if (const Status s = decode(descriptor, descriptorLength, g); s != OK) return s;
    return threads < 1 || threads > maxThreads() ? BAD_THREADS : OK;
}

/**
 * The items [first, first + count) of a call with the given number of items,
 * the count clipped at the end (so (0, INT64_MAX) is the whole call); BAD_RANGE
 * when first lies outside.
 */
inline Status range(int64_t first, int64_t count, int64_t items, ItemRange &part) {
    if (first < 0 || count < 0 || first > items) return BAD_RANGE;
    part = ItemRange{first, first + std::min(count, items - first)};
    return OK;
}

template <typename T>
inline int unfoldChecked(const T *image, int64_t imageLength, T *columns, int64_t columnLength,
                         const int64_t *descriptor, int64_t descriptorLength, int64_t first, int64_t count,
                         int threads) noexcept {
    return guarded([&]() -> int {
        Geometry g;
        ItemRange part{};
        if (const Status s = prepare(descriptor, descriptorLength, threads, g); s != OK) return s;
        if (imageLength < g.imageLength || columnLength < g.columnLength) return BAD_LENGTH;
        if (const Status s = range(first, count, UnfoldWork::of<T>(g).items, part); s != OK) return s;
        if (part.first == part.end) return OK;
        if (image == nullptr || columns == nullptr) return NULL_POINTER;
        if (overlaps(image, g.imageLength, static_cast<const T *>(columns), g.columnLength)) return OVERLAP;
        unfold(g, image, columns, threads, part);
        return OK;
    });
}

template <typename T>
inline int foldChecked(const T *columns, int64_t columnLength, T *image, int64_t imageLength, const int64_t *descriptor,
                       int64_t descriptorLength, int reduce, const T *weights, int64_t weightsLength, int64_t first,
                       int64_t count, int threads) noexcept {
    return guarded([&]() -> int {
        Geometry g;
        ItemRange part{};
        if (const Status s = prepare(descriptor, descriptorLength, threads, g); s != OK) return s;
        if (reduce < SUM || reduce > MIN) return BAD_REDUCE;
        if (imageLength < g.imageLength || columnLength < g.columnLength) return BAD_LENGTH;
        if (weights != nullptr && weightsLength != g.kernelVolume) return BAD_LENGTH;
        if (const Status s = range(first, count, foldItems<T>(g, threads), part); s != OK) return s;
        if (part.first == part.end) return OK;
        if (image == nullptr || columns == nullptr) return NULL_POINTER;
        if (overlaps(columns, g.columnLength, static_cast<const T *>(image), g.imageLength) ||
            overlaps(weights, weightsLength, static_cast<const T *>(image), g.imageLength))
            return OVERLAP;
        fold(g, columns, image, static_cast<Reduce>(reduce), weights, threads, part);
        return OK;
    });
}

/**
 * A block-range fold (block_fold.hpp): blocks [firstBlock, firstBlock +
 * blockCount) of the grid, whose columns are planes x K x blockCount
 * elements, merged into image and (weightSum, one plane, nullable except for
 * MEAN) the weight sum; the items [first, first + count) of blockFoldItems.
 */
template <typename T>
inline int foldBlocksChecked(const T *columns, int64_t columnLength, T *image, int64_t imageLength, T *weightSum,
                             int64_t weightSumLength, const int64_t *descriptor, int64_t descriptorLength, int reduce,
                             const T *weights, int64_t weightsLength, int64_t firstBlock, int64_t blockCount,
                             int64_t first, int64_t count, int threads) noexcept {
    return guarded([&]() -> int {
        Geometry g;
        ItemRange part{};
        if (const Status s = prepare(descriptor, descriptorLength, threads, g); s != OK) return s;
        if (reduce < SUM || reduce > MIN) return BAD_REDUCE;
        if (firstBlock < 0 || blockCount < 0 || firstBlock > g.blocks || blockCount > g.blocks - firstBlock)
            return BAD_RANGE;
        // planes * K * blockCount <= planes * K * L = columnLength: no overflow.
        const int64_t rangeColumns = g.planes * g.kernelVolume * blockCount;
        if (imageLength < g.imageLength || columnLength < rangeColumns) return BAD_LENGTH;
        if (weights != nullptr && weightsLength != g.kernelVolume) return BAD_LENGTH;
        if (weightSum != nullptr && weightSumLength < g.imagePlane) return BAD_LENGTH;
        if (reduce == MEAN && weightSum == nullptr) return NULL_POINTER;
        if (const Status s = range(first, count, blockFoldItems<T>(g), part); s != OK) return s;
        if (part.first == part.end || blockCount == 0) return OK;
        if ((g.planes > 0 && (image == nullptr || columns == nullptr))) return NULL_POINTER;
        const T *out = image, *sum = weightSum;
        if (overlaps(columns, rangeColumns, out, g.imageLength) ||
            overlaps(weights, weightsLength, out, g.imageLength) ||
            overlaps(columns, rangeColumns, sum, g.imagePlane) || overlaps(weights, weightsLength, sum, g.imagePlane) ||
            overlaps(out, g.imageLength, sum, g.imagePlane))
            return OVERLAP;
        foldBlocks(g, columns, image, weightSum, static_cast<Reduce>(reduce), weights, firstBlock, blockCount, threads,
                   part);
        return OK;
    });
}

/** The finishing step of a block-range fold (block_fold.hpp, finishBlocks); weightSum is one plane. */
template <typename T>
inline int finishBlocksChecked(T *image, int64_t imageLength, const T *weightSum, int64_t weightSumLength,
                               const int64_t *descriptor, int64_t descriptorLength, int reduce, int threads) noexcept {
    return guarded([&]() -> int {
        Geometry g;
        if (const Status s = prepare(descriptor, descriptorLength, threads, g); s != OK) return s;
        if (reduce < SUM || reduce > MIN) return BAD_REDUCE;
        if (reduce == SUM || g.planes == 0) return OK;
        if (imageLength < g.imageLength || weightSumLength < g.imagePlane) return BAD_LENGTH;
        if (image == nullptr || weightSum == nullptr) return NULL_POINTER;
        if (overlaps(static_cast<const T *>(image), g.imageLength, weightSum, g.imagePlane)) return OVERLAP;
        finishBlocks(g, image, weightSum, static_cast<Reduce>(reduce), threads);
        return OK;
    });
}

/** True when offset lies in [0, length]: the elements from it on are [offset,
 * length) of an array of length elements. */
inline bool within(int64_t offset, int64_t length) { return offset >= 0 && offset <= length; }

/** p advanced by offset elements (null stays null: null + n is undefined). */
template <typename T>
inline T *from(T *p, int64_t offset) {
    return p == nullptr ? p : p + offset;
}

/** unfoldChecked on the elements of two arrays from an offset on (see foldnd_unfold_at). */
template <typename T>
inline int unfoldAt(const T *image, int64_t imageLength, int64_t imageOffset, T *columns, int64_t columnLength,
                    int64_t columnOffset, const int64_t *descriptor, int64_t descriptorLength, int64_t first,
                    int64_t count, int threads) noexcept {
    if (!within(imageOffset, imageLength) || !within(columnOffset, columnLength)) return BAD_LENGTH;
    return unfoldChecked(from(image, imageOffset), imageLength - imageOffset, from(columns, columnOffset),
                         columnLength - columnOffset, descriptor, descriptorLength, first, count, threads);
}

/** foldChecked on the elements of two arrays from an offset on (see foldnd_fold_at). */
template <typename T>
inline int foldAt(const T *columns, int64_t columnLength, int64_t columnOffset, T *image, int64_t imageLength,
                  int64_t imageOffset, const int64_t *descriptor, int64_t descriptorLength, int reduce,
                  const T *weights, int64_t weightsLength, int64_t first, int64_t count, int threads) noexcept {
    if (!within(columnOffset, columnLength) || !within(imageOffset, imageLength)) return BAD_LENGTH;
    return foldChecked(from(columns, columnOffset), columnLength - columnOffset, from(image, imageOffset),
                       imageLength - imageOffset, descriptor, descriptorLength, reduce, weights, weightsLength, first,
                       count, threads);
}

/** foldBlocksChecked on the elements of arrays from offsets on (see foldnd_fold_at). */
template <typename T>
inline int foldBlocksAt(const T *columns, int64_t columnLength, int64_t columnOffset, T *image, int64_t imageLength,
                        int64_t imageOffset, T *weightSum, int64_t weightSumLength, int64_t weightSumOffset,
                        const int64_t *descriptor, int64_t descriptorLength, int reduce, const T *weights,
                        int64_t weightsLength, int64_t firstBlock, int64_t blockCount, int64_t first, int64_t count,
                        int threads) noexcept {
    if (!within(columnOffset, columnLength) || !within(imageOffset, imageLength) ||
        !within(weightSumOffset, weightSumLength))
        return BAD_LENGTH;
    return foldBlocksChecked(from(columns, columnOffset), columnLength - columnOffset, from(image, imageOffset),
                             imageLength - imageOffset, from(weightSum, weightSumOffset),
                             weightSumLength - weightSumOffset, descriptor, descriptorLength, reduce, weights,
                             weightsLength, firstBlock, blockCount, first, count, threads);
}

/** finishBlocksChecked on the elements of arrays from offsets on. */
template <typename T>
inline int finishBlocksAt(T *image, int64_t imageLength, int64_t imageOffset, const T *weightSum,
                          int64_t weightSumLength, int64_t weightSumOffset, const int64_t *descriptor,
                          int64_t descriptorLength, int reduce, int threads) noexcept {
    if (!within(imageOffset, imageLength) || !within(weightSumOffset, weightSumLength)) return BAD_LENGTH;
    return finishBlocksChecked(from(image, imageOffset), imageLength - imageOffset, from(weightSum, weightSumOffset),
                               weightSumLength - weightSumOffset, descriptor, descriptorLength, reduce, threads);
}

/**
 * unfoldAt for any element type: unfold moves bits and writes zeros (all bits
 * clear, +0.0 for the floating types), so every type runs the kernel of an
 * unsigned integer of its width, and float and int32 unfold alike, bit for bit.
 */
inline int unfoldTyped(int type, const void *image, int64_t imageLength, int64_t imageOffset, void *columns,
                       int64_t columnLength, int64_t columnOffset, const int64_t *descriptor, int64_t descriptorLength,
                       int64_t first, int64_t count, int threads) noexcept {
    auto run = [&](auto zero) {
        using T = decltype(zero);
        return unfoldAt(static_cast<const T *>(image), imageLength, imageOffset, static_cast<T *>(columns),
                        columnLength, columnOffset, descriptor, descriptorLength, first, count, threads);
    };
    switch (elementBytes(type)) {
        case 1:
            return run(uint8_t(0));
        case 2:
            return run(uint16_t(0));
        case 4:
            return run(uint32_t(0));
        case 8:
            return run(uint64_t(0));
        default:
            return BAD_TYPE;
    }
}

/**
 * foldAt for a floating element type: FLOAT16 and BFLOAT16 (their bits; every
 * addition rounded to the type, half.hpp), FLOAT32, FLOAT64. Weights are in the
 * element type too. BAD_TYPE for any other code.
 */
inline int foldTyped(int type, const void *columns, int64_t columnLength, int64_t columnOffset, void *image,
                     int64_t imageLength, int64_t imageOffset, const int64_t *descriptor, int64_t descriptorLength,
                     int reduce, const void *weights, int64_t weightsLength, int64_t first, int64_t count,
                     int threads) noexcept {
    auto run = [&](auto zero) {
        using T = decltype(zero);
        return foldAt(static_cast<const T *>(columns), columnLength, columnOffset, static_cast<T *>(image), imageLength,
                      imageOffset, descriptor, descriptorLength, reduce, static_cast<const T *>(weights), weightsLength,
                      first, count, threads);
    };
    switch (type) {
        case FLOAT16:
            return run(Float16::ofBits(0));
        case BFLOAT16:
            return run(BFloat16::ofBits(0));
        case FLOAT32:
            return run(0.0f);
        case FLOAT64:
            return run(0.0);
        default:
            return BAD_TYPE;
    }
}

/** The number of work items of an unfold (fold: with threads), or a negative
 * Status. Unfold takes elements of 1, 2, 4 or 8 bytes, fold of 2, 4 or 8. */
inline int64_t itemsChecked(const int64_t *descriptor, int64_t descriptorLength, int elementBytes, bool fold,
                            int threads) noexcept {
    Geometry g;
    if (const Status s = prepare(descriptor, descriptorLength, threads, g); s != OK) return -s;
    if (fold) {
        switch (elementBytes) {
            case 2:
                return foldItems<Float16>(g, threads);  // bands depend on the width only
            case 4:
                return foldItems<float>(g, threads);
            case 8:
                return foldItems<double>(g, threads);
            default:
                return -BAD_LENGTH;
        }
    }
    switch (elementBytes) {
        case 1:
            return UnfoldWork::of<uint8_t>(g).items;
        case 2:
            return UnfoldWork::of<uint16_t>(g).items;
        case 4:
            return UnfoldWork::of<uint32_t>(g).items;
        case 8:
            return UnfoldWork::of<uint64_t>(g).items;
        default:
            return -BAD_LENGTH;
    }
}

/** The elements a convolution pass reads (a, b) and writes (out); see convLayer. */
struct ConvLengths {
    int64_t a, b, out;
};

/**
 * Checks a convolution layer (the pass code, groups dividing both channel
 * counts, y's and w's lengths representable) and gives the lengths its pass
 * reads and writes: forward a = x, b = w, out = y; backwardInput a = gy, b =
 * w, out = gx; backwardWeight a = x, b = gy, out = gw.
 */
inline Status convLayer(const Geometry &g, int pass, int64_t outChannels, int64_t groups, ConvLengths &n) {
    if (pass < CONV_FORWARD || pass > CONV_BACKWARD_WEIGHT) return BAD_DESCRIPTOR;
    if (groups < 1 || outChannels < 1 || g.channels % groups != 0 || outChannels % groups != 0) return BAD_DESCRIPTOR;
    if (outChannels > std::numeric_limits<int64_t>::max() / std::max<int64_t>(g.batch, 1) / g.blocks)
        return BAD_DESCRIPTOR;  // y's length overflows
    if (outChannels > std::numeric_limits<int64_t>::max() / g.kernelVolume / (g.channels / groups))
        return BAD_DESCRIPTOR;  // w's length overflows
    const ConvLayer c{g, outChannels, groups};
    const int64_t x = c.xLength(), y = c.yLength(), w = c.weightLength();
    n.a = pass == CONV_BACKWARD_INPUT ? y : x;
    n.b = pass == CONV_BACKWARD_WEIGHT ? y : w;
    n.out = pass == CONV_FORWARD ? y : pass == CONV_BACKWARD_INPUT ? x : w;
    return OK;
}

/**
 * Checks a pass's extra against its lengths (convLayer's n): forward's bias
 * (read; it may overlap an input, not out), backwardWeight's bias gradient
 * (written: it may overlap nothing), or null; backwardInput takes none.
 */
template <typename T>
inline Status convExtra(int pass, int64_t outChannels, const T *a, const T *b, const T *extra, int64_t extraLength,
                        const T *out, const ConvLengths &n) {
    if (pass == CONV_BACKWARD_INPUT && extra != nullptr) return BAD_DESCRIPTOR;
    const int64_t nExtra = extra == nullptr ? 0 : outChannels;
    if (extraLength < nExtra) return BAD_LENGTH;
    if (pass == CONV_BACKWARD_WEIGHT) {
        if (overlaps(a, n.a, extra, nExtra) || overlaps(b, n.b, extra, nExtra) || overlaps(out, n.out, extra, nExtra))
            return OVERLAP;
    } else if (overlaps(extra, nExtra, out, n.out)) {
        return OVERLAP;
    }
    return OK;
}

/**
 * A direct convolution pass (conv_direct.hpp) on float or double, or part
 * `part` of `parts` of one (DirectPart; 0 <= part < parts <= INT32_MAX, else
 * BAD_RANGE): validates the layer (convLayer), every length against it, that
 * out overlaps neither input and extra (convExtra), then runs it.
 */
template <typename T>
inline int convDirectChecked(int pass, const int64_t *descriptor, int64_t descriptorLength, int64_t outChannels,
                             int64_t groups, const T *a, int64_t aLength, const T *b, int64_t bLength, T *extra,
                             int64_t extraLength, T *out, int64_t outLength, int threads, int64_t part = 0,
                             int64_t parts = 1) noexcept {
    return guarded([&]() -> int {
        Geometry g;
        if (const Status s = prepare(descriptor, descriptorLength, threads, g); s != OK) return s;
        ConvLengths n{};
        if (const Status s = convLayer(g, pass, outChannels, groups, n); s != OK) return s;
        if (aLength < n.a || bLength < n.b || outLength < n.out) return BAD_LENGTH;
        const T *o = out;
        if (const Status s = convExtra<T>(pass, outChannels, a, b, extra, extraLength, o, n); s != OK) return s;
        if (parts < 1 || parts > std::numeric_limits<int32_t>::max() || part < 0 || part >= parts) return BAD_RANGE;
        if (n.out == 0) return OK;  // no samples: nothing to write (backwardWeight's zeros are the caller's)
        if (a == nullptr || b == nullptr || out == nullptr) return NULL_POINTER;
        if (overlaps(a, n.a, o, n.out) || overlaps(b, n.b, o, n.out)) return OVERLAP;
        convDirect(ConvLayer{g, outChannels, groups}, pass, a, b, extra, out, threads, DirectPart{part, parts});
        return OK;
    });
}

/** convDirectChecked on the element type `type` (FLOAT32 or FLOAT64; else BAD_TYPE), from untyped pointers. */
inline int convDirectTyped(int type, int pass, const int64_t *descriptor, int64_t descriptorLength, int64_t outChannels,
                           int64_t groups, const void *a, int64_t aLength, const void *b, int64_t bLength, void *extra,
                           int64_t extraLength, void *out, int64_t outLength, int threads, int64_t part,
                           int64_t parts) {
    switch (type) {
        case FLOAT32:
            return convDirectChecked(pass, descriptor, descriptorLength, outChannels, groups,
                                     static_cast<const float *>(a), aLength, static_cast<const float *>(b), bLength,
                                     static_cast<float *>(extra), extraLength, static_cast<float *>(out), outLength,
                                     threads, part, parts);
        case FLOAT64:
            return convDirectChecked(pass, descriptor, descriptorLength, outChannels, groups,
                                     static_cast<const double *>(a), aLength, static_cast<const double *>(b), bLength,
                                     static_cast<double *>(extra), extraLength, static_cast<double *>(out), outLength,
                                     threads, part, parts);
        default:
            return BAD_TYPE;
    }
}

/**
 * Checks which part of a tiled pass a call runs (ConvPart): 0 <= part < parts
 * <= INT32_MAX, else BAD_RANGE; and its state, null for a whole pass (one
 * part; it then allocates its own), else at least tiledStateLength elements
 * (BAD_LENGTH; null where one is needed: NULL_POINTER) that overlap none of
 * the pass's arrays (OVERLAP).
 */
template <typename T>
inline Status convPart(const ConvLayer &c, int pass, const T *a, const T *b, const T *extra, const T *out,
                       const ConvLengths &n, int64_t part, int64_t parts, const T *state, int64_t stateLength) {
    if (parts < 1 || parts > std::numeric_limits<int32_t>::max() || part < 0 || part >= parts) return BAD_RANGE;
    if (state == nullptr) return parts == 1 || tiledStateLength<T>(c, pass) == 0 ? OK : NULL_POINTER;
    const int64_t need = tiledStateLength<T>(c, pass), nExtra = extra == nullptr ? 0 : c.outChannels;
    if (stateLength < need) return BAD_LENGTH;
    if (overlaps(state, need, a, n.a) || overlaps(state, need, b, n.b) || overlaps(state, need, out, n.out) ||
        overlaps(state, need, extra, nExtra))
        return OVERLAP;
    return OK;
}

/**
 * A tiled convolution pass (conv_tiled.hpp) on float or double, its products
 * by gemm: validates as convDirectChecked, and extra, C_out values or null:
 * forward's bias (read) or backwardWeight's bias gradient (written, so it may
 * overlap nothing else); backwardInput takes none. A layer whose GEMM sizes
 * exceed int is BAD_DESCRIPTOR.
 */
template <typename T>
inline int convTiledChecked(int pass, const int64_t *descriptor, int64_t descriptorLength, int64_t outChannels,
                            int64_t groups, const T *a, int64_t aLength, const T *b, int64_t bLength, T *extra,
                            int64_t extraLength, T *out, int64_t outLength, GemmFunction<T> gemm, int64_t part,
                            int64_t parts, T *state, int64_t stateLength, int threads) noexcept {
    return guarded([&]() -> int {
        Geometry g;
        if (const Status s = prepare(descriptor, descriptorLength, threads, g); s != OK) return s;
        ConvLengths n{};
        if (const Status s = convLayer(g, pass, outChannels, groups, n); s != OK) return s;
        const ConvLayer c{g, outChannels, groups};
        if (!tiledFits(c)) return BAD_DESCRIPTOR;
        if (aLength < n.a || bLength < n.b || outLength < n.out) return BAD_LENGTH;
        const T *o = out;
        if (const Status s = convExtra<T>(pass, outChannels, a, b, extra, extraLength, o, n); s != OK) return s;
        if (n.out == 0) return OK;  // no samples (the zero gradients are the caller's)
        if (a == nullptr || b == nullptr || out == nullptr || gemm == nullptr) return NULL_POINTER;
        if (overlaps(a, n.a, o, n.out) || overlaps(b, n.b, o, n.out)) return OVERLAP;
        if (const Status s = convPart(c, pass, a, b, extra, out, n, part, parts, state, stateLength); s != OK) return s;
        const ConvPart<T> share{part, parts, state};
        const OffsetTables t(g);
        const RowSource rows(g, t, true, pass == CONV_FORWARD ? forwardRows(c, share, threads) : ItemRange{0, -1});
        switch (pass) {
            case CONV_FORWARD:
                tiledForward(c, rows, gemm, a, b, static_cast<const T *>(extra), out, share, threads);
                break;
            case CONV_BACKWARD_INPUT:
                tiledBackwardInput(c, rows, gemm, a, b, out, share, threads);
                break;
            default:
                tiledBackwardWeight(c, rows, gemm, a, b, out, extra, share, threads);
                break;
        }
        return OK;
    });
}

}  // namespace detail
}  // namespace foldnd

// The flat entry points. Lengths are the element counts available behind each
// pointer; the descriptor is [dims, batch, channels, layout, image[dims],
// kernel[dims], dilation[dims], padding[dims], stride[dims]] (see
// geometry.hpp); [first, first + count) are the work items to compute
// (kernels.hpp, ItemRange; count clipped at the end, so (0, INT64_MAX) is the
// whole call). Every call returns a foldnd::Status, never throws, and touches
// no memory it was not given.

/** unfold (im2col): image (planes, *image) -> columns (planes, K, L) or (C K, N
 * L). */
inline int foldnd_unfold(const float *image, int64_t imageLength, float *columns, int64_t columnLength,
                         const int64_t *descriptor, int64_t descriptorLength, int64_t first, int64_t count,
                         int threads) {
    return foldnd::detail::unfoldChecked(image, imageLength, columns, columnLength, descriptor, descriptorLength, first,
                                         count, threads);
}
inline int foldnd_unfold(const double *image, int64_t imageLength, double *columns, int64_t columnLength,
                         const int64_t *descriptor, int64_t descriptorLength, int64_t first, int64_t count,
                         int threads) {
    return foldnd::detail::unfoldChecked(image, imageLength, columns, columnLength, descriptor, descriptorLength, first,
                                         count, threads);
}

/**
 * fold (col2im): columns -> image (planes, *image), merging overlaps with
 * reduce (foldnd::Reduce); weights: K values or null.
 */
inline int foldnd_fold(const float *columns, int64_t columnLength, float *image, int64_t imageLength,
                       const int64_t *descriptor, int64_t descriptorLength, int reduce, const float *weights,
                       int64_t weightsLength, int64_t first, int64_t count, int threads) {
    return foldnd::detail::foldChecked(columns, columnLength, image, imageLength, descriptor, descriptorLength, reduce,
                                       weights, weightsLength, first, count, threads);
}
inline int foldnd_fold(const double *columns, int64_t columnLength, double *image, int64_t imageLength,
                       const int64_t *descriptor, int64_t descriptorLength, int reduce, const double *weights,
                       int64_t weightsLength, int64_t first, int64_t count, int threads) {
    return foldnd::detail::foldChecked(columns, columnLength, image, imageLength, descriptor, descriptorLength, reduce,
                                       weights, weightsLength, first, count, threads);
}

/**
 * foldnd_unfold and foldnd_fold on parts of arrays (the Java heap buffers that
 * view an array from an offset on): each length counts the whole array, each
 * offset must lie within it (else BAD_LENGTH), and the call then sees the
 * length - offset elements from the offset on.
 */
inline int foldnd_unfold_at(const float *image, int64_t imageLength, int64_t imageOffset, float *columns,
                            int64_t columnLength, int64_t columnOffset, const int64_t *descriptor,
                            int64_t descriptorLength, int64_t first, int64_t count, int threads) {
    return foldnd::detail::unfoldAt(image, imageLength, imageOffset, columns, columnLength, columnOffset, descriptor,
                                    descriptorLength, first, count, threads);
}
inline int foldnd_unfold_at(const double *image, int64_t imageLength, int64_t imageOffset, double *columns,
                            int64_t columnLength, int64_t columnOffset, const int64_t *descriptor,
                            int64_t descriptorLength, int64_t first, int64_t count, int threads) {
    return foldnd::detail::unfoldAt(image, imageLength, imageOffset, columns, columnLength, columnOffset, descriptor,
                                    descriptorLength, first, count, threads);
}
inline int foldnd_fold_at(const float *columns, int64_t columnLength, int64_t columnOffset, float *image,
                          int64_t imageLength, int64_t imageOffset, const int64_t *descriptor, int64_t descriptorLength,
                          int reduce, const float *weights, int64_t weightsLength, int64_t first, int64_t count,
                          int threads) {
    return foldnd::detail::foldAt(columns, columnLength, columnOffset, image, imageLength, imageOffset, descriptor,
                                  descriptorLength, reduce, weights, weightsLength, first, count, threads);
}
inline int foldnd_fold_at(const double *columns, int64_t columnLength, int64_t columnOffset, double *image,
                          int64_t imageLength, int64_t imageOffset, const int64_t *descriptor, int64_t descriptorLength,
                          int reduce, const double *weights, int64_t weightsLength, int64_t first, int64_t count,
                          int threads) {
    return foldnd::detail::foldAt(columns, columnLength, columnOffset, image, imageLength, imageOffset, descriptor,
                                  descriptorLength, reduce, weights, weightsLength, first, count, threads);
}

/**
 * Streaming fold (block_fold.hpp): merges the columns of blocks [firstBlock,
 * firstBlock + blockCount) into image without zeroing it, and adds each
 * offset's weight (1 when weights is null) to weightSum (one image plane;
 * null allowed except for MEAN). [first, first + count) are work items, as
 * for the other calls (foldnd_fold_blocks_items).
 */
#define FOLDND_FOLD_BLOCKS(T)                                                                                          \
    inline int foldnd_fold_blocks(const T *columns, int64_t columnLength, T *image, int64_t imageLength, T *weightSum, \
                                  int64_t weightSumLength, const int64_t *descriptor, int64_t descriptorLength,        \
                                  int reduce, const T *weights, int64_t weightsLength, int64_t firstBlock,             \
                                  int64_t blockCount, int64_t first, int64_t count, int threads) {                     \
        return foldnd::detail::foldBlocksChecked(columns, columnLength, image, imageLength, weightSum,                 \
                                                 weightSumLength, descriptor, descriptorLength, reduce, weights,       \
                                                 weightsLength, firstBlock, blockCount, first, count, threads);        \
    }                                                                                                                  \
    inline int foldnd_fold_blocks_at(const T *columns, int64_t columnLength, int64_t columnOffset, T *image,           \
                                     int64_t imageLength, int64_t imageOffset, T *weightSum, int64_t weightSumLength,  \
                                     int64_t weightSumOffset, const int64_t *descriptor, int64_t descriptorLength,     \
                                     int reduce, const T *weights, int64_t weightsLength, int64_t firstBlock,          \
                                     int64_t blockCount, int64_t first, int64_t count, int threads) {                  \
        return foldnd::detail::foldBlocksAt(columns, columnLength, columnOffset, image, imageLength, imageOffset,      \
                                            weightSum, weightSumLength, weightSumOffset, descriptor, descriptorLength, \
                                            reduce, weights, weightsLength, firstBlock, blockCount, first, count,      \
                                            threads);                                                                  \
    }                                                                                                                  \
    inline int foldnd_finish_blocks(T *image, int64_t imageLength, const T *weightSum, int64_t weightSumLength,        \
                                    const int64_t *descriptor, int64_t descriptorLength, int reduce, int threads) {    \
        return foldnd::detail::finishBlocksChecked(image, imageLength, weightSum, weightSumLength, descriptor,         \
                                                   descriptorLength, reduce, threads);                                 \
    }                                                                                                                  \
    inline int foldnd_finish_blocks_at(T *image, int64_t imageLength, int64_t imageOffset, const T *weightSum,         \
                                       int64_t weightSumLength, int64_t weightSumOffset, const int64_t *descriptor,    \
                                       int64_t descriptorLength, int reduce, int threads) {                            \
        return foldnd::detail::finishBlocksAt(image, imageLength, imageOffset, weightSum, weightSumLength,             \
                                              weightSumOffset, descriptor, descriptorLength, reduce, threads);         \
    }
FOLDND_FOLD_BLOCKS(float)
FOLDND_FOLD_BLOCKS(double)
#undef FOLDND_FOLD_BLOCKS

/** How many work items a block-range fold of this geometry has (elementBytes 4 or 8); a negative Status if refused. */
inline int64_t foldnd_fold_blocks_items(const int64_t *descriptor, int64_t descriptorLength, int elementBytes) {
    foldnd::Geometry g;
    if (const foldnd::Status s = foldnd::decode(descriptor, descriptorLength, g); s != foldnd::OK) return -s;
    if (elementBytes != 4 && elementBytes != 8) return -foldnd::BAD_LENGTH;
    return elementBytes == 4 ? foldnd::blockFoldItems<float>(g) : foldnd::blockFoldItems<double>(g);
}

/**
 * unfold (im2col) of any element type (foldnd::ElementType): the arrays from an
 * offset on, lengths and offsets in elements of the type, as foldnd_unfold_at
 * (offsets 0 for native memory). BAD_TYPE for an unknown type code.
 */
inline int foldnd_unfold_typed(int type, const void *image, int64_t imageLength, int64_t imageOffset, void *columns,
                               int64_t columnLength, int64_t columnOffset, const int64_t *descriptor,
                               int64_t descriptorLength, int64_t first, int64_t count, int threads) {
    return foldnd::detail::unfoldTyped(type, image, imageLength, imageOffset, columns, columnLength, columnOffset,
                                       descriptor, descriptorLength, first, count, threads);
}

/**
 * fold (col2im) of a floating element type (foldnd::ElementType FLOAT16,
 * BFLOAT16, FLOAT32, FLOAT64): the arrays from an offset on, lengths and
 * offsets in elements, weights (K values or null) in the element type, as
 * foldnd_fold_at. BAD_TYPE for an integer or unknown type code.
 */
inline int foldnd_fold_typed(int type, const void *columns, int64_t columnLength, int64_t columnOffset, void *image,
                             int64_t imageLength, int64_t imageOffset, const int64_t *descriptor,
                             int64_t descriptorLength, int reduce, const void *weights, int64_t weightsLength,
                             int64_t first, int64_t count, int threads) {
    return foldnd::detail::foldTyped(type, columns, columnLength, columnOffset, image, imageLength, imageOffset,
                                     descriptor, descriptorLength, reduce, weights, weightsLength, first, count,
                                     threads);
}

/**
 * A pass of a convolution computed directly (conv_direct.hpp), for depthwise
 * and small-group layers: type FLOAT32 or FLOAT64; descriptor x's unfold
 * geometry (batch N, channels C_in; its grid is the output's size);
 * outChannels C_out; groups dividing both channel counts; pass 0 forward
 * (a = x, b = w, out = y), 1 backwardInput (a = gy, b = w, out = gx), 2
 * backwardWeight (a = x, b = gy, out = gw). Shapes: x (N, C_in, *image), w
 * (C_out, C_in / groups, *kernel), y and gy (N, C_out, *grid); lengths in
 * elements; extra: forward's bias or backwardWeight's bias gradient (C_out
 * values), or null. BAD_TYPE for another type.
 */
inline int foldnd_conv_direct(int type, int pass, const int64_t *descriptor, int64_t descriptorLength,
                              int64_t outChannels, int64_t groups, const void *a, int64_t aLength, const void *b,
                              int64_t bLength, void *extra, int64_t extraLength, void *out, int64_t outLength,
                              int threads) {
    return foldnd::detail::convDirectTyped(type, pass, descriptor, descriptorLength, outChannels, groups, a, aLength, b,
                                           bLength, extra, extraLength, out, outLength, threads, 0, 1);
}

/**
 * A pass of a convolution by tiles of unfold + GEMM (conv_tiled.hpp), its
 * products by gemm: the address of a function with cblas_sgemm's signature
 * (FLOAT32) or cblas_dgemm's (FLOAT64), which must run single-threaded or be
 * safe to call from every thread of the team at once. Arguments as
 * foldnd_conv_direct. BAD_TYPE for another type.
 */
inline int foldnd_conv_tiled(int type, int pass, const int64_t *descriptor, int64_t descriptorLength,
                             int64_t outChannels, int64_t groups, const void *a, int64_t aLength, const void *b,
                             int64_t bLength, void *extra, int64_t extraLength, void *out, int64_t outLength,
                             const void *gemm, int64_t part, int64_t parts, void *state, int64_t stateLength,
                             int threads) {
    switch (type) {
        case foldnd::FLOAT32:
            return foldnd::detail::convTiledChecked(
                pass, descriptor, descriptorLength, outChannels, groups, static_cast<const float *>(a), aLength,
                static_cast<const float *>(b), bLength, static_cast<float *>(extra), extraLength,
                static_cast<float *>(out), outLength,
                reinterpret_cast<foldnd::GemmFunction<float>>(const_cast<void *>(gemm)), part, parts,
                static_cast<float *>(state), stateLength, threads);
        case foldnd::FLOAT64:
            return foldnd::detail::convTiledChecked(
                pass, descriptor, descriptorLength, outChannels, groups, static_cast<const double *>(a), aLength,
                static_cast<const double *>(b), bLength, static_cast<double *>(extra), extraLength,
                static_cast<double *>(out), outLength,
                reinterpret_cast<foldnd::GemmFunction<double>>(const_cast<void *>(gemm)), part, parts,
                static_cast<double *>(state), stateLength, threads);
        default:
            return foldnd::BAD_TYPE;
    }
}

/**
 * One convolution pass for the JVM bindings, arguments as foldnd_conv_tiled:
 * with gemm null, the direct kernels (as foldnd_conv_direct), part `part` of
 * `parts` of the pass (foldnd::DirectPart: parts share nothing, so state must
 * be null, else BAD_RANGE); otherwise foldnd_conv_tiled. One entry, so that
 * each kind of memory (addresses, float[], double[]) needs one binding.
 */
inline int foldnd_conv_pass(int type, int pass, const int64_t *descriptor, int64_t descriptorLength,
                            int64_t outChannels, int64_t groups, const void *a, int64_t aLength, const void *b,
                            int64_t bLength, void *extra, int64_t extraLength, void *out, int64_t outLength,
                            const void *gemm, int64_t part, int64_t parts, void *state, int64_t stateLength,
                            int threads) {
    if (gemm != nullptr)
        return foldnd_conv_tiled(type, pass, descriptor, descriptorLength, outChannels, groups, a, aLength, b, bLength,
                                 extra, extraLength, out, outLength, gemm, part, parts, state, stateLength, threads);
    if (state != nullptr) return foldnd::BAD_RANGE;  // direct parts share nothing
    return foldnd::detail::convDirectTyped(type, pass, descriptor, descriptorLength, outChannels, groups, a, aLength, b,
                                           bLength, extra, extraLength, out, outLength, threads, part, parts);
}

/**
 * How a tiled pass is cut into parts (foldnd::ConvPart), arguments as
 * foldnd_conv_tiled: plan[0] = the most parts worth making on `threads`
 * threads (more would be empty calls), plan[1] = the state (elements of the
 * type) the parts need from their caller, 0 for none. Returns a
 * foldnd::Status; plan needs 2 elements (planLength).
 */
inline int foldnd_conv_tiled_plan(int type, int pass, const int64_t *descriptor, int64_t descriptorLength,
                                  int64_t outChannels, int64_t groups, int threads, int64_t *plan, int64_t planLength) {
    foldnd::Geometry g;
    if (const foldnd::Status s = foldnd::detail::prepare(descriptor, descriptorLength, threads, g); s != foldnd::OK)
        return s;
    foldnd::detail::ConvLengths n{};
    if (const foldnd::Status s = foldnd::detail::convLayer(g, pass, outChannels, groups, n); s != foldnd::OK) return s;
    if (plan == nullptr) return foldnd::NULL_POINTER;
    if (planLength < 2) return foldnd::BAD_LENGTH;
    const foldnd::ConvLayer c{g, outChannels, groups};
    switch (type) {
        case foldnd::FLOAT32:
            plan[0] = foldnd::tiledParts<float>(c, pass, threads);
            plan[1] = foldnd::tiledStateLength<float>(c, pass);
            return foldnd::OK;
        case foldnd::FLOAT64:
            plan[0] = foldnd::tiledParts<double>(c, pass, threads);
            plan[1] = foldnd::tiledStateLength<double>(c, pass);
            return foldnd::OK;
        default:
            return foldnd::BAD_TYPE;
    }
}

/**
 * The most native scratch (bytes) one tiled convolution pass has held since
 * the last reset; reset != 0 sets it back to 0 after reading it.
 */
inline int64_t foldnd_conv_scratch_peak(int reset) {
    return reset != 0 ? foldnd::convScratchPeak().exchange(0) : foldnd::convScratchPeak().load();
}

/**
 * With on != 0, every runtime-dispatched path (cpu.hpp: the F16C loops of
 * half_fold.hpp, the AVX2 fold bands of kernels.hpp) gives way to its baseline
 * twin, which computes the same bits;
 * 0 restores the processor's paths. For tests; FOLDND_BASELINE=1 in the
 * environment sets it at startup.
 */
inline void foldnd_force_baseline(int on) { foldnd::Cpu::forceBaseline(on != 0); }

/**
 * How many work items an unfold of this geometry has, for elements of
 * elementBytes (1, 2, 4 or 8) bytes; a negative foldnd::Status when the descriptor is
 * refused.
 */
inline int64_t foldnd_unfold_items(const int64_t *descriptor, int64_t descriptorLength, int elementBytes) {
    return foldnd::detail::itemsChecked(descriptor, descriptorLength, elementBytes, false, 1);
}

/** How many work items a fold of this geometry has on this many threads (see
 * foldnd_unfold_items). */
inline int64_t foldnd_fold_items(const int64_t *descriptor, int64_t descriptorLength, int elementBytes, int threads) {
    return foldnd::detail::itemsChecked(descriptor, descriptorLength, elementBytes, true, threads);
}

#endif
