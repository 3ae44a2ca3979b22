package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Runs the public API on any engine, element type and memory kind, with values carried as double,
 * and checks what a caller must be able to rely on: inputs unchanged, nothing written outside the
 * output, positions untouched. Shared by every conformance test.
 */
public final class Harness {
    private Harness() {}

    public enum DType {
        FLOAT(Reference.Arith.FLOAT),
        DOUBLE(Reference.Arith.DOUBLE);

        final Reference.Arith arith;

        DType(Reference.Arith arith) {
            this.arith = arith;
        }

        /** Rounds a value to this type, so that inputs are exactly representable. */
        double round(double v) {
            return this == FLOAT ? (float) v : v;
        }
    }

    public enum Memory {
        HEAP_ARRAY,
        DIRECT_BUFFER,
        /** A heap buffer over part of an array: a nonzero array offset and a nonzero position. */
        HEAP_BUFFER,
        POINTER
    }

    /** Guard elements placed before and after every buffer's region. */
    private static final int GUARD = 5;

    private static final double SENTINEL = -12345.5;

    /** Every (engine, dtype, memory) combination. */
    public static List<Arguments> combos() {
        List<Arguments> out = new ArrayList<>();
        for (Engine e : Engine.available()) {
            for (DType t : DType.values()) {
                for (Memory m : Memory.values()) out.add(Arguments.of(e, t, m));
            }
        }
        return out;
    }

    /** A direct buffer of n floats in native order. */
    public static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    public static Stream<Engine> engines() {
        return Engine.available().stream();
    }

    public static double[] unfold(Engine e, DType t, Memory m, FoldGeometry g, double[] input) {
        double[] before = input.clone();
        double[] out = switch (m) {
            case HEAP_ARRAY -> {
                if (t == DType.DOUBLE) yield e.unfold(g, input);
                float[] in = toFloat(input), copy = in.clone();
                float[] res = e.unfold(g, in);
                assertArrayEquals(copy, in, "input modified");
                yield toDouble(res);
            }
            case DIRECT_BUFFER -> {
                Region in = Region.of(t, input, input.length), res = Region.of(t, null, (int) g.columnLength());
                if (t == DType.FLOAT) e.unfold(g, in.floats(), res.floats());
                else e.unfold(g, in.doubles(), res.doubles());
                in.verifyUnchanged(input);
                yield res.contents();
            }
            case HEAP_BUFFER -> {
                HeapRegion in = HeapRegion.of(t, input, input.length),
                        res = HeapRegion.of(t, null, (int) g.columnLength());
                if (t == DType.FLOAT) e.unfold(g, in.floats(), res.floats());
                else e.unfold(g, in.doubles(), res.doubles());
                in.verifyUnchanged(input);
                yield res.contents();
            }
            case POINTER -> {
                Region in = Region.of(t, input, input.length), res = Region.of(t, null, (int) g.columnLength());
                if (t == DType.FLOAT) e.unfold(g, in.floatPointer(), res.floatPointer());
                else e.unfold(g, in.doublePointer(), res.doublePointer());
                in.verifyUnchanged(input);
                yield res.contents();
            }
        };
        assertArrayEquals(before, input, "input modified");
        return out;
    }

