package io.github.foldnd.bench;

import io.github.foldnd.Engine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;

/**
 * unfold (im2col), float32, default threads: foldnd's engines on each memory kind,
 * and the peers on the same problem ({@link Problem}). Each benchmark runs in its own fork.
 */
@Fork(jvmArgsAppend = "-Xmx8g")
public class UnfoldBenchmark extends SuiteBenchmark {
    @Benchmark
    public Object nativeBuffer(Problem p) {
        nativeEngine().unfold(p.geometry, p.image, p.columns);
        return p.columns;
    }

    @Benchmark
    public Object nativePointer(Problem p) {
        nativeEngine().unfold(p.geometry, p.imagePointer, p.columnsPointer);
        return p.columnsPointer;
    }

    /** Through the array API, which allocates the output array on every call. */
    @Benchmark
    public Object nativeArray(Problem p) {
        return nativeEngine().unfold(p.geometry, p.imageArray);
    }

    /** Through the array API into the caller's array (no array to allocate and zero). */
    @Benchmark
    public Object nativeArrayInto(Problem p) {
        nativeEngine().unfold(p.geometry, p.imageArray, p.columnsArray);
        return p.columnsArray;
    }

    @Benchmark
    public Object javaArray(Problem p) {
        return Engine.pureJava().unfold(p.geometry, p.imageArray);
    }

    @Benchmark
    public Object pytorch(Problem.Torch t) {
        return t.peer.unfold();
    }

    @Benchmark
    public Object nd4j(Problem.Nd4j n) {
        return n.peer.unfold();
    }
}
