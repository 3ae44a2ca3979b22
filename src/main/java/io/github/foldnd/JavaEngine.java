package io.github.foldnd;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The pure-Java engine: the fallback where no native library exists for the platform, and the
 * second implementation every test compares against. Heap arrays are wrapped (no copy), direct
 * buffers read in place, JavaCPP pointers viewed as direct buffers over their [position, limit).
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
    void unfoldKernel(FoldGeometry g, FloatPointer in, FloatPointer out, int threads) {
        unfoldKernel(g, view(in), view(out), threads);
    }

    @Override
    void unfoldKernel(FoldGeometry g, DoublePointer in, DoublePointer out, int threads) {
        unfoldKernel(g, view(in), view(out), threads);
    }

    @Override
    void foldKernel(FoldGeometry g, FloatPointer in, FloatPointer out, Reduce reduce, float[] weights, int threads) {
        foldKernel(g, view(in), view(out), reduce, weights, threads);
    }

    @Override
    void foldKernel(FoldGeometry g, DoublePointer in, DoublePointer out, Reduce reduce, double[] weights, int threads) {
        foldKernel(g, view(in), view(out), reduce, weights, threads);
    }

    /** A direct buffer over a pointer's [position, limit), in native order. */
    private static FloatBuffer view(FloatPointer p) {
        return new Pointer(p).limit(p.limit() * Float.BYTES).position(p.position() * Float.BYTES).asByteBuffer()
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static DoubleBuffer view(DoublePointer p) {
        return new Pointer(p).limit(p.limit() * Double.BYTES).position(p.position() * Double.BYTES).asByteBuffer()
                .order(ByteOrder.nativeOrder()).asDoubleBuffer();
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
