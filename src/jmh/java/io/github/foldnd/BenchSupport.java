package io.github.foldnd;

import org.bytedeco.javacpp.FloatPointer;

/** What the benchmarks need from inside the package: the native parallel copy that sets the floor. */
public final class BenchSupport {
    private BenchSupport() {}

    /** Copies n floats with the native engine's threads (the same OpenMP team fold uses). */
    public static void copy(FloatPointer from, FloatPointer to, long n) {
        NativeKernels.copy(from, to, n, FoldNd.threads());
    }
}
