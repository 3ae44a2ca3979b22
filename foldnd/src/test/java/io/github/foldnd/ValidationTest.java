package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input, on every engine: the exception type, and a message that names the argument and shows
 * the value received. Nothing else may escape (no ArithmeticException, IndexOutOfBounds, crash).
 */
class ValidationTest {
    static final long[] IMAGE = {1, 2, 4, 4};
    static final long[] COLUMNS = {1, 8, 9};
    static final int[] K = {2, 2}, ONE = {1, 1}, ZERO = {0, 0}, OUT = {4, 4};

    record Case(String name, Class<? extends RuntimeException> type, Consumer<Engine> call, String... mentions) {
        @Override
        public String toString() {
            return name;
        }
    }

    static FloatPointer pointer(int n) {
        return new FloatPointer(n);
    }

    static FoldGeometry image() {
        return FoldGeometry.forUnfold(IMAGE, K, ONE, ZERO, ONE);
    }

    static FoldGeometry columns() {
        return FoldGeometry.forFold(COLUMNS, OUT, K, ONE, ZERO, ONE);
    }

    static List<Case> cases() {
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        Class<NullPointerException> npe = NullPointerException.class;
        List<Case> c = new ArrayList<>();
        // nulls
        c.add(new Case("null kernelSize", npe, e -> FoldGeometry.forUnfold(IMAGE, null, ONE, ZERO, ONE), "kernelSize"));
        c.add(new Case("null dilation", npe, e -> FoldGeometry.forUnfold(IMAGE, K, null, ZERO, ONE), "dilation"));
        c.add(new Case("null padding", npe, e -> FoldGeometry.forUnfold(IMAGE, K, ONE, null, ONE), "padding"));
        c.add(new Case("null stride", npe, e -> FoldGeometry.forUnfold(IMAGE, K, ONE, ZERO, null), "stride"));
        c.add(new Case("null inputShape", npe, e -> FoldGeometry.forUnfold(null, K, ONE, ZERO, ONE), "inputShape"));
        c.add(new Case(
                "null outputSize", npe, e -> FoldGeometry.forFold(COLUMNS, null, K, ONE, ZERO, ONE), "outputSize"));
        c.add(new Case("null input array", npe, e -> e.unfold(image(), (float[]) null), "input"));
        c.add(new Case("null input buffer", npe, e -> e.unfold(image(), null, Harness.directFloats(72)), "input"));
        c.add(new Case("null output buffer", npe, e -> e.unfold(image(), Harness.directFloats(32), null), "output"));
        c.add(new Case("null reduce", npe, e -> e.fold(columns(), new float[72], null, null), "reduce"));
        c.add(new Case("null geometry", npe, e -> e.fold(null, new float[72], Reduce.SUM, null), "geometry"));
        // block parameters
        c.add(new Case(
                "empty kernelSize",
                iae,
                e -> FoldGeometry.forUnfold(IMAGE, new int[0], new int[0], new int[0], new int[0]),
                "kernelSize",
                "[]"));
        c.add(new Case(
                "65 dimensions",
                iae,
                e -> {
                    int[] ones = new int[65];
                    java.util.Arrays.fill(ones, 1);
                    long[] shape = new long[67];
                    java.util.Arrays.fill(shape, 1);
                    FoldGeometry.forUnfold(shape, ones, ones, new int[65], ones);
                },
                "kernelSize must have at most 64 elements",
                "got 65"));
        c.add(new Case(
                "zero kernel",
                iae,
                e -> FoldGeometry.forUnfold(IMAGE, new int[] {2, 0}, ONE, ZERO, ONE),
                "kernelSize must be positive, got [2, 0]"));
        c.add(new Case(
                "zero dilation",
                iae,
                e -> FoldGeometry.forUnfold(IMAGE, K, new int[] {0, 1}, ZERO, ONE),
                "dilation must be positive, got [0, 1]"));
        c.add(new Case(
                "negative stride",
                iae,
                e -> FoldGeometry.forUnfold(IMAGE, K, ONE, ZERO, new int[] {1, -3}),
                "stride must be positive, got [1, -3]"));
        c.add(new Case(
                "negative padding",
                iae,
                e -> FoldGeometry.forUnfold(IMAGE, K, ONE, new int[] {-1, 0}, ONE),
                "padding must be non-negative, got [-1, 0]"));
        c.add(new Case(
                "dilation length",
                iae,
                e -> FoldGeometry.forUnfold(IMAGE, K, new int[] {1, 1, 1}, ZERO, ONE),
                "dilation must have 2 elements",
                "[1, 1, 1]"));
        c.add(new Case(
                "stride length",
                iae,
                e -> FoldGeometry.forFold(COLUMNS, OUT, K, ONE, ZERO, new int[] {1}),
                "stride must have 2 elements",
                "[1]"));
        c.add(new Case(
                "kernel volume overflow",
                iae,
                e -> FoldGeometry.forUnfold(
                        new long[] {1, 1, 1, 1, 1, 1},
                        new int[] {1 << 20, 1 << 20, 1 << 20, 1 << 20},
                        new int[] {1, 1, 1, 1},
                        new int[] {1 << 20, 1 << 20, 1 << 20, 1 << 20},
                        new int[] {1, 1, 1, 1}),
                "kernelSize"));
        // unfold's input shape
        c.add(new Case(
                "unfold rank",
                iae,
                e -> FoldGeometry.forUnfold(new long[] {2, 4}, K, ONE, ZERO, ONE),
                "inputShape must have 4 or 3 dimensions",
                "[2, 4]"));
        c.add(new Case(
                "negative batch",
                iae,
                e -> FoldGeometry.forUnfold(new long[] {-1, 2, 4, 4}, K, ONE, ZERO, ONE),
                "inputShape",
                "non-negative batch",
                "[-1, 2, 4, 4]"));
        c.add(new Case(
                "zero channels",
                iae,
                e -> FoldGeometry.forUnfold(new long[] {1, 0, 4, 4}, K, ONE, ZERO, ONE),
                "inputShape",
                "[1, 0, 4, 4]"));
        c.add(new Case(
                "zero spatial",
                iae,
                e -> FoldGeometry.forUnfold(new long[] {2, 4, 0}, K, ONE, ZERO, ONE),
                "inputShape",
                "[2, 4, 0]"));
        c.add(new Case(
                "no block fits",
                iae,
                e -> FoldGeometry.forUnfold(new long[] {1, 1, 1, 4}, K, ONE, ZERO, ONE),
                "no block fits in dimension 0",
                "kernelSize [2, 2]"));
        c.add(new Case(
                "shape overflow",
                iae,
                e -> FoldGeometry.forUnfold(new long[] {Long.MAX_VALUE / 2, 4, 4, 4}, K, ONE, ZERO, ONE),
                "inputShape"));
        c.add(new Case(
                "spatial overflow",
                iae,
                e -> FoldGeometry.forUnfold(new long[] {1, 1, Long.MAX_VALUE, 4}, K, ONE, ZERO, ONE),
                "inputShape"));
        // fold's input shape and output size
        c.add(new Case(
                "fold rank",
                iae,
                e -> FoldGeometry.forFold(new long[] {1, 1, 8, 9}, OUT, K, ONE, ZERO, ONE),
                "inputShape must have 3 or 2 dimensions",
                "[1, 1, 8, 9]"));
        c.add(new Case(
                "not divisible",
                iae,
                e -> FoldGeometry.forFold(new long[] {1, 7, 9}, OUT, K, ONE, ZERO, ONE),
                "inputShape[1]",
                "divisible",
                "= 4, got 7"));
        c.add(new Case(
                "block count",
                iae,
                e -> FoldGeometry.forFold(new long[] {1, 8, 10}, OUT, K, ONE, ZERO, ONE),
                "inputShape[2]",
                "expected 3 * 3 = 9, got 10"));
        c.add(new Case(
                "zero L",
                iae,
                e -> FoldGeometry.forFold(new long[] {1, 8, 0}, OUT, K, ONE, ZERO, ONE),
                "inputShape",
                "[1, 8, 0]"));
        c.add(new Case(
                "outputSize length",
                iae,
                e -> FoldGeometry.forFold(COLUMNS, new int[] {4}, K, ONE, ZERO, ONE),
                "outputSize must have 2 elements",
                "[4]"));
        c.add(new Case(
                "outputSize zero",
                iae,
                e -> FoldGeometry.forFold(COLUMNS, new int[] {4, 0}, K, ONE, ZERO, ONE),
                "outputSize must be positive, got [4, 0]"));
        // data
        c.add(new Case(
                "input length", iae, e -> e.unfold(image(), new float[31]), "input must have 32 elements", "got 31"));
        c.add(new Case(
                "fold input length",
                iae,
                e -> e.fold(columns(), new double[73], Reduce.SUM, null),
                "input must have 72 elements",
                "got 73"));
        c.add(new Case(
                "weights length",
                iae,
                e -> e.fold(columns(), new float[72], Reduce.MEAN, new float[3]),
                "weights must have 4 elements",
                "got 3"));
        // 65536 samples, a 32768-wide kernel, padding 32768: 98305 blocks * 32768 offsets = 3221258240 elements.
        c.add(new Case(
                "output too big for an array",
                iae,
                e -> e.unfold(
                        FoldGeometry.forUnfold(
                                new long[] {1, 65536}, new int[] {32768}, new int[] {1}, new int[] {32768}, new int[] {1
                                }),
                        new float[65536]),
                "the unfold output would have 3221258240 elements",
                "use the buffer API"));
        // buffers
        // Heap buffers are accepted (HeapBufferTest); they are checked as direct ones are.
        c.add(new Case(
                "read-only heap output",
                iae,
                e -> e.unfold(
                        image(),
                        FloatBuffer.allocate(32),
                        FloatBuffer.allocate(72).asReadOnlyBuffer()),
                "output must be writable, got a read-only buffer"));
        c.add(new Case(
                "heap output too small",
                iae,
                e -> e.unfold(image(), FloatBuffer.allocate(32), FloatBuffer.wrap(new float[80], 9, 71)),
                "output must have at least 72 elements remaining, got 71",
                "position 9"));
        c.add(new Case(
                "heap view input remaining",
                iae,
                e -> e.unfold(image(), ByteBuffer.allocate(160).asFloatBuffer().position(4), Harness.directFloats(72)),
                "input must have 32 elements remaining",
                "got 36"));
        c.add(new Case(
                "output over the input's array",
                iae,
                e -> {
                    float[] shared = new float[110];
                    e.unfold(image(), FloatBuffer.wrap(shared, 0, 32), FloatBuffer.wrap(shared, 31, 79));
                },
                "output must not overlap input in memory",
                "elements [31, 103)",
                "elements [0, 32)"));
        c.add(new Case(
                "output over the weights",
                iae,
                e -> {
                    float[] weights = new float[4];
                    e.fold(
                            FoldGeometry.forFold(new long[] {1, 4, 1}, new int[] {2, 2}, K, ONE, ZERO, ONE),
                            FloatBuffer.allocate(4),
                            Reduce.SUM,
                            weights,
                            FloatBuffer.wrap(weights));
                },
                "output must not overlap weights in memory"));
        c.add(new Case(
                "read-only output",
                iae,
                e -> e.unfold(
                        image(),
                        Harness.directFloats(32),
                        Harness.directFloats(72).asReadOnlyBuffer()),
                "output must be writable"));
        c.add(new Case(
                "byte order",
                iae,
                e -> e.unfold(
                        image(),
                        ByteBuffer.allocateDirect(128).order(opposite()).asFloatBuffer(),
                        Harness.directFloats(72)),
                "input must be in native byte order",
                opposite().toString()));
        c.add(new Case(
                "output too small",
                iae,
                e -> e.unfold(image(), Harness.directFloats(32), Harness.directFloats(71)),
                "output must have at least 72 elements remaining, got 71"));
        c.add(new Case(
                "input remaining",
                iae,
                e -> e.unfold(image(), Harness.directFloats(40).position(4), Harness.directFloats(72)),
                "input must have 32 elements remaining",
                "got 36",
                "position 4"));
        c.add(new Case(
                "fold heap buffers",
                iae,
                e -> e.fold(columns(), DoubleBuffer.allocate(1), Reduce.SUM, null, DoubleBuffer.allocate(1)),
                "input must have 72 elements remaining",
                "got 1"));
        c.add(new Case(
                "same buffer",
                iae,
                e -> {
                    FloatBuffer b = Harness.directFloats(72);
                    e.unfold(
                            FoldGeometry.forUnfold(
                                    new long[] {1, 1, 72}, new int[] {1}, new int[] {1}, new int[] {0}, new int[] {1}),
                            b,
                            b);
                },
                "output must not overlap input in memory"));
        // JavaCPP pointers
        c.add(new Case("null input pointer", npe, e -> e.unfold(image(), (FloatPointer) null, pointer(72)), "input"));
        c.add(new Case(
                "null address",
                iae,
                e -> e.unfold(image(), new FloatPointer(), pointer(72)),
                "input must point to memory, got a null address"));
        c.add(new Case(
                "pointer without limit",
                iae,
                e -> e.unfold(image(), pointer(32), pointer(72).limit(0)),
                "output must have at least 72 elements between position and limit, got 0",
                "limit(n)"));
        c.add(new Case(
                "pointer input count",
                iae,
                e -> e.unfold(image(), pointer(40).position(4), pointer(72)),
                "input must have 32 elements between position and limit",
                "got 36 (position 4, limit 40)"));
        c.add(new Case(
                "pointer weights",
                iae,
                e -> e.fold(columns(), new DoublePointer(72), Reduce.SUM, new double[5], new DoublePointer(32)),
                "weights must have 4 elements",
                "got 5"));
        c.add(new Case(
                "same pointer",
                iae,
                e -> {
                    FloatPointer p = pointer(72);
                    e.unfold(
                            FoldGeometry.forUnfold(
                                    new long[] {1, 1, 72}, new int[] {1}, new int[] {1}, new int[] {0}, new int[] {1}),
                            p,
                            p);
                },
                "output must not overlap input in memory"));
        // Pointers that lie about their bounds: each refused by name, whatever the engine.
        c.add(new Case(
                "negative output position",
                iae,
                e -> e.unfold(image(), pointer(32), pointer(72).position(-1000).limit(0)),
                "output must have a non-negative position, got -1000"));
        c.add(new Case(
                "negative input position",
                iae,
                e -> e.unfold(image(), pointer(32).position(-18).limit(14), pointer(72)),
                "input must have a non-negative position, got -18"));
        c.add(new Case(
                "limit before position",
                iae,
                e -> e.unfold(image(), pointer(40).position(8).limit(4), pointer(72)),
                "input must have its limit at or after its position, got position 8, limit 4"));
        c.add(new Case(
                "limit beyond capacity",
                iae,
                e -> e.unfold(image(), pointer(32), pointer(72).limit(1000)),
                "output must have its limit within its capacity, got limit 1000, capacity 72"));
        c.add(new Case(
                "limit beyond any address",
                iae,
                e -> {
                    FloatPointer foreign = new FloatPointer(pointer(1))
                            .capacity(0); // capacity 0: bounds unknown, the limit is trusted
                    e.unfold(
                            image(),
                            pointer(32),
                            foreign.position(Long.MAX_VALUE / 2).limit(Long.MAX_VALUE));
                },
                "output has a limit beyond any address"));
        c.add(new Case(
                "threads", iae, e -> FoldNd.setThreads(0), "threads must be between 1 and " + Threads.MAX, "got 0"));
        c.add(new Case(
                "too many threads",
                iae,
                e -> FoldNd.setThreads(5000),
                "threads must be between 1 and " + Threads.MAX,
                "got 5000"));
        return c;
    }