    public static double[] fold(
            Engine e, DType t, Memory m, FoldGeometry g, double[] input, Reduce r, double[] weights) {
        double[] before = input.clone(), weightsBefore = weights == null ? null : weights.clone();
        double[] out = switch (m) {
            case HEAP_ARRAY -> {
                if (t == DType.DOUBLE) yield e.fold(g, input, r, weights);
                float[] in = toFloat(input), copy = in.clone();
                float[] w = weights == null ? null : toFloat(weights), wCopy = w == null ? null : w.clone();
                float[] res = e.fold(g, in, r, w);
                assertArrayEquals(copy, in, "input modified");
                assertArrayEquals(wCopy, w, "weights modified");
                yield toDouble(res);
            }
            case DIRECT_BUFFER -> {
                Region in = Region.of(t, input, input.length), res = Region.of(t, null, (int) g.imageLength());
                if (t == DType.FLOAT)
                    e.fold(g, in.floats(), r, weights == null ? null : toFloat(weights), res.floats());
                else e.fold(g, in.doubles(), r, weights, res.doubles());
                in.verifyUnchanged(input);
                yield res.contents();
            }
            case HEAP_BUFFER -> {
                HeapRegion in = HeapRegion.of(t, input, input.length),
                        res = HeapRegion.of(t, null, (int) g.imageLength());
                if (t == DType.FLOAT)
                    e.fold(g, in.floats(), r, weights == null ? null : toFloat(weights), res.floats());
                else e.fold(g, in.doubles(), r, weights, res.doubles());
                in.verifyUnchanged(input);
                yield res.contents();
            }
            case POINTER -> {
                Region in = Region.of(t, input, input.length), res = Region.of(t, null, (int) g.imageLength());
                if (t == DType.FLOAT)
                    e.fold(g, in.floatPointer(), r, weights == null ? null : toFloat(weights), res.floatPointer());
                else e.fold(g, in.doublePointer(), r, weights, res.doublePointer());
                in.verifyUnchanged(input);
                yield res.contents();
            }
        };
        assertArrayEquals(before, input, "input modified");
        assertArrayEquals(weightsBefore, weights, "weights modified");
        return out;
    }

    /**
     * A streaming fold ({@link Engine#foldBlocks}) on one memory kind: the range's columns merged
     * into an image and a weight sum (nullable) holding the given values; returns {image, weightSum}
     * after the call, with the guards around each checked and the input checked unchanged.
     */
    public static double[][] foldBlocks(
            Engine e,
            DType t,
            Memory m,
            FoldGeometry g,
            double[] input,
            long first,
            long count,
            Reduce r,
            double[] weights,
            double[] image,
            double[] weightSum) {
        float[] fw = weights == null ? null : toFloat(weights);
        boolean f = t == DType.FLOAT, ws = weightSum != null;
        double[][] out = switch (m) {
            case HEAP_ARRAY -> {
                if (!f) {
                    double[] img = image.clone(), sum = ws ? weightSum.clone() : null;
                    e.foldBlocks(g, input.clone(), first, count, r, weights, img, sum);
                    yield new double[][] {img, sum};
                }
                float[] img = toFloat(image), sum = ws ? toFloat(weightSum) : null;
                e.foldBlocks(g, toFloat(input), first, count, r, fw, img, sum);
                yield new double[][] {toDouble(img), ws ? toDouble(sum) : null};
            }
            case DIRECT_BUFFER, POINTER -> {
                Region in = Region.of(t, input, input.length), img = Region.of(t, image, image.length);
                Region sum = ws ? Region.of(t, weightSum, weightSum.length) : null;
                if (m == Memory.POINTER) {
                    if (f)
                        e.foldBlocks(
                                g,
                                in.floatPointer(),
                                first,
                                count,
                                r,
                                fw,
                                img.floatPointer(),
                                ws ? sum.floatPointer() : null);
                    else
                        e.foldBlocks(
                                g,
                                in.doublePointer(),
                                first,
                                count,
                                r,
                                weights,
                                img.doublePointer(),
                                ws ? sum.doublePointer() : null);
                } else if (f) e.foldBlocks(g, in.floats(), first, count, r, fw, img.floats(), ws ? sum.floats() : null);
                else e.foldBlocks(g, in.doubles(), first, count, r, weights, img.doubles(), ws ? sum.doubles() : null);
                in.verifyUnchanged(input);
                yield new double[][] {img.contents(), ws ? sum.contents() : null};
            }
            case HEAP_BUFFER -> {
                HeapRegion in = HeapRegion.of(t, input, input.length), img = HeapRegion.of(t, image, image.length);
                HeapRegion sum = ws ? HeapRegion.of(t, weightSum, weightSum.length) : null;
                if (f) e.foldBlocks(g, in.floats(), first, count, r, fw, img.floats(), ws ? sum.floats() : null);
                else e.foldBlocks(g, in.doubles(), first, count, r, weights, img.doubles(), ws ? sum.doubles() : null);
                in.verifyUnchanged(input);
                yield new double[][] {img.contents(), ws ? sum.contents() : null};
            }
        };
        return out;
    }

