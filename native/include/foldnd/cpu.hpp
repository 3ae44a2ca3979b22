// foldnd/cpu.hpp: runtime dispatch. The library is compiled for its
// platform's baseline (x86-64: SSE2), so that it loads on every processor of
// the platform; a path that needs more (F16C, AVX2) lives in a function of its
// own, compiled for that target, and runs only where Cpu says the processor
// has it (half_fold.hpp's 16-bit loops; kernels.hpp's foldBandAvx2, the whole
// fold band compiled again for AVX2, GatheredBand's AVX-512 and AVX2
// stride-2 rows, HopBand's AVX-512 hops, and ShiftedPlanes' and ShiftedUnfold's
// whole planes by shifts on either; products.hpp's AVX2 and AVX-512 product
// kernels for the convolution's weight gradient). Every fold and unfold path
// has a baseline twin giving the same bits (the product kernels' twin is the
// caller's BLAS: the same sums to within rounding), and FOLDND_BASELINE=1 in the environment (read once)
// or Cpu::forceBaseline (the C++ tests, foldnd_force_baseline) turns the wider
// paths off, so that both are tested on any machine.
#ifndef FOLDND_CPU_HPP
#define FOLDND_CPU_HPP

#include <atomic>
#include <cstdlib>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FOLDND_X86_DISPATCH 1
#endif

namespace foldnd {

/**
 * What the processor offers beyond the baseline the library is compiled for,
 * asked once; forceBaseline() (FOLDND_BASELINE=1 at startup, or the API) hides
 * it, so that the baseline paths stay testable on any machine.
 */
class Cpu {
  public:
    /**
     * True when AVX2 and the F16C conversions may be used (every x86-64 since
     * 2013-2015): ask once per call, not per row.
     */
    static bool avx2() { return !baseline().load(std::memory_order_relaxed) && hasAvx2(); }

    /** True when AVX2 and FMA may be used (products.hpp's 8-wide kernels). */
    static bool avx2Fma() { return avx2() && hasFma(); }

    /** True when AVX-512 Foundation may be used (products.hpp's 16-wide kernels, kernels.hpp's GatheredBand,
     * HopBand, ShiftedPlanes and ShiftedUnfold). */
    static bool avx512() {
        return !baseline().load(std::memory_order_relaxed) && !narrowed().load(std::memory_order_relaxed) &&
               hasAvx512();
    }

    static void forceBaseline(bool on) { baseline().store(on, std::memory_order_relaxed); }
    static bool baselineForced() { return baseline().load(std::memory_order_relaxed); }
    /** Hides AVX-512 alone, so that the C++ tests reach the AVX2 paths on a processor that has both. */
    static void forceAvx2(bool on) { narrowed().store(on, std::memory_order_relaxed); }

  private:
    static std::atomic<bool> &narrowed() {
        static std::atomic<bool> on{false};
        return on;
    }
    static std::atomic<bool> &baseline() {
        static std::atomic<bool> forced{[] {
            const char *v = std::getenv("FOLDND_BASELINE");
            return v != nullptr && v[0] == '1';
        }()};
        return forced;
    }
    static bool hasAvx2() {
#ifdef FOLDND_X86_DISPATCH
        static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
        return has;
#else
        return false;
#endif
    }
    static bool hasFma() {
#ifdef FOLDND_X86_DISPATCH
        static const bool has = __builtin_cpu_supports("fma");
        return has;
#else
        return false;
#endif
    }
    static bool hasAvx512() {
#ifdef FOLDND_X86_DISPATCH
        static const bool has = __builtin_cpu_supports("avx512f");
        return has;
#else
        return false;
#endif
    }
};

}  // namespace foldnd

#endif
