package io.github.foldnd.bench;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What crossing into native code costs: a tiny fold, (1, 4, 9) columns into a 4x4 image (2x2
 * kernel), per memory kind, on the native engine and on pure Java. Run with {@code -prof gc} to see
 * the bytes allocated per call (the buffer and pointer paths allocate none).
 */
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public class TinyCallBenchmark extends SuiteBenchmark {
    static final long[] SHAPE = {1, 4, 9};
    static final int[] SIZE = {4, 4}, K = {2, 2}, ONE = {1, 1}, ZERO = {0, 0};

    FoldGeometry geometry;
    Engine nativeEngine;
    float[] columns;
    FloatBuffer columnsBuffer, imageBuffer;
    FloatPointer columnsPointer, imagePointer;

    @Setup(Level.Trial)
    public void setUp() {
        geometry = FoldGeometry.forFold(SHAPE, SIZE, K, ONE, ZERO, ONE);
        nativeEngine = Engine.nativeEngine().orElseThrow();
        columns = Data.randomFloats(36, 4);
        columnsBuffer = Data.direct(36, 4).asFloatBuffer().put(columns).clear();
        imageBuffer = Data.direct(16, 4).asFloatBuffer();
        columnsPointer = new FloatPointer(columns);
        imagePointer = new FloatPointer(16);
    }

    /** The static API: validates and builds the geometry, allocates the output array. */
    @Benchmark
    public Object staticArray() {
        return FoldNd.fold(columns, SHAPE, SIZE, K, ONE, ZERO, ONE);
    }

    @Benchmark
    public Object nativeArray() {
        return nativeEngine.fold(geometry, columns, Reduce.SUM, null);
    }

    @Benchmark
    public Object nativeBuffer() {
        nativeEngine.fold(geometry, columnsBuffer, Reduce.SUM, null, imageBuffer);
        return imageBuffer;
    }

    @Benchmark
    public Object nativePointer() {
        nativeEngine.fold(geometry, columnsPointer, Reduce.SUM, null, imagePointer);
        return imagePointer;
    }

    @Benchmark
    public Object javaArray() {
        return Engine.pureJava().fold(geometry, columns, Reduce.SUM, null);
    }

    @Benchmark
    public Object javaBuffer() {
        Engine.pureJava().fold(geometry, columnsBuffer, Reduce.SUM, null, imageBuffer);
        return imageBuffer;
    }
}
