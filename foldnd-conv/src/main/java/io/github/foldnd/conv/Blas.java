package io.github.foldnd.conv;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * OpenBLAS through org.bytedeco:openblas, loaded once, lazily. Unavailable (the convolution then
 * multiplies in pure Java) when the platform has no OpenBLAS jar or it fails to load.
 */
final class Blas {
    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112; // the CBLAS enum values

    private static final class Holder {
        static final boolean AVAILABLE = load();

        private static boolean load() {
            if ("java".equals(System.getProperty("foldnd.gemm"))) return false; // forced, for tests
            try {
                org.bytedeco.javacpp.Loader.load(openblas_nolapack.class);
                return openblas_nolapack.CblasRowMajor == ROW_MAJOR
                        && openblas_nolapack.CblasTrans == TRANS
                        && openblas_nolapack.CblasNoTrans == NO_TRANS;
            } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, ...
                return false;
            }
        }
    }

    /**
     * OpenBLAS's thread count is global, and blas_set_num_threads is not safe while another thread
     * is inside OpenBLAS: changing it under running GEMMs corrupted OpenBLAS's thread pool (seen
     * here: a worker never woken, and the JVM hung at exit in OpenBLAS's shutdown). So GEMMs hold a
     * read lock and a change of thread count takes the write lock, waiting for them to finish.
     */
    private static final ReentrantReadWriteLock LOCK = new ReentrantReadWriteLock();

    private static int threads = -1; // guarded by LOCK

    private Blas() {}

    static boolean available() {
        return Holder.AVAILABLE;
    }

    /** Runs a GEMM on OpenBLAS with n threads (setting the count first if it differs). */
    static void run(int n, Runnable gemm) {
        LOCK.readLock().lock();
        boolean current;
        try {
            current = threads == n;
            if (current) gemm.run();
        } finally {
            LOCK.readLock().unlock();
        }
        if (current) return;
        LOCK.writeLock().lock();
        try {
            if (threads != n) {
                openblas_nolapack.blas_set_num_threads(n);
                threads = n;
            }
            gemm.run(); // still under the write lock: no other thread can change the count meanwhile
        } finally {
            LOCK.writeLock().unlock();
        }
    }
}
