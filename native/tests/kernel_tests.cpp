// Tests of the header-only kernels on their own (no Java): results against a
// reference written from the definition, one block at a time, over random
// geometries and edge cases; status codes for every malformed call; guard zones
// around every output; the C entry points of c_api.h against the C++ ones.
// Built by cmake/ with and without AddressSanitizer +
// UndefinedBehaviorSanitizer and run by ctest.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "foldnd/api.h"
// The exported C entry points (foldnd-ffm's downcalls): defined in the header,
// so included in this one translation unit only.
#include "foldnd/c_api.h"

namespace {

int failures = 0, checks = 0;

#define CHECK(cond, ...)                                                \
    do {                                                                \
        ++checks;                                                       \
        if (!(cond)) {                                                  \
            ++failures;                                                 \
            std::printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            std::printf(__VA_ARGS__);                                   \
            std::printf("\n");                                          \
        }                                                               \
    } while (0)

/** The count that runs a whole call (clipped at the last work item). */
constexpr int64_t kAll = INT64_MAX;

struct Shape {
    int64_t planes;  // batch * channels; the tests split it as batch = planes /
                     // channels
    std::vector<int64_t> size, k, dil, pad, stride;
    int64_t channels = 1;
    int layout = foldnd::PER_SAMPLE;
    std::vector<int64_t> padEnd{};  // padding after each dimension; empty: as pad (symmetric)
    int dims() const { return static_cast<int>(size.size()); }
    int64_t batch() const { return planes / channels; }
    const std::vector<int64_t> &end() const { return padEnd.empty() ? pad : padEnd; }
    std::vector<int64_t> grid() const {
        std::vector<int64_t> g(dims());
        for (int i = 0; i < dims(); ++i) {
            int64_t num = size[i] + pad[i] + end()[i] - dil[i] * (k[i] - 1) - 1;
            g[i] = num < 0 ? 0 : num / stride[i] + 1;
        }
        return g;
    }
    std::vector<int64_t> descriptor() const {
        std::vector<int64_t> d{dims(), batch(), channels, layout};
        for (auto *v : {&size, &k, &dil, &pad, &stride, &end()}) d.insert(d.end(), v->begin(), v->end());
        return d;
    }
};

int64_t product(const std::vector<int64_t> &v) {
    int64_t p = 1;
    for (auto x : v) p *= x;
    return p;
}

// Where plane p = n * channels + c, kernel offset k, block l sits in the
// columns, by the layout's definition: (N, C*K, L) per sample, (C*K, N*L)
// batch-fused.
int64_t columnIndex(const Shape &s, int64_t p, int64_t k, int64_t l) {
    const int64_t K = product(s.k), L = product(s.grid());
    if (s.layout == foldnd::PER_SAMPLE) return (p * K + k) * L + l;
    const int64_t n = p / s.channels, c = p % s.channels;
    return ((c * K + k) * s.batch() + n) * L + l;
}

std::vector<int64_t> unravel(int64_t i, const std::vector<int64_t> &ext) {
    std::vector<int64_t> idx(ext.size());
    for (int d = static_cast<int>(ext.size()) - 1; d >= 0; --d) {
        idx[d] = i % ext[d];
        i /= ext[d];
    }
    return idx;
}

// Flat image offset of block l at kernel offset k, or -1 in the padding:
// straight from the definition.
int64_t position(const Shape &s, const std::vector<int64_t> &l, const std::vector<int64_t> &kk) {
    int64_t at = 0;
    for (int i = 0; i < s.dims(); ++i) {
        int64_t x = l[i] * s.stride[i] - s.pad[i] + kk[i] * s.dil[i];
        if (x < 0 || x >= s.size[i]) return -1;
        at = at * s.size[i] + x;
    }
    return at;
}

template <typename T>
std::vector<T> refUnfold(const Shape &s, const std::vector<T> &image) {
    const int64_t K = product(s.k), L = product(s.grid()), P = product(s.size);
    std::vector<T> cols(s.planes * K * L);
    for (int64_t p = 0; p < s.planes; ++p)
        for (int64_t k = 0; k < K; ++k)
            for (int64_t l = 0; l < L; ++l) {
                int64_t at = position(s, unravel(l, s.grid()), unravel(k, s.k));
                cols[columnIndex(s, p, k, l)] = at < 0 ? T(0) : image[p * P + at];
            }
    return cols;
}

template <typename T>
std::vector<T> refFold(const Shape &s, const std::vector<T> &cols, int reduce, const T *w) {
    const int64_t K = product(s.k), L = product(s.grid()), P = product(s.size);
    const T init = reduce == foldnd::MAX   ? -std::numeric_limits<T>::infinity()
                   : reduce == foldnd::MIN ? std::numeric_limits<T>::infinity()
                                           : T(0);
    std::vector<T> image(s.planes * P, init);
    for (int64_t p = 0; p < s.planes; ++p) {
        std::vector<T> cover(P, T(0));
        for (int64_t k = 0; k < K; ++k) {
            const T wk = w ? w[k] : T(1);
            for (int64_t l = 0; l < L; ++l) {
                int64_t at = position(s, unravel(l, s.grid()), unravel(k, s.k));
                if (at < 0) continue;
                T x = cols[columnIndex(s, p, k, l)];
                T v = w ? T(wk * x) : x;
                T &o = image[p * P + at];
                if (reduce == foldnd::MAX) {
                    if (v > o || std::isnan(v)) o = v;
                } else if (reduce == foldnd::MIN) {
                    if (v < o || std::isnan(v)) o = v;
                } else
                    o = o + v;
                cover[at] = cover[at] + wk;
            }
        }
        if (reduce == foldnd::SUM) continue;
        for (int64_t i = 0; i < P; ++i) {
            T &o = image[p * P + i];
            o = cover[i] == T(0) ? T(0) : reduce == foldnd::MEAN ? o / cover[i] : o;
        }
    }
    return image;
}

template <typename T>
bool sameBits(const std::vector<T> &a, const T *b, size_t n) {
    return a.size() == n && std::memcmp(a.data(), b, n * sizeof(T)) == 0;
}

/**
 * The same 16-bit values: equal bits, or both NaN. Where two NaNs of different
 * signs meet in an addition, the sign of the result is the hardware's choice of
 * operand (IEEE 754 leaves it open), which the compiler may swap.
 */
template <typename H>
bool sameValues(const std::vector<H> &a, const H *b, size_t n) {
    const uint16_t inf = std::is_same<H, foldnd::Float16>::value ? 0x7C00u : 0x7F80u;
    if (a.size() != n) return false;
    for (size_t i = 0; i < n; ++i)
        if (a[i].bits != b[i].bits && !((a[i].bits & 0x7FFFu) > inf && (b[i].bits & 0x7FFFu) > inf)) return false;
    return true;
}

constexpr int kGuard = 8;
constexpr double kSentinel = -7777.25;

// A buffer of n elements between guard zones that must stay untouched.
template <typename T>
struct Guarded {
    std::vector<T> all;
    explicit Guarded(size_t n) : all(n + 2 * kGuard, T(kSentinel)) {}
    T *data() { return all.data() + kGuard; }
    bool intact(size_t n) const {
        for (int i = 0; i < kGuard; ++i)
            if (all[i] != T(kSentinel) || all[kGuard + n + i] != T(kSentinel)) return false;
        return true;
    }
};

/** Random consecutive parts [first, first + count) covering [0, items). */
std::vector<std::pair<int64_t, int64_t>> randomParts(int64_t items, std::mt19937 &rng) {
    std::vector<std::pair<int64_t, int64_t>> parts;
    for (int64_t first = 0; first < items;) {
        const int64_t count =
            std::uniform_int_distribution<int64_t>(1, std::min<int64_t>(items - first, 1 + items / 3))(rng);
        parts.emplace_back(first, count);
        first += count;
    }
    return parts;
}

/**
 * The call cut into parts of random sizes (as the Java side cuts long
 * heap-array calls): the parts together give the whole call's result bit for
 * bit, and none writes outside the output.
 */
template <typename T>
void checkParts(const Shape &s, const std::vector<T> &image, const std::vector<T> &cols, const std::vector<T> &w,
                std::mt19937 &rng, const std::string &label) {
    const auto desc = s.descriptor();
    const int64_t K = product(s.k);
    const int64_t unfoldItems = foldnd_unfold_items(desc.data(), desc.size(), sizeof(T));
    const int64_t foldItems = foldnd_fold_items(desc.data(), desc.size(), sizeof(T), 2);
    CHECK(unfoldItems >= 0 && foldItems >= 0, "%s items %lld %lld", label.c_str(), (long long)unfoldItems,
          (long long)foldItems);
    Guarded<T> out(cols.size());
    for (auto [first, count] : randomParts(unfoldItems, rng)) {
        const int st = foldnd_unfold(image.data(), image.size(), out.data(), cols.size(), desc.data(), desc.size(),
                                     first, count, 2);
        CHECK(st == foldnd::OK, "%s unfold part status %d", label.c_str(), st);
    }
    CHECK(sameBits(refUnfold(s, image), out.data(), cols.size()), "%s unfold in parts", label.c_str());
    CHECK(out.intact(cols.size()), "%s unfold in parts wrote outside its output", label.c_str());
    const auto parts = randomParts(foldItems, rng);
    for (int r = foldnd::SUM; r <= foldnd::MIN; ++r) {
        Guarded<T> img(image.size());
        for (auto [first, count] : parts) {
            const int st = foldnd_fold(cols.data(), cols.size(), img.data(), image.size(), desc.data(), desc.size(), r,
                                       w.data(), K, first, count, 2);
            CHECK(st == foldnd::OK, "%s fold part status %d", label.c_str(), st);
        }
        CHECK(sameBits(refFold(s, cols, r, w.data()), img.data(), image.size()), "%s fold in parts reduce=%d",
              label.c_str(), r);
        CHECK(img.intact(image.size()), "%s fold in parts wrote outside its output", label.c_str());
    }
}

// Random values in [-1, 1) for one shape: an image, columns and per-offset weights.
template <typename T>
struct RandomData {
    std::vector<T> image, cols, w;

