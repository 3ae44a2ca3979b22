package io.github.foldnd.bench;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Where native starts to pay: a 3x3 fold (padding 1) of one n x n channel, native against pure
 * Java on direct buffers, for growing n.
 */
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public class CrossoverBenchmark extends SuiteBenchmark {
    @Param({"2", "4", "8", "16", "32", "64", "128", "256"})
    public int n;

    FoldGeometry geometry;
    FloatBuffer columns, image;

    @Setup(Level.Trial)
    public void setUp() {
        geometry = FoldGeometry.builder().kernelSize(3, 3).padding(1, 1).forFold(new long[] {1, 9, (long) n * n}, n, n);
        columns = Data.direct(geometry.columnLength(), 4)
                .asFloatBuffer()
                .put(Data.randomFloats(geometry.columnLength(), 5))
                .clear();
        image = Data.direct(geometry.imageLength(), 4).asFloatBuffer();
    }

    @Benchmark
    public Object nativeBuffer() {
        Engine.nativeEngine().orElseThrow().fold(geometry, columns, Reduce.SUM, null, image);
        return image;
    }

    @Benchmark
    public Object javaBuffer() {
        Engine.pureJava().fold(geometry, columns, Reduce.SUM, null, image);
        return image;
    }
}
