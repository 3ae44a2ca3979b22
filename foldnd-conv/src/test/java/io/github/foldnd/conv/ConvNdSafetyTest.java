package io.github.foldnd.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.foldnd.FoldNd;
import io.github.foldnd.internal.NativeContract;
import io.github.foldnd.internal.NativeMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ConvNd attacked: outputs aliasing inputs (the same object, or another view of the same memory),
 * a thread moving the caller's positions and limits during calls, shapes past the int range, and
 * scratch that used to stay with pool threads for good. Each test fails on the behaviour it
 * guards against (an accepted alias overwrote x; a moved position moved the writes; the sizes threw
 * ArithmeticException; every thread kept its largest scratch; the limit sent buffer users to the
 * buffer API).
 */
class ConvNdSafetyTest {
    // A small 1-d convolution: x (2, 2, 5), weight (4, 2, 3), bias (4), y (2, 4, 3).
    static final long[] X = {2, 2, 5}, W = {4, 2, 3}, Y = {2, 4, 3};
    static final int[] K = {3}, ONE = {1}, ZERO = {0}, SIZE = {5};
    static final Map<String, Integer> LENGTHS = Map.of(
            "x", 20, "weight", 24, "bias", 4, "y", 24, "gradY", 24, "gradX", 20, "gradWeight", 24, "gradBias", 4);

    // ---- aliasing --------------------------------------------------------------------------------

    /** The attack: gradBias is x itself. It used to be accepted, and the bias gradient overwrote x. */
    @Test
    void gradBiasThatIsXIsRefusedAndXIsUnchanged() {
        FloatBuffer x = floats(new Random(1), 20), gy = floats(new Random(2), 24), gw = floats(24);
        float[] before = contents(x);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> ConvNd.backwardWeight(x, X, gy, Y, K, ONE, ZERO, ONE, 1, gw, x));
        assertTrue(
                e.getMessage().contains("gradBias must not") && e.getMessage().contains(" x"), e.getMessage());
        assertArrayEquals(before, contents(x), "x was written");
        assertArrayEquals(new float[24], contents(gw), "gradWeight was written although the call was refused");

