// foldnd/api.h: the flat entry points that the JavaCPP binding calls (and the C++ tests use).
// Every call re-validates its arguments and returns a foldnd::Status instead of touching memory
// it was not given: lengths are the element counts available behind each pointer.
#ifndef FOLDND_API_H
#define FOLDND_API_H

#include <cstdint>

#include "geometry.hpp"
#include "kernels.hpp"

namespace foldnd {
namespace detail {

/** True when [a, a + na) and [b, b + nb) share a byte. */
template <typename T>
inline bool overlaps(const T* a, int64_t na, const T* b, int64_t nb) {
    if (a == nullptr || b == nullptr || na <= 0 || nb <= 0) return false;
    const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
    return pa < pb + uintptr_t(nb) * sizeof(T) && pb < pa + uintptr_t(na) * sizeof(T);
}

template <typename T>
inline int unfoldChecked(const T* image, int64_t imageLength, T* columns, int64_t columnLength,
                         const int64_t* descriptor, int64_t descriptorLength, int threads) {
    Geometry g;
    if (const Status s = decode(descriptor, descriptorLength, g); s != OK) return s;
    if (imageLength < g.imageLength || columnLength < g.columnLength) return BAD_LENGTH;
    if (g.planes == 0) return OK;
    if (image == nullptr || columns == nullptr) return NULL_POINTER;
    if (overlaps(image, g.imageLength, static_cast<const T*>(columns), g.columnLength)) return OVERLAP;
    unfold(g, image, columns, threads);
    return OK;
}

template <typename T>
inline int foldChecked(const T* columns, int64_t columnLength, T* image, int64_t imageLength,
                       const int64_t* descriptor, int64_t descriptorLength, int reduce, const T* weights,
                       int64_t weightsLength, int threads) {
    Geometry g;
    if (const Status s = decode(descriptor, descriptorLength, g); s != OK) return s;
    if (reduce < SUM || reduce > MIN) return BAD_REDUCE;
    if (imageLength < g.imageLength || columnLength < g.columnLength) return BAD_LENGTH;
    if (weights != nullptr && weightsLength != g.kernelVolume) return BAD_LENGTH;
    if (g.planes == 0) return OK;
    if (image == nullptr || columns == nullptr) return NULL_POINTER;
    if (overlaps(columns, g.columnLength, static_cast<const T*>(image), g.imageLength) ||
        overlaps(weights, weightsLength, static_cast<const T*>(image), g.imageLength))
        return OVERLAP;
    fold(g, columns, image, static_cast<Reduce>(reduce), weights, threads);
    return OK;
}

}  // namespace detail
}  // namespace foldnd

/**
 * unfold (im2col): image (planes, *image) -> columns (planes, K, L). Returns a foldnd::Status.
 * descriptor: [dims, planes, image[dims], kernel[dims], dilation[dims], padding[dims], stride[dims]].
 */
inline int foldnd_unfold(const float* image, int64_t imageLength, float* columns, int64_t columnLength,
                         const int64_t* descriptor, int64_t descriptorLength, int threads) {
    return foldnd::detail::unfoldChecked(image, imageLength, columns, columnLength, descriptor, descriptorLength, threads);
}
inline int foldnd_unfold(const double* image, int64_t imageLength, double* columns, int64_t columnLength,
                         const int64_t* descriptor, int64_t descriptorLength, int threads) {
    return foldnd::detail::unfoldChecked(image, imageLength, columns, columnLength, descriptor, descriptorLength, threads);
}

/**
 * fold (col2im): columns (planes, K, L) -> image (planes, *image), merging overlaps with reduce
 * (foldnd::Reduce); weights: K values or null. Returns a foldnd::Status.
 */
inline int foldnd_fold(const float* columns, int64_t columnLength, float* image, int64_t imageLength,
                       const int64_t* descriptor, int64_t descriptorLength, int reduce, const float* weights,
                       int64_t weightsLength, int threads) {
    return foldnd::detail::foldChecked(columns, columnLength, image, imageLength, descriptor, descriptorLength,
                                       reduce, weights, weightsLength, threads);
}
inline int foldnd_fold(const double* columns, int64_t columnLength, double* image, int64_t imageLength,
                       const int64_t* descriptor, int64_t descriptorLength, int reduce, const double* weights,
                       int64_t weightsLength, int threads) {
    return foldnd::detail::foldChecked(columns, columnLength, image, imageLength, descriptor, descriptorLength,
                                       reduce, weights, weightsLength, threads);
}

/**
 * A parallel copy of n floats in contiguous chunks, one per thread: not part of fold/unfold, but
 * the floor the benchmarks measure them against (moving the same bytes can be no faster).
 */
inline void foldnd_copy(const float* from, float* to, int64_t n, int threads) {
    if (from == nullptr || to == nullptr || n <= 0) return;
    foldnd::parallelFor(n, threads, 1, [&](int64_t begin, int64_t end) {
        std::copy(from + begin, from + end, to + begin);
    });
}

#endif
