package io.github.foldnd.bench;

import io.github.foldnd.FoldNd;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The floor: a parallel copy on all of foldnd's threads of a buffer far larger than the last-level
 * cache. Copy bandwidth = 2 x bytes / time (each byte read once and written once); a fold or
 * unfold that reads its input once and writes its output once can take no less than
 * (input bytes + output bytes) / that bandwidth. The report divides each case's time by it.
 *
 * <p>Each of {@link FoldNd#threads()} threads copies one contiguous run with C's memcpy (JavaCPP's
 * {@link Pointer#memcpy}), as fold's own team splits its work. The copy lives here, with the
 * benchmarks, not in the library: nothing but this yardstick needs it.
 */
@Fork(jvmArgsAppend = "-Xmx2g")
@State(Scope.Benchmark)
public class CopyFloorBenchmark extends SuiteBenchmark {
    /** 64 Mi floats = 256 MiB each way. */
    public static final long ELEMENTS = 64L << 20;

    FloatPointer from, to;
    int threads;
    ExecutorService team;

    @Setup(Level.Trial)
    public void setUp() {
        ByteBuffer a = Data.direct(ELEMENTS, 4), b = Data.direct(ELEMENTS, 4);
        a.asFloatBuffer().put(Data.randomFloats(ELEMENTS, 3));
        from = Data.pointer(a);
        to = Data.pointer(b);
        threads = FoldNd.threads();
        team = Executors.newFixedThreadPool(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        team.shutdownNow();
    }

    @Benchmark
    public Object copy() throws Exception {
        Future<?>[] runs = new Future<?>[threads];
        for (int t = 0; t < threads; t++) {
            long begin = ELEMENTS * t / threads, end = ELEMENTS * (t + 1) / threads;
            runs[t] = team.submit(
                    () -> Pointer.memcpy(to.getPointer(begin), from.getPointer(begin), (end - begin) * Float.BYTES));
        }
        for (Future<?> run : runs) run.get();
        return to;
    }
}