    RandomData(const Shape &s, std::mt19937 &rng)
        : image(s.planes * product(s.size)), cols(s.planes * product(s.k) * product(s.grid())), w(product(s.k)) {
        std::uniform_real_distribution<double> u(-1, 1);
        for (auto *v : {&image, &cols, &w})
            for (auto &x : *v) x = T(u(rng));
    }
};

/** The columns of blocks [first, first + count) of whole columns, in the shape's layout. */
template <typename T>
std::vector<T> rangeColumns(const Shape &s, const std::vector<T> &cols, int64_t first, int64_t count) {
    const int64_t K = product(s.k);
    std::vector<T> out(s.planes * K * count);
    for (int64_t p = 0; p < s.planes; ++p)
        for (int64_t k = 0; k < K; ++k)
            for (int64_t j = 0; j < count; ++j) {
                const int64_t at = s.layout == foldnd::PER_SAMPLE
                                       ? (p * K + k) * count + j
                                       : (((p % s.channels) * K + k) * s.batch() + p / s.channels) * count + j;
                out[at] = cols[columnIndex(s, p, k, first + j)];
            }
    return out;
}

/**
 * Streaming fold: the grid cut into random ranges, visited in descending block
 * order, each range's columns folded into the image (started at the merge's
 * identity), in random parts of work items, then finished: bit for bit the
 * whole fold, for every merge, with and without weights; nothing written
 * outside the image or the weight sum.
 */
template <typename T>
void checkBlocks(const Shape &s, const std::vector<T> &cols, const std::vector<T> &w, std::mt19937 &rng,
                 const std::string &label) {
    const auto desc = s.descriptor();
    const int64_t K = product(s.k), L = product(s.grid()), P = product(s.size), image = s.planes * P;
    const int64_t items = foldnd_fold_blocks_items(desc.data(), desc.size(), sizeof(T));
    CHECK(items >= s.planes + 1, "%s block-fold items %lld", label.c_str(), (long long)items);
    std::vector<std::pair<int64_t, int64_t>> ranges = randomParts(L, rng);
    std::reverse(ranges.begin(), ranges.end());
    for (int r = foldnd::SUM; r <= foldnd::MIN; ++r) {
        for (const T *weights : {static_cast<const T *>(nullptr), static_cast<const T *>(w.data())}) {
            const T init = r == foldnd::MAX   ? -std::numeric_limits<T>::infinity()
                           : r == foldnd::MIN ? std::numeric_limits<T>::infinity()
                                              : T(0);
            Guarded<T> img(image), sum(P);
            std::fill(img.data(), img.data() + image, init);
            std::fill(sum.data(), sum.data() + P, T(0));
            const int threads = 1 + static_cast<int>(rng() % 3);
            for (auto [first, count] : ranges) {
                const std::vector<T> part = rangeColumns(s, cols, first, count);
                for (auto [i0, n] : randomParts(items, rng)) {
                    const int st =
                        foldnd_fold_blocks(part.data(), part.size(), img.data(), image, sum.data(), P, desc.data(),
                                           desc.size(), r, weights, weights ? K : 0, first, count, i0, n, threads);
                    CHECK(st == foldnd::OK, "%s fold blocks status %d", label.c_str(), st);
                }
            }
            const int st = foldnd_finish_blocks(img.data(), image, sum.data(), P, desc.data(), desc.size(), r, threads);
            CHECK(st == foldnd::OK, "%s finish status %d", label.c_str(), st);
            std::vector<T> expected = refFold(s, cols, r, weights);
            CHECK(sameBits(expected, img.data(), image), "%s streamed fold reduce=%d weighted=%d", label.c_str(), r,
                  weights != nullptr);
            CHECK(img.intact(image) && sum.intact(P), "%s streamed fold wrote outside its outputs", label.c_str());
        }
    }
}

/** Typed unfold of one width: random bit patterns unfold as the definition moves them, in parts. */
template <typename U>
void checkTypedWidth(const Shape &s, int type, std::mt19937 &rng, const std::string &label) {
    const auto desc = s.descriptor();
    std::vector<U> image(s.planes * product(s.size));
    for (auto &x : image) x = static_cast<U>(rng() * 0x9E3779B97F4A7C15ull);
    const std::vector<U> expected = refUnfold(s, image);
    Guarded<U> out(expected.size());
    const int64_t items = foldnd_unfold_items(desc.data(), desc.size(), sizeof(U));
    for (auto [first, count] : randomParts(items, rng)) {
        const int st = foldnd_unfold_typed(type, image.data(), image.size(), 0, out.data(), expected.size(), 0,
                                           desc.data(), desc.size(), first, count, 2);
        CHECK(st == foldnd::OK, "%s typed unfold %d status %d", label.c_str(), type, st);
    }
    CHECK(sameBits(expected, out.data(), expected.size()), "%s typed unfold, type %d", label.c_str(), type);
    CHECK(out.intact(expected.size()), "%s typed unfold %d wrote outside its output", label.c_str(), type);
}

/** Every element type code unfolds by its width; unknown codes are refused. */
void checkTyped(const Shape &s, std::mt19937 &rng, const std::string &label) {
    checkTypedWidth<uint8_t>(s, foldnd::INT8, rng, label);
    checkTypedWidth<uint16_t>(s, foldnd::INT16, rng, label);
    checkTypedWidth<uint16_t>(s, foldnd::FLOAT16, rng, label);
    checkTypedWidth<uint16_t>(s, foldnd::BFLOAT16, rng, label);
    checkTypedWidth<uint32_t>(s, foldnd::INT32, rng, label);
    checkTypedWidth<uint32_t>(s, foldnd::FLOAT32, rng, label);
    checkTypedWidth<uint64_t>(s, foldnd::INT64, rng, label);
    checkTypedWidth<uint64_t>(s, foldnd::FLOAT64, rng, label);
    const auto desc = s.descriptor();
    uint8_t one = 0;
    for (int bad : {-1, 8, 1000})
        CHECK(
            foldnd_unfold_typed(bad, &one, 1, 0, &one, 1, 0, desc.data(), desc.size(), 0, kAll, 1) == foldnd::BAD_TYPE,
            "%s unknown type %d", label.c_str(), bad);
}

/**
 * 16-bit bits that reach the edges of H's range: mostly ordinary values of
 * either sign, then large ones (whose sums overflow), subnormals, zeros,
 * infinities and NaNs (quiet and signalling, either sign).
 */
template <typename H>
uint16_t edgeBits(std::mt19937 &rng) {
    const bool half = std::is_same<H, foldnd::Float16>::value;
    const uint16_t sign = uint16_t(rng() & 0x8000u), fraction = uint16_t(rng() & (half ? 0x3FFu : 0x7Fu));
    const uint16_t inf = half ? 0x7C00u : 0x7F80u, big = half ? 0x7800u : 0x7F00u;
    switch (rng() % 16) {
        case 0:
            return uint16_t(sign | big | fraction);  // the top binade: two of them overflow
        case 1:
            return uint16_t(sign | fraction);  // subnormal (or zero)
        case 2:
            return uint16_t(sign | inf);
        case 3:
            return uint16_t(sign | inf | fraction | 1u);  // NaN
        default:
            return H(float(std::uniform_real_distribution<double>(-4, 4)(rng))).bits;
    }
}

/** fold of a 16-bit floating type (foldnd_fold_typed) against the definition in that type, every merge. */
template <typename H>
void checkHalfFoldOf(const Shape &s, int type, std::mt19937 &rng, const std::string &label) {
    const auto desc = s.descriptor();
    const int64_t K = product(s.k), P = product(s.size);
    RandomData<H> data(s, rng);
    if (rng() % 2 == 0) {  // values at the type's edges: sums that overflow, subnormals, infinities, NaN
        for (auto *v : {&data.cols, &data.w})
            for (auto &x : *v) x = H::ofBits(edgeBits<H>(rng));
    }
    for (int r = foldnd::SUM; r <= foldnd::MIN; ++r) {
        for (const H *weights : {static_cast<const H *>(nullptr), static_cast<const H *>(data.w.data())}) {
            Guarded<H> img(s.planes * P);
            const int st = foldnd_fold_typed(type, data.cols.data(), data.cols.size(), 0, img.data(), s.planes * P, 0,
                                             desc.data(), desc.size(), r, weights, weights ? K : 0, 0, kAll, 2);
            CHECK(st == foldnd::OK, "%s half fold %d status %d", label.c_str(), type, st);
            CHECK(sameValues(refFold(s, data.cols, r, weights), img.data(), s.planes * P),
                  "%s 16-bit fold type %d reduce=%d weighted=%d", label.c_str(), type, r, weights != nullptr);
            CHECK(img.intact(s.planes * P), "%s 16-bit fold wrote outside its output", label.c_str());
        }
    }
}

/** Both 16-bit fold paths (half_fold.hpp): the processor's F16C where it has it, and the baseline. */
void checkHalfFold(const Shape &s, std::mt19937 &rng, const std::string &label) {
    for (bool baseline : {false, true}) {
        foldnd_force_baseline(baseline);
        const std::string path = label + (baseline ? " (baseline)" : "");
        checkHalfFoldOf<foldnd::Float16>(s, foldnd::FLOAT16, rng, path);
        checkHalfFoldOf<foldnd::BFloat16>(s, foldnd::BFLOAT16, rng, path);
    }
    foldnd_force_baseline(0);
    const auto desc = s.descriptor();
    int32_t one = 0;
    for (int bad : {int(foldnd::INT32), -1, 8})
        CHECK(foldnd_fold_typed(bad, &one, 1, 0, &one, 1, 0, desc.data(), desc.size(), 0, nullptr, 0, 0, kAll, 1) ==
                  foldnd::BAD_TYPE,
              "%s fold of type %d", label.c_str(), bad);
}

/**
 * half_fold.hpp sums in float holding 16-bit values: its roundings equal a
 * round trip through the 16-bit type for every float class, and the F16C row
 * loop (where this processor has F16C) equals the baseline loop bit for bit
 * after the final conversion, on rows with edge values and every tail length.
 */
void halfSums(std::mt19937 &rng) {
    using foldnd::BrainFloat;
    using foldnd::IeeeHalf;
    int bad = 0;
    for (int i = 0; i < 1000000; ++i) {
        uint32_t u = uint32_t(rng());
        if (i % 4 == 0) u = (u & 0x80000000u) | (0x33000000u + (u & 0x0FFFFFFFu) % 0x14800000u);  // the halves' range
        float f;
        std::memcpy(&f, &u, 4);
        const float h = foldnd::IeeeHalfRounding::round(f), b = foldnd::BrainFloatRounding::round(f);
        if (f != f) {
            if (h == h || b == b) ++bad;  // NaN stays NaN
            continue;
        }
        if (!sameBits(std::vector<float>{IeeeHalf::toFloat(IeeeHalf::fromFloat(f))}, &h, 1)) ++bad;
        if (!sameBits(std::vector<float>{BrainFloat::toFloat(BrainFloat::fromFloat(f))}, &b, 1)) ++bad;
    }
    CHECK(bad == 0, "%d roundings in float differ from a 16-bit round trip", bad);
#ifdef FOLDND_X86_DISPATCH
    if (!foldnd::Cpu::avx2()) return;
    for (int trial = 0; trial < 200; ++trial) {
        const int64_t n = trial % 40;
        std::vector<uint16_t> v(n);
        std::vector<float> fast(n), slow(n);
        for (int64_t j = 0; j < n; ++j) {
            v[j] = edgeBits<foldnd::Float16>(rng);
            fast[j] = slow[j] = IeeeHalf::toFloat(edgeBits<foldnd::Float16>(rng));
        }
        const float w = IeeeHalf::toFloat(edgeBits<foldnd::Float16>(rng));
        const bool weighted = trial % 2 == 1;
        if (weighted)
            foldnd::f16cSumRow<true>(fast.data(), v.data(), w, n);
        else
            foldnd::f16cSumRow<false>(fast.data(), v.data(), w, n);
        for (int64_t j = 0; j < n; ++j) {
            const float x = IeeeHalf::toFloat(v[j]);
            slow[j] =
                foldnd::IeeeHalfRounding::round(slow[j] + (weighted ? foldnd::IeeeHalfRounding::round(w * x) : x));
            const uint16_t a = IeeeHalf::fromFloat(fast[j]), b = IeeeHalf::fromFloat(slow[j]);
            if (a != b && !((a & 0x7FFFu) > 0x7C00u && (b & 0x7FFFu) > 0x7C00u)) ++bad;  // NaN: see sameValues
        }
    }
    CHECK(bad == 0, "%d F16C row sums differ from the baseline", bad);
#endif
}

/**
 * The 16-bit conversions: every half and bfloat16 value converts to float and
 * back unchanged; the midpoint between neighbours rounds to the even one;
 * random floats round to the nearest value (ties to even), checked in double,
 * and, where the compiler has _Float16, equal to its conversion.
 */
void halfConversions(std::mt19937 &rng) {
    using foldnd::BrainFloat;
    using foldnd::IeeeHalf;
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000u; ++h) {
        const float f = IeeeHalf::toFloat(uint16_t(h));
        if (f == f && IeeeHalf::fromFloat(f) != h) ++bad;
        const float b = BrainFloat::toFloat(uint16_t(h));
        if (b == b && BrainFloat::fromFloat(b) != h) ++bad;
        if ((h & 0x7C00u) != 0x7C00u && (h & 0x7FFFu) != 0x7BFFu) {  // finite, with a finite next value
            const double lo = IeeeHalf::toFloat(uint16_t(h)), hi = IeeeHalf::toFloat(uint16_t(h + 1));
            if ((h & 0x7FFFu) == 0x7FFFu || std::signbit(lo) != std::signbit(hi)) continue;
            const uint16_t even = (h & 1u) ? uint16_t(h + 1) : uint16_t(h);
            if (IeeeHalf::fromFloat(float((lo + hi) / 2)) != even) ++bad;
        }
    }
    CHECK(bad == 0, "%d 16-bit round trips or ties wrong", bad);
    bad = 0;
    std::uniform_real_distribution<double> exponent(-30, 17);
    for (int i = 0; i < 200000; ++i) {
        const float f = float((rng() & 1 ? -1 : 1) * std::pow(2.0, exponent(rng)));
        const uint16_t h = IeeeHalf::fromFloat(f);
        const double err = std::fabs(double(IeeeHalf::toFloat(h)) - f);
        for (int d : {-1, 1}) {                   // no neighbour is nearer, and a tie went to the even one
            if ((h & 0x7C00u) == 0x7C00u) break;  // overflowed to infinity: _Float16 checks those
            const uint16_t n = uint16_t(h + d);
            if ((n & 0x7C00u) == 0x7C00u || ((n ^ h) & 0x8000u)) continue;
            const double nerr = std::fabs(double(IeeeHalf::toFloat(n)) - f);
            if (nerr < err || (nerr == err && (h & 1u))) ++bad;
        }
#if defined(__FLT16_MAX__)
        const _Float16 c = static_cast<_Float16>(f);
        uint16_t cbits;
        std::memcpy(&cbits, &c, 2);
        if (cbits != h) ++bad;
#endif
    }
    CHECK(bad == 0, "%d float -> half conversions not to nearest even", bad);
}

template <typename T>
void checkShape(const Shape &s, std::mt19937 &rng, const std::string &label) {
    const int64_t K = product(s.k);
    const auto desc = s.descriptor();
    RandomData<T> data(s, rng);
    auto &image = data.image, &cols = data.cols, &w = data.w;
    for (int threads : {1, 2, 3}) {
        // Two threads run the baseline kernels (cpu.hpp), one the widest the processor has (AVX-512 or
        // AVX2), three at most AVX2: every shape reaches each path the processor has, against the same
        // definition.
        foldnd_force_baseline(threads == 2);
        foldnd::Cpu::forceAvx2(threads == 3);
        Guarded<T> out(cols.size());
        int st = foldnd_unfold(image.data(), image.size(), out.data(), cols.size(), desc.data(), desc.size(), 0, kAll,
                               threads);
        CHECK(st == foldnd::OK, "%s unfold status %d", label.c_str(), st);
        CHECK(sameBits(refUnfold(s, image), out.data(), cols.size()), "%s unfold threads=%d", label.c_str(), threads);
        CHECK(out.intact(cols.size()), "%s unfold wrote outside its output", label.c_str());
        for (int r = foldnd::SUM; r <= foldnd::MIN; ++r) {
            for (const T *weights : {static_cast<const T *>(nullptr), static_cast<const T *>(w.data())}) {
                Guarded<T> img(image.size());
                st = foldnd_fold(cols.data(), cols.size(), img.data(), image.size(), desc.data(), desc.size(), r,
                                 weights, weights ? K : 0, 0, kAll, threads);
                CHECK(st == foldnd::OK, "%s fold status %d", label.c_str(), st);
                CHECK(sameBits(refFold(s, cols, r, weights), img.data(), image.size()),
                      "%s fold reduce=%d weighted=%d threads=%d", label.c_str(), r, weights != nullptr, threads);
                CHECK(img.intact(image.size()), "%s fold wrote outside its output", label.c_str());
            }
        }
    }
    foldnd_force_baseline(0);
    foldnd::Cpu::forceAvx2(false);
    checkParts<T>(s, image, cols, w, rng, label);
    checkBlocks<T>(s, cols, w, rng, label);
    if (sizeof(T) == 4) {  // once per shape
        checkTyped(s, rng, label);
        checkHalfFold(s, rng, label);
    }
}

// wide: strides and kernels large enough for the chunked paths (stride * sizeof
// >= 64 bytes).
Shape randomShape(std::mt19937 &rng, int d, bool wide = false) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    while (true) {
        Shape s{pick(1, 4), {}, {}, {}, {}, {}};
        for (int i = 0; i < d; ++i) {
            s.size.push_back(wide ? pick(1, d == 1 ? 400 : 60) : pick(1, d <= 2 ? 9 : 5));
            s.k.push_back(wide ? pick(1, 24) : pick(1, 4));
            s.dil.push_back(pick(1, 3));
            s.pad.push_back(wide ? pick(0, 20) : pick(0, 4));     // often larger than the kernel
            s.stride.push_back(wide ? pick(6, 24) : pick(1, 6));  // often larger than the input
        }
        if (pick(0, 2) == 0)  // asymmetric padding (ONNX pads) in a third of the shapes
            for (int i = 0; i < d; ++i) s.padEnd.push_back(wide ? pick(0, 20) : pick(0, 4));
        auto g = s.grid();
        bool ok = true;
        for (auto x : g) ok = ok && x >= 1;
        if (ok) return s;
    }
}

