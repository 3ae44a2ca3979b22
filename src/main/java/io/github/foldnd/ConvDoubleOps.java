package io.github.foldnd;

import java.nio.DoubleBuffer;

/**
 * The double operations of {@link Convolution}: GEMM through OpenBLAS (cblas_dgemm on direct
 * buffers, zero-copy), or a blocked pure-Java product where OpenBLAS is unavailable; unfold and
 * fold on the selected engine. Its twin for the other element type is generated from this file by
 * the transform in EngineSelectionTest.
 */
final class ConvDoubleOps extends Convolution<DoubleBuffer> {
    static final ConvDoubleOps INSTANCE = new ConvDoubleOps();

    private ConvDoubleOps() {}

    @Override
    DoubleBuffer scratch(int slot, long n, String what) {
        return scratchBytes(slot, n, Double.BYTES, what).asDoubleBuffer().limit((int) n);
    }

    /** A staging copy of heap array {@code name} in scratch slot; null stays null. */
    DoubleBuffer stage(int slot, double[] values, String name) {
        return values == null ? null : scratch(slot, values.length, "the native copy of " + name).put(values).flip();
    }

    static double[] toArray(DoubleBuffer b, long n) {
        double[] out = new double[(int) n];
        b.get(b.position(), out);
        return out;
    }

    @Override
    DoubleBuffer slice(DoubleBuffer b, long offset, long length) {
        int from = b.position() + (int) offset;
        return b.duplicate().limit(from + (int) length).position(from);
    }

    @Override
    void gemm(boolean transA, boolean transB, int m, int n, int k, DoubleBuffer a, int lda, DoubleBuffer b, int ldb,
              DoubleBuffer c, int ldc) {
        if (Blas.available()) {
            Blas.run(FoldNd.threads(), () -> org.bytedeco.openblas.global.openblas_nolapack.cblas_dgemm(Blas.ROW_MAJOR,
                    transA ? Blas.TRANS : Blas.NO_TRANS, transB ? Blas.TRANS : Blas.NO_TRANS, m, n, k, 1d, a, lda, b, ldb, 0d,
                    c, ldc));
            return;
        }
        javaGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc);
    }

    /**
     * The pure-Java product used without OpenBLAS: c(i, j) = sum over p of a(i, p) b(p, j), with
     * the p loop outside j so the inner loop runs along contiguous rows of b and c.
     */
    static void javaGemm(boolean transA, boolean transB, int m, int n, int k, DoubleBuffer a, int lda, DoubleBuffer b, int ldb,
                         DoubleBuffer c, int ldc) {
        int ca = c.position(), aa = a.position(), ba = b.position();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) c.put(ca + i * ldc + j, 0d);
            for (int p = 0; p < k; p++) {
                double x = a.get(aa + (transA ? p * lda + i : i * lda + p));
                if (transB) {
                    for (int j = 0; j < n; j++) c.put(ca + i * ldc + j, c.get(ca + i * ldc + j) + x * b.get(ba + j * ldb + p));
                } else {
                    for (int j = 0; j < n; j++) c.put(ca + i * ldc + j, c.get(ca + i * ldc + j) + x * b.get(ba + p * ldb + j));
                }
            }
        }
    }

    @Override
    void unfold(FoldGeometry g, DoubleBuffer image, DoubleBuffer columns) {
        if (g.planes() > 0) Engine.selected().unfoldDirect(g, image, columns, engineThreads());
    }

    @Override
    void fold(FoldGeometry g, DoubleBuffer columns, DoubleBuffer image) {
        if (g.planes() > 0) Engine.selected().foldDirect(g, columns, image, engineThreads());
    }

    @Override
    void transpose(DoubleBuffer from, DoubleBuffer to, int outer, int middle, int inner) {
        int f = from.position(), t = to.position();
        DoubleBuffer src = from.duplicate(), dst = to.duplicate();
        for (int o = 0; o < outer; o++) {
            for (int m = 0; m < middle; m++) {
                int at = f + (o * middle + m) * inner;
                src.limit(at + inner).position(at);
                dst.position(t + (m * outer + o) * inner);
                dst.put(src);  // a bulk copy of one contiguous run of inner elements
            }
        }
    }

    @Override
    void zero(DoubleBuffer b, long n) {
        for (int i = 0; i < n; i++) b.put(b.position() + i, 0d);
    }

    @Override
    void addBias(DoubleBuffer y, DoubleBuffer bias, int batch, int channels, int blocks) {
        int base = y.position(), b0 = bias.position();
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                double v = bias.get(b0 + c);
                int at = base + (n * channels + c) * blocks;
                for (int l = 0; l < blocks; l++) y.put(at + l, y.get(at + l) + v);
            }
        }
    }

    @Override
    void sumBias(DoubleBuffer gradY, DoubleBuffer gradBias, int batch, int channels, int blocks) {
        int base = gradY.position(), b0 = gradBias.position();
        for (int c = 0; c < channels; c++) {
            double sum = 0d;
            for (int n = 0; n < batch; n++) {
                int at = base + (n * channels + c) * blocks;
                for (int l = 0; l < blocks; l++) sum += gradY.get(at + l);
            }
            gradBias.put(b0 + c, sum);
        }
    }
}
