package io.github.foldnd;

/**
 * The number of threads each call may use. Defaults to OMP_NUM_THREADS when that is set to a
 * positive number (its first entry, as OpenMP reads a list), else to the available processors.
 * Results never depend on it: each output element is computed by one thread in a fixed order.
 */
final class Threads {
    private static volatile int threads = defaultThreads();

    private Threads() {}

    static int get() {
        return threads;
    }

    static void set(int n) {
        if (n < 1) throw Check.fail("threads must be positive, got %d", n);
        threads = n;
    }

    static int defaultThreads() {
        String env = System.getenv("OMP_NUM_THREADS");
        if (env != null) {
            try {
                int n = Integer.parseInt(env.split(",")[0].trim());
                if (n > 0) return n;
            } catch (NumberFormatException ignored) {
                // OpenMP ignores a malformed value too; fall through to the processor count
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
