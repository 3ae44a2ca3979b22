package io.github.foldnd.bench;

import io.github.foldnd.FoldGeometry;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One fold/unfold problem of FoldBenchmark and UnfoldBenchmark: random columns and a random image
 * in every memory kind (heap array, direct buffer, JavaCPP pointer over that buffer). Fold reads the
 * columns and writes the image, unfold the other way round; each benchmark runs in a fork of its
 * own, so the side it overwrites is never read.
 */
@State(Scope.Benchmark)
public class Problem {
    @Param({
        "CONV1_7X7S2",
        "RES2_3X3",
        "RES3_3X3S2",
        "VGG4_3X3",
        "RES5_3X3",
        "RES2_3X3_BATCH1",
        "DILATED_3X3",
        "IMAGE_16X16S1",
        "IMAGE_32X32S16",
        "NO_OVERLAP_2X2S2",
        "IMAGE_16X16S8",
        "IMAGE_9X9S4P4",
        "FRAMES_1D",
        "FRAMES_4096_HOP1024",
        "FRAMES_64_HOP32"
    })
    public Case shape;

    FoldGeometry geometry;
    float[] columnsArray, imageArray;
    ByteBuffer columnMemory, imageMemory;
    FloatBuffer columns, image;
    FloatPointer columnsPointer, imagePointer;

    @Setup(Level.Trial)
    public void setUp() {
        geometry = shape.unfoldGeometry(); // the same geometry serves fold (columns -> image)
        columnsArray = Data.randomFloats(geometry.columnLength(), 1);
        imageArray = Data.randomFloats(geometry.imageLength(), 2);
        columnMemory = Data.direct(geometry.columnLength(), 4);
        imageMemory = Data.direct(geometry.imageLength(), 4);
        columns = columnMemory.asFloatBuffer().put(columnsArray).clear();
        image = imageMemory.asFloatBuffer().put(imageArray).clear();
        columnsPointer = Data.pointer(columnMemory);
        imagePointer = Data.pointer(imageMemory);
    }

    /** PyTorch on tensors over this problem's memory. */
    @State(Scope.Benchmark)
    public static class Torch {
        Peers.Torch peer;

        @Setup(Level.Trial)
        public void setUp(Problem p) {
            peer = new Peers.Torch(p.shape, p.columnMemory, p.imageMemory);
        }
    }

    /** ND4J on arrays of its own, of this problem's sizes. */
    @State(Scope.Benchmark)
    public static class Nd4j {
        Peers.Nd4jPeer peer;

        @Setup(Level.Trial)
        public void setUp(Problem p) {
            peer = new Peers.Nd4jPeer(p.shape);
        }
    }
}
