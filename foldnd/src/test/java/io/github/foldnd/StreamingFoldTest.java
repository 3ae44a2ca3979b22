package io.github.foldnd;

import static io.github.foldnd.Harness.assertBitwise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.Harness.DType;
import io.github.foldnd.Harness.Memory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Streaming fold ({@link Engine#foldBlocks} and {@link Engine#finishFold}): the grid cut into random
 * ranges, visited in descending block order, gives the definition's whole fold bit for bit, on
 * every engine, element type and memory kind, per-sample and batch-fused, for every merge, with
 * and without weights, symmetric and asymmetric padding; and every bad argument is refused by name.
 */
class StreamingFoldTest {
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Arguments a : Harness.combos()) {
            for (int d = 1; d <= 4; d++) out.add(Arguments.of(a.get()[0], a.get()[1], a.get()[2], d));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2} d={3}")
    @MethodSource("cases")
    void descendingRangesGiveTheWholeFold(Engine engine, DType type, Memory memory, int d) {
        Random rnd = new Random(77L * d + type.ordinal() * 13 + memory.ordinal() * 101);
        for (int trial = 0; trial < 6; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, d, true);
            FoldGeometry g = Harness.foldGeometry(s, true);
            boolean fused = trial % 2 == 1;
            int rows = s.channels() * s.kernelVolume(), blocks = s.blocks();
            double[] perSample = Harness.random(rnd, type, (int) g.columnLength());
            if (fused) g = g.withColumnLayout(ColumnLayout.BATCH_FUSED);
            double[] columns = fused ? Reference.fused(perSample, s.batch(), rows, blocks) : perSample;
            double[] weights = Harness.random(rnd, type, s.kernelVolume());
            List<long[]> ranges = descendingRanges(rnd, blocks);
            for (Reduce r : Reduce.values()) {
                for (double[] w : new double[][] {null, weights}) {
                    String what = engine + " " + type + " " + memory + " " + r + (w == null ? "" : " weighted") + " "
                            + g + " ranges " + ranges.size();
                    double[] image = new double[(int) g.imageLength()], sum = new double[(int) g.imagePlane()];
                    Arrays.fill(image, r.identity());
                    for (long[] range : ranges) {
                        double[] part = rangeColumns(g, columns, (int) range[0], (int) range[1]);
                        double[][] after =
                                Harness.foldBlocks(engine, type, memory, g, part, range[0], range[1], r, w, image, sum);
                        image = after[0];
                        sum = after[1];
                    }
                    image = Harness.finishFold(engine, type, memory, g, r, image, sum);
                    assertBitwise(Reference.fold(perSample, s, r, w, type.arith), image, "streamed fold " + what);
                }
            }
        }
    }

    /** [0, blocks) cut into random consecutive ranges {first, count}, the last first. */
    static List<long[]> descendingRanges(Random rnd, int blocks) {
        List<long[]> ranges = new ArrayList<>();
        for (int first = 0; first < blocks; ) {
            int count = 1 + rnd.nextInt(Math.max(1, blocks / 2));
            count = Math.min(count, blocks - first);
            ranges.add(0, new long[] {first, count});
            first += count;
        }
        return ranges;
    }

    /** The columns of blocks [first, first + count) of whole columns, in the geometry's layout. */
    static double[] rangeColumns(FoldGeometry g, double[] columns, int first, int count) {
        int n = (int) g.batch(), rows = (int) (g.channels() * g.kernelVolume()), blocks = (int) g.blocks();
        double[] out = new double[n * rows * count];
        boolean fused = g.columnLayout() == ColumnLayout.BATCH_FUSED;
        for (int b = 0; b < n; b++) {
            for (int row = 0; row < rows; row++) {
                for (int j = 0; j < count; j++) {
                    int to = fused ? (row * n + b) * count + j : (b * rows + row) * count + j;
                    int from = fused ? (row * n + b) * blocks + first + j : (b * rows + row) * blocks + first + j;
                    out[to] = columns[from];
                }
            }
        }
        return out;
    }

    // ---- refusals, each before any work ----------------------------------------------------------

    private static final FoldGeometry G =
            FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3); // L = 4

    private static void refused(String message, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void refusesBadArgumentsByName() {
        for (Engine e : Engine.available()) {
            float[] cols2 = new float[8 * 2], image = new float[18], sum = new float[9];
            refused(
                    "firstBlock must be from 0 to the grid's 4 blocks (block grid [2, 2]), got 5",
                    () -> e.foldBlocks(G, new float[0], 5, 0, Reduce.SUM, null, image, null));
            refused(
                    "blockCount must be from 0 to 1 (the blocks from firstBlock 3 to the end of the grid's 4",
                    () -> e.foldBlocks(G, cols2, 3, 2, Reduce.SUM, null, image, null));
            refused("firstBlock must be", () -> e.foldBlocks(G, cols2, -1, 2, Reduce.SUM, null, image, null));
            refused(
                    "input must have N*C*K*blockCount = 1*2*4*2 = 16 elements (the columns of blocks [1, 3)), got 15",
                    () -> e.foldBlocks(G, new float[15], 1, 2, Reduce.SUM, null, image, null));
            refused(
                    "output must have at least 18 elements",
                    () -> e.foldBlocks(G, cols2, 0, 2, Reduce.SUM, null, new float[17], null));
            refused(
                    "weightSum must have at least 9 elements (one image plane, [3, 3]), got 8",
                    () -> e.foldBlocks(G, cols2, 0, 2, Reduce.MEAN, null, image, new float[8]));
            refused(
                    "weights must have 4 elements",
                    () -> e.foldBlocks(G, cols2, 0, 2, Reduce.SUM, new float[3], image, null));
            refused(
                    "weightSum must be memory of its own",
                    () -> e.foldBlocks(G, cols2, 0, 2, Reduce.MEAN, null, image, image));
            refused("output must not be the input", () -> e.foldBlocks(G, cols2, 0, 2, Reduce.SUM, null, cols2, null));
            NullPointerException npe = assertThrows(
                    NullPointerException.class, () -> e.foldBlocks(G, cols2, 0, 2, Reduce.MEAN, null, image, null));
            assertEquals("weightSum must not be null for MEAN: the finishing step divides by it", npe.getMessage());
            npe = assertThrows(NullPointerException.class, () -> e.finishFold(G, Reduce.MAX, image, (float[]) null));
            assertTrue(npe.getMessage().startsWith("weightSum must not be null for MAX"), npe.getMessage());
            refused("weightSum must have at least 9", () -> e.finishFold(G, Reduce.MEAN, image, new float[3]));
            // Native memory: the same bytes as input and output, or a weight sum inside the output.
            FloatBuffer direct = ByteBuffer.allocateDirect(64 * 4)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            FloatBuffer in = direct.duplicate().position(0).limit(16),
                    out = direct.duplicate().position(8).limit(26);
            refused("output must not overlap input", () -> e.foldBlocks(G, in, 0, 2, Reduce.SUM, null, out, null));
            FloatPointer p = new FloatPointer(64);
            FloatPointer pin = new FloatPointer(p).position(0).limit(16),
                    pout = new FloatPointer(p).position(16).limit(34);
            FloatPointer psum = new FloatPointer(p).position(30).limit(39);
            refused(
                    "weightSum must not overlap the input or the output",
                    () -> e.foldBlocks(G, pin, 0, 2, Reduce.MEAN, null, pout, psum));
            p.close();
            // A read-only output buffer cannot be added to.
            refused(
                    "output must be writable",
                    () -> e.foldBlocks(
                            G,
                            FloatBuffer.wrap(cols2),
                            0,
                            2,
                            Reduce.SUM,
                            null,
                            FloatBuffer.wrap(image).asReadOnlyBuffer(),
                            null));
        }
    }

    @Test
    void emptyRangesAndSumChangeNothing() {
        for (Engine e : Engine.available()) {
            float[] image = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}, copy = image.clone();
            e.foldBlocks(G, new float[0], 4, 0, Reduce.MEAN, null, image, new float[9]);
            e.foldBlocks(G, new float[0], 0, 0, Reduce.SUM, null, image, null);
            e.finishFold(G, Reduce.SUM, image, (float[]) null);
            assertTrue(Arrays.equals(copy, image), e.name());
        }
    }
}