        DoubleBuffer xd =
                ByteBuffer.allocateDirect(160).order(ByteOrder.nativeOrder()).asDoubleBuffer();
        for (int i = 0; i < 20; i++) xd.put(i, i + 0.5);
        DoubleBuffer gyd =
                ByteBuffer.allocateDirect(192).order(ByteOrder.nativeOrder()).asDoubleBuffer();
        DoubleBuffer gwd =
                ByteBuffer.allocateDirect(192).order(ByteOrder.nativeOrder()).asDoubleBuffer();
        e = assertThrows(
                IllegalArgumentException.class,
                () -> ConvNd.backwardWeight(xd, X, gyd, Y, K, ONE, ZERO, ONE, 1, gwd, xd));
        assertTrue(e.getMessage().contains("gradBias must not"), e.getMessage());
        for (int i = 0; i < 20; i++) assertEquals(i + 0.5, xd.get(i), "double x was written");
    }

    /** Every (output, other) pair a call has, each pair sharing exactly one element through distinct buffer objects. */
    static List<Arguments> aliasPairs() {
        List<Arguments> out = new ArrayList<>();
        for (String in : List.of("x", "weight", "bias")) out.add(Arguments.of("forward", "y", in));
        for (String in : List.of("gradY", "weight")) out.add(Arguments.of("backwardInput", "gradX", in));
        for (String in : List.of("x", "gradY", "gradBias")) out.add(Arguments.of("backwardWeight", "gradWeight", in));
        for (String in : List.of("x", "gradY")) out.add(Arguments.of("backwardWeight", "gradBias", in));
        return out;
    }

    /**
     * The output starts on the other's last element, as a separate slice of one allocation: the
     * same memory, different objects (an identity check misses this). Nothing in the allocation may
     * change.
     */
    @ParameterizedTest(name = "{0}: {1} over {2}")
    @MethodSource("aliasPairs")
    void anOutputSharingOneElementWithAnotherArgumentIsRefused(String method, String output, String other) {
        assumeTrue(
                NativeMemory.available(),
                "no addresses without JavaCPP's native library: only identity is checked there");
        List<String> names = switch (method) {
            case "forward" -> List.of("x", "weight", "bias", "y");
            case "backwardInput" -> List.of("gradY", "weight", "gradX");
            default -> List.of("x", "gradY", "gradWeight", "gradBias");
        };
        // Layout: the uninvolved arguments with gaps, then `other`, then `output` from other's last element on.
        FloatBuffer arena = floats(new Random(method.hashCode() + output.hashCode() + other.hashCode()), 256);
        Map<String, FloatBuffer> args = new LinkedHashMap<>();
        int at = 0;
        for (String n : names) {
            if (n.equals(output) || n.equals(other)) continue;
            args.put(n, arena.slice(at, LENGTHS.get(n)));
            at += LENGTHS.get(n) + 1;
        }
        args.put(other, arena.slice(at, LENGTHS.get(other)));
        at += LENGTHS.get(other) - 1;
        args.put(output, arena.slice(at, LENGTHS.get(output)));
        float[] before = contents(arena);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> call(method, args));
        String m = e.getMessage();
        assertTrue(m.contains("must not overlap") && m.contains(output) && m.contains(other), m);
        assertArrayEquals(before, contents(arena), "the refused call wrote memory");

        // One element apart (adjacent, no shared byte) is fine, and computes what separate buffers compute.
        args.put(output, arena.slice(at + 1, LENGTHS.get(output)));
        call(method, args);
        Map<String, FloatBuffer> separate = new LinkedHashMap<>();
        args.forEach((n, b) -> separate.put(n, copy(b)));
        for (String n : names) {
            if (isOutput(n)) separate.put(n, floats(LENGTHS.get(n)));
        }
        call(method, separate);
        for (String n : names) {
            if (isOutput(n))
                assertArrayEquals(contents(separate.get(n)), contents(args.get(n)), n + " with adjacent operands");
        }
    }

    @Test
    void yOverlappingWeightIsRefusedAndInputsUnchanged() {
        assumeTrue(NativeMemory.available(), "no addresses without JavaCPP's native library");
        ByteBuffer bytes = ByteBuffer.allocateDirect(100 * Float.BYTES).order(ByteOrder.nativeOrder());
        FloatBuffer all = bytes.asFloatBuffer();
        Random rnd = new Random(5);
        for (int i = 0; i < 100; i++) all.put(i, rnd.nextFloat());
        // weight is elements [0, 24); y a separate view of the same ByteBuffer from element 12 on
        FloatBuffer weight = all.duplicate().limit(24);
        FloatBuffer y = bytes.duplicate()
                .position(12 * Float.BYTES)
                .slice()
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        FloatBuffer x = floats(new Random(6), 20);
        float[] before = contents(all), xBefore = contents(x);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> ConvNd.forward(x, X, weight, W, null, ONE, ZERO, ONE, 1, y));
        assertTrue(e.getMessage().contains("y must not overlap weight in memory"), e.getMessage());
        assertArrayEquals(before, contents(all));
        assertArrayEquals(xBefore, contents(x));
    }

    // ---- races on the caller's positions and limits --------------------------------------------

    /**
     * A thread moves the position and limit of every buffer argument while the calls run. Its
     * positions and limits stay inside each argument's true region, so the only window a check can
     * accept is the whole region: every call must either compute the right result there or be
     * refused with IllegalArgumentException, having written nothing, and the guard zones around each
     * region (same allocation) must never change. Before the snapshot, the check saw one position
     * and the kernels another.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("methods")
    void racingPositionsAndLimitsNeverMoveWhatACallTouches(String method) throws Exception {
        Map<String, Integer> lengths = new LinkedHashMap<>();
        // A larger case, so that each call gives the racer time: x (2, 6, 20, 20), weight (8, 6, 3, 3), y (2, 8, 18,
        // 18)
        long[] xs = {2, 6, 20, 20}, ws = {8, 6, 3, 3}, ys = {2, 8, 18, 18};
        int[] k = {3, 3}, one = {1, 1}, zero = {0, 0}, size = {20, 20};
        int xn = 4800, wn = 432, yn = 5184;
        List<String> outputs;
        switch (method) {
            case "forward" -> {
                lengths.putAll(Map.of("x", xn, "weight", wn, "bias", 8, "y", yn));
                outputs = List.of("y");
            }
            case "backwardInput" -> {
                lengths.putAll(Map.of("gradY", yn, "weight", wn, "gradX", xn));
                outputs = List.of("gradX");
            }
            default -> {
                lengths.putAll(Map.of("x", xn, "gradY", yn, "gradWeight", wn, "gradBias", 8));
                outputs = List.of("gradWeight", "gradBias");
            }
        }
        int guard = 64;
        float sentinel = 1234.5f;
        Random rnd = new Random(method.hashCode());
        Map<String, FloatBuffer> whole = new LinkedHashMap<>(), caller = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : lengths.entrySet()) {
            FloatBuffer w = floats(guard + e.getValue() + guard);
            for (int i = 0; i < w.capacity(); i++) {
                w.put(i, i < guard || i >= guard + e.getValue() ? sentinel : rnd.nextFloat() - 0.5f);
            }
            whole.put(e.getKey(), w);
            caller.put(e.getKey(), w.duplicate().limit(guard + e.getValue()).position(guard));
        }
        Consumer<Map<String, FloatBuffer>> run = a -> {
            switch (method) {
                case "forward" ->
                    ConvNd.forward(a.get("x"), xs, a.get("weight"), ws, a.get("bias"), one, zero, one, 1, a.get("y"));
                case "backwardInput" ->
                    ConvNd.backwardInput(
                            a.get("gradY"), ys, a.get("weight"), ws, size, one, zero, one, 1, a.get("gradX"));
                default ->
                    ConvNd.backwardWeight(
                            a.get("x"),
                            xs,
                            a.get("gradY"),
                            ys,
                            k,
                            one,
                            zero,
                            one,
                            1,
                            a.get("gradWeight"),
                            a.get("gradBias"));
            }
        };
        Map<String, float[]> expected = new LinkedHashMap<>();
        run.accept(caller); // no racer yet: the reference results
        for (String o : outputs)
            expected.put(o, Arrays.copyOfRange(contents(whole.get(o)), guard, guard + lengths.get(o)));
        float[][] inputsBefore = lengths.keySet().stream()
                .filter(n -> !outputs.contains(n))
                .map(n -> contents(whole.get(n)))
                .toArray(float[][]::new);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> racerFailure = new AtomicReference<>();
        List<FloatBuffer> moved = new ArrayList<>(caller.values());
        List<Integer> sizes = new ArrayList<>(lengths.values());
        Thread racer = new Thread(
                () -> {
                    Random r = new Random(7);
                    try {
                        // One argument at a time leaves its true region for a moment, so that most calls start on the
                        // true regions (and are checked against them) while the racer keeps moving things under them.
                        while (!stop.get()) {
                            int i = r.nextInt(moved.size());
                            FloatBuffer b = moved.get(i);
                            int n = sizes.get(i);
                            int p = guard + r.nextInt(n + 1);
                            b.limit(guard + n); // first the widest limit, so that every position below is legal
                            b.position(p);
                            b.limit(p + r.nextInt(guard + n - p + 1)); // a window inside the region (rarely all of it)
                            for (int spin = r.nextInt(1000); spin > 0; spin--) Thread.onSpinWait();
                            b.limit(guard + n);
                            b.position(guard); // the true region again
                            for (int spin = r.nextInt(1000); spin > 0; spin--) Thread.onSpinWait();
                        }
                    } catch (Throwable t) {
                        racerFailure.set(t);
                    }
                },
                "racer");
        racer.start();
        int succeeded = 0, refused = 0;
        try {
            for (int n = 0; n < 300 || (n < 5000 && (succeeded == 0 || refused == 0)); n++) {
                for (String o : outputs) {
                    FloatBuffer w = whole.get(o);
                    for (int i = guard; i < guard + lengths.get(o); i++) w.put(i, Float.NaN);
                }
                boolean ok;
                try {
                    run.accept(caller);
                    ok = true;
                    succeeded++;
                } catch (IllegalArgumentException e) {
                    // The check of a snapshot, naming what was short: not an exception from inside the work
                    // (as Buffer.limit's, when the work re-read a moved position).
                    if (!e.getMessage().contains("elements remaining")) {
                        throw new AssertionError("call " + n + " failed inside", e);
                    }
                    ok = false;
                    refused++;
                }
                for (String o : outputs) {
                    float[] got = contents(whole.get(o));
                    for (int i = 0; i < got.length; i++) {
                        int j = i - guard;
                        if (j < 0 || j >= lengths.get(o)) {
                            if (got[i] != sentinel)
                                throw new AssertionError(o + "'s guard zone written at " + i + ", call " + n);
                        } else if (!ok && !Float.isNaN(got[i])) {
                            throw new AssertionError(o + " written by a refused call, element " + j + ", call " + n);
                        } else if (ok && !close(expected.get(o)[j], got[i])) {
                            throw new AssertionError(
                                    o + "[" + j + "] = " + got[i] + ", expected " + expected.get(o)[j] + ", call " + n);
                        }
                    }
                }
            }
        } finally {
            stop.set(true);
            racer.join();
        }
        if (racerFailure.get() != null) throw new AssertionError("the racer itself failed", racerFailure.get());
        int i = 0;
        for (String n : lengths.keySet()) {
            if (!outputs.contains(n))
                assertArrayEquals(inputsBefore[i++], contents(whole.get(n)), n + " (an input) changed");
        }
        assertTrue(
                succeeded > 0 && refused > 0,
                "the race never " + (succeeded == 0 ? "let a call through" : "moved a check"));
    }

    static List<String> methods() {
        return List.of("forward", "backwardInput", "backwardWeight");
    }

    /** Positions and limits are the caller's: a call reads from them and leaves them as they were. */
    @Test
    void positionsAndLimitsAreUnchangedAndNothingPastAnOutputIsWritten() {
        Random rnd = new Random(11);
        Map<String, FloatBuffer> args = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : LENGTHS.entrySet()) {
            int n = e.getValue(), spare = isOutput(e.getKey()) ? 5 : 0; // outputs may be longer than needed
            FloatBuffer b = floats(3 + n + spare + 7);
            for (int i = 0; i < b.capacity(); i++) b.put(i, rnd.nextFloat());
            args.put(e.getKey(), b.limit(3 + n + spare).position(3));
        }
        for (String method : methods()) {
            Map<String, float[]> before = new LinkedHashMap<>();
            args.forEach((n, b) -> before.put(n, contents(b.duplicate().clear())));
            call(method, args);
            Map<String, FloatBuffer> separate = new LinkedHashMap<>();
            args.forEach((n, b) -> separate.put(n, isOutput(n) ? floats(LENGTHS.get(n)) : copy(b)));
            call(method, separate);
            args.forEach((n, b) -> {
                int spare = isOutput(n) ? 5 : 0;
                assertEquals(3, b.position(), method + ": " + n + "'s position");
                assertEquals(3 + LENGTHS.get(n) + spare, b.limit(), method + ": " + n + "'s limit");
                float[] now = contents(b.duplicate().clear()), was = before.get(n);
                boolean written = writes(method, n);
                for (int i = 0; i < now.length; i++) {
                    boolean inRegion = i >= 3 && i < 3 + LENGTHS.get(n);
                    if (written && inRegion) {
                        assertEquals(separate.get(n).get(i - 3), now[i], method + ": " + n + "[" + (i - 3) + "]");
                    } else {
                        assertEquals(
                                was[i],
                                now[i],
                                method + ": " + n + " changed at " + i + " (outside what the call writes)");
                    }
                }
            });
        }
    }

    // ---- sizes past the int range ----------------------------------------------------------------

    /**
     * A batch, channel count or kernel volume of 2^31 or more is IllegalArgumentException naming it
     * (it was ArithmeticException from Math.toIntExact), on arrays and buffers, in all three calls.
     */
    @Test
    void sizesPastTheIntRangeAreIllegalArguments() {
        long big = 1L << 31;
        int[] one = {1}, zero = {0}, one2 = {1, 1}, zero2 = {0, 0};
        float[] a = new float[4];
        FloatBuffer b = floats(4), o = floats(4);
        long[] wide = {1, 1, 65536, 65536}; // a 65536 x 65536 kernel: K = 2^32
        int[] wideSize = {65536, 65536};
        String n = "xShape[0] (N) is 2147483648", c = "xShape[1] (C_in) is 2147483648";
        String k = "kernel volume K (weightShape[2..]) is 4294967296";
        List<Map.Entry<String, Executable>> cases = List.of(
                // forward: N, C_in (weight[1] * groups), K
                Map.entry(
                        n,
                        () -> ConvNd.forward(
                                a, new long[] {big, 1, 1}, a, new long[] {1, 1, 1}, null, one, zero, one, 1)),
                Map.entry(
                        c,
                        () -> ConvNd.forward(
                                b, new long[] {1, big, 1}, b, new long[] {2, big / 2, 1}, null, one, zero, one, 2, o)),
                Map.entry(k, () -> ConvNd.forward(a, wide, a, wide, null, one2, zero2, one2, 1)),
                Map.entry(k, () -> ConvNd.forward(b, wide, b, wide, null, one2, zero2, one2, 1, o)),
                // backwardInput: N from gradYShape, C_in from weightShape[1] * groups
                Map.entry(
                        "gradYShape[0] (N) is 2147483648",
                        () -> ConvNd.backwardInput(
                                b, new long[] {big, 1, 1}, b, new long[] {1, 1, 1}, one, one, zero, one, 1, o)),
                Map.entry(
                        "C_in (weightShape[1] * groups) is 2147483648",
                        () -> ConvNd.backwardInput(
                                a, new long[] {1, 2, 1}, a, new long[] {2, big / 2, 1}, one, one, zero, one, 2)),
                Map.entry(
                        k,
                        () -> ConvNd.backwardInput(
                                a, new long[] {1, 1, 1, 1}, a, wide, wideSize, one2, zero2, one2, 1)),
                // backwardWeight: K from kernelSize
                Map.entry(
                        n,
                        () -> ConvNd.backwardWeight(
                                a, new long[] {big, 1, 1}, a, new long[] {big, 1, 1}, one, one, zero, one, 1)),
                Map.entry(
                        c,
                        () -> ConvNd.backwardWeight(
                                b,
                                new long[] {1, big, 1},
                                b,
                                new long[] {1, 2, 1},
                                one,
                                one,
                                zero,
                                one,
                                2,
                                o,
                                o.duplicate())),
                Map.entry(
                        "kernel volume K (the product of kernelSize) is 4294967296",
                        () -> ConvNd.backwardWeight(
                                a, wide, a, new long[] {1, 1, 1, 1}, wideSize, one2, zero2, one2, 1)));
        for (Map.Entry<String, Executable> entry : cases) {
            String mention = entry.getKey();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, entry.getValue(), mention);
            assertTrue(e.getMessage().contains(mention), () -> "message lacks '" + mention + "': " + e.getMessage());
            assertFalse(e.getMessage().contains("buffer API"), e.getMessage());
        }
    }

    /**
     * Shapes from a pool of edge values (negative, 0, 1, 2^31 - 1, 2^31, 2^32, 2^62, Long.MAX_VALUE)
     * with small arrays: every call returns or throws IllegalArgumentException, nothing else (no
     * ArithmeticException, NegativeArraySizeException, IndexOutOfBoundsException).
     */
    @Test
    void edgeShapesOnlyEverGiveIllegalArgument() {
        long[] pool = {-1, 0, 1, 2, 3, Integer.MAX_VALUE, 1L << 31, 1L << 32, 1L << 62, Long.MAX_VALUE, 65536};
        int[] ints = {-1, 0, 1, 2, 3, Integer.MAX_VALUE, 65536};
        Random rnd = new Random(13);
        for (int trial = 0; trial < 20_000; trial++) {
            int d = 1 + rnd.nextInt(2);
            long[] xs = longs(rnd, pool, d + 2), ys = longs(rnd, pool, d + 2);
            long[] ws = longs(rnd, pool, d + 2 - (rnd.nextInt(10) == 0 ? 1 : 0)); // sometimes of the wrong rank
            int[] k = ints(rnd, ints, d), s = ints(rnd, ints, d), p = ints(rnd, ints, d), dil = ints(rnd, ints, d);
            int[] n = ints(rnd, ints, d);
            int groups = ints[rnd.nextInt(ints.length)];
            float[] a = new float[1 + rnd.nextInt(8)], c = new float[1 + rnd.nextInt(8)];
            FloatBuffer fa = floats(a.length), fc = floats(c.length), out = floats(64), out2 = floats(64);
            List<Executable> calls = List.of(
                    () -> ConvNd.forward(a, xs, c, ws, null, s, p, dil, groups),
                    () -> ConvNd.backwardInput(a, ys, c, ws, n, s, p, dil, groups),
                    () -> ConvNd.backwardWeight(a, xs, c, ys, k, s, p, dil, groups),
                    () -> ConvNd.forward(fa, xs, fc, ws, null, s, p, dil, groups, out),
                    () -> ConvNd.backwardInput(fa, ys, fc, ws, n, s, p, dil, groups, out),
                    () -> ConvNd.backwardWeight(fa, xs, fc, ys, k, s, p, dil, groups, out, out2));
            for (Executable call : calls) {
                try {
                    call.execute();
                } catch (IllegalArgumentException expected) {
                    // the only failure allowed
                } catch (Throwable t) {
                    throw new AssertionError(
                            "xShape " + Arrays.toString(xs) + " weightShape " + Arrays.toString(ws)
                                    + " gradYShape " + Arrays.toString(ys) + " kernel " + Arrays.toString(k)
                                    + " stride "
                                    + Arrays.toString(s) + " padding " + Arrays.toString(p) + " dilation "
                                    + Arrays.toString(dil)
                                    + " size " + Arrays.toString(n) + " groups " + groups + ": " + t,
                            t);
                }
            }
        }
    }

    // ---- scratch -----------------------------------------------------------------------------------

    /**
     * After a call whose scratch exceeds the cap, the thread keeps at most 16 MiB; it used to keep all
     * of it for good. The staging scratch is asked for directly (slots of 12 and 8 MiB, as a staged
     * depthwise layer with x and y of 8 MiB each took), then a layer: in place where the native engine
     * runs it (the direct kernels in parts, no scratch at all), else staged through more than the cap
     * (without the native engine: a 72 MiB column matrix), and the same values after the trim.
     */
    @Test
    void aThreadKeepsAtMostTheCapOfScratchBetweenCalls() {
        ConvNd.releaseScratch();
        assertEquals(0, ConvNd.retainedScratchBytes());
        try {
            FloatConvolution.INSTANCE.scratch(Convolution.STAGE_A, 3L << 20, "a test block of 12 MiB");
            FloatConvolution.INSTANCE.scratch(Convolution.STAGE_OUT, 2L << 20, "a test block of 8 MiB");
            Convolution.endCall();
            long kept = ConvNd.retainedScratchBytes();
            assertTrue(kept > 0 && kept <= Convolution.KEPT_SCRATCH_BYTES, "kept " + kept + " bytes of 20 MiB");
            ConvNd.releaseScratch();

            long[] xs = {1, 32, 256, 256}, ws = {32, 1, 3, 3};
            int[] one = {1, 1}, pad = {1, 1};
            Random rnd = new Random(17);
            float[] x = new float[32 * 256 * 256], w = new float[32 * 9];
            for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat();
            for (int i = 0; i < w.length; i++) w[i] = rnd.nextFloat();
            boolean inPlace = FloatConvolution.INSTANCE.onArrays(ConvShape.of(xs, ws, one, pad, one, 32));
            float[] first = ConvNd.forward(x, xs, w, ws, null, one, pad, one, 32);
            kept = ConvNd.retainedScratchBytes();
            assertTrue(kept <= Convolution.KEPT_SCRATCH_BYTES, "kept " + kept + " bytes, more than the cap");
            assertTrue(inPlace ? kept == 0 : kept > 0, (inPlace ? "in place: " : "staged: ") + kept + " bytes kept");
            assertArrayEquals(first, ConvNd.forward(x, xs, w, ws, null, one, pad, one, 32), "a call after the trim");
            assertTrue(ConvNd.retainedScratchBytes() <= Convolution.KEPT_SCRATCH_BYTES);
            // A small call keeps all it used: reuse, not a fresh allocation, on the next call. Where it runs on
            // the arrays in place (the native engine's tiled passes), it uses none.
            ConvNd.releaseScratch();
            ConvNd.forward(new float[20], X, new float[24], W, null, ONE, ZERO, ONE, 1);
            if (FloatConvolution.INSTANCE.onArrays(ConvShape.of(X, W, ONE, ZERO, ONE, 1))) {
                assertEquals(0, ConvNd.retainedScratchBytes(), "in place: no scratch");
            } else {
                assertTrue(ConvNd.retainedScratchBytes() > 0, "the staging copies are kept");
            }
        } finally {
            ConvNd.releaseScratch();
        }
        assertEquals(0, ConvNd.retainedScratchBytes(), "releaseScratch frees everything");
    }

    /**
     * A column matrix past one scratch view (2^31 - 1 bytes): the tiled passes never build it, so the layer
     * runs in a tile of scratch per thread and gives the convolution's values; without them (no native
     * engine or no OpenBLAS) it is refused naming the real limit, for arrays and buffers.
     */
    @Test
    void aColumnMatrixPastTheViewLimitRunsTiledOrIsRefusedSayingSo() {
        // x (1, 1, 1), kernel 32768 with padding 32768: L = 32770 blocks, K * L = 1073807360 floats = 4295229440 bytes,
        // fewer elements than any int limit but more bytes than one ByteBuffer.
        long[] xs = {1, 1, 1}, ws = {1, 1, 32768};
        int[] one = {1}, pad = {32768};
        float[] w = new float[32768];
        for (int k = 0; k < w.length; k++) w[k] = k + 1;
        ConvShape shape = ConvShape.of(xs, ws, one, pad, one, 1);
        if (FloatConvolution.INSTANCE.tiled(shape)) {
            NativeContract.convScratchPeak(true);
            float[] y = ConvNd.forward(new float[] {2}, xs, w, ws, null, one, pad, one, 1);
            long peak = NativeContract.convScratchPeak(true);
            assertEquals(32770, y.length);
            // block l reads x at l - 32768 + k: x[0] = 2 meets offset k = 32768 - l, for l in [1, 32768]
            for (int l = 0; l < y.length; l++) {
                float want = l >= 1 && l <= 32768 ? 2 * w[32768 - l] : 0;
                if (y[l] != want) assertEquals(want, y[l], "y[" + l + "]");
            }
            assertTrue(peak > 0 && peak <= FoldNd.threads() * (8L << 20), "scratch peak " + peak + " bytes");
            ConvNd.releaseScratch();
            return;
        }
        String expected = "the convolution's column matrix (C_in * K, N * L) would need 4295229440 bytes";
        List<Executable> calls = List.of(
                () -> ConvNd.forward(new float[1], xs, w, ws, null, one, pad, one, 1),
                () -> ConvNd.forward(floats(1), xs, floats(32768), ws, null, one, pad, one, 1, floats(32770)));
        for (Executable call : calls) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
            String m = e.getMessage();
            assertTrue(
                    m.contains(expected) && m.contains("more than the 2147483647 bytes one scratch view can hold"), m);
            assertFalse(m.contains("buffer API"), m);
        }
        assertTrue(ConvNd.retainedScratchBytes() <= Convolution.KEPT_SCRATCH_BYTES);
        ConvNd.releaseScratch();
    }

    /** A failed native allocation is an OutOfMemoryError saying how much, and for what. */
    @Test
    void aFailedAllocationIsAnOutOfMemoryErrorSayingWhy() {
        assumeTrue(
                NativeMemory.available(),
                "scratch comes from the JVM's direct memory without JavaCPP's native library");
        OutOfMemoryError e =
                assertThrows(OutOfMemoryError.class, () -> Convolution.malloc(1L << 62, "the test's block"));
        assertTrue(
                e.getMessage()
                        .contains(
                                "could not allocate 4611686018427387904 bytes of native scratch for the test's block"),
                e.getMessage());
    }

    // ---- helpers -----------------------------------------------------------------------------------

    static boolean isOutput(String name) {
        return name.equals("y") || name.equals("gradX") || name.equals("gradWeight") || name.equals("gradBias");
    }

    /** Whether this method writes this output (each method has its own outputs). */
    static boolean writes(String method, String output) {
        return switch (method) {
            case "forward" -> output.equals("y");
            case "backwardInput" -> output.equals("gradX");
            default -> output.equals("gradWeight") || output.equals("gradBias");
        };
    }

    static void call(String method, Map<String, FloatBuffer> a) {
        switch (method) {
            case "forward" ->
                ConvNd.forward(a.get("x"), X, a.get("weight"), W, a.get("bias"), ONE, ZERO, ONE, 1, a.get("y"));
            case "backwardInput" ->
                ConvNd.backwardInput(a.get("gradY"), Y, a.get("weight"), W, SIZE, ONE, ZERO, ONE, 1, a.get("gradX"));
            default ->
                ConvNd.backwardWeight(
                        a.get("x"), X, a.get("gradY"), Y, K, ONE, ZERO, ONE, 1, a.get("gradWeight"), a.get("gradBias"));
        }
    }

    static boolean close(float expected, float actual) {
        return Math.abs(expected - actual) <= 1e-4f * Math.max(1, Math.abs(expected));
    }

    static FloatBuffer floats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    static FloatBuffer floats(Random rnd, int n) {
        FloatBuffer b = floats(n);
        for (int i = 0; i < n; i++) b.put(i, rnd.nextFloat() - 0.5f);
        return b;
    }

    /** A fresh direct buffer holding b's remaining elements. */
    static FloatBuffer copy(FloatBuffer b) {
        FloatBuffer c = floats(b.remaining());
        c.put(0, b, b.position(), b.remaining());
        return c;
    }

    /** b's remaining elements, read without moving its position. */
    static float[] contents(FloatBuffer b) {
        float[] v = new float[b.remaining()];
        b.get(b.position(), v);
        return v;
    }

    static long[] longs(Random rnd, long[] pool, int n) {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextInt(3) == 0 ? pool[rnd.nextInt(pool.length)] : 1 + rnd.nextInt(4);
        return v;
    }

    static int[] ints(Random rnd, int[] pool, int n) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextInt(3) == 0 ? pool[rnd.nextInt(pool.length)] : 1 + rnd.nextInt(3);
        return v;
    }
}
