package io.github.foldnd.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.foldnd.Concurrently;
import io.github.foldnd.Harness;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Many Java threads call ConvNd at once while another thread keeps changing FoldNd's thread
 * count: every result must equal the one computed alone, within rounding (OpenBLAS may split its
 * sums differently with a different thread count).
 */
class ConvNdConcurrencyTest {
    @Test
    void concurrentForwardCallsWithChangingThreadCountsAreCorrect() throws Exception {
        Random rnd = new Random(99);
        ConvReference.Conv conv = new ConvReference.Conv(
                2, 4, 6, 2, new int[] {12, 10}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1});
        float[] x = Harness.toFloat(Harness.random(rnd, Harness.DType.FLOAT, 2 * 4 * 120));
        float[] w = Harness.toFloat(Harness.random(rnd, Harness.DType.FLOAT, 6 * 2 * 9));
        float[] expected = forward(conv, x, w);
        Concurrently.run(8, 40, (caller, round) -> {
            float[] y = forward(conv, x, w);
            assertEquals(expected.length, y.length);
            for (int j = 0; j < y.length; j++) assertEquals(expected[j], y[j], 1e-5f * (1 + Math.abs(expected[j])));
        });
    }

    private static float[] forward(ConvReference.Conv conv, float[] x, float[] w) {
        return ConvNd.forward(
                x,
                conv.xShape(),
                w,
                conv.weightShape(),
                null,
                conv.stride(),
                conv.padding(),
                conv.dilation(),
                conv.groups());
    }
}
