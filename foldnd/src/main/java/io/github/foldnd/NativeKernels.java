package io.github.foldnd;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The JavaCPP binding of native/include/foldnd/api.h: an internal detail of {@link NativeEngine}.
 * The JavaCPP Maven plugin generates and compiles the JNI glue from these declarations at build
 * time (see pom.xml). The glue checks nothing, so callers must pass validated arguments; the C++
 * side re-validates the geometry and lengths and returns a status (never an exception) instead of
 * overrunning.
 *
 * <p>Heap arrays cross in critical regions (no copy; a region lasts one kernel call on one part of
 * the work, and nothing inside allocates or calls back into Java). Direct buffers and JavaCPP
 * pointers cross as raw addresses that the caller captured and checked once.
 *
 * <p>The library brings its OpenMP runtime: JavaCPP loads the preloaded library below from the
 * platform jar (the build copies it there, copyLibs) before the JNI library, whose reference to it
 * then binds to that copy. So a machine without it (a slim container, an old distribution) still
 * gets the native engine; where the jar lacks it, JavaCPP falls back to the system's.
 *
 * <p>The glue also includes foldnd/c_api.h, which defines the same entry points as exported C
 * symbols ({@code foldnd_unfold_f32}, ...) in this one translation unit: foldnd-ffm calls them
 * through FFM downcalls, by name, in the library that this class loads.
 */
@Properties({
    @Platform(
            include = {"foldnd/api.h", "foldnd/c_api.h"},
            compiler = "cpp17"),
    @Platform(value = "linux", preload = "gomp@.1"),
    @Platform(value = "macosx", preload = "omp"),
    @Platform(value = "windows", preload = "vcomp140")
})
final class NativeKernels {
    static {
        Loader.load();
    }

    private NativeKernels() {}

    /** Forces the class, and so the library, to load; throws if it cannot. */
    static void load() {}

    // ---- unfold and fold of any element type (ElementType's code): two C++ entry points,
    // foldnd_unfold_typed (the kernel of the type's width) and foldnd_fold_typed (the floating
    // types). Heap arrays cross in a critical region (no copy), for the work items [first, first +
    // count) of the call at a time, so that each region is short (see NativeContract.CRITICAL_BYTES);
    // each array is used from an offset on (a heap buffer's arrayOffset() + position()), its length
    // the whole array's, lengths and offsets in elements. One declaration per Java array type
    // (JavaCPP needs the type), and one for native memory: raw addresses captured and validated
    // once by the caller (Bounds), offsets 0. Not Buffer or Pointer parameters: the generated glue
    // would read their position again after the Java checks, and another thread may have moved it.

