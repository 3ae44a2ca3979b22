package io.github.foldnd.bench;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the main benchmarks leave out: float64, the pure-Java engine on buffers, the 3-d volume and
 * the other merges, on a few cases; both engines.
 */
@Fork(jvmArgsAppend = "-Xmx8g")
@State(Scope.Benchmark)
public class MoreKindsBenchmark extends SuiteBenchmark {
    @Param({"RES2_3X3", "VOLUME_3D"})
    public Case shape;

    @Param({"SUM", "MEAN"})
    public Reduce reduce;

    FoldGeometry fold, unfold;
    double[] columnsD, imageD;
    FloatBuffer columnsF, imageF;
    DoubleBuffer columnsB, imageB;
    DoublePointer columnsP, imageP;
    FloatPointer columnsFP, imageFP;

    @Setup(Level.Trial)
    public void setUp() {
        fold = shape.foldGeometry();
        unfold = shape.unfoldGeometry();
        columnsD = Data.randomDoubles(fold.columnLength(), 6);
        imageD = Data.randomDoubles(fold.imageLength(), 7);
        columnsB = Data.direct(fold.columnLength(), 8)
                .asDoubleBuffer()
                .put(columnsD)
                .clear();
        imageB = Data.direct(fold.imageLength(), 8).asDoubleBuffer();
        columnsP = new DoublePointer(columnsB);
        imageP = new DoublePointer(imageB);
        columnsF = Data.direct(fold.columnLength(), 4)
                .asFloatBuffer()
                .put(Data.randomFloats(fold.columnLength(), 8))
                .clear();
        imageF = Data.direct(fold.imageLength(), 4).asFloatBuffer();
        columnsFP = new FloatPointer(columnsF);
        imageFP = new FloatPointer(imageF);
    }

    @Benchmark
    public Object foldNativeFloatPointer() {
        Engine.nativeEngine().orElseThrow().fold(fold, columnsFP, reduce, null, imageFP);
        return imageFP;
    }

    @Benchmark
    public Object foldJavaFloatBuffer() {
        Engine.pureJava().fold(fold, columnsF, reduce, null, imageF);
        return imageF;
    }

    @Benchmark
    public Object foldNativeDoubleBuffer() {
        Engine.nativeEngine().orElseThrow().fold(fold, columnsB, reduce, null, imageB);
        return imageB;
    }

    @Benchmark
    public Object foldNativeDoublePointer() {
        Engine.nativeEngine().orElseThrow().fold(fold, columnsP, reduce, null, imageP);
        return imageP;
    }

    @Benchmark
    public Object foldNativeDoubleArray() {
        return Engine.nativeEngine().orElseThrow().fold(fold, columnsD, reduce, null);
    }

    @Benchmark
    public Object foldJavaDoubleArray() {
        return Engine.pureJava().fold(fold, columnsD, reduce, null);
    }

    @Benchmark
    public Object unfoldNativeDoubleBuffer() {
        Engine.nativeEngine().orElseThrow().unfold(unfold, imageB, columnsB);
        return columnsB;
    }

    /** For the sanity test: the same body, returning the columns it wrote. */
    static DoubleBuffer unfoldNativeDoubleBuffer(MoreKindsBenchmark m) {
        m.imageB.clear();
        m.imageB.put(0, m.imageD);
        m.unfoldNativeDoubleBuffer();
        return m.columnsB;
    }

    @Benchmark
    public Object unfoldJavaDoubleArray() {
        return Engine.pureJava().unfold(unfold, imageD);
    }
}
