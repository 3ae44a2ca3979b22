package io.github.foldnd.ffm;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A shared arena closed by another thread while folds run on its segments: the downcall keeps
 * the arena alive, so a close while a call is in flight fails with IllegalStateException (and the
 * call's result is right), a close between calls succeeds, and the next call then throws
 * IllegalStateException naming the closed segment. No crash, no read of freed memory (which would
 * show as a wrong result or a SIGSEGV of the test JVM).
 */
class SharedArenaRaceTest {
    static final int RUNS = 200;
    // columns (1, 8*9, 128*128): 1,179,648 floats = 4.5 MiB; image (1, 8, 128, 128): 0.5 MiB
    static final long[] COLUMNS = {1, 8 * 9, 128 * 128};
    static final int[] SIZE = {128, 128}, K = {3, 3}, ONE = {1, 1};

    /** What the folding thread saw: calls that completed and checked out, and how it ended. */
    record Outcome(int calls, Throwable end) {}

    @Test
    void closingDuringCallsNeverFreesMemoryUnderTheKernel() throws Exception {
        int columnLength = 1 * 8 * 9 * 128 * 128, imageLength = 8 * 128 * 128;
        float[] columns = new float[columnLength];
        Random rng = new Random(3);
        for (int i = 0; i < columnLength; i++) columns[i] = rng.nextFloat() * 2 - 1;
        float[] expected = FoldNd.fold(columns, COLUMNS, SIZE, K, ONE, ONE, ONE, Reduce.SUM, null);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        int refusedCloses = 0, completedCalls = 0, endedInCheck = 0, endedInDowncall = 0, endedReading = 0;
        try {
            for (int run = 0; run < RUNS; run++) {
                // even runs: all native, one plain downcall per fold; odd runs: a heap output, so
                // each fold is several critical downcalls (parts), each keeping the input's arena alive
                boolean heapOutput = run % 2 == 1;
                Arena arena = Arena.ofShared();
                MemorySegment in = arena.allocateFrom(JAVA_FLOAT, columns);
                MemorySegment out = heapOutput
                        ? MemorySegment.ofArray(new float[imageLength])
                        : arena.allocate(JAVA_FLOAT, imageLength);
                CountDownLatch firstDone = new CountDownLatch(1);
                Future<Outcome> folder = pool.submit(() -> {
                    int calls = 0;
                    while (true) {
                        try {
                            FoldSegments.fold(in, JAVA_FLOAT, COLUMNS, SIZE, K, ONE, ONE, ONE, Reduce.SUM, null, out);
                        } catch (IllegalStateException e) {
                            firstDone.countDown();
                            return new Outcome(calls, e);
                        }
                        float[] got;
                        try {
                            got = out.toArray(JAVA_FLOAT);
                        } catch (IllegalStateException e) { // closed after the call: the read refused
                            firstDone.countDown();
                            return new Outcome(calls, e);
                        }
                        assertArrayEquals(expected, got, "fold #" + calls + " of run");
                        calls++;
                        firstDone.countDown();
                    }
                });
                // close at a varying moment: right away, or after the first call and a short pause
                if (run % 4 >= 2) {
                    assertTrue(firstDone.await(60, TimeUnit.SECONDS));
                    LockSupport.parkNanos(rng.nextInt(2_000_000));
                }
                while (true) {
                    try {
                        arena.close();
                        break;
                    } catch (IllegalStateException e) { // a call is in flight: it keeps the arena
                        refusedCloses++;
                        Thread.onSpinWait();
                    }
                }
                Outcome outcome = folder.get(60, TimeUnit.SECONDS);
                completedCalls += outcome.calls();
                Throwable end = outcome.end();
                assertTrue(end instanceof IllegalStateException, String.valueOf(end));
                String message = end.getMessage();
                if (message.startsWith("input's arena is closed") || message.startsWith("output's arena is closed")) {
                    if (end.getCause() == null) endedInCheck++;
                    else endedInDowncall++;
                } else { // the only other end: FFM refused to read the output after the close
                    assertTrue(!heapOutput, "a heap output is always readable: " + end);
                    endedReading++;
                }
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf(
                "SharedArenaRaceTest: %d runs, %d folds completed and checked, %d closes refused while a fold ran;"
                        + " ended: %d in the checks, %d in a downcall, %d reading the output%n",
                RUNS, completedCalls, refusedCloses, endedInCheck, endedInDowncall, endedReading);
        assertTrue(refusedCloses > 0, "no close ever met a call in flight: the race was not exercised");
        assertTrue(completedCalls > 0);
    }
}
