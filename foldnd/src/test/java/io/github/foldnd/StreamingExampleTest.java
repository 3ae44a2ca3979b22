package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The README's streaming example, at 64³ with 16³ patches at stride 8 (7³ = 343 patches): patch
 * predictions blended with Gaussian weights per kernel offset, 32 patches' columns at a time, give
 * one whole weighted-MEAN fold of all the columns, bit for bit, on every engine.
 */
class StreamingExampleTest {
    @Test
    void tiledInferenceEqualsOneWholeFold() {
        FoldGeometry g =
                FoldGeometry.builder().kernelSize(16, 16, 16).stride(8, 8, 8).forUnfold(1, 1, 64, 64, 64);
        assertEquals(343, g.blocks());
        float[] weights = gaussian(16, 4.0);
        int k = (int) g.kernelVolume();
        Random rnd = new Random(5);
        float[] all = new float[(int) g.columnLength()]; // only to check against: a real run never holds it
        for (int i = 0; i < all.length; i++) all[i] = rnd.nextFloat();
        for (Engine engine : Engine.available()) {
            float[] volume = new float[(int) g.imageLength()], weightSum = new float[(int) g.imagePlane()];
            long batch = 32;
            for (long first = g.blocks(); first > 0; first -= batch) {
                long count = Math.min(batch, first);
                float[] columns = predictPatches(all, k, (int) g.blocks(), first - count, count);
                engine.foldBlocks(g, columns, first - count, count, Reduce.MEAN, weights, volume, weightSum);
            }
            engine.finishFold(g, Reduce.MEAN, volume, weightSum);
            assertArrayEquals(engine.fold(g, all, Reduce.MEAN, weights), volume, engine.name());
        }
    }

    /** Stands in for a model: the columns (1, K, count) of patches [first, first + count). */
    private static float[] predictPatches(float[] all, int k, int blocks, long first, long count) {
        float[] out = new float[(int) (k * count)];
        for (int r = 0; r < k; r++)
            System.arraycopy(all, (int) (r * blocks + first), out, (int) (r * count), (int) count);
        return out;
    }

    /** exp(-|x - centre|² / 2σ²) over a cube of side n, row-major: K weights. */
    private static float[] gaussian(int n, double sigma) {
        float[] w = new float[n * n * n];
        double c = (n - 1) / 2.0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int l = 0; l < n; l++) {
                    double r2 = (i - c) * (i - c) + (j - c) * (j - c) + (l - c) * (l - c);
                    w[(i * n + j) * n + l] = (float) Math.exp(-r2 / (2 * sigma * sigma));
                }
            }
        }
        return w;
    }
}