void edgeCases(std::mt19937 &rng) {
    const std::vector<Shape> cases = {
        {1, {1}, {1}, {1}, {0}, {1}},                                // one element
        {2, {1, 1}, {1, 1}, {1, 1}, {3, 3}, {1, 1}},                 // padding larger than kernel
                                                                     // and input
        {1, {7, 7}, {3, 3}, {3, 3}, {0, 0}, {1, 1}},                 // dilation makes the grid 1
        {3, {4, 5}, {2, 2}, {1, 1}, {0, 0}, {9, 9}},                 // strides larger than the
                                                                     // input
        {1, {1, 9, 1}, {1, 3, 1}, {1, 2, 1}, {0, 2, 0}, {1, 2, 1}},  // 1-element dimensions in 3-d
        {2, {2, 2, 2, 2}, {2, 1, 2, 1}, {1, 1, 1, 1}, {1, 0, 1, 0}, {1, 1, 2, 2}},
        {1, {300}, {64}, {1}, {32}, {16}},              // overlap-add frames
        {4, {40, 40}, {3, 3}, {1, 1}, {1, 1}, {1, 1}},  // big enough to run on
                                                        // several threads
        {2, {5, 140}, {2, 5}, {1, 1}, {1, 2}, {1, 2}},  // stride 2, long rows: paired offsets (odd kernel)
        {1, {3, 4, 150}, {2, 1, 4}, {1, 1, 1}, {0, 1, 3}, {1, 2, 2}},  // paired offsets in 3-d (even kernel)
        {1, {2, 300}, {1, 40}, {1, 1}, {0, 7}, {1, 16}},               // wide stride in 2-d
        {2, {24, 200}, {3, 4}, {1, 1}, {1, 2}, {1, 2}},                // paired offsets in
                                                                       // several fold bands
        {3, {6000}, {48}, {2}, {24}, {16}},                            // 1-d chunks in several fold bands
        {2, {300}, {40}, {1}, {0}, {8}},     // double: chunks of 16 offsets at stride 8 share elements (downward tiles)
        {2, {16400}, {32}, {1}, {8}, {16}},  // column rows 4100 (8200) bytes apart: unfold in spans of a line
        {1, {5, 6}, {3, 2}, {1, 2}, {0, 3}, {2, 1}, 1, foldnd::PER_SAMPLE, {2, 0}},     // ONNX pads: begin 0 3, end 2 0
        {2, {9}, {4}, {1}, {3}, {2}, 1, foldnd::PER_SAMPLE, {0}},                       // padding at the start only
        {2, {24, 200}, {3, 4}, {1, 1}, {0, 0}, {1, 2}, 1, foldnd::PER_SAMPLE, {2, 3}},  // paired offsets, end padding
        // Phased permutations (stride = kernel, 2 in the last dimension, written without a fill) and near misses
        {2, {6, 40}, {2, 2}, {1, 1}, {0, 0}, {2, 2}},                 // 2x2/2, rows of 20 blocks
        {2, {66, 600}, {2, 2}, {1, 1}, {0, 0}, {2, 2}},               // in several fold bands, some from odd rows
        {1, {4, 6, 36}, {2, 3, 2}, {1, 1, 1}, {0, 0, 0}, {2, 3, 2}},  // 3-d
        {4, {6, 40}, {2, 2}, {1, 1}, {0, 0}, {2, 2}, 2, foldnd::BATCH_FUSED},         // batch-fused columns
        {2, {6, 41}, {2, 2}, {1, 1}, {0, 0}, {2, 2}},                                 // the last column uncovered
        {1, {6, 40}, {2, 2}, {1, 1}, {0, 0}, {2, 2}, 1, foldnd::PER_SAMPLE, {0, 2}},  // blocks into end padding
        {3, {8, 40}, {2, 2}, {3, 1}, {0, 0}, {2, 2}},                                 // dilation: rows overlap
        {2, {7, 40}, {1, 2}, {1, 1}, {0, 0}, {1, 2}},                                 // kernel 1 in dimension 0
        // Gathered stride-2 bands (kernels.hpp, GatheredBand, where the processor has AVX-512), and near misses
        {3, {12, 57}, {3, 3}, {1, 1}, {1, 1}, {2, 2}},                 // 3x3/2, odd width, masked ends
        {2, {30, 70}, {7, 7}, {1, 1}, {3, 3}, {2, 2}},                 // the stem's 7x7/2: 4 runs of 7 per row
        {2, {9, 11, 23}, {3, 2, 3}, {1, 1, 1}, {1, 0, 1}, {2, 1, 2}},  // 3-d: runs from two dimensions
        {1, {5, 2300}, {2, 3}, {1, 1}, {0, 1}, {1, 2}},                // rows of more than 32 steps
        {3, {6, 40}, {1, 6}, {3, 1}, {0, 2}, {1, 2}},                  // kernel 1 dilated in dimension 0; width 6
        {2, {7, 3}, {2, 3}, {1, 1}, {1, 1}, {3, 2}},                   // rows no block covers, 2-element rows
        {2, {10, 31}, {3, 5}, {1, 1}, {2, 4}, {2, 2}, 1, foldnd::PER_SAMPLE, {0, 1}},  // asymmetric padding
        {4, {9, 21}, {3, 3}, {1, 1}, {1, 1}, {2, 2}, 2, foldnd::BATCH_FUSED},          // batch-fused columns
        {2, {300, 90}, {3, 3}, {1, 1}, {1, 1}, {2, 2}},                                // several fold bands
        {2, {8, 45}, {2, 4}, {1, 1}, {0, 3}, {2, 2}},                                  // kernel 4 in the last
        {2, {8, 45}, {3, 5}, {1, 1}, {1, 2}, {1, 2}},                                  // kernel 5 in the last
        {1, {20, 40}, {8, 8}, {1, 1}, {3, 3}, {1, 2}},  // 64 offsets meet in a row: the most gathered
        {1, {20, 40}, {9, 8}, {1, 1}, {3, 3}, {1, 2}},  // 72: RowRun's phased rows
        {2, {6, 40}, {3, 6}, {2, 1}, {1, 2}, {1, 2}},   // dilation 2 in dimension 0: RowRun's phased rows
        // Bands gathered a hop at a time (kernels.hpp, HopBand, where the processor has AVX-512: last stride and
        // kernel whole vectors, 16 floats or 8 doubles), and near misses
        {2, {300}, {64}, {1}, {5}, {32}},                 // 1-d frames, padding 5
        {3, {20000}, {64}, {1}, {16}, {32}},              // 1-d, several fold bands
        {3, {20000}, {96}, {1}, {8}, {32}},               // 1-d, 3 offsets an element: a thread's bands joined
        {2, {20, 70}, {3, 32}, {1, 1}, {1, 3}, {2, 16}},  // 2-d, 32 at stride 16
        {2, {9, 100}, {2, 16}, {1, 1}, {0, 0}, {1, 32}},  // kernel below the stride
        {1, {4, 100}, {1, 16}, {1, 1}, {0, 0}, {1, 32}},  // elements no block covers
        {1, {4, 5, 90}, {2, 3, 32}, {1, 1, 1}, {0, 1, 7}, {1, 2, 16}},                    // 3-d
        {2, {10, 75}, {2, 32}, {1, 1}, {0, 4}, {1, 16}, 1, foldnd::PER_SAMPLE, {0, 20}},  // end padding
        {4, {5, 80}, {2, 16}, {1, 1}, {1, 0}, {2, 16}, 2, foldnd::BATCH_FUSED},           // batch-fused columns
        {2, {300, 64}, {3, 32}, {1, 1}, {1, 0}, {2, 16}},                                 // several fold bands
        {1, {20, 40}, {8, 16}, {1, 1}, {3, 0}, {1, 16}},                                  // 8 runs meet in a row
        {2, {100}, {16}, {1}, {3}, {8}},                                                  // double only (8 lanes)
        {2, {10, 64}, {3, 16}, {2, 1}, {1, 0}, {1, 16}},  // dilation 2 in dimension 0: not gathered
        {2, {10, 64}, {2, 24}, {1, 1}, {1, 0}, {1, 16}},  // kernel 24 (float), stride 24 (double): not gathered
    };
    for (size_t i = 0; i < cases.size(); ++i) {
        checkShape<float>(cases[i], rng, "edge float #" + std::to_string(i));
        checkShape<double>(cases[i], rng, "edge double #" + std::to_string(i));
    }
}

/**
 * Paths that write each element without a fill before (kernels.hpp's
 * PermutationBand: +0.0 plus its one value; GatheredBand and HopBand: their values added to
 * +0.0 in a register) sum from +0.0, as PyTorch's col2im sums into a zeroed
 * image: where the values are -0.0 the result is +0.0, bit for bit, for sums
 * and means, weighted or not, and on every path of the row (vectors and
 * ends). In the permutation every other value is -0.0; in the gathered shapes
 * (3x3/2, every element the sum of 1 to 4 values; 2x32 at stride 16, 1 to 4) all are.
 */
template <typename T>
void sumsFromZero(const Shape &s, size_t every, std::mt19937 &rng) {
    const auto desc = s.descriptor();
    RandomData<T> data(s, rng);
    for (size_t i = 0; i < data.cols.size(); i += every) data.cols[i] = T(-0.0);
    for (auto &x : data.w) x = std::abs(x);  // w * -0.0 is -0.0
    for (int r : {foldnd::SUM, foldnd::MEAN}) {
        for (const T *weights : {static_cast<const T *>(nullptr), static_cast<const T *>(data.w.data())}) {
            Guarded<T> img(data.image.size());
            const int st = foldnd_fold(data.cols.data(), data.cols.size(), img.data(), data.image.size(), desc.data(),
                                       desc.size(), r, weights, weights ? int64_t(data.w.size()) : 0, 0, kAll, 2);
            const std::vector<T> expected = refFold(s, data.cols, r, weights);
            int64_t positiveZeros = 0;
            for (size_t i = 0; i < expected.size(); ++i)
                positiveZeros += expected[i] == 0 && !std::signbit(expected[i]);
            CHECK(st == foldnd::OK && sameBits(expected, img.data(), expected.size()) && img.intact(expected.size()),
                  "sums from zero, %zu-byte, every %zu, reduce=%d weighted=%d", sizeof(T), every, r,
                  weights != nullptr);
            CHECK(positiveZeros * 2 >= int64_t(expected.size()), "the reference sums -0.0 from +0.0: %lld of %zu",
                  static_cast<long long>(positiveZeros), expected.size());
        }
    }
}

