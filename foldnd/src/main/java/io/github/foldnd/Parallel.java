package io.github.foldnd;

import java.util.stream.IntStream;

/**
 * Splits [0, n) into at most {@code threads} contiguous chunks on the common ForkJoinPool, the
 * pure-Java counterpart of the native engine's OpenMP team. Small jobs stay on the caller's thread.
 */
final class Parallel {
    /** Below this many element operations a job runs serially: forking costs more than it saves. */
    static final long SERIAL_WORK = 1L << 15;

    interface Range {
        void run(int begin, int end);
    }

    private Parallel() {}

    static void forRange(int n, int threads, long workPerItem, Range body) {
        int team = Math.min(Math.max(threads, 1), n);
        boolean small = workPerItem > 0 && n <= SERIAL_WORK / workPerItem;
        if (team <= 1 || small) {
            if (n > 0) body.run(0, n);
            return;
        }
        IntStream.range(0, team)
                .parallel()
                .forEach(id -> body.run((int) ((long) n * id / team), (int) ((long) n * (id + 1) / team)));
    }
}