    @CriticalRegion
    @Name("foldnd_unfold_typed")
    static native int unfoldTyped(
            int type,
            @Cast("const void*") byte[] image,
            long imageLength,
            long imageOffset,
            @Cast("void*") byte[] columns,
            long columnLength,
            long columnOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_unfold_typed")
    static native int unfoldTyped(
            int type,
            @Cast("const void*") short[] image,
            long imageLength,
            long imageOffset,
            @Cast("void*") short[] columns,
            long columnLength,
            long columnOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_unfold_typed")
    static native int unfoldTyped(
            int type,
            @Cast("const void*") int[] image,
            long imageLength,
            long imageOffset,
            @Cast("void*") int[] columns,
            long columnLength,
            long columnOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_unfold_typed")
    static native int unfoldTyped(
            int type,
            @Cast("const void*") long[] image,
            long imageLength,
            long imageOffset,
            @Cast("void*") long[] columns,
            long columnLength,
            long columnOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_unfold_typed")
    static native int unfoldTyped(
            int type,
            @Cast("const void*") float[] image,
            long imageLength,
            long imageOffset,
            @Cast("void*") float[] columns,
            long columnLength,
            long columnOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_unfold_typed")
    static native int unfoldTyped(
            int type,
            @Cast("const void*") double[] image,
            long imageLength,
            long imageOffset,
            @Cast("void*") double[] columns,
            long columnLength,
            long columnOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long first,
            long count,
            int threads);

    @Name("foldnd_unfold_typed")
    static native int unfoldTyped(
            int type,
            @Cast("const void*") long image,
            long imageLength,
            long imageOffset,
            @Cast("void*") long columns,
            long columnLength,
            long columnOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long first,
            long count,
            int threads);

    // ---- fold of FLOAT16 and BFLOAT16 (their short bits; ElementType's code): foldnd_fold_typed ------

    @CriticalRegion
    @Name("foldnd_fold_typed")
    static native int foldTyped(
            int type,
            @Cast("const void*") short[] columns,
            long columnLength,
            long columnOffset,
            @Cast("void*") short[] image,
            long imageLength,
            long imageOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Cast("const void*") short[] weights,
            long weightsLength,
            long first,
            long count,
            int threads);

    @Name("foldnd_fold_typed")
    static native int foldTyped(
            int type,
            @Cast("const void*") long columns,
            long columnLength,
            long columnOffset,
            @Cast("void*") long image,
            long imageLength,
            long imageOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Cast("const void*") short[] weights,
            long weightsLength,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_fold_typed")
    static native int foldTyped(
            int type,
            @Cast("const void*") float[] columns,
            long columnLength,
            long columnOffset,
            @Cast("void*") float[] image,
            long imageLength,
            long imageOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Cast("const void*") float[] weights,
            long weightsLength,
            long first,
            long count,
            int threads);

    @Name("foldnd_fold_typed")
    static native int foldTyped(
            int type,
            @Cast("const void*") long columns,
            long columnLength,
            long columnOffset,
            @Cast("void*") long image,
            long imageLength,
            long imageOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Cast("const void*") float[] weights,
            long weightsLength,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_fold_typed")
    static native int foldTyped(
            int type,
            @Cast("const void*") double[] columns,
            long columnLength,
            long columnOffset,
            @Cast("void*") double[] image,
            long imageLength,
            long imageOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Cast("const void*") double[] weights,
            long weightsLength,
            long first,
            long count,
            int threads);

    @Name("foldnd_fold_typed")
    static native int foldTyped(
            int type,
            @Cast("const void*") long columns,
            long columnLength,
            long columnOffset,
            @Cast("void*") long image,
            long imageLength,
            long imageOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Cast("const void*") double[] weights,
            long weightsLength,
            long first,
            long count,
            int threads);

    // ---- streaming fold (block_fold.hpp): a range of blocks into an existing image and weight sum ------

    @CriticalRegion
    @Name("foldnd_fold_blocks_at")
    static native int foldBlocks(
            @Const float[] columns,
            long columnLength,
            long columnOffset,
            float[] image,
            long imageLength,
            long imageOffset,
            float[] weightSum,
            long weightSumLength,
            long weightSumOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Const float[] weights,
            long weightsLength,
            long firstBlock,
            long blockCount,
            long first,
            long count,
            int threads);

    @Name("foldnd_fold_blocks")
    static native int foldBlocksFloats(
            @Cast("const float*") long columns,
            long columnLength,
            @Cast("float*") long image,
            long imageLength,
            @Cast("float*") long weightSum,
            long weightSumLength,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Const float[] weights,
            long weightsLength,
            long firstBlock,
            long blockCount,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_finish_blocks_at")
    static native int finishBlocks(
            float[] image,
            long imageLength,
            long imageOffset,
            @Const float[] weightSum,
            long weightSumLength,
            long weightSumOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            int threads);

    @Name("foldnd_finish_blocks")
    static native int finishBlocksFloats(
            @Cast("float*") long image,
            long imageLength,
            @Cast("const float*") long weightSum,
            long weightSumLength,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            int threads);

    @CriticalRegion
    @Name("foldnd_fold_blocks_at")
    static native int foldBlocks(
            @Const double[] columns,
            long columnLength,
            long columnOffset,
            double[] image,
            long imageLength,
            long imageOffset,
            double[] weightSum,
            long weightSumLength,
            long weightSumOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Const double[] weights,
            long weightsLength,
            long firstBlock,
            long blockCount,
            long first,
            long count,
            int threads);

    @Name("foldnd_fold_blocks")
    static native int foldBlocksDoubles(
            @Cast("const double*") long columns,
            long columnLength,
            @Cast("double*") long image,
            long imageLength,
            @Cast("double*") long weightSum,
            long weightSumLength,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            @Const double[] weights,
            long weightsLength,
            long firstBlock,
            long blockCount,
            long first,
            long count,
            int threads);

    @CriticalRegion
    @Name("foldnd_finish_blocks_at")
    static native int finishBlocks(
            double[] image,
            long imageLength,
            long imageOffset,
            @Const double[] weightSum,
            long weightSumLength,
            long weightSumOffset,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            int threads);

    @Name("foldnd_finish_blocks")
    static native int finishBlocksDoubles(
            @Cast("double*") long image,
            long imageLength,
            @Cast("const double*") long weightSum,
            long weightSumLength,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            int reduce,
            int threads);

    // ---- the work items that a call's parts count (see kernels.hpp, ItemRange) ------------------------

    /** How many work items a block-range fold has (planes + 1 times its bands); a negative status if refused. */
    @Name("foldnd_fold_blocks_items")
    static native long foldBlocksItems(
            @Cast("const int64_t*") long[] descriptor, long descriptorLength, int elementBytes);

    /** How many work items an unfold has for elements of elementBytes bytes; a negative status if refused. */
    @Name("foldnd_unfold_items")
    static native long unfoldItems(@Cast("const int64_t*") long[] descriptor, long descriptorLength, int elementBytes);

    /** How many work items a fold has on this many threads; a negative status if refused. */
    @Name("foldnd_fold_items")
    static native long foldItems(
            @Cast("const int64_t*") long[] descriptor, long descriptorLength, int elementBytes, int threads);

    // ---- convolution passes for foldnd-conv (foldnd_conv_pass; see NativeContract.ConvPass and ConvArrays):
    // a direct pass where gemm is 0, else a tiled one (or one part of it), its GEMM at address gemm
    // (cblas_sgemm's or cblas_dgemm's signature).

    /** On raw addresses of native memory the caller validated. */
    @Name("foldnd_conv_pass")
    static native int convPass(
            int type,
            int pass,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long outChannels,
            long groups,
            @Cast("const void*") long a,
            long aLength,
            @Cast("const void*") long b,
            long bLength,
            @Cast("void*") long extra,
            long extraLength,
            @Cast("void*") long out,
            long outLength,
            @Cast("const void*") long gemm,
            long part,
            long parts,
            @Cast("void*") long state,
            long stateLength,
            int threads);

    /**
     * On heap arrays, in one critical region (no copy; the caller keeps the call short: a direct
     * pass within NativeContract.CRITICAL_BYTES, a tiled one in parts); extra may be null. Each
     * array from index 0, its length the whole array's; state is native memory.
     */
    @CriticalRegion
    @Name("foldnd_conv_pass")
    static native int convPass(
            int type,
            int pass,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long outChannels,
            long groups,
            @Cast("const void*") float[] a,
            long aLength,
            @Cast("const void*") float[] b,
            long bLength,
            @Cast("void*") float[] extra,
            long extraLength,
            @Cast("void*") float[] out,
            long outLength,
            @Cast("const void*") long gemm,
            long part,
            long parts,
            @Cast("void*") long state,
            long stateLength,
            int threads);

    @CriticalRegion
    @Name("foldnd_conv_pass")
    static native int convPass(
            int type,
            int pass,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long outChannels,
            long groups,
            @Cast("const void*") double[] a,
            long aLength,
            @Cast("const void*") double[] b,
            long bLength,
            @Cast("void*") double[] extra,
            long extraLength,
            @Cast("void*") double[] out,
            long outLength,
            @Cast("const void*") long gemm,
            long part,
            long parts,
            @Cast("void*") long state,
            long stateLength,
            int threads);

    /** foldnd_conv_tiled_plan: into plan, the most parts worth making and the state they need (elements). */
    @Name("foldnd_conv_tiled_plan")
    static native int convTiledPlan(
            int type,
            int pass,
            @Cast("const int64_t*") long[] descriptor,
            long descriptorLength,
            long outChannels,
            long groups,
            int threads,
            @Cast("int64_t*") long[] plan,
            long planLength);

    /** foldnd_conv_scratch_peak: the most native scratch a tiled pass has held (bytes); reset != 0 clears it. */
    @Name("foldnd_conv_scratch_peak")
    static native long convScratchPeak(int reset);
}
