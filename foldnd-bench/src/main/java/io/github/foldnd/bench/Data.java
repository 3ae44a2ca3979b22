package io.github.foldnd.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

/** Benchmark inputs and outputs in every memory kind, filled with deterministic random values. */
final class Data {
    private Data() {}

    static ByteBuffer direct(long elements, int size) {
        return ByteBuffer.allocateDirect(Math.toIntExact(elements * size)).order(ByteOrder.nativeOrder());
    }

    static float[] randomFloats(long n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    static double[] randomDoubles(long n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() * 2 - 1;
        return v;
    }

    static FloatPointer pointer(ByteBuffer b) {
        return new FloatPointer(b.asFloatBuffer());
    }

    static DoublePointer doublePointer(ByteBuffer b) {
        return new DoublePointer(b.asDoubleBuffer());
    }
}