    /** {@link Engine#finishFold} on one memory kind: the image after it; the weight sum checked unchanged. */
    public static double[] finishFold(
            Engine e, DType t, Memory m, FoldGeometry g, Reduce r, double[] image, double[] weightSum) {
        boolean f = t == DType.FLOAT;
        return switch (m) {
            case HEAP_ARRAY -> {
                if (!f) {
                    double[] img = image.clone(), sum = weightSum.clone();
                    e.finishFold(g, r, img, sum);
                    assertArrayEquals(weightSum, sum, "weightSum modified");
                    yield img;
                }
                float[] img = toFloat(image), sum = toFloat(weightSum);
                e.finishFold(g, r, img, sum);
                assertArrayEquals(toFloat(weightSum), sum, "weightSum modified");
                yield toDouble(img);
            }
            case DIRECT_BUFFER, POINTER -> {
                Region img = Region.of(t, image, image.length), sum = Region.of(t, weightSum, weightSum.length);
                if (m == Memory.POINTER) {
                    if (f) e.finishFold(g, r, img.floatPointer(), sum.floatPointer());
                    else e.finishFold(g, r, img.doublePointer(), sum.doublePointer());
                } else if (f) e.finishFold(g, r, img.floats(), sum.floats());
                else e.finishFold(g, r, img.doubles(), sum.doubles());
                sum.verifyUnchanged(weightSum);
                yield img.contents();
            }
            case HEAP_BUFFER -> {
                HeapRegion img = HeapRegion.of(t, image, image.length),
                        sum = HeapRegion.of(t, weightSum, weightSum.length);
                if (f) e.finishFold(g, r, img.floats(), sum.floats());
                else e.finishFold(g, r, img.doubles(), sum.doubles());
                sum.verifyUnchanged(weightSum);
                yield img.contents();
            }
        };
    }

    /**
     * A direct buffer holding GUARD sentinels, then the region (at position GUARD, limit
     * GUARD + n), then GUARD sentinels up to capacity.
     */
    public record Region(DType type, ByteBuffer bytes, int n) {
        static Region of(DType type, double[] values, int n) {
            int size = type == DType.FLOAT ? 4 : 8;
            ByteBuffer b = ByteBuffer.allocateDirect((n + 2 * GUARD) * size).order(ByteOrder.nativeOrder());
            for (int i = 0; i < n + 2 * GUARD; i++) {
                double v = values != null && i >= GUARD && i < GUARD + n ? values[i - GUARD] : SENTINEL;
                if (type == DType.FLOAT) b.putFloat(i * 4, (float) v);
                else b.putDouble(i * 8, v);
            }
            return new Region(type, b, n);
        }

        FloatBuffer floats() {
            return bytes.asFloatBuffer().position(GUARD).limit(GUARD + n);
        }

        DoubleBuffer doubles() {
            return bytes.asDoubleBuffer().position(GUARD).limit(GUARD + n);
        }

        /** A JavaCPP pointer over the same memory, positioned and limited to the region. */
        FloatPointer floatPointer() {
            return new FloatPointer(bytes.asFloatBuffer()).position(GUARD).limit(GUARD + n);
        }

        DoublePointer doublePointer() {
            return new DoublePointer(bytes.asDoubleBuffer()).position(GUARD).limit(GUARD + n);
        }

        double get(int i) {
            return type == DType.FLOAT ? bytes.getFloat(i * 4) : bytes.getDouble(i * 8);
        }

        /** The region, after checking that the guards are intact. */
        double[] contents() {
            for (int i = 0; i < GUARD; i++) {
                assertEquals(SENTINEL, get(i), "write before the output region");
                assertEquals(SENTINEL, get(GUARD + n + i), "write after the output region");
            }
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = get(GUARD + i);
            return v;
        }

        void verifyUnchanged(double[] values) {
            assertArrayEquals(values, contents(), "input buffer modified");
        }
    }

    /**
     * A heap array holding GUARD sentinels, then the region, then GUARD sentinels; its buffers are
     * slices from element 2 (array offset 2) at position GUARD - 2, limit GUARD - 2 + n.
     */
    record HeapRegion(DType type, float[] f, double[] d, int n) {
        static HeapRegion of(DType type, double[] values, int n) {
            double[] all = new double[n + 2 * GUARD];
            for (int i = 0; i < all.length; i++)
                all[i] = values != null && i >= GUARD && i < GUARD + n ? values[i - GUARD] : SENTINEL;
            return type == DType.FLOAT
                    ? new HeapRegion(type, toFloat(all), null, n)
                    : new HeapRegion(type, null, all, n);
        }