void refusals() {
    float in[16] = {}, out[64] = {};
    auto run = [&](std::vector<int64_t> d, int64_t inLen = 16, int64_t outLen = 64, int64_t planes = -1) {
        return foldnd_unfold(in, inLen, out, outLen, d.data(), d.size(), 0, planes < 0 ? kAll : planes, 1);
    };
    // [dims, batch, channels, layout, image.., kernel.., dilation.., padding..,
    // stride.., padding at the end..]
    auto desc = [](int64_t batch, int64_t channels, int64_t layout, std::vector<int64_t> rest) {
        std::vector<int64_t> d{2, batch, channels, layout};
        d.insert(d.end(), rest.begin(), rest.end());
        return d;
    };
    const std::vector<int64_t> good = desc(1, 1, 0, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0});
    CHECK(run(good) == foldnd::OK, "good descriptor");
    CHECK(run(desc(1, 1, 1, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0})) == foldnd::OK, "batch-fused layout");
    CHECK(run(good, 15) == foldnd::BAD_LENGTH, "short input");
    CHECK(run(good, 16, 35) == foldnd::BAD_LENGTH, "short output");
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 15, 0, 1, 1) == foldnd::BAD_DESCRIPTOR, "descriptor length");
    CHECK(foldnd_unfold(in, 16, out, 64, nullptr, 14, 0, 1, 1) == foldnd::NULL_POINTER, "null descriptor");
    CHECK(foldnd_unfold(nullptr, 16, out, 64, good.data(), 16, 0, 1, 1) == foldnd::NULL_POINTER, "null input");
    // Parts must lie inside the planes; thread counts inside [1, maxThreads()].
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 16, 2, 1, 1) == foldnd::BAD_RANGE,
          "part starting past the items");
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 16, -1, 1, 1) == foldnd::BAD_RANGE, "negative part");
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 16, 1, INT64_MAX, 1) == foldnd::OK,
          "a count past the end is clipped");
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 16, 0, -1, 1) == foldnd::BAD_RANGE, "negative count");
    CHECK(foldnd_unfold_items(good.data(), 16, 4) == 1 &&
              foldnd_unfold_items(good.data(), 16, 3) == -foldnd::BAD_LENGTH &&
              foldnd_fold_items(good.data(), 16, 3, 1) == -foldnd::BAD_LENGTH,
          "unfold items");
    CHECK(foldnd_fold_items(good.data(), 15, 4, 1) == -foldnd::BAD_DESCRIPTOR, "fold items of a bad descriptor");
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 16, 1, 0, 1) == foldnd::OK, "empty part");
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 16, 0, 1, 0) == foldnd::BAD_THREADS, "zero threads");
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 16, 0, 1, foldnd::maxThreads() + 1) == foldnd::BAD_THREADS,
          "too many threads");
    CHECK(foldnd_unfold(in, 16, out, 64, good.data(), 16, 0, 1, 5000) == foldnd::BAD_THREADS, "5000 threads");
    CHECK(run(desc(1, 1, 2, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0})) == foldnd::BAD_DESCRIPTOR, "unknown layout");
    CHECK(run(desc(1, 0, 0, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0})) == foldnd::BAD_DESCRIPTOR, "zero channels");
    CHECK(run(desc(-1, 1, 0, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0})) == foldnd::BAD_DESCRIPTOR, "negative batch");
    CHECK(run(desc(1, 1, 0, {4, 4, 0, 2, 1, 1, 0, 0, 1, 1, 0, 0})) == foldnd::BAD_DESCRIPTOR, "zero kernel");
    CHECK(run(desc(1, 1, 0, {4, 4, 2, 2, 1, 0, 0, 0, 1, 1, 0, 0})) == foldnd::BAD_DESCRIPTOR, "zero dilation");
    CHECK(run(desc(1, 1, 0, {4, 4, 2, 2, 1, 1, -1, 0, 1, 1, -1, 0})) == foldnd::BAD_DESCRIPTOR, "negative padding");
    CHECK(run(desc(1, 1, 0, {4, 4, 2, 2, 1, 1, 0, 0, 0, 1, 0, 0})) == foldnd::BAD_DESCRIPTOR, "zero stride");
    CHECK(run(desc(1, 1, 0, {1, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0})) == foldnd::BAD_DESCRIPTOR, "no block fits");
    CHECK(run({0, 1, 1, 0}) == foldnd::BAD_DESCRIPTOR, "zero dims");
    const int64_t big = int64_t(1) << 40;
    CHECK(
        run(desc(big, big, 0, {big, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0}), INT64_MAX, INT64_MAX) == foldnd::BAD_DESCRIPTOR,
        "overflow");
    CHECK(run({1, 1, 1, 0, 4, 1, 1, INT64_MAX / 2, 1, INT64_MAX / 2}) == foldnd::BAD_DESCRIPTOR, "padding overflow");
    CHECK(run({1, 1, 1, 0, 4, 1, 1, 0, 1, INT64_MAX - 2}) == foldnd::BAD_DESCRIPTOR, "end padding overflow");
    CHECK(run(desc(1, 1, 0, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, -1})) == foldnd::BAD_DESCRIPTOR, "negative end padding");
    CHECK(run(desc(1, 1, 0, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 1, 0}), 16, 64) == foldnd::OK &&
              run(desc(1, 1, 0, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 1, 0}), 16, 47) == foldnd::BAD_LENGTH,
          "end padding adds blocks: a 4x3 grid, K * L = 48 column elements");
    CHECK(run(desc(0, 1, 0, {4, 4, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0}), 0, 0, 0) == foldnd::OK, "empty batch");
    // The output may not overlap the input.
    float shared[100] = {};
    CHECK(foldnd_unfold(shared, 16, shared + 8, 36, good.data(), good.size(), 0, 1, 1) == foldnd::OVERLAP, "overlap");
    float w[4] = {1, 1, 1, 1};
    CHECK(foldnd_fold(out, 36, in, 16, good.data(), good.size(), 9, nullptr, 0, 0, kAll, 1) == foldnd::BAD_REDUCE,
          "bad reduce");
    CHECK(foldnd_fold(out, 36, in, 16, good.data(), good.size(), 0, w, 3, 0, kAll, 1) == foldnd::BAD_LENGTH,
          "weights length");
    CHECK(foldnd_fold(shared, 36, shared + 30, 16, good.data(), good.size(), 0, nullptr, 0, 0, kAll, 1) ==
              foldnd::OVERLAP,
          "fold overlap");
    // Streaming fold: the block range inside the grid (3 x 3 here), the columns long enough for
    // it, a weight sum for MEAN, nothing overlapping.
    {
        float img[16] = {}, sum[16] = {}, cols[36] = {};
        auto blocks = [&](int64_t firstBlock, int64_t count, int reduce, float *ws, int64_t colLen = 36) {
            return foldnd_fold_blocks(cols, colLen, img, 16, ws, 16, good.data(), good.size(), reduce, nullptr, 0,
                                      firstBlock, count, 0, kAll, 1);
        };
        CHECK(blocks(0, 9, foldnd::MEAN, sum) == foldnd::OK, "whole grid");
        CHECK(blocks(4, 5, foldnd::SUM, nullptr) == foldnd::OK, "SUM needs no weight sum");
        CHECK(blocks(9, 0, foldnd::SUM, nullptr) == foldnd::OK, "empty range at the end");
        CHECK(blocks(4, 6, foldnd::SUM, nullptr) == foldnd::BAD_RANGE, "range past the grid");
        CHECK(blocks(-1, 1, foldnd::SUM, nullptr) == foldnd::BAD_RANGE, "negative first block");
        CHECK(blocks(10, 0, foldnd::SUM, nullptr) == foldnd::BAD_RANGE, "first block past the grid");
        CHECK(blocks(0, 9, foldnd::MEAN, nullptr) == foldnd::NULL_POINTER, "MEAN without a weight sum");
        CHECK(blocks(0, 5, foldnd::SUM, nullptr, 19) == foldnd::BAD_LENGTH, "columns shorter than the range's 20");
        CHECK(blocks(0, 5, foldnd::SUM, nullptr, 20) == foldnd::OK, "columns as long as the range's");
        CHECK(foldnd_fold_blocks(cols, 36, img, 16, sum, 15, good.data(), good.size(), 1, nullptr, 0, 0, 9, 0, kAll,
                                 1) == foldnd::BAD_LENGTH,
              "short weight sum");
        CHECK(foldnd_fold_blocks(cols, 36, img, 16, img + 4, 16, good.data(), good.size(), 1, nullptr, 0, 0, 9, 0, kAll,
                                 1) == foldnd::OVERLAP,
              "weight sum overlapping the image");
        CHECK(foldnd_finish_blocks(img, 16, sum, 15, good.data(), good.size(), 1, 1) == foldnd::BAD_LENGTH,
              "finish with a short weight sum");
        CHECK(foldnd_finish_blocks(img, 16, img, 16, good.data(), good.size(), 2, 1) == foldnd::OVERLAP,
              "finish with the weight sum in the image");
        CHECK(foldnd_fold_blocks_items(good.data(), good.size(), 4) == 2, "block-fold items: (1 plane + 1) x 1 band");
    }
    // Parts of arrays (Java heap buffers): each offset within its array, the rest long enough, no overlap.
    float whole[100] = {};
    for (int i = 0; i < 100; ++i) whole[i] = float(i);
    float expected[36] = {};
    CHECK(foldnd_unfold(whole + 20, 16, expected, 36, good.data(), good.size(), 0, kAll, 1) == foldnd::OK, "plain");
    CHECK(foldnd_unfold_at(whole, 100, 20, whole, 100, 64, good.data(), good.size(), 0, kAll, 1) == foldnd::OK,
          "offsets");
    CHECK(std::equal(expected, expected + 36, whole + 64), "offsets give the plain result");
    CHECK(foldnd_unfold_at(in, 16, -1, out, 64, 0, good.data(), good.size(), 0, kAll, 1) == foldnd::BAD_LENGTH,
          "negative offset");
    CHECK(foldnd_unfold_at(in, 16, 0, out, 64, 65, good.data(), good.size(), 0, kAll, 1) == foldnd::BAD_LENGTH,
          "offset past the array");
    CHECK(foldnd_unfold_at(in, 16, 1, out, 64, 0, good.data(), good.size(), 0, kAll, 1) == foldnd::BAD_LENGTH,
          "too few elements after the offset");
    CHECK(foldnd_unfold_at(whole, 100, 30, whole, 100, 0, good.data(), good.size(), 0, kAll, 1) == foldnd::OVERLAP,
          "overlap at offsets");
    CHECK(
        foldnd_fold_at(whole, 100, 64, out, 64, 48, good.data(), good.size(), 0, nullptr, 0, 0, kAll, 1) == foldnd::OK,
        "fold at offsets");
    CHECK(foldnd_fold_at(whole, 100, 64, out, 64, 49, good.data(), good.size(), 0, nullptr, 0, 0, kAll, 1) ==
              foldnd::BAD_LENGTH,
          "fold output too short after its offset");
    CHECK(foldnd_fold_at(whole, 100, 0, whole, 100, 35, good.data(), good.size(), 0, nullptr, 0, 0, kAll, 1) ==
              foldnd::OVERLAP,
          "fold overlap at offsets");
}

/**
 * The C entry points (c_api.h) give the C++ ones' results bit for bit and
 * pass their statuses through unchanged.
 */
template <typename T, typename Unfold, typename Fold, typename FoldBlocks, typename FinishBlocks>
void cEntryPoints(std::mt19937 &rng, Unfold cUnfold, Fold cFold, FoldBlocks cFoldBlocks, FinishBlocks cFinishBlocks,
                  const std::string &label) {
    const Shape s{3, {5, 7}, {2, 3}, {1, 2}, {1, 0}, {2, 1}};
    const int64_t K = product(s.k);
    const auto desc = s.descriptor();
    RandomData<T> data(s, rng);
    auto &image = data.image, &cols = data.cols, &w = data.w;
    Guarded<T> out(cols.size()), ref(cols.size());
    int st = cUnfold(image.data(), image.size(), out.data(), cols.size(), desc.data(), desc.size(), 0, kAll, 2);
    CHECK(st == foldnd::OK, "%s C unfold status %d", label.c_str(), st);
    foldnd_unfold(image.data(), image.size(), ref.data(), cols.size(), desc.data(), desc.size(), 0, kAll, 2);
    CHECK(out.all == ref.all, "%s C unfold differs from the C++ one", label.c_str());
    CHECK(sameBits(refUnfold(s, image), out.data(), cols.size()), "%s C unfold", label.c_str());
    for (int r = foldnd::SUM; r <= foldnd::MIN; ++r) {
        Guarded<T> img(image.size());
        st = cFold(cols.data(), cols.size(), img.data(), image.size(), desc.data(), desc.size(), r, w.data(), K, 0,
                   kAll, 2);
        CHECK(st == foldnd::OK, "%s C fold status %d", label.c_str(), st);
        CHECK(sameBits(refFold(s, cols, r, w.data()), img.data(), image.size()), "%s C fold reduce=%d", label.c_str(),
              r);
        CHECK(img.intact(image.size()), "%s C fold wrote outside its output", label.c_str());
    }
    CHECK(cUnfold(image.data(), image.size(), out.data(), cols.size(), desc.data(), desc.size(), 0, kAll, 0) ==
              foldnd::BAD_THREADS,
          "%s C unfold passes BAD_THREADS through", label.c_str());
    CHECK(cFold(cols.data(), cols.size(), cols.data() + 1, image.size(), desc.data(), desc.size(), 0, nullptr, 0, 0,
                kAll, 1) == foldnd::OVERLAP,
          "%s C fold passes OVERLAP through", label.c_str());
    CHECK(foldnd_unfold_items_c(desc.data(), desc.size(), sizeof(T)) ==
              foldnd_unfold_items(desc.data(), desc.size(), sizeof(T)),
          "%s C unfold items", label.c_str());
    CHECK(foldnd_fold_items_c(desc.data(), desc.size(), sizeof(T), 3) ==
              foldnd_fold_items(desc.data(), desc.size(), sizeof(T), 3),
          "%s C fold items", label.c_str());
    CHECK(foldnd_fold_items_c(desc.data(), 3, sizeof(T), 3) == -foldnd::BAD_DESCRIPTOR,
          "%s C items of a bad descriptor", label.c_str());
    // Streaming fold: descending ranges of blocks, each in parts of work items, then finished; the C
    // entry points give the C++ ones' image and weight sum, and the whole fold.
    const int64_t L = product(s.grid()), P = product(s.size), imageLength = s.planes * P;
    const int64_t items = foldnd_fold_blocks_items_c(desc.data(), desc.size(), sizeof(T));
    CHECK(items == foldnd_fold_blocks_items(desc.data(), desc.size(), sizeof(T)), "%s C block-fold items",
          label.c_str());
    CHECK(foldnd_fold_blocks_items_c(desc.data(), 3, sizeof(T)) == -foldnd::BAD_DESCRIPTOR,
          "%s C block-fold items of a bad descriptor", label.c_str());
    std::vector<std::pair<int64_t, int64_t>> ranges = randomParts(L, rng);
    std::reverse(ranges.begin(), ranges.end());
    const auto parts = randomParts(items, rng);
    for (int r = foldnd::SUM; r <= foldnd::MIN; ++r) {
        for (const T *weights : {static_cast<const T *>(nullptr), static_cast<const T *>(w.data())}) {
            const T init = r == foldnd::MAX   ? -std::numeric_limits<T>::infinity()
                           : r == foldnd::MIN ? std::numeric_limits<T>::infinity()
                                              : T(0);
            Guarded<T> img(imageLength), sum(P), refImg(imageLength), refSum(P);
            std::fill(img.data(), img.data() + imageLength, init);
            std::fill(refImg.data(), refImg.data() + imageLength, init);
            std::fill(sum.data(), sum.data() + P, T(0));
            std::fill(refSum.data(), refSum.data() + P, T(0));
            const int64_t wLength = weights ? K : 0;
            for (auto [firstBlock, blockCount] : ranges) {
                const std::vector<T> part = rangeColumns(s, cols, firstBlock, blockCount);
                for (auto [i0, n] : parts) {
                    st = cFoldBlocks(part.data(), part.size(), img.data(), imageLength, sum.data(), P, desc.data(),
                                     desc.size(), r, weights, wLength, firstBlock, blockCount, i0, n, 2);
                    CHECK(st == foldnd::OK, "%s C fold blocks status %d", label.c_str(), st);
                    foldnd_fold_blocks(part.data(), part.size(), refImg.data(), imageLength, refSum.data(), P,
                                       desc.data(), desc.size(), r, weights, wLength, firstBlock, blockCount, i0, n, 2);
                }
            }
            CHECK(img.all == refImg.all && sum.all == refSum.all, "%s C fold blocks differs from the C++ one reduce=%d",
                  label.c_str(), r);
            st = cFinishBlocks(img.data(), imageLength, sum.data(), P, desc.data(), desc.size(), r, 2);
            CHECK(st == foldnd::OK, "%s C finish blocks status %d", label.c_str(), st);
            foldnd_finish_blocks(refImg.data(), imageLength, refSum.data(), P, desc.data(), desc.size(), r, 2);
            CHECK(img.all == refImg.all, "%s C finish blocks differs from the C++ one reduce=%d", label.c_str(), r);
            CHECK(sameBits(refFold(s, cols, r, weights), img.data(), imageLength),
                  "%s C streamed fold reduce=%d weighted=%d", label.c_str(), r, weights != nullptr);
        }
    }
    Guarded<T> img(imageLength), sum(P);
    CHECK(cFoldBlocks(cols.data(), cols.size(), img.data(), imageLength, sum.data(), P, desc.data(), desc.size(),
                      foldnd::SUM, nullptr, 0, 1, L, 0, kAll, 1) == foldnd::BAD_RANGE,
          "%s C fold blocks passes BAD_RANGE through", label.c_str());
    CHECK(cFoldBlocks(cols.data(), cols.size(), img.data(), imageLength, nullptr, 0, desc.data(), desc.size(),
                      foldnd::MEAN, nullptr, 0, 0, L, 0, kAll, 1) == foldnd::NULL_POINTER,
          "%s C fold blocks passes NULL_POINTER through", label.c_str());
    CHECK(cFinishBlocks(img.data(), imageLength, img.data(), P, desc.data(), desc.size(), foldnd::MEAN, 1) ==
              foldnd::OVERLAP,
          "%s C finish blocks passes OVERLAP through", label.c_str());
    CHECK(cFinishBlocks(img.data(), imageLength, sum.data(), P - 1, desc.data(), desc.size(), foldnd::MAX, 1) ==
              foldnd::BAD_LENGTH,
          "%s C finish blocks passes BAD_LENGTH through", label.c_str());
}

/**
 * The C typed unfold (foldnd_unfold_typed_c) gives the C++ one's results for
 * every element type code (from offsets, whole and in parts of work items,
 * guards intact), passes its statuses through, and BAD_TYPE for unknown codes.
 */
