package io.github.foldnd;

import static io.github.foldnd.Harness.assertBitwise;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.Harness.DType;
import io.github.foldnd.Harness.Memory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * PyTorch (org.bytedeco:pytorch, test scope only) as the oracle for 2-d, live in this JVM:
 * {@code torch.nn.functional.unfold/fold} are {@code at::im2col/col2im}, which are called here on
 * {@code from_blob} tensors and compared bit for bit with every engine, type and memory kind; then
 * PyTorch's own module test cases, and its refusals.
 */
class PyTorchOracleTest {
    /** at::im2col on a copy of the image; null if PyTorch refuses. */
    static double[] torchUnfold(DType t, double[] image, long[] shape, int[] k, int[] d, int[] p, int[] s) {
        try (PointerScope scope = new PointerScope()) {
            Tensor out = torch.im2col(tensor(t, image, shape), longs(k), longs(d), longs(p), longs(s));
            return read(t, out);
        }
    }

    /** at::col2im on a copy of the columns. */
    static double[] torchFold(DType t, double[] columns, long[] shape, int[] size, int[] k, int[] d, int[] p, int[] s) {
        try (PointerScope scope = new PointerScope()) {
            Tensor out = torch.col2im(tensor(t, columns, shape), longs(size), longs(k), longs(d), longs(p), longs(s));
            return read(t, out);
        }
    }

    private static Tensor tensor(DType t, double[] values, long[] shape) {
        Pointer data = t == DType.FLOAT ? new FloatPointer(Harness.toFloat(values)) : new DoublePointer(values);
        TensorOptions options = new TensorOptions(t == DType.FLOAT ? torch.ScalarType.Float : torch.ScalarType.Double);
        return torch.from_blob(data, shape, options).clone(); // clone: own its memory
    }

    private static double[] read(DType t, Tensor out) {
        Tensor c = out.contiguous();
        int n = (int) c.numel();
        double[] v = new double[n];
        if (t == DType.FLOAT) {
            float[] f = new float[n];
            c.data_ptr_float().get(f);
            for (int i = 0; i < n; i++) v[i] = f[i];
        } else {
            c.data_ptr_double().get(v);
        }
        return v;
    }

    private static long[] longs(int[] v) {
        return Arrays.stream(v).asLongStream().toArray();
    }

