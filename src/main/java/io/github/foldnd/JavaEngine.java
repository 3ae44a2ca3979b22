package io.github.foldnd;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The pure-Java engine: the fallback where no native library exists for the platform, and the
 * second implementation every test compares against. Heap arrays are wrapped (no copy), direct
 * buffers read in place.
 */
final class JavaEngine extends Engine {
    static final JavaEngine INSTANCE = new JavaEngine();

    private JavaEngine() {}

    @Override
    public String name() {
        return "java";
    }

    @Override
    void unfoldKernel(FoldGeometry g, float[] in, float[] out, int threads) {
        JavaFloatKernels.unfold(g, FloatBuffer.wrap(in), 0, FloatBuffer.wrap(out), 0, threads);
    }

    @Override
    void unfoldKernel(FoldGeometry g, double[] in, double[] out, int threads) {
        JavaDoubleKernels.unfold(g, DoubleBuffer.wrap(in), 0, DoubleBuffer.wrap(out), 0, threads);
    }

    @Override
    void unfoldKernel(FoldGeometry g, FloatBuffer in, FloatBuffer out, int threads) {
        JavaFloatKernels.unfold(g, in, in.position(), out, out.position(), threads);
    }

    @Override
    void unfoldKernel(FoldGeometry g, DoubleBuffer in, DoubleBuffer out, int threads) {
        JavaDoubleKernels.unfold(g, in, in.position(), out, out.position(), threads);
    }

    @Override
    void foldKernel(FoldGeometry g, float[] in, float[] out, Reduce reduce, float[] weights, int threads) {
        JavaFloatKernels.fold(g, FloatBuffer.wrap(in), 0, FloatBuffer.wrap(out), 0, reduce, weights, threads);
    }

    @Override
    void foldKernel(FoldGeometry g, double[] in, double[] out, Reduce reduce, double[] weights, int threads) {
        JavaDoubleKernels.fold(g, DoubleBuffer.wrap(in), 0, DoubleBuffer.wrap(out), 0, reduce, weights, threads);
    }

    @Override
    void foldKernel(FoldGeometry g, FloatBuffer in, FloatBuffer out, Reduce reduce, float[] weights, int threads) {
        JavaFloatKernels.fold(g, in, in.position(), out, out.position(), reduce, weights, threads);
    }

    @Override
    void foldKernel(FoldGeometry g, DoubleBuffer in, DoubleBuffer out, Reduce reduce, double[] weights, int threads) {
        JavaDoubleKernels.fold(g, in, in.position(), out, out.position(), reduce, weights, threads);
    }
}
