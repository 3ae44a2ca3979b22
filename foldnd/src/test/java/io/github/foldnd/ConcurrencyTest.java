package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Many Java threads call fold and unfold at once, on every engine and memory kind, while another
 * thread keeps changing FoldNd's thread count: every result must equal the one computed alone,
 * bit for bit (results never depend on threads). foldnd-conv's ConvNdConcurrencyTest does the same
 * for ConvNd.
 */
class ConcurrencyTest {
    @Test
    void concurrentCallsWithChangingThreadCountsAreCorrect() throws Exception {
        Random rnd = new Random(99);
        FoldGeometry ug = FoldGeometry.builder()
                .kernelSize(3, 3)
                .padding(1, 1)
                .stride(1, 2)
                .forUnfold(2, 5, 33, 40);
        FoldGeometry fg = FoldGeometry.forFold(
                ug.columnShape(), new int[] {33, 40}, ug.kernelSize(), ug.dilation(), ug.padding(), ug.stride());
        FoldGeometry fused = ug.withColumnLayout(ColumnLayout.BATCH_FUSED);
        double[] image = Harness.random(rnd, Harness.DType.FLOAT, (int) ug.imageLength());
        double[] cols = Harness.random(rnd, Harness.DType.FLOAT, (int) fg.columnLength());
        double[] expectedUnfold =
                Harness.unfold(Engine.pureJava(), Harness.DType.FLOAT, Harness.Memory.HEAP_ARRAY, ug, image);
        double[] expectedFused =
                Harness.unfold(Engine.pureJava(), Harness.DType.FLOAT, Harness.Memory.HEAP_ARRAY, fused, image);
        double[] expectedFold = Harness.fold(
                Engine.pureJava(), Harness.DType.FLOAT, Harness.Memory.HEAP_ARRAY, fg, cols, Reduce.MEAN, null);

        Concurrently.run(8, 40, (caller, round) -> {
            for (Engine e : Engine.available()) {
                Harness.Memory m = Harness.Memory.values()[(caller + round) % Harness.Memory.values().length];
                Harness.assertBitwise(
                        expectedUnfold, Harness.unfold(e, Harness.DType.FLOAT, m, ug, image), "unfold " + e + " " + m);
                Harness.assertBitwise(
                        expectedFused, Harness.unfold(e, Harness.DType.FLOAT, m, fused, image), "fused " + e + " " + m);
                Harness.assertBitwise(
                        expectedFold,
                        Harness.fold(e, Harness.DType.FLOAT, m, fg, cols, Reduce.MEAN, null),
                        "fold " + e + " " + m);
            }
        });
        assertArrayEquals(new long[] {2, 45, 33 * 20}, ug.columnShape());
    }
}
