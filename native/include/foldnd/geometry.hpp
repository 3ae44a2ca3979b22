// foldnd/geometry.hpp: the shape of one fold/unfold call, decoded from the flat
// descriptor that the Java side sends, and re-validated here so that the
// kernels never run on a geometry they cannot handle (the Java side checks
// first; this is the second line of defence, as zstd-jni does).
#ifndef FOLDND_GEOMETRY_HPP
#define FOLDND_GEOMETRY_HPP

#include <cstdint>

namespace foldnd {

/** Status codes returned through the flat API; 0 is success. */
enum Status : int {
    OK = 0,
    BAD_DESCRIPTOR = 1,  // descriptor malformed, a size non-positive, or a product overflows
    BAD_LENGTH = 2,      // a buffer length disagrees with the geometry
    OVERLAP = 3,         // the output memory overlaps an input
    BAD_REDUCE = 4,      // unknown reduction code
    NULL_POINTER = 5,    // a required pointer is null
    OUT_OF_MEMORY = 6,   // the kernel could not allocate its scratch
                         // (std::bad_alloc); nothing was written
    BAD_THREADS = 7,     // a thread count below 1 or above maxThreads()
    BAD_RANGE = 8,       // a part [first, first + count) of the work items that starts
                         // outside them
    BAD_TYPE = 9         // an element type code this call does not take
};

/**
 * Element types, in the order of the Java enum io.github.foldnd.ElementType
 * (codes written out, never ordinals). unfold only moves bits, so it takes
 * every type by width; fold computes, so it takes the floating types.
 * FLOAT16 and BFLOAT16 are 16-bit storage (IEEE half, and the upper half of a
 * float).
 */
enum ElementType : int {
    INT8 = 0,
    INT16 = 1,
    INT32 = 2,
    INT64 = 3,
    FLOAT16 = 4,
    BFLOAT16 = 5,
    FLOAT32 = 6,
    FLOAT64 = 7
};

/** The bytes of one element of a type code; 0 for a code that is none. */
inline int elementBytes(int type) {
    switch (type) {
        case INT8:
            return 1;
        case INT16:
        case FLOAT16:
        case BFLOAT16:
            return 2;
        case INT32:
        case FLOAT32:
            return 4;
        case INT64:
        case FLOAT64:
            return 8;
        default:
            return 0;
    }
}

/**
 * The most spatial dimensions a geometry may have. Every size is at least 1, so
 * more dimensions add only size-1 axes; 64 keeps the kernels' per-thread
 * counters on the stack.
 */
constexpr int kMaxDims = 64;

/** Reduction codes, in the order of the Java enum io.github.foldnd.Reduce. */
enum Reduce : int { SUM = 0, MEAN = 1, MAX = 2, MIN = 3 };

/**
 * Column layouts. PER_SAMPLE is PyTorch's (N, C*K, L); BATCH_FUSED is (C*K,
 * N*L), where sample n's blocks of row c*K + k sit at columns [n*L, (n+1)*L),
 * so that one GEMM serves the whole batch.
 */
enum Layout : int { PER_SAMPLE = 0, BATCH_FUSED = 1 };

/**
 * Descriptor layout (int64): kDescriptorHeader values [dims, batch, channels,
 * layout], then kDescriptorArrays arrays of dims values each: image, kernel,
 * dilation, padding (before each dimension's first element), stride, padding
 * after each dimension's last element (ONNX pads order splits them the same
 * way; symmetric padding repeats the first array in the last).
 */
constexpr int64_t kDescriptorHeader = 4, kDescriptorArrays = 6;

/**
 * Decoded geometry (see kDescriptorHeader for the descriptor it comes from).
 * Derived: grid[i] = (image[i] + padding[i] + paddingEnd[i] - dilation[i]
 * (kernel[i] - 1) - 1) / stride[i] + 1. The kernels read only padding (where
 * block 0 starts) and grid: the end padding decides how many blocks there are,
 * nothing else.
 */
struct Geometry {
    int dims = 0;
    int64_t batch = 0, channels = 0, planes = 0;  // planes = batch * channels
    Layout layout = PER_SAMPLE;
    // Fixed arrays (dims <= kMaxDims), not vectors: a call then allocates nothing
    // to decode itself.
    int64_t image[kMaxDims], kernel[kMaxDims], dilation[kMaxDims], padding[kMaxDims], stride[kMaxDims],
        paddingEnd[kMaxDims], grid[kMaxDims];
    int64_t imageStride[kMaxDims];  // row-major strides of one image plane
                                    // (imageStride[dims - 1] = 1)
    int64_t imagePlane = 1;         // prod(image)
    int64_t kernelVolume = 1;       // prod(kernel), "K"
    int64_t blocks = 1;             // prod(grid), "L"
    int64_t kernelStride = 0;       // columns between kernel offsets k and k+1 of one plane
    int64_t imageLength = 0;        // planes * imagePlane
    int64_t columnLength = 0;       // planes * K * L

