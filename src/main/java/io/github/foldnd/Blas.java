package io.github.foldnd;

import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * OpenBLAS through org.bytedeco:openblas, loaded once, lazily. Unavailable (the convolution then
 * multiplies in pure Java) when the platform has no OpenBLAS jar or it fails to load.
 */
final class Blas {
    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;  // the CBLAS enum values

    private static final class Holder {
        static final boolean AVAILABLE = load();

        private static boolean load() {
            if ("java".equals(System.getProperty("foldnd.gemm"))) return false;  // forced, for tests
            try {
                org.bytedeco.javacpp.Loader.load(openblas_nolapack.class);
                return openblas_nolapack.CblasRowMajor == ROW_MAJOR && openblas_nolapack.CblasTrans == TRANS
                        && openblas_nolapack.CblasNoTrans == NO_TRANS;
            } catch (Throwable t) {  // UnsatisfiedLinkError, NoClassDefFoundError, ...
                return false;
            }
        }
    }

    private static volatile int threads = -1;

    private Blas() {}

    static boolean available() {
        return Holder.AVAILABLE;
    }

    /** Sets OpenBLAS's thread count when it differs from the last one set (a global setting). */
    static void threads(int n) {
        if (threads != n) {
            openblas_nolapack.blas_set_num_threads(n);
            threads = n;
        }
    }
}