void cTypedUnfold(std::mt19937 &rng) {
    // One width: random bit patterns through both entry points, then the definition.
    auto width = [&rng](auto zero, const Shape &s, int type, const std::string &label) {
        using U = decltype(zero);
        const auto desc = s.descriptor();
        const int64_t n = s.planes * product(s.size), m = s.planes * product(s.k) * product(s.grid());
        const int64_t at = 3;  // the elements from an offset on, as foldnd's heap arrays pass them
        std::vector<U> image(at + n);
        for (auto &x : image) x = static_cast<U>(rng() * 0x9E3779B97F4A7C15ull);
        Guarded<U> out(at + m), ref(at + m);
        int st = foldnd_unfold_typed_c(type, image.data(), at + n, at, out.data(), at + m, at, desc.data(), desc.size(),
                                       0, kAll, 2);
        CHECK(st == foldnd::OK, "%s C typed unfold %d status %d", label.c_str(), type, st);
        st = foldnd_unfold_typed(type, image.data(), at + n, at, ref.data(), at + m, at, desc.data(), desc.size(), 0,
                                 kAll, 2);
        CHECK(st == foldnd::OK, "%s C++ typed unfold %d status %d", label.c_str(), type, st);
        CHECK(out.all == ref.all, "%s C typed unfold %d differs from the C++ one", label.c_str(), type);
        const std::vector<U> whole(image.begin() + at, image.end());
        CHECK(sameBits(refUnfold(s, whole), out.data() + at, m), "%s C typed unfold %d", label.c_str(), type);
        Guarded<U> parts(m);
        const int64_t items = foldnd_unfold_items_c(desc.data(), desc.size(), sizeof(U));
        for (auto [first, count] : randomParts(items, rng)) {
            st = foldnd_unfold_typed_c(type, whole.data(), n, 0, parts.data(), m, 0, desc.data(), desc.size(), first,
                                       count, 3);
            CHECK(st == foldnd::OK, "%s C typed unfold %d in parts status %d", label.c_str(), type, st);
        }
        CHECK(sameBits(refUnfold(s, whole), parts.data(), m) && parts.intact(m), "%s C typed unfold %d in parts",
              label.c_str(), type);
        CHECK(foldnd_unfold_typed_c(type, image.data(), at + n, at + n + 1, out.data(), at + m, at, desc.data(),
                                    desc.size(), 0, kAll, 1) == foldnd::BAD_LENGTH,
              "%s C typed unfold %d passes BAD_LENGTH through", label.c_str(), type);
        CHECK(foldnd_unfold_typed_c(type, image.data(), at + n, at, out.data(), at + m, at, desc.data(), desc.size(), 0,
                                    kAll, 0) == foldnd::BAD_THREADS,
              "%s C typed unfold %d passes BAD_THREADS through", label.c_str(), type);
    };
    Shape fused{4, {6, 5}, {2, 2}, {1, 2}, {1, 1}, {2, 1}};
    fused.channels = 2;
    fused.layout = foldnd::BATCH_FUSED;
    const std::vector<Shape> shapes = {
        {3, {5, 7}, {2, 3}, {1, 2}, {1, 0}, {2, 1}},
        {2, {9}, {3}, {2}, {0}, {1}, 1, foldnd::PER_SAMPLE, {4}},  // asymmetric (ONNX pads)
        {1, {4, 3, 5}, {2, 1, 3}, {1, 1, 1}, {2, 0, 1}, {1, 2, 2}, 1, foldnd::PER_SAMPLE, {0, 1, 3}},  // asymmetric
        fused,
    };
    for (size_t i = 0; i < shapes.size(); ++i) {
        const Shape &s = shapes[i];
        const std::string label = "C typed #" + std::to_string(i);
        width(uint8_t(0), s, foldnd::INT8, label);
        width(uint16_t(0), s, foldnd::INT16, label);
        width(uint16_t(0), s, foldnd::FLOAT16, label);
        width(uint16_t(0), s, foldnd::BFLOAT16, label);
        width(uint32_t(0), s, foldnd::INT32, label);
        width(uint32_t(0), s, foldnd::FLOAT32, label);
        width(uint64_t(0), s, foldnd::INT64, label);
        width(uint64_t(0), s, foldnd::FLOAT64, label);
        const auto desc = s.descriptor();
        uint64_t one = 0;
        for (int bad : {-1, 8, 1000}) {
            const int c = foldnd_unfold_typed_c(bad, &one, 1, 0, &one, 1, 0, desc.data(), desc.size(), 0, kAll, 1);
            CHECK(c == foldnd::BAD_TYPE &&
                      c == foldnd_unfold_typed(bad, &one, 1, 0, &one, 1, 0, desc.data(), desc.size(), 0, kAll, 1),
                  "%s C typed unfold passes BAD_TYPE through for %d, got %d", label.c_str(), bad, c);
        }
    }
}

/**
 * The C typed fold (foldnd_fold_typed_c) gives the C++ one's results bit for
 * bit for every floating element type code (FLOAT16, BFLOAT16, FLOAT32,
 * FLOAT64), every merge, with and without weights, from offsets, whole and in
 * parts of work items, guards intact; passes its statuses through, and
 * BAD_TYPE for the integer and unknown codes.
 */
void cTypedFold(std::mt19937 &rng) {
    auto type = [&rng](auto zero, const Shape &s, int code, const std::string &label) {
        using H = decltype(zero);
        const auto desc = s.descriptor();
        const int64_t K = product(s.k), n = s.planes * product(s.size);
        const int64_t at = 3;  // from an offset on, as foldnd's heap arrays pass them
        RandomData<H> data(s, rng);
        const int64_t m = data.cols.size();
        std::vector<H> cols(at + m, H(0)), w(at + K, H(0));
        std::copy(data.cols.begin(), data.cols.end(), cols.begin() + at);
        std::copy(data.w.begin(), data.w.end(), w.begin() + at);
        const int64_t items = foldnd_fold_items_c(desc.data(), desc.size(), sizeof(H), 3);
        CHECK(items == foldnd_fold_items(desc.data(), desc.size(), sizeof(H), 3) && items > 0,
              "%s C fold items of type %d", label.c_str(), code);
        const auto parts = randomParts(items, rng);
        for (int r = foldnd::SUM; r <= foldnd::MIN; ++r) {
            for (const H *weights : {static_cast<const H *>(nullptr), static_cast<const H *>(w.data() + at)}) {
                const int64_t wLength = weights ? K : 0;
                Guarded<H> out(at + n), ref(at + n), inParts(n);
                int st = foldnd_fold_typed_c(code, cols.data(), at + m, at, out.data(), at + n, at, desc.data(),
                                             desc.size(), r, weights, wLength, 0, kAll, 2);
                CHECK(st == foldnd::OK, "%s C typed fold %d status %d", label.c_str(), code, st);
                st = foldnd_fold_typed(code, cols.data(), at + m, at, ref.data(), at + n, at, desc.data(), desc.size(),
                                       r, weights, wLength, 0, kAll, 2);
                CHECK(st == foldnd::OK, "%s C++ typed fold %d status %d", label.c_str(), code, st);
                CHECK(std::memcmp(out.all.data(), ref.all.data(), out.all.size() * sizeof(H)) == 0,
                      "%s C typed fold %d differs from the C++ one reduce=%d weighted=%d", label.c_str(), code, r,
                      weights != nullptr);
                CHECK(sameBits(refFold(s, data.cols, r, weights), out.data() + at, n) && out.intact(at + n),
                      "%s C typed fold %d reduce=%d weighted=%d", label.c_str(), code, r, weights != nullptr);
                for (auto [first, count] : parts) {
                    st = foldnd_fold_typed_c(code, data.cols.data(), m, 0, inParts.data(), n, 0, desc.data(),
                                             desc.size(), r, weights, wLength, first, count, 3);
                    CHECK(st == foldnd::OK, "%s C typed fold %d in parts status %d", label.c_str(), code, st);
                }
                CHECK(std::memcmp(inParts.data(), ref.data() + at, n * sizeof(H)) == 0 && inParts.intact(n),
                      "%s C typed fold %d in parts reduce=%d weighted=%d", label.c_str(), code, r, weights != nullptr);
            }
        }
        Guarded<H> out(at + n);
        CHECK(foldnd_fold_typed_c(code, cols.data(), at + m, at + m + 1, out.data(), at + n, at, desc.data(),
                                  desc.size(), foldnd::SUM, nullptr, 0, 0, kAll, 1) == foldnd::BAD_LENGTH,
              "%s C typed fold %d passes BAD_LENGTH through", label.c_str(), code);
        CHECK(foldnd_fold_typed_c(code, cols.data(), at + m, at, out.data(), at + n, at, desc.data(), desc.size(),
                                  foldnd::SUM, w.data() + at, K - 1, 0, kAll, 1) ==
                  foldnd_fold_typed(code, cols.data(), at + m, at, out.data(), at + n, at, desc.data(), desc.size(),
                                    foldnd::SUM, w.data() + at, K - 1, 0, kAll, 1),
              "%s C typed fold %d passes a weights length refusal through", label.c_str(), code);
        CHECK(foldnd_fold_typed_c(code, cols.data(), at + m, at, out.data(), at + n, at, desc.data(), desc.size(),
                                  foldnd::SUM, nullptr, 0, 0, kAll, 0) == foldnd::BAD_THREADS,
              "%s C typed fold %d passes BAD_THREADS through", label.c_str(), code);
    };
    Shape fused{4, {6, 5}, {2, 2}, {1, 2}, {1, 1}, {2, 1}};
    fused.channels = 2;
    fused.layout = foldnd::BATCH_FUSED;
    const std::vector<Shape> shapes = {
        {3, {5, 7}, {2, 3}, {1, 2}, {1, 0}, {2, 1}},
        {2, {9}, {3}, {2}, {0}, {1}, 1, foldnd::PER_SAMPLE, {4}},  // asymmetric (ONNX pads)
        {1, {4, 3, 5}, {2, 1, 3}, {1, 1, 1}, {2, 0, 1}, {1, 2, 2}, 1, foldnd::PER_SAMPLE, {0, 1, 3}},  // asymmetric
        fused,
    };
    for (size_t i = 0; i < shapes.size(); ++i) {
        const Shape &s = shapes[i];
        const std::string label = "C typed fold #" + std::to_string(i);
        type(foldnd::Float16(0.0f), s, foldnd::FLOAT16, label);
        type(foldnd::BFloat16(0.0f), s, foldnd::BFLOAT16, label);
        type(0.0f, s, foldnd::FLOAT32, label);
        type(0.0, s, foldnd::FLOAT64, label);
        const auto desc = s.descriptor();
        uint64_t one[2] = {0, 0};
        for (int bad : {int(foldnd::INT8), int(foldnd::INT16), int(foldnd::INT32), int(foldnd::INT64), -1, 8, 1000}) {
            const int c = foldnd_fold_typed_c(bad, &one[0], 1, 0, &one[1], 1, 0, desc.data(), desc.size(), foldnd::SUM,
                                              nullptr, 0, 0, kAll, 1);
            CHECK(c == foldnd::BAD_TYPE && c == foldnd_fold_typed(bad, &one[0], 1, 0, &one[1], 1, 0, desc.data(),
                                                                  desc.size(), foldnd::SUM, nullptr, 0, 0, kAll, 1),
                  "%s C typed fold passes BAD_TYPE through for %d, got %d", label.c_str(), bad, c);
        }
    }
}

}  // namespace

/**
 * The direct convolution passes (conv_direct.hpp) against the definition, in
 * the kernels' order of terms (channels, offsets, blocks; backwardWeight's
 * lanes by block index from the row's first block inside the image), so
 * bit for bit; every thread count gives the same bits.
 */
