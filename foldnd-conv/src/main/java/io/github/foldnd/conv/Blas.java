package io.github.foldnd.conv;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * OpenBLAS through org.bytedeco:openblas, loaded once, lazily. Unavailable (the convolution then
 * multiplies in pure Java) when the platform has no OpenBLAS jar or it fails to load.
 */
final class Blas {
    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112; // the CBLAS enum values

    private static final class Holder {
        static final boolean AVAILABLE = load();

        /**
         * cblas_sgemm's and cblas_dgemm's addresses, for the native tiled passes; 0 where not found.
         * Loader.addressof takes the first loaded library that exports the name: OpenBLAS here, unless
         * another BLAS loaded into the process earlier exports it too (CBLAS names take 32-bit ints in
         * every LP64 build; ILP64 builds rename them, as OpenBLAS's cblas_sgemm64_). Only OpenBLAS's
         * own thread count is held to 1 during a pass.
         */
        static final long SGEMM = AVAILABLE ? find("cblas_sgemm") : 0, DGEMM = AVAILABLE ? find("cblas_dgemm") : 0;

        private static long find(String symbol) {
            try {
                Pointer p = Loader.addressof(symbol);
                return p == null ? 0 : p.address();
            } catch (Throwable t) { // no JavaCPP native library: the Java passes run
                return 0;
            }
        }

        private static boolean load() {
            if ("java".equals(System.getProperty("foldnd.gemm"))) return false; // forced, for tests
            try {
                Loader.load(openblas_nolapack.class);
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

    /**
     * The address of OpenBLAS's {@code cblas_sgemm} or {@code cblas_dgemm} (the names it takes), for
     * native code that calls it; 0 where OpenBLAS is unavailable or does not export it (or the
     * {@code foldnd.gemm=java} test switch is set).
     */
    static long gemmAddress(String symbol) {
        switch (symbol) {
            case "cblas_sgemm":
                return Holder.SGEMM;
            case "cblas_dgemm":
                return Holder.DGEMM;
            default:
                throw new IllegalArgumentException("symbol: " + symbol + ", expected cblas_sgemm or cblas_dgemm");
        }
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