        FloatBuffer floats() {
            return FloatBuffer.wrap(f).position(2).slice().position(GUARD - 2).limit(GUARD - 2 + n);
        }

        DoubleBuffer doubles() {
            return DoubleBuffer.wrap(d).position(2).slice().position(GUARD - 2).limit(GUARD - 2 + n);
        }

        /** The region, after checking that the guards are intact. */
        double[] contents() {
            double[] all = type == DType.FLOAT ? toDouble(f) : d;
            for (int i = 0; i < GUARD; i++) {
                assertEquals(SENTINEL, all[i], "write before the output region");
                assertEquals(SENTINEL, all[GUARD + n + i], "write after the output region");
            }
            return Arrays.copyOfRange(all, GUARD, GUARD + n);
        }

        void verifyUnchanged(double[] values) {
            assertArrayEquals(values, contents(), "input buffer modified");
        }
    }

    public static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    public static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    /** Random values of the type in [-1, 1), with occasional exact zeros and negative zeros. */
    public static double[] random(Random rnd, DType t, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            int pick = rnd.nextInt(20);
            v[i] = pick == 0 ? 0.0 : pick == 1 ? -0.0 : t.round(rnd.nextDouble() * 2 - 1);
        }
        return v;
    }

    /** Bitwise equality (so -0.0 differs from +0.0 and NaNs compare equal), with a useful message. */
    public static void assertBitwise(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToLongBits(expected[i]) != Double.doubleToLongBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]
                        + " (" + expected.length + " elements)");
            }
        }
    }

    /** A random shape with d spatial dimensions; sizes small enough to keep the reference fast. */
    public static Reference.Shape randomShape(Random rnd, int d, boolean allowEmptyBatch) {
        int maxSize = d <= 2 ? 9 : d == 3 ? 6 : 4;
        while (true) {
            int[] size = new int[d], k = new int[d], dil = new int[d], pad = new int[d], s = new int[d];
            for (int i = 0; i < d; i++) {
                size[i] = 1 + rnd.nextInt(maxSize);
                k[i] = 1 + rnd.nextInt(3);
                dil[i] = 1 + rnd.nextInt(2);
                pad[i] = rnd.nextInt(3);
                s[i] = 1 + rnd.nextInt(3);
            }
            if (rnd.nextInt(3) == 0) { // asymmetric padding (ONNX pads: every begin, then every end)
                int[] pads = Arrays.copyOf(pad, 2 * d);
                for (int i = 0; i < d; i++) pads[d + i] = rnd.nextInt(4);
                pad = pads;
            }
            Reference.Shape shape = new Reference.Shape(
                    allowEmptyBatch ? rnd.nextInt(3) : 1 + rnd.nextInt(2), 1 + rnd.nextInt(3), size, k, dil, pad, s);
            if (Arrays.stream(shape.grid()).allMatch(x -> x >= 1)) return shape;
        }
    }

    public static long[] imageShape(Reference.Shape s, boolean batched) {
        long[] shape = new long[s.dims() + (batched ? 2 : 1)];
        int at = 0;
        if (batched) shape[at++] = s.batch();
        shape[at++] = s.channels();
        for (int v : s.size()) shape[at++] = v;
        return shape;
    }

    public static long[] columnShape(Reference.Shape s, boolean batched) {
        long rows = (long) s.channels() * s.kernelVolume();
        return batched ? new long[] {s.batch(), rows, s.blocks()} : new long[] {rows, s.blocks()};
    }

    public static FoldGeometry unfoldGeometry(Reference.Shape s, boolean batched) {
        return FoldGeometry.forUnfold(imageShape(s, batched), s.kernel(), s.dilation(), s.padding(), s.stride());
    }

    public static FoldGeometry foldGeometry(Reference.Shape s, boolean batched) {
        return FoldGeometry.forFold(
                columnShape(s, batched), s.size(), s.kernel(), s.dilation(), s.padding(), s.stride());
    }
}
