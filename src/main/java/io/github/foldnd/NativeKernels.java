package io.github.foldnd;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of native/include/foldnd/api.h: an internal detail of {@link NativeEngine}.
 * The JavaCPP Maven plugin generates and compiles the JNI glue from these declarations at build
 * time (see pom.xml). The glue checks nothing, so callers must pass validated arguments; the C++
 * side re-validates the geometry and lengths and returns a status instead of overrunning.
 *
 * <p>Heap arrays cross in critical regions (no copy; the region lasts exactly one kernel call and
 * nothing inside allocates or calls back into Java). Direct buffers cross as their address plus
 * position, JavaCPP pointers as their address plus position.
 */
@Platform(include = "foldnd/api.h", compiler = "cpp17")
final class NativeKernels {
    static {
        Loader.load();
    }

    private NativeKernels() {}

    /** Forces the class, and so the library, to load; throws if it cannot. */
    static void load() {}

    @CriticalRegion
    @Name("foldnd_unfold")
    static native int unfold(@Const float[] image, long imageLength, float[] columns, long columnLength,
                             @Cast("const int64_t*") long[] descriptor, long descriptorLength, int threads);

    @CriticalRegion
    @Name("foldnd_unfold")
    static native int unfold(@Const double[] image, long imageLength, double[] columns, long columnLength,
                             @Cast("const int64_t*") long[] descriptor, long descriptorLength, int threads);

    @Name("foldnd_unfold")
    static native int unfold(@Const FloatBuffer image, long imageLength, FloatBuffer columns, long columnLength,
                             @Cast("const int64_t*") long[] descriptor, long descriptorLength, int threads);

    @Name("foldnd_unfold")
    static native int unfold(@Const DoubleBuffer image, long imageLength, DoubleBuffer columns, long columnLength,
                             @Cast("const int64_t*") long[] descriptor, long descriptorLength, int threads);

    @Name("foldnd_unfold")
    static native int unfold(@Const FloatPointer image, long imageLength, FloatPointer columns, long columnLength,
                             @Cast("const int64_t*") long[] descriptor, long descriptorLength, int threads);

    @Name("foldnd_unfold")
    static native int unfold(@Const DoublePointer image, long imageLength, DoublePointer columns, long columnLength,
                             @Cast("const int64_t*") long[] descriptor, long descriptorLength, int threads);

    @CriticalRegion
    @Name("foldnd_fold")
    static native int fold(@Const float[] columns, long columnLength, float[] image, long imageLength,
                           @Cast("const int64_t*") long[] descriptor, long descriptorLength, int reduce,
                           @Const float[] weights, long weightsLength, int threads);

    @CriticalRegion
    @Name("foldnd_fold")
    static native int fold(@Const double[] columns, long columnLength, double[] image, long imageLength,
                           @Cast("const int64_t*") long[] descriptor, long descriptorLength, int reduce,
                           @Const double[] weights, long weightsLength, int threads);

    @Name("foldnd_fold")
    static native int fold(@Const FloatBuffer columns, long columnLength, FloatBuffer image, long imageLength,
                           @Cast("const int64_t*") long[] descriptor, long descriptorLength, int reduce,
                           @Const float[] weights, long weightsLength, int threads);

    @Name("foldnd_fold")
    static native int fold(@Const DoubleBuffer columns, long columnLength, DoubleBuffer image, long imageLength,
                           @Cast("const int64_t*") long[] descriptor, long descriptorLength, int reduce,
                           @Const double[] weights, long weightsLength, int threads);

    @Name("foldnd_fold")
    static native int fold(@Const FloatPointer columns, long columnLength, FloatPointer image, long imageLength,
                           @Cast("const int64_t*") long[] descriptor, long descriptorLength, int reduce,
                           @Const float[] weights, long weightsLength, int threads);

    @Name("foldnd_fold")
    static native int fold(@Const DoublePointer columns, long columnLength, DoublePointer image, long imageLength,
                           @Cast("const int64_t*") long[] descriptor, long descriptorLength, int reduce,
                           @Const double[] weights, long weightsLength, int threads);

    /**
     * A parallel copy of n floats: not part of fold/unfold, but the yardstick the benchmarks
     * measure them against (no implementation can move the same bytes faster than a copy).
     */
    @Name("foldnd_copy")
    static native void copy(@Const FloatPointer from, FloatPointer to, long n, int threads);
}