template <typename T>
void checkConvDirect(std::mt19937 &rng, int d) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    const int type = sizeof(T) == 4 ? foldnd::FLOAT32 : foldnd::FLOAT64;
    for (int trial = 0; trial < 12; ++trial) {
        Shape s = randomShape(rng, d);
        if (trial % 2 == 0) {  // stride 1 along rows, often wide ones: backwardWeight's whole vectors
            s.stride.back() = 1;
            if (trial % 4 == 0) s.size.back() = pick(20, 45);
        }
        const int64_t groups = pick(1, 4), cin = pick(1, 4), cout = pick(1, 3), batch = pick(1, 3);
        s.channels = groups * cin;
        s.planes = batch * s.channels;
        const int64_t C = s.channels, O = groups * cout, K = product(s.k), L = product(s.grid()), P = product(s.size);
        const auto desc = s.descriptor();
        std::uniform_real_distribution<double> u(-1, 1);
        std::vector<T> x(batch * C * P), w(O * cin * K), gy(batch * O * L);
        for (auto *v : {&x, &w, &gy})
            for (auto &e : *v) e = T(u(rng));
        std::vector<T> y(batch * O * L, T(0)), gx(batch * C * P, T(0)), gw(O * cin * K, T(0));
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t o = 0; o < O; ++o)
                for (int64_t ci = 0; ci < cin; ++ci) {
                    const int64_t c = (o / cout) * cin + ci;
                    for (int64_t k = 0; k < K; ++k) {
                        const auto kk = unravel(k, s.k);
                        const T wk = w[(o * cin + ci) * K + k];
                        for (int64_t l = 0; l < L; ++l) {
                            const int64_t at = position(s, unravel(l, s.grid()), kk);
                            if (at >= 0) y[(n * O + o) * L + l] += T(wk * x[(n * C + c) * P + at]);
                        }
                    }
                }
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t c = 0; c < C; ++c)
                for (int64_t oi = 0; oi < cout; ++oi) {
                    const int64_t o = (c / cin) * cout + oi;
                    for (int64_t k = 0; k < K; ++k) {
                        const auto kk = unravel(k, s.k);
                        const T wk = w[(o * cin + c % cin) * K + k];
                        for (int64_t l = 0; l < L; ++l) {
                            const int64_t at = position(s, unravel(l, s.grid()), kk);
                            if (at >= 0) gx[(n * C + c) * P + at] += T(wk * gy[(n * O + o) * L + l]);
                        }
                    }
                }
        const int last = s.dims() - 1;
        for (int64_t o = 0; o < O; ++o)
            for (int64_t ci = 0; ci < cin; ++ci) {
                const int64_t c = (o / cout) * cin + ci;
                for (int64_t k = 0; k < K; ++k) {
                    const auto kk = unravel(k, s.k);
                    // By columns (conv_direct.hpp): one sum per block position along the last dimension.
                    const int64_t width = s.grid()[last];
                    std::vector<T> columns(width, T(0));
                    for (int64_t n = 0; n < batch; ++n)
                        for (int64_t l = 0; l < L; ++l) {
                            const auto ll = unravel(l, s.grid());
                            const int64_t at = position(s, ll, kk);
                            if (at >= 0) columns[ll[last]] += T(gy[(n * O + o) * L + l] * x[(n * C + c) * P + at]);
                        }
                    T sum = T(0);
                    for (T v : columns) sum += v;
                    gw[(o * cin + ci) * K + k] = sum;
                }
            }
        const std::string label = "conv direct d=" + std::to_string(d) + " #" + std::to_string(trial);
        struct Pass {
            int code;
            const std::vector<T> &a, &b, &expected;
        };
        for (const Pass &p : {Pass{foldnd::CONV_FORWARD, x, w, y}, Pass{foldnd::CONV_BACKWARD_INPUT, gy, w, gx},
                              Pass{foldnd::CONV_BACKWARD_WEIGHT, x, gy, gw}}) {
            for (int threads : {1, 2, 3}) {
                Guarded<T> out(p.expected.size());
                const int st =
                    foldnd_conv_direct(type, p.code, desc.data(), desc.size(), O, groups, p.a.data(), p.a.size(),
                                       p.b.data(), p.b.size(), nullptr, 0, out.data(), p.expected.size(), threads);
                CHECK(st == foldnd::OK, "%s pass %d status %d", label.c_str(), p.code, st);
                CHECK(sameBits(p.expected, out.data(), p.expected.size()), "%s pass %d threads %d", label.c_str(),
                      p.code, threads);
                CHECK(out.intact(p.expected.size()), "%s pass %d wrote outside its output", label.c_str(), p.code);
            }
            // foldnd_conv_pass without a GEMM: this pass, whole or in parts (each a share of its items, bias and
            // bias gradient included), the parts in order giving the whole pass's bits; parts share no state.
            {
                const int64_t nExtra = p.code == foldnd::CONV_BACKWARD_INPUT ? 0 : O;
                std::vector<T> bias(nExtra);
                for (auto &v : bias) v = T(std::uniform_real_distribution<double>(-1, 1)(rng));
                auto pass = [&](int64_t part, int64_t parts, T *state, T *out, T *extra) {
                    T *e = p.code == foldnd::CONV_FORWARD ? bias.data() : extra;
                    return foldnd_conv_pass(type, p.code, desc.data(), desc.size(), O, groups, p.a.data(), p.a.size(),
                                            p.b.data(), p.b.size(), nExtra == 0 ? nullptr : e, nExtra, out,
                                            p.expected.size(), nullptr, part, parts, state, state == nullptr ? 0 : 1,
                                            2);
                };
                Guarded<T> whole(p.expected.size()), wholeExtra(nExtra);
                CHECK(pass(0, 1, nullptr, whole.data(), wholeExtra.data()) == foldnd::OK &&
                          (p.code == foldnd::CONV_FORWARD || sameBits(p.expected, whole.data(), p.expected.size())),
                      "%s pass %d through foldnd_conv_pass", label.c_str(), p.code);
                for (int64_t parts : {2, 3, 7}) {
                    Guarded<T> out(p.expected.size()), extra(nExtra);
                    bool ok = true;
                    for (int64_t part = 0; part < parts; ++part)
                        ok = ok && pass(part, parts, nullptr, out.data(), extra.data()) == foldnd::OK;
                    CHECK(ok &&
                              sameBits(std::vector<T>(whole.data(), whole.data() + p.expected.size()), out.data(),
                                       p.expected.size()) &&
                              out.intact(p.expected.size()),
                          "%s pass %d in %lld direct parts", label.c_str(), p.code, static_cast<long long>(parts));
                    if (p.code == foldnd::CONV_BACKWARD_WEIGHT)
                        CHECK(sameBits(std::vector<T>(wholeExtra.data(), wholeExtra.data() + nExtra), extra.data(),
                                       nExtra) &&
                                  extra.intact(nExtra),
                              "%s bias gradient in %lld direct parts", label.c_str(), static_cast<long long>(parts));
                }
                Guarded<T> out(p.expected.size()), extra(nExtra);
                T one = 0;
                CHECK(pass(2, 2, nullptr, out.data(), extra.data()) == foldnd::BAD_RANGE &&
                          pass(-1, 2, nullptr, out.data(), extra.data()) == foldnd::BAD_RANGE &&
                          pass(0, 0, nullptr, out.data(), extra.data()) == foldnd::BAD_RANGE &&
                          pass(0, 1, &one, out.data(), extra.data()) == foldnd::BAD_RANGE,
                      "%s pass %d: a direct part out of range, or with a state", label.c_str(), p.code);
                CHECK(out.intact(0) && extra.intact(0), "%s refused parts wrote nothing around", label.c_str());
            }
            // Refusals: a short input or output, groups not dividing, an unknown pass or type, overlap.
            auto run = [&](int t, int pass, int64_t o, int64_t g, int64_t aLen, const T *out, int64_t outLen) {
                return foldnd_conv_direct(t, pass, desc.data(), desc.size(), o, g, p.a.data(), aLen, p.b.data(),
                                          p.b.size(), nullptr, 0, const_cast<T *>(out), outLen, 1);
            };
            std::vector<T> sink(p.expected.size());
            CHECK(run(type, p.code, O, groups, p.a.size() - 1, sink.data(), sink.size()) == foldnd::BAD_LENGTH,
                  "%s short input", label.c_str());
            CHECK(run(type, p.code, O, groups, p.a.size(), sink.data(), sink.size() - 1) == foldnd::BAD_LENGTH,
                  "%s short output", label.c_str());
            if ((O + 1) % groups != 0)
                CHECK(run(type, p.code, O + 1, groups, p.a.size(), sink.data(), sink.size()) == foldnd::BAD_DESCRIPTOR,
                      "%s groups not dividing C_out", label.c_str());
            if (C % (groups + 1) != 0)
                CHECK(run(type, p.code, O, groups + 1, p.a.size(), sink.data(), sink.size()) == foldnd::BAD_DESCRIPTOR,
                      "%s groups not dividing C_in", label.c_str());
            CHECK(run(type, 3, O, groups, p.a.size(), sink.data(), sink.size()) == foldnd::BAD_DESCRIPTOR, "%s pass 3",
                  label.c_str());
            CHECK(run(foldnd::FLOAT16, p.code, O, groups, p.a.size(), sink.data(), sink.size()) == foldnd::BAD_TYPE,
                  "%s half", label.c_str());
            CHECK(run(type, p.code, O, groups, p.a.size(), p.a.data(), sink.size()) == foldnd::OVERLAP, "%s in place",
                  label.c_str());
        }
        // With extra: forward adds the bias to each sum last; backwardWeight sums gy per channel in
        // kBiasLanes lanes (block l of every sample to lane l mod kBiasLanes), then the lanes in order.
        std::vector<T> bias(O), yb(y), gb(O);
        for (auto &e : bias) e = T(u(rng));
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t o = 0; o < O; ++o)
                for (int64_t l = 0; l < L; ++l) yb[(n * O + o) * L + l] = T(y[(n * O + o) * L + l] + bias[o]);
        for (int64_t o = 0; o < O; ++o) {
            std::vector<T> lanes(foldnd::kBiasLanes, T(0));
            for (int64_t n = 0; n < batch; ++n)
                for (int64_t l = 0; l < L; ++l) lanes[l % foldnd::kBiasLanes] += gy[(n * O + o) * L + l];
            T sum = T(0);
            for (T v : lanes) sum += v;
            gb[o] = sum;
        }
        auto withExtra = [&](int pass, const std::vector<T> &a, const std::vector<T> &b, T *extra, int64_t extraLength,
                             T *out, int64_t outLength, int threads) {
            return foldnd_conv_direct(type, pass, desc.data(), desc.size(), O, groups, a.data(), a.size(), b.data(),
                                      b.size(), extra, extraLength, out, outLength, threads);
        };
        for (int threads : {1, 2, 3}) {
            Guarded<T> out(yb.size()), extra(O);
            std::copy(bias.begin(), bias.end(), extra.data());
            int st = withExtra(foldnd::CONV_FORWARD, x, w, extra.data(), O, out.data(), yb.size(), threads);
            CHECK(st == foldnd::OK && sameBits(yb, out.data(), yb.size()) && out.intact(yb.size()) &&
                      sameBits(bias, extra.data(), O),
                  "%s forward with bias, threads %d (status %d)", label.c_str(), threads, st);
            Guarded<T> weights(gw.size()), gradBias(O);
            st = withExtra(foldnd::CONV_BACKWARD_WEIGHT, x, gy, gradBias.data(), O, weights.data(), gw.size(), threads);
            CHECK(st == foldnd::OK && sameBits(gw, weights.data(), gw.size()) && sameBits(gb, gradBias.data(), O) &&
                      weights.intact(gw.size()) && gradBias.intact(O),
                  "%s backwardWeight with the bias gradient, threads %d (status %d)", label.c_str(), threads, st);
        }
        std::vector<T> sinkY(yb.size()), sinkX(x.size()), sinkW(gw.size()), extra(O);
        CHECK(withExtra(foldnd::CONV_FORWARD, x, w, extra.data(), O - 1, sinkY.data(), sinkY.size(), 1) ==
                  foldnd::BAD_LENGTH,
              "%s short bias", label.c_str());
        CHECK(withExtra(foldnd::CONV_BACKWARD_INPUT, gy, w, extra.data(), O, sinkX.data(), sinkX.size(), 1) ==
                  foldnd::BAD_DESCRIPTOR,
              "%s a bias for backwardInput", label.c_str());
        CHECK(withExtra(foldnd::CONV_BACKWARD_WEIGHT, x, gy, const_cast<T *>(gy.data()), O, sinkW.data(), sinkW.size(),
                        1) == foldnd::OVERLAP,
              "%s bias gradient over gy", label.c_str());
        CHECK(withExtra(foldnd::CONV_BACKWARD_WEIGHT, x, gy, sinkW.data(), O, sinkW.data(), sinkW.size(), 1) ==
                  foldnd::OVERLAP,
              "%s bias gradient over the weights' gradient", label.c_str());
        CHECK(withExtra(foldnd::CONV_FORWARD, x, w, sinkY.data(), O, sinkY.data(), sinkY.size(), 1) == foldnd::OVERLAP,
              "%s bias over y", label.c_str());
    }
}

/**
 * Shapes that reach half_fold.hpp's vector paths, run through checkHalfFold
 * (both paths, every merge, against the definition): in 2-d and 3-d, rows at
 * stride 1 long enough for several groups of eight elements and runs of up to
 * 18 offsets (above kMaxChunk: the path declines), with every dilation and
 * padding, so that rows start and end part-way through a group; rows at
 * stride 7 to 24 with 6 to 30 offsets (tiles of eight, the offsets left over,
 * and at stride 7 or dilation 2 the declining path); in 1-d,
 * chunks at stride 8 to 40 with dilation 1 (the transposed tiles) or 2.
 */
void halfVectorPaths(std::mt19937 &rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    for (int trial = 0; trial < 90; ++trial) {
        const int d = trial % 3 + 1;
        Shape s{pick(1, 3), {}, {}, {}, {}, {}};
        for (int i = 0; i < d; ++i) {
            const bool last = i == d - 1;
            if (d == 1) {
                s.size.push_back(pick(40, 700));
                s.k.push_back(pick(2, 40));
                s.dil.push_back(trial % 4 == 0 ? 2 : 1);
                s.stride.push_back(pick(8, 40));
            } else if (trial % 2 == 0) {  // stride 1: runs of offsets (runRow)
                s.size.push_back(last ? pick(1, 90) : pick(1, 6));
                s.k.push_back(last ? pick(1, 18) : pick(1, 3));
                s.dil.push_back(pick(1, 3));
                s.stride.push_back(last ? 1 : pick(1, 2));
            } else {  // stride 8 and up: groups of eight offsets in transposed tiles (stridedRun)
                s.size.push_back(last ? pick(8, 300) : pick(1, 5));
                s.k.push_back(last ? pick(6, 30) : pick(1, 3));
                s.dil.push_back(last && trial % 5 != 1 ? 1 : pick(1, 2));
                s.stride.push_back(last ? pick(7, 24) : pick(1, 2));
            }
            s.pad.push_back(pick(0, 9));
        }
        if (trial % 2 == 0)
            for (int i = 0; i < d; ++i) s.padEnd.push_back(pick(0, 9));
        bool ok = true;
        for (auto x : s.grid()) ok = ok && x >= 1;
        if (ok) checkHalfFold(s, rng, "half vector paths d=" + std::to_string(d) + " #" + std::to_string(trial));
    }
}

/**
 * Shapes that reach unfold's transposed tiles (unfoldTiles: dilation 1,
 * stride >= 4, a chunk of at least 16 bytes of offsets in the last dimension:
 * 16, 8, 4 or 2 of them by width), and stride-1 rows of every length (copyRun's
 * overlapping tail), through checkTyped (every width, in random parts of the
 * work items, against the definition): 1-d to 3-d, rows starting and ending
 * part-way through a tile, padding, the batch-fused layout, and dilation 2 or
 * stride 3 where the tiles decline.
 */
void narrowUnfoldPaths(std::mt19937 &rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    for (int trial = 0; trial < 60; ++trial) {
        const int d = trial % 3 + 1;
        Shape s{pick(1, 4), {}, {}, {}, {}, {}};
        for (int i = 0; i < d; ++i) {
            const bool last = i == d - 1, rowCopy = trial % 4 == 3;
            s.size.push_back(last ? pick(1, d == 1 ? 600 : 200) : pick(1, 5));
            s.k.push_back(last ? (rowCopy ? pick(1, 5) : pick(6, 40)) : pick(1, 3));
            s.dil.push_back(last && trial % 7 != 0 ? 1 : pick(1, 2));
            s.stride.push_back(last ? (rowCopy ? 1 : pick(3, 24)) : pick(1, 2));
            s.pad.push_back(pick(0, 12));
        }
        if (trial % 2 == 0)
            for (int i = 0; i < d; ++i) s.padEnd.push_back(pick(0, 12));
        if (trial % 5 == 0 && s.planes % 2 == 0) {
            s.layout = foldnd::BATCH_FUSED;
            s.channels = 2;
        }
        bool ok = true;
        for (auto x : s.grid()) ok = ok && x >= 1;
        if (ok) checkTyped(s, rng, "narrow unfold paths d=" + std::to_string(d) + " #" + std::to_string(trial));
    }
}

/**
 * Shapes where fold gathers (kernels.hpp, usesFoldGather: small planes, rows
 * of fewer than 8 blocks, at least 16 planes), through checkShape (every
 * merge, weighted or not, 1-3 threads, random parts, against the
 * definition): 1-d to 3-d, padding (asymmetric in half), dilation, strides,
 * and the batch-fused layout.
 */
void foldGatherPaths(std::mt19937 &rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    for (int trial = 0; trial < 24; ++trial) {
        const int d = trial % 3 + 1;
        Shape s{pick(16, 40), {}, {}, {}, {}, {}};
        for (int i = 0; i < d; ++i) {
            s.size.push_back(i == d - 1 ? pick(1, 9) : pick(1, 5));
            s.k.push_back(pick(1, 4));
            s.dil.push_back(pick(1, 2));
            s.pad.push_back(pick(0, 3));
            s.stride.push_back(pick(1, 3));
        }
        if (trial % 2 == 0)
            for (int i = 0; i < d; ++i) s.padEnd.push_back(pick(0, 3));
        if (trial % 4 == 1 && s.planes % 2 == 0) {
            s.layout = foldnd::BATCH_FUSED;
            s.channels = 2;
        }
        bool ok = true;
        for (auto x : s.grid()) ok = ok && x >= 1 && x < 8;
        if (!ok) continue;
        const std::string label = "fold gather d=" + std::to_string(d) + " #" + std::to_string(trial);
        checkShape<float>(s, rng, label);
        checkShape<double>(s, rng, label);
    }
    // Fewer planes than a large team's items: each plane is cut into bands, which gather one plane at a
    // time over their elements (foldPart), where whole planes gather in groups.
    Shape s{pick(16, 31), {7, 7, 7}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}};
    const auto desc = s.descriptor();
    const int64_t K = product(s.k);
    RandomData<float> data(s, rng);
    for (int r = foldnd::SUM; r <= foldnd::MIN; ++r) {
        for (const float *weights : {static_cast<const float *>(nullptr), static_cast<const float *>(data.w.data())}) {
            Guarded<float> img(data.image.size());
            const int st = foldnd_fold(data.cols.data(), data.cols.size(), img.data(), data.image.size(), desc.data(),
                                       desc.size(), r, weights, weights ? K : 0, 0, kAll, 8);
            CHECK(st == foldnd::OK, "fold gather bands status %d", st);
            CHECK(sameBits(refFold(s, data.cols, r, weights), img.data(), data.image.size()),
                  "fold gather bands reduce=%d weighted=%d", r, weights != nullptr);
            CHECK(img.intact(data.image.size()), "fold gather bands wrote outside its output");
        }
    }
}

