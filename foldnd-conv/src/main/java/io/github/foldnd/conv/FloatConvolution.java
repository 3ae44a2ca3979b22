package io.github.foldnd.conv;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * {@link Convolution} on floats: GEMM through OpenBLAS (cblas_sgemm on direct
 * buffers, zero-copy), or a blocked pure-Java product where OpenBLAS is unavailable; unfold and
 * fold on the selected engine.
 *
 * <!-- template -->
 * <p>This file is the template of the double twin, {@code DoubleConvolution}, which the build generates
 * from it (pom.xml, execution {@code generate-double-twins}, with the rules of
 * src/codegen/float-to-double.rules) into target/generated-sources/twins. Edit this file only:
 * the twin is neither edited nor committed.
 * <!-- /template -->
 */
final class FloatConvolution extends Convolution<FloatBuffer, float[]> {
    static final FloatConvolution INSTANCE = new FloatConvolution();

    private FloatConvolution() {
        super(Float.BYTES);
    }

    @Override
    FloatBuffer scratch(int slot, long n, String what) {
        return scratchBytes(slot, n, Float.BYTES, what).asFloatBuffer().limit((int) n);
    }

    @Override
    FloatBuffer stage(int slot, float[] values, String name) {
        return values == null
                ? null
                : scratch(slot, values.length, "the native copy of " + name)
                        .put(values)
                        .flip();
    }

    @Override
    float[] newArray(long n) {
        return new float[(int) n];
    }

    @Override
    void copyOut(FloatBuffer b, float[] into, long n) {
        b.get(b.position(), into, 0, (int) n);
    }

    @Override
    FloatBuffer slice(FloatBuffer b, long offset, long length) {
        int from = b.position() + (int) offset;
        return b.duplicate().limit(from + (int) length).position(from);
    }

    @Override
    void gemm(boolean transA, boolean transB, int m, int n, int k, FloatBuffer a, FloatBuffer b, FloatBuffer c) {
        if (Blas.available()) {
            Blas.run(
                    FoldNd.threads(),
                    () -> org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm(
                            Blas.ROW_MAJOR,
                            transA ? Blas.TRANS : Blas.NO_TRANS,
                            transB ? Blas.TRANS : Blas.NO_TRANS,
                            m,
                            n,
                            k,
                            1f,
                            a,
                            transA ? m : k,
                            b,
                            transB ? k : n,
                            0f,
                            c,
                            n));
            return;
        }
        javaGemm(transA, transB, m, n, k, a, b, c);
    }

    /**
     * The pure-Java product used without OpenBLAS: c(i, j) = sum over p of a(i, p) b(p, j), with
     * the p loop outside j so the inner loop runs along contiguous rows of b and c (dense operands,
     * as gemm's).
     */
    static void javaGemm(
            boolean transA, boolean transB, int m, int n, int k, FloatBuffer a, FloatBuffer b, FloatBuffer c) {
        int lda = transA ? m : k, ldb = transB ? k : n, ldc = n;
        int ca = c.position(), aa = a.position(), ba = b.position();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) c.put(ca + i * ldc + j, 0f);
            for (int p = 0; p < k; p++) {
                float x = a.get(aa + (transA ? p * lda + i : i * lda + p));
                if (transB) {
                    for (int j = 0; j < n; j++)
                        c.put(ca + i * ldc + j, c.get(ca + i * ldc + j) + x * b.get(ba + j * ldb + p));
                } else {
                    for (int j = 0; j < n; j++)
                        c.put(ca + i * ldc + j, c.get(ca + i * ldc + j) + x * b.get(ba + p * ldb + j));
                }
            }
        }
    }

    @Override
    long gemmAddress() {
        return Blas.gemmAddress("cblas_sgemm");
    }

    @Override
    void unfold(FoldGeometry g, FloatBuffer image, FloatBuffer columns) {
        Engine.selected().withThreads(engineThreads()).unfold(g, image, columns);
    }

    @Override
    void fold(FoldGeometry g, FloatBuffer columns, FloatBuffer image) {
        Engine.selected().withThreads(engineThreads()).fold(g, columns, Reduce.SUM, null, image);
    }

    @Override
    void transpose(FloatBuffer from, FloatBuffer to, int outer, int middle, int inner) {
        int f = from.position(), t = to.position();
        FloatBuffer src = from.duplicate(), dst = to.duplicate();
        for (int o = 0; o < outer; o++) {
            for (int m = 0; m < middle; m++) {
                int at = f + (o * middle + m) * inner;
                src.limit(at + inner).position(at);
                dst.position(t + (m * outer + o) * inner);
                dst.put(src); // a bulk copy of one contiguous run of inner elements
            }
        }
    }

    @Override
    void zero(FloatBuffer b, long n) {
        for (int i = 0; i < n; i++) b.put(b.position() + i, 0f);
    }

    @Override
    void addBias(FloatBuffer y, FloatBuffer bias, int batch, int channels, int blocks) {
        int base = y.position(), b0 = bias.position();
        for (int n = 0; n < batch; n++) {
            for (int c = 0; c < channels; c++) {
                float v = bias.get(b0 + c);
                int at = base + (n * channels + c) * blocks;
                for (int l = 0; l < blocks; l++) y.put(at + l, y.get(at + l) + v);
            }
        }
    }

    @Override
    void sumBias(FloatBuffer gradY, FloatBuffer gradBias, int batch, int channels, int blocks) {
        int base = gradY.position(), b0 = gradBias.position();
        float[] lanes = new float[BIAS_LANES];
        for (int c = 0; c < channels; c++) {
            Arrays.fill(lanes, 0f);
            for (int n = 0; n < batch; n++) {
                int at = base + (n * channels + c) * blocks;
                for (int l = 0; l < blocks; l++) lanes[l % BIAS_LANES] += gradY.get(at + l);
            }
            float sum = 0f;
            for (float lane : lanes) sum += lane;
            gradBias.put(b0 + c, sum);
        }
    }
}
