package io.github.foldnd.bench;

import io.github.foldnd.Engine;
import io.github.foldnd.Reduce;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;

/**
 * fold (col2im), float32, summing overlaps, default threads: foldnd's engines on each memory kind,
 * and the peers on the same problem ({@link Problem}). Each benchmark runs in its own fork.
 */
@Fork(jvmArgsAppend = "-Xmx8g")
public class FoldBenchmark extends SuiteBenchmark {
    @Benchmark
    public Object nativeBuffer(Problem p) {
        nativeEngine().fold(p.geometry, p.columns, Reduce.SUM, null, p.image);
        return p.image;
    }

    @Benchmark
    public Object nativePointer(Problem p) {
        nativeEngine().fold(p.geometry, p.columnsPointer, Reduce.SUM, null, p.imagePointer);
        return p.imagePointer;
    }

    /** Through the array API, which allocates the output array on every call. */
    @Benchmark
    public Object nativeArray(Problem p) {
        return nativeEngine().fold(p.geometry, p.columnsArray, Reduce.SUM, null);
    }

    /** Through the array API into the caller's array (no array to allocate and zero). */
    @Benchmark
    public Object nativeArrayInto(Problem p) {
        nativeEngine().fold(p.geometry, p.columnsArray, Reduce.SUM, null, p.imageArray);
        return p.imageArray;
    }

    @Benchmark
    public Object javaArray(Problem p) {
        return Engine.pureJava().fold(p.geometry, p.columnsArray, Reduce.SUM, null);
    }

    @Benchmark
    public Object pytorch(Problem.Torch t) {
        return t.peer.fold();
    }

    @Benchmark
    public Object nd4j(Problem.Nd4j n) {
        return n.peer.fold();
    }
}