/**
 * Shapes that fold sums and unfold by shifts (kernels.hpp, ShiftedPlanes and
 * ShiftedUnfold: whole planes at stride 1 whose every dimension past the first
 * has as many blocks as image elements, 16 planes or more), through checkShape (every merge, weighted or not, the
 * widest vectors, AVX2 and the baseline, random parts, against the
 * definition): 1-d to 3-d, padding split unevenly between the ends, dilation,
 * dimension 0 with any padding (offsets whose blocks all lie in it among
 * them), planes under one vector, of whole vectors and with a partial last
 * one, kernels wider than the image, and the batch-fused layout.
 */
void foldShiftPaths(std::mt19937 &rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    for (int trial = 0; trial < 24; ++trial) {
        const int d = trial % 3 + 1;
        Shape s{pick(16, 40), {}, {}, {}, {}, {}};
        s.padEnd.resize(size_t(d));
        for (int i = 0; i < d; ++i) {
            s.size.push_back(i == d - 1 ? pick(1, 7) : pick(1, 5));
            s.k.push_back(pick(1, 5));
            s.dil.push_back(pick(1, 2));
            s.stride.push_back(1);
            const int64_t span = s.dil[size_t(i)] * (s.k[size_t(i)] - 1);
            if (i == 0) {  // any padding that leaves a block
                s.pad.push_back(pick(0, int(span) + 2));
                s.padEnd[0] = std::max<int64_t>(pick(0, 3), span + 1 - s.size[0] - s.pad[0]);
            } else {  // as many blocks as elements
                s.pad.push_back(pick(0, int(span)));
                s.padEnd[size_t(i)] = span - s.pad[size_t(i)];
            }
        }
        if (trial % 4 == 1 && s.planes % 2 == 0) {
            s.layout = foldnd::BATCH_FUSED;
            s.channels = 2;
        }
        const std::string label = "shifts d=" + std::to_string(d) + " #" + std::to_string(trial);
        checkShape<float>(s, rng, label);
        checkShape<double>(s, rng, label);
    }
    // The ResNet layer's 3x3 at padding 1 on 7x7 planes (three vectors of 16 and one element), and 4x4 planes
    // (one whole vector of floats, two of doubles).
    for (int64_t n : {7, 4}) {
        Shape s{pick(16, 24), {n, n}, {3, 3}, {1, 1}, {1, 1}, {1, 1}};
        const auto desc = s.descriptor();
        foldnd::Geometry g;
        CHECK(foldnd::decode(desc.data(), int64_t(desc.size()), g) == foldnd::OK, "fold shifts decode");
        const foldnd::OffsetTables t(g);
        const foldnd::RowSource rows(g, t, false);
        CHECK(foldnd::usesFoldGather(g) && foldnd::ShiftedPlanes<float>(g, rows).ok() == foldnd::Cpu::avx2(),
              "fold shifts: %lld^2 planes not summed by shifts", static_cast<long long>(n));
        CHECK(foldnd::ShiftedUnfold<double>(g, rows).ok() == foldnd::Cpu::avx2(),
              "unfold shifts: %lld^2 planes not unfolded by shifts", static_cast<long long>(n));
        checkShape<float>(s, rng, "fold shifts 3x3 on " + std::to_string(n) + "^2");
        checkShape<double>(s, rng, "fold shifts 3x3 on " + std::to_string(n) + "^2");
    }
    // Planes the gather does not take: rows of 8 blocks and more, dilation 2 at padding 2, and 1-d with the
    // padding split 1 + 3.
    Shape wide{16, {9, 21}, {3, 3}, {2, 2}, {2, 2}, {1, 1}};
    checkShape<float>(wide, rng, "fold shifts 3x3 d=2 on 9x21");
    checkShape<double>(wide, rng, "fold shifts 3x3 d=2 on 9x21");
    Shape line{16, {300}, {5}, {1}, {1}, {1}};
    line.padEnd = {3};
    checkShape<float>(line, rng, "fold shifts 1-d k=5 on 300");
    checkShape<double>(line, rng, "fold shifts 1-d k=5 on 300");
}

/**
 * A row-major GEMM from its definition, with CBLAS's arguments: c = alpha
 * op(a) op(b) + beta c, each sum in index order. The tiled passes' tests run on
 * it, as foldnd-conv runs them on OpenBLAS's.
 */
template <typename T>
void definitionGemm(int, int transA, int transB, int m, int n, int k, T alpha, const T *a, int lda, const T *b, int ldb,
                    T beta, T *c, int ldc) {
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            T sum = T(0);
            for (int p = 0; p < k; ++p)
                sum += (transA == foldnd::kTrans ? a[p * lda + i] : a[i * lda + p]) *
                       (transB == foldnd::kTrans ? b[j * ldb + p] : b[p * ldb + j]);
            c[i * ldc + j] = beta == T(0) ? alpha * sum : alpha * sum + beta * c[i * ldc + j];
        }
}

/**
 * The tiled convolution passes (conv_tiled.hpp) against the definition,
 * computed in double: within the rounding of sums of that many terms (their
 * order is the GEMM's), 1x1 layers whose products read x in place among them. Whole
 * samples, one block and a few blocks per tile, and groups of whole samples;
 * each on the processor's widest kernels and on the baseline, and each gives
 * the same bits on 1, 2 and 3 threads. Refusals of bad arguments.
 */
template <typename T>
void checkConvTiled(std::mt19937 &rng, int d) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    const int type = sizeof(T) == 4 ? foldnd::FLOAT32 : foldnd::FLOAT64;
    const void *gemm = reinterpret_cast<const void *>(&definitionGemm<T>);
    for (int trial = 0; trial < 12; ++trial) {
        Shape s = randomShape(rng, d);
        if (trial % 4 == 0) {  // 1x1 at stride 1 without padding: x is the columns (plainProduct)
            for (int i = 0; i < d; ++i) s.k[i] = s.stride[i] = 1, s.pad[i] = 0;
            s.padEnd.clear();
        }
        const int64_t groups = pick(1, 3), cin = pick(1, 6), cout = pick(1, 5), batch = pick(1, 3);
        s.channels = groups * cin;
        s.planes = batch * s.channels;
        const int64_t C = s.channels, O = groups * cout, K = product(s.k), L = product(s.grid()), P = product(s.size);
        const auto desc = s.descriptor();
        std::uniform_real_distribution<double> u(-1, 1);
        std::vector<T> x(batch * C * P), w(O * cin * K), gy(batch * O * L), bias(O);
        for (auto *v : {&x, &w, &gy, &bias})
            for (auto &e : *v) e = T(u(rng));
        // The definition in double, and each output's sum of |terms| for its rounding bound.
        std::vector<double> y(batch * O * L), gx(batch * C * P), gw(O * cin * K), gb(O);
        std::vector<double> ya(y.size()), gxa(gx.size()), gwa(gw.size()), gba(O);
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t o = 0; o < O; ++o)
                for (int64_t ci = 0; ci < cin; ++ci) {
                    const int64_t c = (o / cout) * cin + ci;
                    for (int64_t k = 0; k < K; ++k) {
                        const auto kk = unravel(k, s.k);
                        const double wk = w[(o * cin + ci) * K + k];
                        for (int64_t l = 0; l < L; ++l) {
                            const int64_t at = position(s, unravel(l, s.grid()), kk);
                            if (at < 0) continue;
                            const double xv = x[(n * C + c) * P + at], gv = gy[(n * O + o) * L + l];
                            y[(n * O + o) * L + l] += wk * xv;
                            ya[(n * O + o) * L + l] += std::abs(wk * xv);
                            gx[(n * C + c) * P + at] += wk * gv;
                            gxa[(n * C + c) * P + at] += std::abs(wk * gv);
                            gw[(o * cin + ci) * K + k] += gv * xv;
                            gwa[(o * cin + ci) * K + k] += std::abs(gv * xv);
                        }
                    }
                }
        for (int64_t n = 0; n < batch; ++n)
            for (int64_t o = 0; o < O; ++o)
                for (int64_t l = 0; l < L; ++l) {
                    y[(n * O + o) * L + l] += bias[o];
                    ya[(n * O + o) * L + l] += std::abs(double(bias[o]));
                    gb[o] += gy[(n * O + o) * L + l];
                    gba[o] += std::abs(double(gy[(n * O + o) * L + l]));
                }
        const double terms = double(cin * K + batch * L + 2);
        const double eps = std::numeric_limits<T>::epsilon();
        const std::string label = "conv tiled d=" + std::to_string(d) + " #" + std::to_string(trial);
        auto near = [&](const std::vector<double> &want, const std::vector<double> &abs, const T *got) {
            for (size_t i = 0; i < want.size(); ++i)
                if (!(std::abs(double(got[i]) - want[i]) <= terms * eps * abs[i])) return false;
            return true;
        };
        struct Pass {
            int code;
            const std::vector<T> &a, &b;
            const std::vector<double> &want, &abs;
            bool extraIn, extraOut;  // forward's bias, backwardWeight's bias gradient
        };
        for (const Pass &p : {Pass{foldnd::CONV_FORWARD, x, w, y, ya, true, false},
                              Pass{foldnd::CONV_BACKWARD_INPUT, gy, w, gx, gxa, false, false},
                              Pass{foldnd::CONV_BACKWARD_WEIGHT, x, gy, gw, gwa, false, true}}) {
            const size_t n = p.want.size();
            // The shipped tiling; per-sample tiles of one block and of a few (backwardWeight by chunks of them, and
            // by blocks of the weight's columns); sample groups of half the batch and of whatever 2000 bytes hold.
            // The last two read the weights transposed instead of copying them so (backwardInput).
            const foldnd::ConvTiling tilings[] = {{},
                                                  {1, 1, 1, 1 << 20},
                                                  {200, 1, 1, 1 << 20},
                                                  {200, 1, 1, 0},
                                                  {1, 1 << 20, 1 << 30, 0},
                                                  {1, 1 << 20, 2000, 0, 0},
                                                  {200, 1, 1, 1 << 20, 0}};
            // Each tiling on the widest kernels this processor has (float backwardWeight's products on foldnd's
            // own where it has AVX2 with FMA or AVX-512), on the AVX2 ones (the same where it has no AVX-512) and
            // on the baseline (the GEMM passed in).
            const foldnd::ProductWidth widths[] = {foldnd::ProductWidth::AVX512, foldnd::ProductWidth::AVX2,
                                                   foldnd::ProductWidth::NONE};
            for (int tried = 0; tried < 3 * int(std::size(tilings)); ++tried) {
                const foldnd::ConvTiling &tiling = tilings[tried / 3];
                foldnd::productWidthCap() = widths[tried % 3];
                foldnd::ConvTiling::current() = tiling;
                const long long tileBytes = tiling.tileBytes * 1000 + tiling.groupTileBytes;  // for the messages
                const char *kernels = tried % 3 == 0 ? "widest kernels" : tried % 3 == 1 ? "AVX2 or less" : "baseline";
                std::vector<T> first;
                for (int threads : {1, 2, 3}) {
                    Guarded<T> out(n), extra(O);
                    if (p.extraIn) std::copy(bias.begin(), bias.end(), extra.data());
                    T *e = p.extraIn || p.extraOut ? extra.data() : nullptr;
                    const int st = foldnd_conv_tiled(type, p.code, desc.data(), desc.size(), O, groups, p.a.data(),
                                                     p.a.size(), p.b.data(), p.b.size(), e, e == nullptr ? 0 : O,
                                                     out.data(), n, gemm, 0, 1, nullptr, 0, threads);
                    CHECK(st == foldnd::OK, "%s pass %d status %d", label.c_str(), p.code, st);
                    CHECK(near(p.want, p.abs, out.data()), "%s pass %d tile %lld %s threads %d off the definition",
                          label.c_str(), p.code, (long long)tileBytes, kernels, threads);
                    if (p.extraOut) CHECK(near(gb, gba, extra.data()), "%s bias gradient", label.c_str());
                    CHECK(out.intact(n) && extra.intact(O), "%s pass %d wrote outside its output", label.c_str(),
                          p.code);
                    if (first.empty()) {
                        first.assign(out.data(), out.data() + n);
                    } else {
                        CHECK(sameBits(first, out.data(), n), "%s pass %d tile %lld %s: threads %d differ from 1",
                              label.c_str(), p.code, (long long)tileBytes, kernels, threads);
                    }
                    // In parts, as on heap arrays (each part a critical region), the state kept between them:
                    // the whole pass's bits, the bias gradient's too, whatever the parts and threads.
                    int64_t plan[2] = {-1, -1};
                    const int pl =
                        foldnd_conv_tiled_plan(type, p.code, desc.data(), desc.size(), O, groups, threads, plan, 2);
                    CHECK(pl == foldnd::OK && plan[0] >= 1 && plan[1] >= 0, "%s pass %d plan %d: %lld parts, %lld",
                          label.c_str(), p.code, pl, (long long)plan[0], (long long)plan[1]);
                    const int64_t stateLength = plan[1];
                    for (int64_t parts : {int64_t(2), int64_t(3), int64_t(7), plan[0]}) {
                        Guarded<T> partOut(n), partExtra(O), state(size_t(std::max<int64_t>(stateLength, 0)));
                        if (p.extraIn) std::copy(bias.begin(), bias.end(), partExtra.data());
                        T *pe = p.extraIn || p.extraOut ? partExtra.data() : nullptr;
                        for (int64_t part = 0; part < parts; ++part) {
                            const int pst = foldnd_conv_pass(
                                type, p.code, desc.data(), desc.size(), O, groups, p.a.data(), p.a.size(), p.b.data(),
                                p.b.size(), pe, pe == nullptr ? 0 : O, partOut.data(), n, gemm, part, parts,
                                stateLength == 0 ? nullptr : state.data(), stateLength, threads);
                            CHECK(pst == foldnd::OK, "%s pass %d part %lld/%lld status %d", label.c_str(), p.code,
                                  (long long)part, (long long)parts, pst);
                        }
                        CHECK(sameBits(first, partOut.data(), n),
                              "%s pass %d tile %lld %s threads %d: %lld parts differ", label.c_str(), p.code,
                              (long long)tileBytes, kernels, threads, (long long)parts);
                        if (p.extraOut)
                            CHECK(sameBits(std::vector<T>(extra.data(), extra.data() + O), partExtra.data(), O),
                                  "%s bias gradient in %lld parts", label.c_str(), (long long)parts);
                        CHECK(partOut.intact(n) && partExtra.intact(O) && state.intact(size_t(stateLength)),
                              "%s pass %d: parts wrote outside their output or state", label.c_str(), p.code);
                    }
                }
            }
            foldnd::productWidthCap() = foldnd::ProductWidth::AVX512;
            foldnd::ConvTiling::current() = foldnd::ConvTiling{};
            // Refusals: no GEMM, a short input, output or bias, a bias for backwardInput, overlap, another type.
            std::vector<T> sink(n), extra(O);
            auto run = [&](int t, const void *fn, int64_t aLen, T *ex, int64_t exLen, T *out, int64_t outLen) {
                return foldnd_conv_tiled(t, p.code, desc.data(), desc.size(), O, groups, p.a.data(), aLen, p.b.data(),
                                         p.b.size(), ex, exLen, out, outLen, fn, 0, 1, nullptr, 0, 1);
            };
            CHECK(run(type, nullptr, p.a.size(), nullptr, 0, sink.data(), n) == foldnd::NULL_POINTER, "%s no GEMM",
                  label.c_str());
            CHECK(run(type, gemm, p.a.size() - 1, nullptr, 0, sink.data(), n) == foldnd::BAD_LENGTH, "%s short input",
                  label.c_str());
            CHECK(run(type, gemm, p.a.size(), nullptr, 0, sink.data(), n - 1) == foldnd::BAD_LENGTH, "%s short output",
                  label.c_str());
            const int wantExtra = p.code == foldnd::CONV_BACKWARD_INPUT ? foldnd::BAD_DESCRIPTOR : foldnd::BAD_LENGTH;
            CHECK(run(type, gemm, p.a.size(), extra.data(), O - 1, sink.data(), n) == wantExtra, "%s short bias",
                  label.c_str());
            CHECK(run(type, gemm, p.a.size(), nullptr, 0, const_cast<T *>(p.a.data()), n) == foldnd::OVERLAP,
                  "%s in place", label.c_str());
            if (p.code == foldnd::CONV_BACKWARD_WEIGHT)
                CHECK(run(type, gemm, p.a.size(), const_cast<T *>(p.b.data()), O, sink.data(), n) == foldnd::OVERLAP,
                      "%s bias gradient over gy", label.c_str());
            CHECK(run(foldnd::FLOAT16, gemm, p.a.size(), nullptr, 0, sink.data(), n) == foldnd::BAD_TYPE, "%s half",
                  label.c_str());
            // Parts: out of range, and a state that is missing, short, or over an argument.
            int64_t plan[2] = {-1, -1};
            CHECK(foldnd_conv_tiled_plan(type, p.code, desc.data(), desc.size(), O, groups, 1, plan, 2) == foldnd::OK,
                  "%s plan", label.c_str());
            const int64_t need = plan[1];
            std::vector<T> state(size_t(need) + 1);
            auto inParts = [&](int64_t part, int64_t parts, T *st, int64_t stLen, T *out) {
                return foldnd_conv_tiled(type, p.code, desc.data(), desc.size(), O, groups, p.a.data(), p.a.size(),
                                         p.b.data(), p.b.size(), nullptr, 0, out, n, gemm, part, parts, st, stLen, 1);
            };
            for (auto [part, parts] : {std::pair<int64_t, int64_t>{-1, 2}, {2, 2}, {0, 0}, {0, int64_t(1) << 31}})
                CHECK(inParts(part, parts, state.data(), need, sink.data()) == foldnd::BAD_RANGE,
                      "%s part %lld of %lld", label.c_str(), (long long)part, (long long)parts);
            if (need > 0) {
                CHECK(inParts(0, 2, nullptr, 0, sink.data()) == foldnd::NULL_POINTER, "%s no state", label.c_str());
                CHECK(inParts(0, 2, state.data(), need - 1, sink.data()) == foldnd::BAD_LENGTH, "%s short state",
                      label.c_str());
                CHECK(inParts(0, 2, sink.data(), need, sink.data()) == foldnd::OVERLAP, "%s state over the output",
                      label.c_str());
                CHECK(inParts(0, 2, const_cast<T *>(p.a.data()), need, sink.data()) == foldnd::OVERLAP,
                      "%s state over an input", label.c_str());
            }
            CHECK(foldnd_conv_tiled_plan(foldnd::FLOAT16, p.code, desc.data(), desc.size(), O, groups, 1, plan, 2) ==
                      foldnd::BAD_TYPE,
                  "%s plan of half", label.c_str());
            CHECK(foldnd_conv_tiled_plan(type, 3, desc.data(), desc.size(), O, groups, 1, plan, 2) ==
                      foldnd::BAD_DESCRIPTOR,
                  "%s plan of pass 3", label.c_str());
            CHECK(foldnd_conv_tiled_plan(type, p.code, desc.data(), desc.size(), O, groups, 0, plan, 2) ==
                      foldnd::BAD_THREADS,
                  "%s plan for 0 threads", label.c_str());
            CHECK(foldnd_conv_tiled_plan(type, p.code, desc.data(), desc.size(), O, groups, 1, plan, 1) ==
                      foldnd::BAD_LENGTH,
                  "%s plan of 1 element", label.c_str());
            CHECK(foldnd_conv_tiled_plan(type, p.code, desc.data(), desc.size(), O, groups, 1, nullptr, 2) ==
                      foldnd::NULL_POINTER,
                  "%s plan into null", label.c_str());
        }
    }
}

