// foldnd/c_api.h: the entry points of api.h as exported C symbols, for callers
// that find functions by name in the shared library: foldnd-ffm's downcalls
// (io.github.foldnd.ffm.FoldSegments, through java.lang.foreign). api.h's
// functions are C++ overloads and inline, so the library exports none of them;
// these are extern "C", not inline and of default visibility, and each only
// forwards to api.h (same arguments, same foldnd::Status, never throws).
//
// The functions are defined here, not only declared: include this header in
// exactly one translation unit of a binary. The library's is the JNI glue
// that JavaCPP generates for io.github.foldnd.NativeKernels (its @Platform
// include list names this header); the C++ tests' is kernel_tests.cpp.
#ifndef FOLDND_C_API_H
#define FOLDND_C_API_H

#include <cstdint>

#include "api.h"

#if defined(_WIN32)
#define FOLDND_C_EXPORT __declspec(dllexport)
#else
#define FOLDND_C_EXPORT __attribute__((visibility("default")))
#endif

/**
 * The version of this C interface: a caller checks it before its first call,
 * so that a library older or newer than the caller is refused by name instead
 * of being called with other arguments. Raise it with any change of a
 * signature or meaning below. 2: the descriptor carries the padding after
 * each dimension as a sixth array (asymmetric padding; geometry.hpp). 3: adds
 * the streaming fold (block_fold.hpp): foldnd_fold_blocks_f32/_f64,
 * foldnd_finish_blocks_f32/_f64 and foldnd_fold_blocks_items_c. 4: adds
 * foldnd_unfold_typed_c, the unfold of every element type (ElementType code).
 * 5: adds foldnd_fold_typed_c, the fold of the floating element types
 * (FLOAT16, BFLOAT16, FLOAT32, FLOAT64).
 */
#define FOLDND_C_API_VERSION 5