    int64_t lastGrid() const { return grid[dims - 1]; }
    int64_t rowsPerKernelOffset() const { return blocks / lastGrid(); }

    /** Where plane p = n * channels + c starts in the columns (its offset 0,
     * block 0). */
    int64_t columnBase(int64_t p) const {
        if (layout == PER_SAMPLE) return p * kernelVolume * blocks;
        const int64_t n = p / channels, c = p % channels;
        return (c * kernelVolume * batch + n) * blocks;
    }
};

namespace detail {
// Overflow-checked arithmetic on non-negative values (every size here is
// checked >= 0 first); portable C++ rather than compiler builtins, so MSVC
// builds it too.
constexpr int64_t kMax = INT64_MAX;
inline bool mul(int64_t a, int64_t b, int64_t &out) {
    if (a < 0 || b < 0 || (a != 0 && b > kMax / a)) return false;
    out = a * b;
    return true;
}
inline bool add(int64_t a, int64_t b, int64_t &out) {
    if (a < 0 || b < 0 || a > kMax - b) return false;
    out = a + b;
    return true;
}
}  // namespace detail

/** Decodes and validates a descriptor. Rejects anything the kernels could
 * mis-handle. */
inline Status decode(const int64_t *d, int64_t length, Geometry &g) {
    if (d == nullptr) return NULL_POINTER;
    if (length < kDescriptorHeader || d[0] < 1 || d[0] > kMaxDims) return BAD_DESCRIPTOR;
    if (length != kDescriptorHeader + kDescriptorArrays * d[0]) return BAD_DESCRIPTOR;
    const int n = static_cast<int>(d[0]);
    const int64_t *arrays = d + kDescriptorHeader;
    g.dims = n;
    g.batch = d[1];
    g.channels = d[2];
    if (g.batch < 0 || g.channels < 1 || (d[3] != PER_SAMPLE && d[3] != BATCH_FUSED)) return BAD_DESCRIPTOR;
    g.layout = static_cast<Layout>(d[3]);
    if (!detail::mul(g.batch, g.channels, g.planes)) return BAD_DESCRIPTOR;
    for (int i = 0; i < n; ++i) {
        g.image[i] = arrays[i];
        g.kernel[i] = arrays[n + i];
        g.dilation[i] = arrays[2 * n + i];
        g.padding[i] = arrays[3 * n + i];
        g.stride[i] = arrays[4 * n + i];
        g.paddingEnd[i] = arrays[5 * n + i];
        g.grid[i] = 0;
        g.imageStride[i] = 1;
    }
    g.imagePlane = g.kernelVolume = g.blocks = 1;
    for (int i = 0; i < n; ++i) {
        if (g.image[i] < 1 || g.kernel[i] < 1 || g.dilation[i] < 1 || g.padding[i] < 0 || g.stride[i] < 1 ||
            g.paddingEnd[i] < 0)
            return BAD_DESCRIPTOR;
        int64_t span, padded, bothPads;
        if (!detail::mul(g.dilation[i], g.kernel[i] - 1, span) ||
            !detail::add(g.padding[i], g.paddingEnd[i], bothPads) || !detail::add(g.image[i], bothPads, padded))
            return BAD_DESCRIPTOR;
        if (padded - span - 1 < 0) return BAD_DESCRIPTOR;  // no block fits
        g.grid[i] = (padded - span - 1) / g.stride[i] + 1;
        if (!detail::mul(g.imagePlane, g.image[i], g.imagePlane) ||
            !detail::mul(g.kernelVolume, g.kernel[i], g.kernelVolume) || !detail::mul(g.blocks, g.grid[i], g.blocks))
            return BAD_DESCRIPTOR;
    }
    for (int i = n - 2; i >= 0; --i) g.imageStride[i] = g.imageStride[i + 1] * g.image[i + 1];
    int64_t perPlane, fused;
    if (!detail::mul(g.planes, g.imagePlane, g.imageLength) || !detail::mul(g.kernelVolume, g.blocks, perPlane) ||
        !detail::mul(g.planes, perPlane, g.columnLength) || !detail::mul(g.batch, g.blocks, fused))
        return BAD_DESCRIPTOR;
    g.kernelStride = g.layout == PER_SAMPLE ? g.blocks : fused;
    return OK;
}

}  // namespace foldnd

#endif
