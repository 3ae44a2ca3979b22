package io.github.foldnd;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.github.foldnd.Harness.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Fuzzes the public API with Jazzer: arbitrary shapes and parameters (mostly invalid), wrong
 * lengths, buffer positions, limits and capacities, read-only, heap and direct buffers in any mix
 * (heap ones over part of an array, read-only, or views of a heap ByteBuffer), pointers, merges,
 * weights, on every engine. For every input the only acceptable outcomes are
 * IllegalArgumentException / NullPointerException, or the definition's result, bit for bit, with
 * the memory around the output untouched. Anything else (another exception, a difference, a JVM
 * crash) is a finding.
 *
 * <p>In a normal test run each method replays its inputs once (regression mode). {@code mvn verify}
 * fuzzes {@code fuzzBriefly} for 30 s (see pom.xml, execution "fuzz"); for longer:
 * {@code JAZZER_FUZZ=1 mvn -B test -Dtest=ApiFuzzTest#fuzzLong -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class ApiFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void fuzzBriefly(FuzzedDataProvider data) {
        run(data);
    }

    @FuzzTest(maxDuration = "10m")
    void fuzzLong(FuzzedDataProvider data) {
        run(data);
    }

    static void run(FuzzedDataProvider data) {
        int d = data.consumeInt(1, 3);
        int[] k = ints(data, d, -1, 4),
                dil = ints(data, d, 0, 3),
                pad = ints(data, padLength(data, d), -1, 4),
                st = ints(data, d, 0, 5);
        boolean fold = data.consumeBoolean();
        int rank = d + data.consumeInt(0, 3);
        long[] shape = new long[fold ? data.consumeInt(1, 4) : rank];
        for (int i = 0; i < shape.length; i++) shape[i] = data.consumeLong(-1, fold && i > 0 ? 40 : 7);
        int[] outputSize = ints(data, d + data.consumeInt(-1, 1), -1, 9);
        ColumnLayout layout = data.consumeBoolean() ? ColumnLayout.PER_SAMPLE : ColumnLayout.BATCH_FUSED;
        FoldGeometry g;
        try {
            g = fold
                    ? FoldGeometry.forFold(shape, outputSize, k, dil, pad, st, layout)
                    : FoldGeometry.forUnfold(shape, k, dil, pad, st).withColumnLayout(layout);
        } catch (IllegalArgumentException | NullPointerException refused) {
            return; // a validated refusal: fine
        }
        long in = fold ? g.columnLength() : g.imageLength(), out = fold ? g.imageLength() : g.columnLength();
        if (in > 20_000 || out > 20_000) return; // keep each input fast
        Reduce reduce = Reduce.values()[data.consumeInt(0, 3)];
        float[] weights = data.consumeBoolean() ? null : new float[(int) g.kernelVolume() + data.consumeInt(-1, 1)];
        if (weights != null) for (int i = 0; i < weights.length; i++) weights[i] = data.consumeInt(-3, 3) / 2f;
        if (fold && data.consumeInt(0, 3) == 0) {
            streamed(data, g, weights);
            return;
        }
        if (data.consumeInt(0, 3) == 0) {
            typed(data, g, fold, reduce, weights);
            return;
        }
        float[] input = new float[(int) Math.max(0, in + data.consumeInt(-2, 2))];
        for (int i = 0; i < input.length; i++) input[i] = data.consumeInt(-100, 100) / 8f;
        int memory = data.consumeInt(0, 2), lead = data.consumeInt(0, 3), slack = data.consumeInt(-2, 3);
        boolean readOnly = data.consumeInt(0, 15) == 0;
        int srcKind = data.consumeInt(0, 7), dstKind = data.consumeInt(0, 7); // see buffer(): half are direct
        if (memory > 0 && data.consumeInt(0, 7) == 0) { // another thread moves the output's bounds meanwhile
            for (Engine e : Engine.available()) raced(e, g, fold, input, reduce, weights, memory == 2, dstKind);
            return;
        }
        float[] expected = null;
        int refusals = 0, results = 0;
        for (Engine e : Engine.available()) {
            float[] result;
            try {
                result = call(e, g, fold, input, reduce, weights, memory, lead, slack, readOnly, srcKind, dstKind);
            } catch (IllegalArgumentException | NullPointerException refused) {
                result = null;
            }
            // Every engine accepts, or every engine refuses, whichever engine comes first.
            if (result == null ? ++refusals > 0 && results > 0 : ++results > 0 && refusals > 0) {
                throw new AssertionError("engines disagree on refusing " + g);
            }
            if (result == null) continue;
            if (expected == null) expected = reference(g, fold, input, reduce, weights);
            if (!Arrays.equals(expected, result)) throw new AssertionError(e + " differs from the definition on " + g);
        }
    }

    /**
     * A streaming fold (SUM) of a fuzzed block range, input length and weight sum: every engine
     * refuses it, or every engine gives the whole fold of columns that are zero outside the range
     * (adding a zero changes no sum from +0.0 on, so the two agree bit for bit).
     */
    private static void streamed(FuzzedDataProvider data, FoldGeometry g, float[] weights) {
        long blocks = g.blocks(), first = data.consumeLong(-1, blocks + 1), count = data.consumeLong(-1, blocks + 1);
        long length = g.planes() * g.kernelVolume() * Math.max(0, count) + data.consumeInt(-1, 1);
        if (length < 0 || length > 20_000) return;
        float[] range = new float[(int) length];
        for (int i = 0; i < range.length; i++) range[i] = data.consumeInt(-100, 100) / 8f;
        float[] sum = data.consumeBoolean() ? null : new float[(int) g.imagePlane() + data.consumeInt(-1, 0)];
        float[] expected = null;
        int refusals = 0, results = 0;
        for (Engine e : Engine.available()) {
            float[] image = new float[(int) g.imageLength()];
            try {
                e.foldBlocks(g, range, first, count, Reduce.SUM, weights, image, sum == null ? null : sum.clone());
            } catch (IllegalArgumentException | NullPointerException refused) {
                image = null;
            }
            if (image == null ? ++refusals > 0 && results > 0 : ++results > 0 && refusals > 0) {
                throw new AssertionError("engines disagree on refusing blocks [" + first + ", +" + count + ") of " + g);
            }
            if (image == null) continue;
            if (expected == null) {
                float[] whole = new float[(int) g.columnLength()];
                int n = (int) g.batch(),
                        rows = (int) (g.channels() * g.kernelVolume()),
                        l = (int) blocks,
                        c = (int) count;
                boolean fused = g.columnLayout() == ColumnLayout.BATCH_FUSED;
                for (int b = 0; b < n; b++) {
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < c; j++) {
                            int to = fused ? (r * n + b) * l + (int) first + j : (b * rows + r) * l + (int) first + j;
                            whole[to] = range[fused ? (r * n + b) * c + j : (b * rows + r) * c + j];
                        }
                    }
                }
                expected = reference(g, true, whole, Reduce.SUM, weights);
            }
            if (!Arrays.equals(expected, image)) throw new AssertionError(e + " streamed fold differs on " + g);
        }
    }

    /**
     * The element types: unfold of int bits (any width moves bits alike) must give the float
     * unfold's bits; fold of float16 or bfloat16 bits the definition in that type's arithmetic.
     * Every engine refuses alike or agrees with the definition.
     */
    private static void typed(FuzzedDataProvider data, FoldGeometry g, boolean fold, Reduce reduce, float[] weights) {
        long n =
                (fold ? g.columnLength() : g.imageLength()) + (data.consumeInt(0, 7) == 0 ? data.consumeInt(-1, 1) : 0);
        if (n < 0) return;
        ElementType type = fold
                ? (data.consumeBoolean()
                        ? ElementType.FLOAT16
                        : data.consumeBoolean() ? ElementType.BFLOAT16 : ElementType.INT16)
                : ElementType.INT32;
        float[] values = new float[(int) n];
        for (int i = 0; i < values.length; i++) values[i] = data.consumeInt(-100, 100) / 8f; // exact in every type
        float[] expected = null;
        int refusals = 0, results = 0;
        for (Engine e : Engine.available()) {
            float[] result = null;
            try {
                if (fold) {
                    short[] bits = new short[values.length];
                    for (int i = 0; i < bits.length; i++) bits[i] = HalfReference.bits(type, values[i]);
                    short[] out = e.fold(g, bits, type, reduce, weights);
                    result = new float[out.length];
                    for (int i = 0; i < out.length; i++) result[i] = (float) HalfReference.value(type, out[i]);
                } else {
                    int[] bits = new int[values.length];
                    for (int i = 0; i < bits.length; i++) bits[i] = Float.floatToRawIntBits(values[i]);
                    int[] out = e.unfold(g, bits);
                    result = new float[out.length];
                    for (int i = 0; i < out.length; i++) result[i] = Float.intBitsToFloat(out[i]);
                }
            } catch (IllegalArgumentException | NullPointerException refused) {
                result = null;
            }
            if (result == null ? ++refusals > 0 && results > 0 : ++results > 0 && refusals > 0) {
                throw new AssertionError("engines disagree on refusing a " + type + " call on " + g);
            }
            if (result == null) continue;
            if (expected == null) {
                Reference.Arith arith =
                        type == ElementType.FLOAT16 ? Reference.Arith.FLOAT16 : Reference.Arith.BFLOAT16;
                float[] w = null;
                if (weights != null) { // the core rounds float weights to the type first
                    w = new float[weights.length];
                    for (int i = 0; i < w.length; i++) w[i] = (float) HalfReference.round(type, weights[i]);
                }
                expected =
                        fold ? reference(g, true, values, reduce, w, arith) : reference(g, false, values, reduce, null);
            }
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(result[i])) {
                    throw new AssertionError(e + " " + type + " differs from the definition at " + i + " on " + g);
                }
            }
        }
    }

    /** One call on one memory kind; checks that nothing outside the output was written. */
    private static float[] call(
            Engine e,
            FoldGeometry g,
            boolean fold,
            float[] input,
            Reduce reduce,
            float[] weights,
            int memory,
            int lead,
            int slack,
            boolean readOnly,
            int srcKind,
            int dstKind) {
        long outLength = fold ? g.imageLength() : g.columnLength();
        if (memory == 0) return fold ? e.fold(g, input, reduce, weights) : e.unfold(g, input);
        int capacity = (int) Math.max(0, lead + outLength + slack) + 4;
        if (memory == 1) {
            FloatBuffer src =
                    buffer(input.length + lead, srcKind).put(lead, input).position(lead);
            if (srcKind == 1) src = src.asReadOnlyBuffer(); // a heap input without an accessible array
            FloatBuffer dst = buffer(capacity, dstKind);
            for (int i = 0; i < capacity; i++) dst.put(i, -7f);
            dst.position(lead).limit((int) Math.min(capacity, Math.max(lead, lead + outLength + slack)));
            FloatBuffer target = readOnly ? dst.asReadOnlyBuffer() : dst;
            if (fold) e.fold(g, src, reduce, weights, target);
            else e.unfold(g, src, target);
            return checkedRegion(dst.duplicate().clear(), lead, (int) outLength, capacity);
        }
        FloatPointer src = new FloatPointer(input.length + lead);
        src.position(lead).put(input);
        src.position(lead).limit(lead + input.length);
        FloatPointer dst = new FloatPointer(capacity);
        for (int i = 0; i < capacity; i++) dst.put(i, -7f);
        dst.position(lead).limit(Math.min(capacity, Math.max(lead, lead + outLength + slack)));
        if (fold) e.fold(g, src, reduce, weights, dst);
        else e.unfold(g, src, dst);
        float[] all = new float[capacity];
        dst.position(0).get(all);
        return checkedRegion(FloatBuffer.wrap(all), lead, (int) outLength, capacity);
    }

    // ---- bounds that move during the call ------------------------------------------------------------

    private static final int GUARD = 16;

    /** Moves the output's position and limit at random until stopped (negative and past the capacity at times). */
    private static Thread racer(Object target, int capacity, AtomicBoolean stop) {
        Thread racer = new Thread(
                () -> {
                    Random r = new Random(1);
                    while (!stop.get()) {
                        if (target instanceof FloatBuffer b) {
                            b.limit(r.nextInt(capacity + 1));
                            b.position(r.nextInt(b.limit() + 1));
                        } else {
                            FloatPointer p = (FloatPointer) target;
                            p.position(r.nextInt(capacity + 8) - 4);
                            p.limit(r.nextInt(capacity + 8));
                        }
                    }
                },
                "ApiFuzzTest racer");
        racer.start();
        return racer;
    }

    /**
     * The call with the output's position and limit moving on another thread: the only acceptable
     * outcomes are a result or an IllegalArgumentException / NullPointerException, with the guard
     * zones around the output's memory untouched. (Which position a call captured is unknown, so
     * the result itself is not compared.)
     */
    private static void raced(
            Engine e,
            FoldGeometry g,
            boolean fold,
            float[] input,
            Reduce reduce,
            float[] weights,
            boolean pointer,
            int kind) {
        int capacity = (int) (fold ? g.imageLength() : g.columnLength()) + 4;
        FloatBuffer all;
        Object dst;
        FloatPointer memory = null;
        if (pointer) {
            memory = new FloatPointer(capacity + 2 * GUARD);
            all = memory.asBuffer();
            dst = memory.getPointer(GUARD).capacity(capacity).limit(capacity);
        } else if (kind <= 1) { // a heap buffer over part of an array, used in place
            all = FloatBuffer.wrap(new float[capacity + 2 * GUARD]);
            dst = all.slice(GUARD, capacity);
        } else if (kind <= 3) { // a view of a heap ByteBuffer, written through a copy
            ByteBuffer bytes = ByteBuffer.allocate((capacity + 2 * GUARD) * 4);
            all = bytes.asFloatBuffer();
            dst = bytes.slice(GUARD * 4, capacity * 4).asFloatBuffer();
        } else {
            all = ByteBuffer.allocateDirect((capacity + 2 * GUARD) * 4)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            dst = all.slice(GUARD, capacity);
        }
        for (int i = 0; i < all.capacity(); i++) all.put(i, -7f);
        FloatBuffer src = Harness.directFloats(input.length).put(0, input);
        FloatPointer srcP = new FloatPointer(input.length).put(input);
        AtomicBoolean stop = new AtomicBoolean();
        Thread racer = racer(dst, capacity, stop);
        try {
            for (int round = 0; round < 20; round++) {
                try {
                    if (pointer && fold) e.fold(g, srcP, reduce, weights, (FloatPointer) dst);
                    else if (pointer) e.unfold(g, srcP, (FloatPointer) dst);
                    else if (fold) e.fold(g, src, reduce, weights, (FloatBuffer) dst);
                    else e.unfold(g, src, (FloatBuffer) dst);
                } catch (IllegalArgumentException | NullPointerException refused) {
                    // a refusal of what the call captured: fine
                }
            }
        } finally {
            stop.set(true);
            try {
                racer.join();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        for (int i = 0; i < all.capacity(); i++) {
            if ((i < GUARD || i >= GUARD + capacity) && all.get(i) != -7f) {
                throw new AssertionError(
                        e + ": a call with moving bounds wrote outside the output's memory at " + (i - GUARD));
            }
        }
        srcP.close();
        if (memory != null) memory.close();
    }

    private static float[] checkedRegion(FloatBuffer b, int lead, int n, int capacity) {
        for (int i = 0; i < capacity; i++) {
            if ((i < lead || i >= lead + n) && b.get(i) != -7f)
                throw new AssertionError("write outside the output at " + i);
        }
        float[] r = new float[n];
        for (int i = 0; i < n; i++) r[i] = b.get(lead + i);
        return r;
    }

    /**
     * n floats of a kind: 0 a heap buffer over part of an array (array offset 3), 1 a whole heap
     * array (made read-only when an input), 2 and 3 views of a heap ByteBuffer in native and in the
     * other byte order (no array), 4 to 7 a direct buffer.
     */
    private static FloatBuffer buffer(int n, int kind) {
        return switch (kind) {
            case 0 -> FloatBuffer.wrap(new float[n + 3]).position(3).slice();
            case 1 -> FloatBuffer.allocate(n);
            case 2, 3 ->
                ByteBuffer.allocate(n * 4)
                        .order(kind == 2 ? ByteOrder.nativeOrder() : HeapBufferTest.swapped())
                        .asFloatBuffer();
            default -> Harness.directFloats(n);
        };
    }

    /** The definition's result, in the geometry's column layout. */
    private static float[] reference(FoldGeometry g, boolean fold, float[] input, Reduce reduce, float[] weights) {
        return reference(g, fold, input, reduce, weights, DType.FLOAT.arith);
    }

    private static float[] reference(
            FoldGeometry g, boolean fold, float[] input, Reduce reduce, float[] weights, Reference.Arith arith) {
        int[] size = Arrays.stream(g.imageSize()).mapToInt(v -> (int) v).toArray();
        Reference.Shape s = new Reference.Shape(
                (int) g.batch(), (int) g.channels(), size, g.kernelSize(), g.dilation(), g.padding(), g.stride());
        boolean fused = g.columnLayout() == ColumnLayout.BATCH_FUSED;
        int rows = (int) (g.channels() * g.kernelVolume()), blocks = (int) g.blocks();
        double[] x = Harness.toDouble(input);
        if (!fold) {
            double[] cols = Reference.unfold(x, s);
            return Harness.toFloat(fused ? Reference.fused(cols, s.batch(), rows, blocks) : cols);
        }
        double[] perSample = fused ? Reference.unfused(x, s.batch(), rows, blocks) : x;
        return Harness.toFloat(
                Reference.fold(perSample, s, reduce, weights == null ? null : Harness.toDouble(weights), arith));
    }

    /** d or 2d (ONNX pads) values, now and then one more or one fewer, which must be refused. */
    private static int padLength(FuzzedDataProvider data, int d) {
        int n = data.consumeBoolean() ? d : 2 * d;
        return data.consumeInt(0, 7) == 0 ? n + data.consumeInt(-1, 1) : n;
    }

    private static int[] ints(FuzzedDataProvider data, int n, int min, int max) {
        int[] v = new int[Math.max(0, n)];
        for (int i = 0; i < v.length; i++) v[i] = data.consumeInt(min, max);
        return v;
    }
}