extern "C" {

/** FOLDND_C_API_VERSION, as the library was built. */
FOLDND_C_EXPORT int foldnd_c_api_version(void) { return FOLDND_C_API_VERSION; }

/** foldnd_unfold (api.h) on float. */
FOLDND_C_EXPORT int foldnd_unfold_f32(const float *image, int64_t imageLength, float *columns, int64_t columnLength,
                                      const int64_t *descriptor, int64_t descriptorLength, int64_t first, int64_t count,
                                      int threads) {
    return foldnd_unfold(image, imageLength, columns, columnLength, descriptor, descriptorLength, first, count,
                         threads);
}

/** foldnd_unfold (api.h) on double. */
FOLDND_C_EXPORT int foldnd_unfold_f64(const double *image, int64_t imageLength, double *columns, int64_t columnLength,
                                      const int64_t *descriptor, int64_t descriptorLength, int64_t first, int64_t count,
                                      int threads) {
    return foldnd_unfold(image, imageLength, columns, columnLength, descriptor, descriptorLength, first, count,
                         threads);
}

/**
 * foldnd_unfold_typed (api.h): the unfold of any element type, by its code
 * (foldnd::ElementType); lengths and offsets in elements of that type (offsets
 * 0 for native memory). BAD_TYPE for an unknown code.
 */
FOLDND_C_EXPORT int foldnd_unfold_typed_c(int type, const void *image, int64_t imageLength, int64_t imageOffset,
                                          void *columns, int64_t columnLength, int64_t columnOffset,
                                          const int64_t *descriptor, int64_t descriptorLength, int64_t first,
                                          int64_t count, int threads) {
    return foldnd_unfold_typed(type, image, imageLength, imageOffset, columns, columnLength, columnOffset, descriptor,
                               descriptorLength, first, count, threads);
}

/**
 * foldnd_fold_typed (api.h): the fold of a floating element type, by its code
 * (foldnd::ElementType FLOAT16, BFLOAT16, FLOAT32, FLOAT64); weights (K values
 * or null) in that type; lengths and offsets in elements of that type (offsets
 * 0 for native memory). BAD_TYPE for an integer or unknown code.
 */
FOLDND_C_EXPORT int foldnd_fold_typed_c(int type, const void *columns, int64_t columnLength, int64_t columnOffset,
                                        void *image, int64_t imageLength, int64_t imageOffset,
                                        const int64_t *descriptor, int64_t descriptorLength, int reduce,
                                        const void *weights, int64_t weightsLength, int64_t first, int64_t count,
                                        int threads) {
    return foldnd_fold_typed(type, columns, columnLength, columnOffset, image, imageLength, imageOffset, descriptor,
                             descriptorLength, reduce, weights, weightsLength, first, count, threads);
}

/** foldnd_fold (api.h) on float; weights: K values or null. */
FOLDND_C_EXPORT int foldnd_fold_f32(const float *columns, int64_t columnLength, float *image, int64_t imageLength,
                                    const int64_t *descriptor, int64_t descriptorLength, int reduce,
                                    const float *weights, int64_t weightsLength, int64_t first, int64_t count,
                                    int threads) {
    return foldnd_fold(columns, columnLength, image, imageLength, descriptor, descriptorLength, reduce, weights,
                       weightsLength, first, count, threads);
}

/** foldnd_fold (api.h) on double; weights: K values or null. */
FOLDND_C_EXPORT int foldnd_fold_f64(const double *columns, int64_t columnLength, double *image, int64_t imageLength,
                                    const int64_t *descriptor, int64_t descriptorLength, int reduce,
                                    const double *weights, int64_t weightsLength, int64_t first, int64_t count,
                                    int threads) {
    return foldnd_fold(columns, columnLength, image, imageLength, descriptor, descriptorLength, reduce, weights,
                       weightsLength, first, count, threads);
}

/** foldnd_unfold_items (api.h): an unfold's work items, or a negative status. */
FOLDND_C_EXPORT int64_t foldnd_unfold_items_c(const int64_t *descriptor, int64_t descriptorLength, int elementBytes) {
    return foldnd_unfold_items(descriptor, descriptorLength, elementBytes);
}

/** foldnd_fold_items (api.h): a fold's work items on this many threads, or a negative status. */
FOLDND_C_EXPORT int64_t foldnd_fold_items_c(const int64_t *descriptor, int64_t descriptorLength, int elementBytes,
                                            int threads) {
    return foldnd_fold_items(descriptor, descriptorLength, elementBytes, threads);
}

/**
 * foldnd_fold_blocks (api.h) on float: blocks [firstBlock, firstBlock +
 * blockCount) merged into image (not zeroed) and their weights added to
 * weightSum (one image plane, or null except for MEAN); weights: K values or
 * null; [first, first + count): work items (foldnd_fold_blocks_items_c).
 */
FOLDND_C_EXPORT int foldnd_fold_blocks_f32(const float *columns, int64_t columnLength, float *image,
                                           int64_t imageLength, float *weightSum, int64_t weightSumLength,
                                           const int64_t *descriptor, int64_t descriptorLength, int reduce,
                                           const float *weights, int64_t weightsLength, int64_t firstBlock,
                                           int64_t blockCount, int64_t first, int64_t count, int threads) {
    return foldnd_fold_blocks(columns, columnLength, image, imageLength, weightSum, weightSumLength, descriptor,
                              descriptorLength, reduce, weights, weightsLength, firstBlock, blockCount, first, count,
                              threads);
}

/** foldnd_fold_blocks (api.h) on double: see foldnd_fold_blocks_f32. */
FOLDND_C_EXPORT int foldnd_fold_blocks_f64(const double *columns, int64_t columnLength, double *image,
                                           int64_t imageLength, double *weightSum, int64_t weightSumLength,
                                           const int64_t *descriptor, int64_t descriptorLength, int reduce,
                                           const double *weights, int64_t weightsLength, int64_t firstBlock,
                                           int64_t blockCount, int64_t first, int64_t count, int threads) {
    return foldnd_fold_blocks(columns, columnLength, image, imageLength, weightSum, weightSumLength, descriptor,
                              descriptorLength, reduce, weights, weightsLength, firstBlock, blockCount, first, count,
                              threads);
}

/** foldnd_finish_blocks (api.h) on float: the finishing step of a streamed fold (weightSum: one plane). */
FOLDND_C_EXPORT int foldnd_finish_blocks_f32(float *image, int64_t imageLength, const float *weightSum,
                                             int64_t weightSumLength, const int64_t *descriptor,
                                             int64_t descriptorLength, int reduce, int threads) {
    return foldnd_finish_blocks(image, imageLength, weightSum, weightSumLength, descriptor, descriptorLength, reduce,
                                threads);
}

/** foldnd_finish_blocks (api.h) on double: see foldnd_finish_blocks_f32. */
FOLDND_C_EXPORT int foldnd_finish_blocks_f64(double *image, int64_t imageLength, const double *weightSum,
                                             int64_t weightSumLength, const int64_t *descriptor,
                                             int64_t descriptorLength, int reduce, int threads) {
    return foldnd_finish_blocks(image, imageLength, weightSum, weightSumLength, descriptor, descriptorLength, reduce,
                                threads);
}

/** foldnd_fold_blocks_items (api.h): a streaming fold's work items, or a negative status. */
FOLDND_C_EXPORT int64_t foldnd_fold_blocks_items_c(const int64_t *descriptor, int64_t descriptorLength,
                                                   int elementBytes) {
    return foldnd_fold_blocks_items(descriptor, descriptorLength, elementBytes);
}

}  // extern "C"

#endif
