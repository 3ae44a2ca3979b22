package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Many Java threads call fold, unfold and ConvNd at once, on every engine and memory kind, while
 * another thread keeps changing FoldNd's thread count: every result must equal the one computed
 * alone (bit for bit for fold/unfold, whose results never depend on threads; ConvNd's GEMM may
 * split its sums differently with a different thread count, so within rounding).
 */
class ConcurrencyTest {
    @Test
    void concurrentCallsWithChangingThreadCountsAreCorrect() throws Exception {
        int saved = FoldNd.threads();
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
        ConvReference.Conv conv = new ConvReference.Conv(
                2, 4, 6, 2, new int[] {12, 10}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1});
        float[] cx = Harness.toFloat(Harness.random(rnd, Harness.DType.FLOAT, 2 * 4 * 120));
        float[] cw = Harness.toFloat(Harness.random(rnd, Harness.DType.FLOAT, 6 * 2 * 9));
        FoldNd.setThreads(1);
        double[] expectedUnfold =
                Harness.unfold(Engine.pureJava(), Harness.DType.FLOAT, Harness.Memory.HEAP_ARRAY, ug, image);
        double[] expectedFused =
                Harness.unfold(Engine.pureJava(), Harness.DType.FLOAT, Harness.Memory.HEAP_ARRAY, fused, image);
        double[] expectedFold = Harness.fold(
                Engine.pureJava(), Harness.DType.FLOAT, Harness.Memory.HEAP_ARRAY, fg, cols, Reduce.MEAN, null);
        float[] expectedConv = ConvNd.forward(
                cx,
                conv.xShape(),
                cw,
                conv.weightShape(),
                null,
                conv.stride(),
                conv.padding(),
                conv.dilation(),
                conv.groups());

        AtomicBoolean running = new AtomicBoolean(true);
        Thread changer = new Thread(() -> {
            Random r = new Random(1);
            while (running.get()) {
                FoldNd.setThreads(1 + r.nextInt(4));
                Thread.onSpinWait();
            }
        });
        changer.start();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                work.add(pool.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        for (Engine e : Engine.available()) {
                            Harness.Memory m = Harness.Memory.values()[(id + i) % Harness.Memory.values().length];
                            Harness.assertBitwise(
                                    expectedUnfold,
                                    Harness.unfold(e, Harness.DType.FLOAT, m, ug, image),
                                    "unfold " + e + " " + m);
                            Harness.assertBitwise(
                                    expectedFused,
                                    Harness.unfold(e, Harness.DType.FLOAT, m, fused, image),
                                    "fused " + e + " " + m);
                            Harness.assertBitwise(
                                    expectedFold,
                                    Harness.fold(e, Harness.DType.FLOAT, m, fg, cols, Reduce.MEAN, null),
                                    "fold " + e + " " + m);
                        }
                        float[] y = ConvNd.forward(
                                cx,
                                conv.xShape(),
                                cw,
                                conv.weightShape(),
                                null,
                                conv.stride(),
                                conv.padding(),
                                conv.dilation(),
                                conv.groups());
                        assertEquals(expectedConv.length, y.length);
                        for (int j = 0; j < y.length; j++)
                            assertEquals(expectedConv[j], y[j], 1e-5f * (1 + Math.abs(expectedConv[j])));
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) f.get(); // rethrows any assertion failure
        } finally {
            running.set(false);
            changer.join();
            pool.shutdownNow();
            FoldNd.setThreads(saved);
        }
        assertArrayEquals(new long[] {2, 45, 33 * 20}, ug.columnShape());
    }
}
