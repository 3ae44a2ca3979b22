package io.github.foldnd;

import io.github.foldnd.internal.Check;

/**
 * The number of threads each call may use. Defaults to OMP_NUM_THREADS when that is set to a
 * positive number (its first entry, as OpenMP reads a list), else to the available processors.
 * Results never depend on it: each output element is computed by one thread in a fixed order.
 *
 * <p>At most {@link #MAX}: libgomp ends the whole process (exit(), no exception, no hs_err file)
 * when it cannot create a thread, which 5000 threads were enough to cause here. So a larger
 * {@link #set} is refused, and a larger OMP_NUM_THREADS is capped with a warning.
 */
final class Threads {
    /** The most threads a call may use: 4 per available processor, and at least 64. */
    static final int MAX = Math.max(64, 4 * Runtime.getRuntime().availableProcessors());

    private static volatile int threads = defaultThreads(System.getenv("OMP_NUM_THREADS"));

    private Threads() {}

    static int get() {
        return threads;
    }

    static void set(int n) {
        check(n);
        threads = n;
    }

    /** Refuses a thread count outside 1..MAX. */
    static void check(int n) {
        if (n < 1 || n > MAX) {
            throw Check.fail(
                    "threads must be between 1 and %d (4 per available processor, at least 64), got %d", MAX, n);
        }
    }

    /** The default for an OMP_NUM_THREADS value (null when unset). */
    static int defaultThreads(String env) {
        if (env != null) {
            try {
                int n = Integer.parseInt(env.split(",")[0].trim());
                if (n > MAX) {
                    System.getLogger(Threads.class.getName())
                            .log(
                                    System.Logger.Level.WARNING,
                                    "foldnd: OMP_NUM_THREADS=" + n + " is above foldnd's maximum of " + MAX
                                            + " threads; using " + MAX);
                    return MAX;
                }
                if (n > 0) return n;
            } catch (NumberFormatException ignored) {
                // OpenMP ignores a malformed value too; fall through to the processor count
            }
        }
        return Math.min(MAX, Runtime.getRuntime().availableProcessors());
    }
}