/**
 * products.hpp's kernels on every width this processor has (AVX-512, AVX2
 * with FMA). backwardWeight's, on sizes that reach each block shape, the last
 * rows fewer than a block, channel counts across the 16-, 32-, 48- and
 * 64-channel kernels and past 64, the eight-by-eight transposes and their
 * scalar edges: each element of P is exactly the chain of fused multiply-adds
 * in block order (std::fma) from its old value, or from 0 on a first product.
 * Forward's packed products likewise from 0, in depth order. Nothing outside
 * the outputs' rows and columns is written, and the inputs are untouched.
 */
void productKernels(std::mt19937 &rng) {
    auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    std::uniform_real_distribution<float> u(-1, 1);
    const struct {
        foldnd::ProductWidth width;
        const char *name;
    } widths[] = {{foldnd::ProductWidth::AVX512, "AVX-512"}, {foldnd::ProductWidth::AVX2, "AVX2"}};
    for (const auto &w : widths) {
        foldnd::productWidthCap() = w.width;
        if (foldnd::productWidth<float>() != w.width) {
            std::printf("product kernels: this processor has no %s, not tested here\n", w.name);
            continue;
        }
        for (int trial = 0; trial < 60; ++trial) {
            const int64_t rows = pick(1, 40), cout = trial < 20 ? pick(1, 20) : pick(1, 150), m = pick(1, 50);
            const int64_t lda = m + pick(0, 3), ldb = m + pick(0, 3), ldp = cout + pick(0, 3);
            const bool first = trial % 3 == 0;
            std::vector<float> a(rows * lda), b(cout * ldb);
            for (auto *v : {&a, &b})
                for (auto &e : *v) e = u(rng);
            const std::vector<float> a0 = a, b0 = b;
            Guarded<float> p(rows * ldp);
            for (int64_t i = 0; i < rows * ldp; ++i) p.data()[i] = i % ldp < cout ? u(rng) : float(kSentinel);
            const std::vector<float> old(p.data(), p.data() + rows * ldp);
            std::vector<float> bt(m * foldnd::productRow(cout), float(kSentinel));
            foldnd::accumulateProducts(w.width, a.data(), lda, rows, b.data(), ldb, cout, m, p.data(), ldp, first,
                                       bt.data());
            bool exact = true, kept = true;
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t o = 0; o < ldp; ++o) {
                    const float got = p.data()[r * ldp + o];
                    if (o >= cout) {
                        kept = kept && got == float(kSentinel);
                        continue;
                    }
                    float want = first ? 0.0f : old[r * ldp + o];
                    for (int64_t l = 0; l < m; ++l) want = std::fma(a[r * lda + l], b[o * ldb + l], want);
                    exact = exact && std::memcmp(&got, &want, sizeof(float)) == 0;
                }
            CHECK(exact, "%s products %lld x %lld, %lld deep (first %d): not the chains of fused multiply-adds", w.name,
                  (long long)rows, (long long)cout, (long long)m, int(first));
            CHECK(kept && p.intact(rows * ldp) && a == a0 && b == b0,
                  "%s products %lld x %lld, %lld deep: wrote outside P or into its inputs", w.name, (long long)rows,
                  (long long)cout, (long long)m);
        }
        // forward's: c = a b, a packed (packRows), b read in place; rows across whole and partial blocks,
        // columns across whole panels, single vectors and a masked last one.
        for (int trial = 0; trial < 60; ++trial) {
            const int64_t rows = pick(1, 30), depth = pick(1, 40), n = trial < 20 ? pick(1, 20) : pick(1, 120);
            const int64_t lda = depth + pick(0, 3), ldb = n + pick(0, 3), ldc = n + pick(0, 3);
            std::vector<float> a(rows * lda), b(depth * ldb), ap(rows * depth);
            for (auto *v : {&a, &b})
                for (auto &e : *v) e = u(rng);
            const std::vector<float> a0 = a, b0 = b;
            if (trial % 2 == 0) {
                foldnd::packRows(w.width, a.data(), lda, 1, rows, depth, ap.data());
            } else {  // the same rows read transposed: a^T's columns (backwardInput's W^T)
                std::vector<float> at(depth * rows);
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t k = 0; k < depth; ++k) at[k * rows + r] = a[r * lda + k];
                foldnd::packRows(w.width, at.data(), 1, rows, rows, depth, ap.data());
            }
            Guarded<float> c(rows * ldc);
            for (int64_t i = 0; i < rows * ldc; ++i) c.data()[i] = float(kSentinel);
            foldnd::multiplyPacked(w.width, ap.data(), rows, depth, b.data(), ldb, n, c.data(), ldc);
            bool exact = true, kept = true;
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t j = 0; j < ldc; ++j) {
                    const float got = c.data()[r * ldc + j];
                    if (j >= n) {
                        kept = kept && got == float(kSentinel);
                        continue;
                    }
                    float want = 0.0f;
                    for (int64_t k = 0; k < depth; ++k) want = std::fma(a[r * lda + k], b[k * ldb + j], want);
                    exact = exact && std::memcmp(&got, &want, sizeof(float)) == 0;
                }
            CHECK(exact, "%s packed product %lld x %lld, %lld deep: not the chains of fused multiply-adds", w.name,
                  (long long)rows, (long long)n, (long long)depth);
            CHECK(kept && c.intact(rows * ldc) && a == a0 && b == b0,
                  "%s packed product %lld x %lld, %lld deep: wrote outside c or into its inputs", w.name,
                  (long long)rows, (long long)n, (long long)depth);
        }
    }
    foldnd::productWidthCap() = foldnd::ProductWidth::AVX512;
}

int main() {
    std::mt19937 rng(12345);
    refusals();
    halfConversions(rng);
    halfSums(rng);
    halfVectorPaths(rng);
    narrowUnfoldPaths(rng);
    foldGatherPaths(rng);
    foldShiftPaths(rng);
    productKernels(rng);
    CHECK(foldnd_c_api_version() == FOLDND_C_API_VERSION, "C API version %d", foldnd_c_api_version());
    cEntryPoints<float>(rng, foldnd_unfold_f32, foldnd_fold_f32, foldnd_fold_blocks_f32, foldnd_finish_blocks_f32,
                        "C float");
    cEntryPoints<double>(rng, foldnd_unfold_f64, foldnd_fold_f64, foldnd_fold_blocks_f64, foldnd_finish_blocks_f64,
                         "C double");
    cTypedUnfold(rng);
    cTypedFold(rng);
    edgeCases(rng);
    const Shape permutation{3, {4, 44}, {2, 2}, {1, 1}, {0, 0}, {2, 2}},
        gathered{3, {9, 45}, {3, 3}, {1, 1}, {1, 1}, {2, 2}}, hop{2, {6, 100}, {2, 32}, {1, 1}, {1, 3}, {1, 16}};
    sumsFromZero<float>(permutation, 2, rng);
    sumsFromZero<double>(permutation, 2, rng);
    sumsFromZero<float>(hop, 1, rng);  // HopBand where the processor has AVX-512
    sumsFromZero<double>(hop, 1, rng);
    for (bool avx2 : {false, true}) {  // GatheredBand on the widest vectors, then on AVX2
        foldnd::Cpu::forceAvx2(avx2);
        sumsFromZero<float>(gathered, 1, rng);
        sumsFromZero<double>(gathered, 1, rng);
    }
    foldnd::Cpu::forceAvx2(false);
    for (int d = 1; d <= 3; ++d) {
        checkConvDirect<float>(rng, d);
        checkConvDirect<double>(rng, d);
        checkConvTiled<float>(rng, d);
        checkConvTiled<double>(rng, d);
    }
    for (int d = 1; d <= 4; ++d) {
        for (int trial = 0; trial < 25; ++trial) {
            Shape s = randomShape(rng, d);
            checkShape<float>(s, rng, "random float d=" + std::to_string(d) + " #" + std::to_string(trial));
            checkShape<double>(s, rng, "random double d=" + std::to_string(d) + " #" + std::to_string(trial));
            // The same blocks in the batch-fused layout, with the planes split into
            // batch x channels.
            s.layout = foldnd::BATCH_FUSED;
            s.channels = s.planes % 2 == 0 ? 2 : 1;
            checkShape<float>(s, rng, "fused float d=" + std::to_string(d) + " #" + std::to_string(trial));
            checkShape<double>(s, rng, "fused double d=" + std::to_string(d) + " #" + std::to_string(trial));
        }
    }
    for (int d = 1; d <= 2; ++d) {
        for (int trial = 0; trial < 25; ++trial) {
            Shape s = randomShape(rng, d, true);
            checkShape<float>(s, rng, "wide float d=" + std::to_string(d) + " #" + std::to_string(trial));
            checkShape<double>(s, rng, "wide double d=" + std::to_string(d) + " #" + std::to_string(trial));
        }
    }
    std::printf("%d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