    static ByteOrder opposite() {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    static List<Arguments> casesOnEngines() {
        List<Arguments> out = new ArrayList<>();
        for (Engine e : Engine.available()) {
            for (Case c : cases()) out.add(Arguments.of(e, c));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("casesOnEngines")
    void refusesWithAMessageNamingTheArgument(Engine engine, Case c) {
        RuntimeException thrown =
                assertThrows(RuntimeException.class, () -> c.call().accept(engine));
        assertEquals(c.type(), thrown.getClass(), () -> "wrong exception type: " + thrown);
        for (String m : c.mentions()) {
            assertTrue(thrown.getMessage().contains(m), () -> "message lacks '" + m + "': " + thrown.getMessage());
        }
    }

    /** Any shared byte is refused on every engine: the pure-Java engine sees the addresses too. */
    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void everyEngineRefusesOverlappingBuffers(Engine e) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(400).order(ByteOrder.nativeOrder());
        FloatBuffer in = bytes.asFloatBuffer().limit(32);
        FloatBuffer out = bytes.asFloatBuffer().position(16); // shares elements 16..31 with in
        float[] before = new float[100];
        bytes.asFloatBuffer().get(before);
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.unfold(image(), in, out));
        assertTrue(x.getMessage().contains("overlap"), x.getMessage());
        float[] after = new float[100];
        bytes.asFloatBuffer().get(after);
        assertArrayEquals(before, after, "nothing may be written when refused");
    }

    @ParameterizedTest
    @MethodSource("io.github.foldnd.Harness#engines")
    void everyEngineRefusesOverlappingPointers(Engine e) {
        FloatPointer memory = new FloatPointer(200);
        FloatPointer in = new FloatPointer(memory).limit(32),
                out = new FloatPointer(memory).position(20).limit(100);
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.unfold(image(), in, out));
        assertTrue(x.getMessage().contains("output must not overlap input in memory"), x.getMessage());
        // One shared element is enough: the output starting at the input's last element.
        FloatPointer last = new FloatPointer(memory).position(31).limit(100);
        assertThrows(IllegalArgumentException.class, () -> e.unfold(image(), in, last));
        // Adjacent is fine.
        FloatPointer after = new FloatPointer(memory).position(32).limit(104);
        e.unfold(image(), in, after);
    }

    @Test
    void builderDefaultsAndMessages() {
        FoldGeometry g = FoldGeometry.builder()
                .kernelSize(3, 3)
                .padding(1, 1)
                .stride(2, 2)
                .forFold(new long[] {8, 18, 256}, 32, 32);
        assertArrayEquals(new int[] {1, 1}, g.dilation());
        assertArrayEquals(new long[] {16, 16}, g.blockGrid());
        assertArrayEquals(new long[] {8, 2, 32, 32}, g.imageShape());
        NullPointerException npe = assertThrows(
                NullPointerException.class, () -> FoldGeometry.builder().forUnfold(1, 2, 3));
        assertTrue(npe.getMessage().contains("kernelSize"));
        assertEquals(
                g,
                FoldGeometry.builder()
                        .kernelSize(3, 3)
                        .padding(1, 1)
                        .stride(2, 2)
                        .forFold(new long[] {8, 18, 256}, 32, 32));
    }
}
