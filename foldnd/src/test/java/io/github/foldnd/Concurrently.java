package io.github.foldnd;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Test support: runs a body on many Java threads at once while another thread keeps changing
 * {@link FoldNd#setThreads}, then restores the thread count. Shared by the fold/unfold and the
 * ConvNd concurrency tests.
 */
public final class Concurrently {
    private Concurrently() {}

    /** One round of a caller's work: caller in [0, callers), round in [0, rounds). */
    @FunctionalInterface
    public interface Round {
        void run(int caller, int round) throws Exception;
    }

    /** callers threads each run rounds rounds of body; the first failure is rethrown. */
    public static void run(int callers, int rounds, Round body) throws Exception {
        int saved = FoldNd.threads();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread changer = new Thread(() -> {
            Random r = new Random(1);
            while (running.get()) {
                FoldNd.setThreads(1 + r.nextInt(4));
                Thread.onSpinWait();
            }
        });
        changer.start();
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < callers; t++) {
                int caller = t;
                work.add(pool.submit(() -> {
                    for (int i = 0; i < rounds; i++) body.run(caller, i);
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
    }
}
