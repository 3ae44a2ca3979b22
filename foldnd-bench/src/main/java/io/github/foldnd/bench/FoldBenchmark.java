package io.github.foldnd.bench;

import io.github.foldnd.Engine;
import io.github.foldnd.Reduce;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * fold (col2im), float32, summing overlaps, default threads: foldnd's engines on each memory kind,
 * and the peers on the same problem ({@link Problem}). Each benchmark runs in its own fork.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx8g"})
public class FoldBenchmark {
    static Engine nativeEngine() {
        return Engine.nativeEngine().orElseThrow();
    }

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