    static List<Arguments> combos() {
        return Harness.combos();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("combos")
    void randomGeometriesMatchPyTorchBitForBit(Engine engine, DType type, Memory memory) {
        Random rnd = new Random(42 + type.ordinal() * 7 + memory.ordinal());
        for (int trial = 0; trial < 24; trial++) {
            Reference.Shape s = randomShape(rnd);
            boolean batched = trial % 3 != 0;
            if (!batched)
                s = new Reference.Shape(1, s.channels(), s.size(), s.kernel(), s.dilation(), s.padding(), s.stride());
            FoldGeometry ug = Harness.unfoldGeometry(s, batched);
            String what = engine + " " + type + " " + memory + " " + ug;

            double[] image = Harness.random(rnd, type, (int) ug.imageLength());
            assertBitwise(
                    torchUnfold(type, image, ug.imageShape(), s.kernel(), s.dilation(), s.padding(), s.stride()),
                    Harness.unfold(engine, type, memory, ug, image),
                    "unfold vs torch " + what);

            FoldGeometry fg = Harness.foldGeometry(s, batched);
            double[] columns = Harness.random(rnd, type, (int) fg.columnLength());
            assertBitwise(
                    torchFold(
                            type,
                            columns,
                            fg.columnShape(),
                            s.size(),
                            s.kernel(),
                            s.dilation(),
                            s.padding(),
                            s.stride()),
                    Harness.fold(engine, type, memory, fg, columns, Reduce.SUM, null),
                    "fold vs torch " + what);
        }
    }

    /**
     * Folds where every image element is exactly one block's (stride = kernel, no padding, the grid
     * covering the image): a permutation, which the native engine writes without zeroing the image
     * first. PyTorch sums into a zeroed image, so a -0.0 column value comes out +0.0; half of these
     * columns are -0.0, and every engine and memory kind must give PyTorch's bits.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("combos")
    void permutationFoldsMatchPyTorchBitForBit(Engine engine, DType type, Memory memory) {
        Random rnd = new Random(2026_11_28L);
        int[][][] cases = { // size, kernel = stride
            {{8, 40}, {2, 2}}, {{6, 44}, {3, 2}}, {{7, 34}, {1, 2}}, {{4, 4}, {2, 2}}
        };
        for (int[][] c : cases) {
            Reference.Shape s = new Reference.Shape(2, 3, c[0], c[1], new int[] {1, 1}, new int[] {0, 0}, c[1]);
            FoldGeometry g = Harness.foldGeometry(s, true);
            double[] columns = Harness.random(rnd, type, (int) g.columnLength());
            for (int i = 0; i < columns.length; i += 2) columns[i] = -0.0;
            double[] expected = torchFold(
                    type, columns, g.columnShape(), s.size(), s.kernel(), s.dilation(), s.padding(), s.stride());
            long positiveZeros = Arrays.stream(expected)
                    .filter(v -> Double.doubleToRawLongBits(v) == 0)
                    .count();
            assertTrue(positiveZeros >= columns.length / 2, "PyTorch sums -0.0 from +0.0: " + positiveZeros);
            assertBitwise(
                    expected,
                    Harness.fold(engine, type, memory, g, columns, Reduce.SUM, null),
                    "permutation fold vs torch " + engine + " " + type + " " + memory + " " + g);
        }
    }

    /**
     * Folds whose last stride and kernel are whole vectors (16 floats, 8 doubles), which the native
     * engine gathers a hop at a time where the processor has AVX-512 (HopBand in kernels.hpp): long
     * 1-d frames, 32-wide blocks at stride 16, blocks narrower than their stride, padding that is not
     * a multiple of the vector; a quarter of the columns -0.0, which PyTorch sums from +0.0. The
     * random geometries above never reach these strides.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("combos")
    void hopGatheredFoldsMatchPyTorchBitForBit(Engine engine, DType type, Memory memory) {
        Random rnd = new Random(2026_11_29L);
        int[][][] cases = { // size, kernel, stride, padding
            {{6, 100}, {2, 32}, {1, 16}, {1, 3}},
            {{1, 300}, {1, 64}, {1, 32}, {0, 5}},
            {{9, 100}, {2, 16}, {1, 32}, {0, 0}},
            {{5, 80}, {3, 16}, {2, 16}, {1, 0}},
            {{3, 90}, {1, 24}, {1, 8}, {0, 4}}
        };
        for (int[][] c : cases) {
            Reference.Shape s = new Reference.Shape(2, 3, c[0], c[1], new int[] {1, 1}, c[3], c[2]);
            FoldGeometry g = Harness.foldGeometry(s, true);
            double[] columns = Harness.random(rnd, type, (int) g.columnLength());
            for (int i = 0; i < columns.length; i += 4) columns[i] = -0.0;
            double[] expected = torchFold(
                    type, columns, g.columnShape(), s.size(), s.kernel(), s.dilation(), s.padding(), s.stride());
            assertBitwise(
                    expected,
                    Harness.fold(engine, type, memory, g, columns, Reduce.SUM, null),
                    "hop-gathered fold vs torch " + engine + " " + type + " " + memory + " " + g);
        }
    }

    /**
     * "Same" folds and unfolds at stride 1 (as many blocks as image elements past the first
     * dimension), which the native engine sums (copies) a vector of elements at a time by each
     * offset's shift where the processor has AVX2 or AVX-512 (ShiftedPlanes and ShiftedUnfold in
     * kernels.hpp): small planes with partial vectors, dilation, padding split unevenly, a 1-d-like
     * row; 16 planes, so that each is taken whole; a quarter of the columns -0.0, which PyTorch sums
     * from +0.0.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("combos")
    void shiftedFoldsAndUnfoldsMatchPyTorchBitForBit(Engine engine, DType type, Memory memory) {
        Random rnd = new Random(2026_11_30L);
        int[][][] cases = { // size, kernel, dilation, padding (stride 1)
            {{7, 7}, {3, 3}, {1, 1}, {1, 1}},
            {{4, 4}, {3, 3}, {1, 1}, {1, 1}},
            {{12, 20}, {3, 3}, {2, 2}, {2, 2}},
            {{1, 70}, {1, 5}, {1, 1}, {0, 2}},
            {{5, 9}, {3, 5}, {1, 1}, {0, 2}}
        };
        for (int[][] c : cases) {
            Reference.Shape s = new Reference.Shape(2, 8, c[0], c[1], c[2], c[3], new int[] {1, 1});
            FoldGeometry g = Harness.foldGeometry(s, true);
            double[] columns = Harness.random(rnd, type, (int) g.columnLength());
            for (int i = 0; i < columns.length; i += 4) columns[i] = -0.0;
            double[] expected = torchFold(
                    type, columns, g.columnShape(), s.size(), s.kernel(), s.dilation(), s.padding(), s.stride());
            assertBitwise(
                    expected,
                    Harness.fold(engine, type, memory, g, columns, Reduce.SUM, null),
                    "shifted fold vs torch " + engine + " " + type + " " + memory + " " + g);
            FoldGeometry ug = Harness.unfoldGeometry(s, true);
            double[] image = Harness.random(rnd, type, (int) ug.imageLength());
            assertBitwise(
                    torchUnfold(type, image, ug.imageShape(), s.kernel(), s.dilation(), s.padding(), s.stride()),
                    Harness.unfold(engine, type, memory, ug, image),
                    "shifted unfold vs torch " + engine + " " + type + " " + memory + " " + ug);
        }
    }

    /** at::col2im on half or bfloat16 bits (their Tensor dtype Half or BFloat16); the result's bits. */
    static short[] torchFold16(
            ElementType t, short[] columns, long[] shape, int[] size, int[] k, int[] d, int[] p, int[] s) {
        try (PointerScope scope = new PointerScope()) {
            TensorOptions options =
                    new TensorOptions(t == ElementType.FLOAT16 ? torch.ScalarType.Half : torch.ScalarType.BFloat16);
            Tensor in =
                    torch.from_blob(new ShortPointer(columns), shape, options).clone();
            Tensor out = torch.col2im(in, longs(size), longs(k), longs(d), longs(p), longs(s));
            Tensor bits = out.contiguous().view(torch.ScalarType.Short);
            short[] v = new short[(int) bits.numel()];
            bits.data_ptr_short().get(v);
            return v;
        }
    }

    /**
     * Half and bfloat16 fold (SUM) against PyTorch's CPU col2im on the same bits, every engine and
     * both 16-bit types: each addition rounded to the type in kernel-offset order, as PyTorch does.
     * Values up to 64 in magnitude, so that the roundings and the order show.
     */
    @Test
    void halfAndBfloat16FoldMatchPyTorchBitForBit() {
        Random rnd = new Random(16);
        for (ElementType t : new ElementType[] {ElementType.FLOAT16, ElementType.BFLOAT16}) {
            int roundedOnce = 0; // elements where summing in float and rounding once would differ
            for (int trial = 0; trial < 30; trial++) {
                Reference.Shape s = randomShape(rnd);
                FoldGeometry g = Harness.foldGeometry(s, true);
                short[] columns = HalfFoldTest.random(rnd, t, (int) g.columnLength(), 64);
                short[] expected = torchFold16(
                        t, columns, g.columnShape(), s.size(), s.kernel(), s.dilation(), s.padding(), s.stride());
                for (Engine e : Engine.available()) {
                    assertArrayEquals(expected, e.fold(g, columns, t, Reduce.SUM, null), e + " " + t + " " + g);
                }
                float[] wide = new float[columns.length];
                for (int i = 0; i < wide.length; i++) wide[i] = (float) HalfReference.value(t, columns[i]);
                float[] once = Engine.pureJava().fold(g, wide, Reduce.SUM, null);
                for (int i = 0; i < once.length; i++) if (HalfReference.bits(t, once[i]) != expected[i]) roundedOnce++;
            }
            // The comparison has teeth: rounding after every addition differs from rounding once.
            assertTrue(roundedOnce > 100, t + ": only " + roundedOnce + " elements tell the two roundings apart");
        }
    }

    /** Larger than the reference tests can afford, with heavy overlap: where summation order shows. */
    private static Reference.Shape randomShape(Random rnd) {
        while (true) {
            int[] size = {1 + rnd.nextInt(20), 1 + rnd.nextInt(20)}, k = {1 + rnd.nextInt(5), 1 + rnd.nextInt(5)};
            int[] d = {1 + rnd.nextInt(3), 1 + rnd.nextInt(3)}, p = {rnd.nextInt(4), rnd.nextInt(4)};
            int[] st = {1 + rnd.nextInt(3), 1 + rnd.nextInt(3)};
            Reference.Shape s = new Reference.Shape(1 + rnd.nextInt(3), 1 + rnd.nextInt(4), size, k, d, p, st);
            if (Arrays.stream(s.grid()).allMatch(x -> x >= 1)) return s;
        }
    }

    /**
     * The cases of PyTorch's own module tests for nn.Fold / nn.Unfold (common_nn's module_tests:
     * Fold, Fold_int_input, Fold_no_batch_dim_input, Unfold, Unfold_int_input, ...).
     */
    @Test
    void pyTorchModuleTestCases() {
        Random rnd = new Random(7);
        for (Engine e : Engine.available()) {
            for (DType t : DType.values()) {
                // Unfold((2, 2), (1, 1), (0, 0), (1, 1)) on (2, 4, 3, 3); Unfold(2, 1, 0, 1) on the same; no batch (4,
                // 3, 3)
                for (long[] shape : new long[][] {{2, 4, 3, 3}, {4, 3, 3}}) {
                    FoldGeometry g = FoldGeometry.forUnfold(
                            shape, new int[] {2, 2}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1});
                    double[] x = Harness.random(rnd, t, (int) g.imageLength());
                    assertBitwise(
                            torchUnfold(
                                    t, x, shape, new int[] {2, 2}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1
                                    }),
                            Harness.unfold(e, t, Memory.HEAP_ARRAY, g, x),
                            "Unfold " + Arrays.toString(shape));
                }
                // Fold((3, 3), (2, 2), (1, 1), (0, 0), (1, 1)) on (2, 16, 4); Fold_int_input; no batch (16, 4)
                for (long[] shape : new long[][] {{2, 16, 4}, {16, 4}}) {
                    FoldGeometry g = FoldGeometry.forFold(
                            shape, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {0, 0}, new int[] {
                                1, 1
                            });
                    double[] x = Harness.random(rnd, t, (int) g.columnLength());
                    assertBitwise(
                            torchFold(
                                    t,
                                    x,
                                    shape,
                                    new int[] {3, 3},
                                    new int[] {2, 2},
                                    new int[] {1, 1},
                                    new int[] {0, 0},
                                    new int[] {1, 1}),
                            Harness.fold(e, t, Memory.HEAP_ARRAY, g, x, Reduce.SUM, null),
                            "Fold " + Arrays.toString(shape));
                }
            }
        }
    }

    @Test
    void emptyBatchGivesEmptyResultsAsInPyTorch() {
        for (Engine e : Engine.available()) {
            FoldGeometry u = FoldGeometry.forUnfold(
                    new long[] {0, 3, 5, 5}, new int[] {2, 2}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1});
            assertArrayEquals(new long[] {0, 12, 16}, u.columnShape());
            assertArrayEquals(new float[0], e.unfold(u, new float[0]));
            FoldGeometry f = FoldGeometry.forFold(
                    new long[] {0, 12, 16},
                    new int[] {5, 5},
                    new int[] {2, 2},
                    new int[] {1, 1},
                    new int[] {0, 0},
                    new int[] {1, 1});
            assertArrayEquals(new double[0], e.fold(f, new double[0], Reduce.SUM, null));
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor t = torch.zeros(0, 3, 5, 5);
            assertArrayEquals(
                    new long[] {0, 12, 16},
                    torch.im2col(t, new long[] {2, 2}, new long[] {1, 1}, new long[] {0, 0}, new long[] {1, 1})
                            .sizes()
                            .vec()
                            .get());
        }
    }

    /** A refused call: column or image shape, output size, kernel, dilation, padding, stride. */
    record Refusal(boolean fold, long[] shape, int[] outputSize, int[] k, int[] d, int[] p, int[] s) {
        static Refusal fold(long[] shape, int[] out, int[] k, int[] d, int[] p, int[] s) {
            return new Refusal(true, shape, out, k, d, p, s);
        }

        static Refusal unfold(long[] shape, int[] k, int[] d, int[] p, int[] s) {
            return new Refusal(false, shape, null, k, d, p, s);
        }
    }

    /**
     * PyTorch's test_fold_invalid_arg / test_unfold_invalid_arg cases, plus non-positive
     * parameters: PyTorch raises, and so do we, with IllegalArgumentException.
     */
    static List<Refusal> refusals() {
        int[] one = {1, 1}, zero = {0, 0};
        List<Refusal> r = new ArrayList<>();
        // fold: C*K not divisible by prod(kernel_size)
        r.add(Refusal.fold(new long[] {1, 5}, new int[] {4, 5}, new int[] {2, 3}, one, zero, one));
        r.add(Refusal.fold(new long[] {1, 5, 9}, new int[] {4, 5}, new int[] {2, 3}, one, zero, one));
        r.add(Refusal.fold(new long[] {1, 19, 9}, new int[] {4, 5}, new int[] {2, 3}, one, zero, one));
        // fold: L does not match the number of sliding blocks
        r.add(Refusal.fold(new long[] {1, 6, 10}, new int[] {4, 5}, new int[] {2, 3}, one, zero, one));
        r.add(Refusal.fold(new long[] {1, 6, 5}, new int[] {4, 5}, new int[] {2, 3}, one, zero, new int[] {2, 2}));
        r.add(Refusal.fold(
                new long[] {1, 6, 5},
                new int[] {4, 5},
                new int[] {2, 3},
                new int[] {1, 2},
                new int[] {2, 0},
                new int[] {2, 2}));
        // unfold: no sliding block fits
        r.add(Refusal.unfold(new long[] {1, 2, 2, 2}, new int[] {2, 3}, one, zero, one));
        r.add(Refusal.unfold(new long[] {1, 2, 2, 3}, new int[] {5, 3}, one, one, one));
        r.add(Refusal.unfold(new long[] {1, 2, 2, 2}, new int[] {1, 3}, new int[] {1, 2}, one, one));
        // non-positive kernel size, dilation, stride; negative padding
        r.add(Refusal.unfold(new long[] {1, 2, 4, 4}, new int[] {0, 2}, one, zero, one));
        r.add(Refusal.unfold(new long[] {1, 2, 4, 4}, new int[] {2, 2}, new int[] {1, 0}, zero, one));
        r.add(Refusal.unfold(new long[] {1, 2, 4, 4}, new int[] {2, 2}, one, new int[] {-1, 0}, one));
        r.add(Refusal.unfold(new long[] {1, 2, 4, 4}, new int[] {2, 2}, one, zero, new int[] {1, 0}));
        r.add(Refusal.fold(new long[] {1, 4, 9}, new int[] {4, 4}, new int[] {2, 2}, one, zero, new int[] {0, 1}));
        // wrong rank
        r.add(Refusal.unfold(new long[] {2, 4}, new int[] {2, 2}, one, zero, one));
        r.add(Refusal.fold(new long[] {1, 1, 4, 9}, new int[] {4, 4}, new int[] {2, 2}, one, zero, one));
        return r;
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void refusesWhatPyTorchRefuses(Refusal r) {
        assertThrows(
                RuntimeException.class,
                () -> {
                    try (PointerScope scope = new PointerScope()) {
                        Tensor t = torch.zeros(r.shape());
                        if (r.fold())
                            torch.col2im(
                                    t, longs(r.outputSize()), longs(r.k()), longs(r.d()), longs(r.p()), longs(r.s()));
                        else torch.im2col(t, longs(r.k()), longs(r.d()), longs(r.p()), longs(r.s()));
                    }
                },
                "PyTorch accepted " + r);
        long n = Arrays.stream(r.shape()).reduce(1, (a, b) -> a * b);
        for (Engine e : Engine.available()) {
            assertThrows(IllegalArgumentException.class, () -> {
                if (r.fold()) {
                    e.fold(
                            FoldGeometry.forFold(r.shape(), r.outputSize(), r.k(), r.d(), r.p(), r.s()),
                            new float[(int) n],
                            Reduce.SUM,
                            null);
                } else {
                    e.unfold(FoldGeometry.forUnfold(r.shape(), r.k(), r.d(), r.p(), r.s()), new float[(int) n]);
                }
            });
        }
    }
}
