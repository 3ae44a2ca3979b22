package io.github.foldnd.bench;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * unfold (im2col), float32, default threads: foldnd's engines on each memory kind,
 * and the peers on the same problem. Each benchmark runs in its own fork with its own state.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx8g"})
public class UnfoldBenchmark {
    /** The problem: an image in every memory kind, and an output for each. */
    @State(Scope.Benchmark)
    public static class Problem {
        @Param({"CONV1_7X7S2", "RES2_3X3", "RES3_3X3S2", "VGG4_3X3", "RES5_3X3", "RES2_3X3_BATCH1", "DILATED_3X3",
                "IMAGE_16X16S1", "IMAGE_32X32S16", "FRAMES_1D"})
        public Case shape;

        FoldGeometry geometry;
        float[] imageArray;
        ByteBuffer columnMemory, imageMemory;
        FloatBuffer columns, image;
        FloatPointer columnsPointer, imagePointer;

        @Setup(Level.Trial)
        public void setUp() {
            geometry = shape.unfoldGeometry();
            imageArray = Data.randomFloats(geometry.imageLength(), 2);
            columnMemory = Data.direct(geometry.columnLength(), 4);
            imageMemory = Data.direct(geometry.imageLength(), 4);
            image = imageMemory.asFloatBuffer().put(imageArray).clear();
            columns = columnMemory.asFloatBuffer();
            columnsPointer = Data.pointer(columnMemory);
            imagePointer = Data.pointer(imageMemory);
        }
    }

    @State(Scope.Benchmark)
    public static class TorchPeer {
        Peers.Torch torch;

        @Setup(Level.Trial)
        public void setUp(Problem p) {
            torch = new Peers.Torch(p.shape, p.columnMemory, p.imageMemory);
        }
    }

    @State(Scope.Benchmark)
    public static class Nd4jPeer {
        Peers.Nd4jPeer nd4j;

        @Setup(Level.Trial)
        public void setUp(Problem p) {
            nd4j = new Peers.Nd4jPeer(p.shape);
        }
    }

    static Engine nativeEngine() {
        return Engine.nativeEngine().orElseThrow();
    }

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

    @Benchmark
    public Object javaArray(Problem p) {
        return Engine.pureJava().unfold(p.geometry, p.imageArray);
    }

    @Benchmark
    public Object pytorch(TorchPeer t) {
        return t.torch.unfold();
    }

    @Benchmark
    public Object nd4j(Nd4jPeer n) {
        return n.nd4j.unfold();
    }
}
