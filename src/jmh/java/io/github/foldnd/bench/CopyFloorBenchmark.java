package io.github.foldnd.bench;

import io.github.foldnd.BenchSupport;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor: a parallel copy on all of foldnd's threads of a buffer far larger than the last-level
 * cache. Copy bandwidth = 2 x bytes / time (each byte read once and written once); a fold or
 * unfold that reads its input once and writes its output once can take no less than
 * (input bytes + output bytes) / that bandwidth. The report divides each case's time by it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx2g"})
@State(Scope.Benchmark)
public class CopyFloorBenchmark {
    /** 64 Mi floats = 256 MiB each way. */
    public static final long ELEMENTS = 64L << 20;

    FloatPointer from, to;

    @Setup(Level.Trial)
    public void setUp() {
        ByteBuffer a = Data.direct(ELEMENTS, 4), b = Data.direct(ELEMENTS, 4);
        a.asFloatBuffer().put(Data.randomFloats(ELEMENTS, 3));
        from = Data.pointer(a);
        to = Data.pointer(b);
    }

    @Benchmark
    public Object copy() {
        BenchSupport.copy(from, to, ELEMENTS);
        return to;
    }
}
