package io.github.foldnd.ffm;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import io.github.foldnd.ffm.Segments.Placement;
import io.github.foldnd.ffm.Segments.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FoldSegments against FoldNd on heap arrays, bit for bit: 1-d to 4-d geometries, both element
 * types, every Reduce with and without weights, on native segments of every arena kind, heap
 * segments (whole arrays and slices at an offset) and mixtures; inputs unchanged, nothing written
 * outside the output.
 */
class FoldSegmentsTest {
    /** One call's shape: the image (unfold's input, fold's output) and the block parameters. */
    record Geometry(long[] image, int[] kernel, int[] dilation, int[] padding, int[] stride) {
        int dims() {
            return kernel.length;
        }

        long[] columns() {
            return FoldNd.unfoldShape(image, kernel, dilation, padding, stride);
        }

        int[] outputSize() {
            int[] size = new int[dims()];
            for (int i = 0; i < size.length; i++) size[i] = (int) image[image.length - dims() + i];
            return size;
        }

        int kernelVolume() {
            int k = 1;
            for (int v : kernel) k *= v;
            return k;
        }

        @Override
        public String toString() {
            return "image " + Arrays.toString(image) + " k" + Arrays.toString(kernel) + " d" + Arrays.toString(dilation)
                    + " p" + Arrays.toString(padding) + " s" + Arrays.toString(stride);
        }
    }

    static Geometry geometry(long[] image, int[] k, int[] d, int[] p, int[] s) {
        return new Geometry(image, k, d, p, s);
    }

    static final List<Geometry> GEOMETRIES = List.of(
            geometry(new long[] {2, 3, 10}, new int[] {3}, new int[] {2}, new int[] {1}, new int[] {2}),
            geometry(new long[] {3, 7}, new int[] {2}, new int[] {1}, new int[] {0}, new int[] {1}),
            geometry(new long[] {1, 2, 3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}),
            geometry(new long[] {2, 3, 9, 7}, new int[] {3, 2}, new int[] {1, 2}, new int[] {1, 0}, new int[] {2, 1}),
            geometry(new long[] {4, 6, 5}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}),
            // Asymmetric padding, ONNX pads order (every start, then every end).
            geometry(
                    new long[] {2, 3, 9, 7}, new int[] {3, 2}, new int[] {1, 2}, new int[] {0, 2, 1, 0}, new int[] {2, 1
                    }),
            geometry(
                    new long[] {1, 2, 5, 4, 6},
                    new int[] {2, 3, 2},
                    new int[] {1, 1, 2},
                    new int[] {1, 0, 0, 0, 1, 2},
                    new int[] {1, 2, 1}),
            geometry(
                    new long[] {1, 2, 5, 4, 6},
                    new int[] {2, 3, 2},
                    new int[] {1, 1, 2},
                    new int[] {1, 0, 1},
                    new int[] {1, 2, 1}),
            geometry(new long[] {2, 4, 4, 4}, new int[] {2, 2, 2}, new int[] {1, 1, 1}, new int[] {0, 0, 0}, new int[] {
                1, 1, 1
            }),
            geometry(
                    new long[] {2, 1, 3, 4, 3, 5},
                    new int[] {2, 2, 1, 3},
                    new int[] {1, 1, 1, 1},
                    new int[] {0, 1, 0, 1},
                    new int[] {1, 2, 1, 2}));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Geometry g : GEOMETRIES) {
            for (ValueLayout t : List.of(JAVA_FLOAT, JAVA_DOUBLE)) {
                for (Placement p : Placement.values())
                    out.add(Arguments.of(g, t == JAVA_FLOAT ? "float" : "double", p));
            }
        }
        return out.stream();
    }

    static ValueLayout type(String name) {
        return name.equals("float") ? JAVA_FLOAT : JAVA_DOUBLE;
    }

    /** n random values in [-1, 1), exactly representable in the element type. */
    static double[] random(Random rng, int n, ValueLayout type) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x = rng.nextDouble() * 2 - 1;
            v[i] = type == JAVA_FLOAT ? (float) x : x;
        }
        return v;
    }

    static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    static double[] doubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    static int length(long[] shape) {
        long n = 1;
        for (long v : shape) n *= v;
        return Math.toIntExact(n);
    }

    /** FoldNd.unfold on a heap array of the element type, carried as double. */
    static double[] expectedUnfold(Geometry g, ValueLayout type, double[] image) {
        return type == JAVA_FLOAT
                ? doubles(FoldNd.unfold(floats(image), g.image, g.kernel, g.dilation, g.padding, g.stride))
                : FoldNd.unfold(image, g.image, g.kernel, g.dilation, g.padding, g.stride);
    }

    static double[] expectedFold(Geometry g, ValueLayout type, double[] columns, Reduce r, double[] weights) {
        return type == JAVA_FLOAT
                ? doubles(FoldNd.fold(
                        floats(columns),
                        g.columns(),
                        g.outputSize(),
                        g.kernel,
                        g.dilation,
                        g.padding,
                        g.stride,
                        r,
                        weights == null ? null : floats(weights)))
                : FoldNd.fold(
                        columns, g.columns(), g.outputSize(), g.kernel, g.dilation, g.padding, g.stride, r, weights);
    }

    /** Bit for bit (assertArrayEquals on double compares the bits, NaN aside, which these values lack). */
    static void assertSameBits(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
                throw new AssertionError(
                        what + ": element " + i + " differs: expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void matchesFoldNdBitForBit(Geometry g, String typeName, Placement where) {
        ValueLayout type = type(typeName);
        Random rng = new Random(Arrays.hashCode(g.image) * 31L + where.ordinal());
        int imageLength = length(g.image), columnLength = length(g.columns()), k = g.kernelVolume();
        double[] image = random(rng, imageLength, type), columns = random(rng, columnLength, type);
        double[] weights = random(rng, k, type);
        try (Segments mem = new Segments()) {
            Region in = mem.region(where.input, type, image, imageLength);
            Region out = mem.region(where.output, type, null, columnLength);
            FoldSegments.unfold(
                    in.view(false), type, g.image, g.kernel, g.dilation, g.padding, g.stride, out.view(true));
            assertSameBits(expectedUnfold(g, type, image), out.contents(), "unfold");
            assertSameBits(image, in.contents(), "unfold input");

            Region cols = mem.region(where.input, type, columns, columnLength);
            Region w = mem.region(where.weights, type, weights, k);
            for (Reduce r : Reduce.values()) {
                for (boolean weighted : new boolean[] {false, true}) {
                    Region img = mem.region(where.output, type, null, imageLength);
                    FoldSegments.fold(
                            cols.view(false),
                            type,
                            g.columns(),
                            g.outputSize(),
                            g.kernel,
                            g.dilation,
                            g.padding,
                            g.stride,
                            r,
                            weighted ? w.view(false) : null,
                            img.view(true));
                    String what = "fold " + r + (weighted ? " weighted" : "");
                    assertSameBits(expectedFold(g, type, columns, r, weighted ? weights : null), img.contents(), what);
                    assertSameBits(columns, cols.contents(), what + " input");
                    assertSameBits(weights, w.contents(), what + " weights");
                }
            }
        }
    }

    /**
     * Calls larger than CRITICAL_BYTES with a heap segment run in several critical downcalls
     * (parts); the parts together give FoldNd's result bit for bit.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("largeCases")
    void largeHeapCallsRunInPartsAndMatch(String typeName, Placement where) {
        ValueLayout type = type(typeName);
        Geometry g = geometry(
                new long[] {2, 4, 320, 340}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1});
        int imageLength = length(g.image), columnLength = length(g.columns()), k = g.kernelVolume();
        assertTrue((long) (imageLength + columnLength) * type.byteSize() > 2 * FoldSegments.CRITICAL_BYTES);
        Random rng = new Random(7);
        double[] image = random(rng, imageLength, type), columns = random(rng, columnLength, type);
        double[] weights = random(rng, k, type);
        try (Segments mem = new Segments()) {
            Region in = mem.region(where.input, type, image, imageLength);
            Region out = mem.region(where.output, type, null, columnLength);
            FoldSegments.unfold(
                    in.view(false), type, g.image, g.kernel, g.dilation, g.padding, g.stride, out.view(true));
            assertSameBits(expectedUnfold(g, type, image), out.contents(), "unfold");
            Region cols = mem.region(where.input, type, columns, columnLength);
            Region w = mem.region(where.weights, type, weights, k);
            for (Reduce r : Reduce.values()) {
                Region img = mem.region(where.output, type, null, imageLength);
                FoldSegments.fold(
                        cols.view(false),
                        type,
                        g.columns(),
                        g.outputSize(),
                        g.kernel,
                        g.dilation,
                        g.padding,
                        g.stride,
                        r,
                        w.view(false),
                        img.view(true));
                assertSameBits(expectedFold(g, type, columns, r, weights), img.contents(), "fold " + r);
                assertSameBits(columns, cols.contents(), "fold input");
            }
        }
    }

    static Stream<Arguments> largeCases() {
        List<Arguments> out = new ArrayList<>();
        for (String t : List.of("float", "double")) {
            for (Placement p : List.of(
                    Placement.HEAP_SLICE,
                    Placement.HEAP_INPUT_NATIVE_OUTPUT,
                    Placement.NATIVE_INPUT_HEAP_OUTPUT,
                    Placement.NATIVE_WITH_HEAP_WEIGHTS,
                    Placement.SHARED)) {
                out.add(Arguments.of(t, p));
            }
        }
        return out.stream();
    }

    @Test
    void theWorkItemsSplitIntoPartsOfAboutCriticalBytesAndWholeItemsPerThread() {
        assertEquals(1, FoldSegments.itemsPerRegion(100L << 20, 1, 1));
        assertEquals(2, FoldSegments.itemsPerRegion(100L << 20, 1, 2)); // the native side clips at the last item
        assertEquals(16, FoldSegments.itemsPerRegion(100L << 20, 100, 1)); // items of 1 MiB
        assertEquals(16, FoldSegments.itemsPerRegion(100L << 20, 100, 2));
        assertEquals(15, FoldSegments.itemsPerRegion(100L << 20, 100, 3));
        assertEquals(2, FoldSegments.itemsPerRegion(100L << 20, 10, 2)); // items of 10 MiB: one per thread
        assertEquals(FoldSegments.CRITICAL_BYTES, FoldSegments.itemsPerRegion(1000, 1000, 2));
    }

    /** Read-only inputs are read; an empty batch writes nothing and needs no memory. */
    @Test
    void readOnlyInputsAndAnEmptyBatch() {
        long[] shape = {1, 2, 3, 3};
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0};
        float[] image = new float[18];
        for (int i = 0; i < image.length; i++) image[i] = i;
        float[] expected = FoldNd.unfold(image, shape, k, one, zero, one);
        float[] columns = new float[32];
        FoldSegments.unfold(
                MemorySegment.ofArray(image).asReadOnly(),
                JAVA_FLOAT,
                shape,
                k,
                one,
                zero,
                one,
                MemorySegment.ofArray(columns));
        assertArrayEquals(expected, columns);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocateFrom(JAVA_FLOAT, image).asReadOnly();
            MemorySegment out = arena.allocate(JAVA_FLOAT, 32);
            FoldSegments.unfold(in, JAVA_FLOAT, shape, k, one, zero, one, out);
            assertArrayEquals(expected, out.toArray(JAVA_FLOAT));
        }
        // batch 0: empty segments, nothing to do
        FoldSegments.unfold(
                MemorySegment.NULL, JAVA_FLOAT, new long[] {0, 2, 3, 3}, k, one, zero, one, MemorySegment.NULL);
        FoldSegments.fold(
                MemorySegment.ofArray(new double[0]),
                JAVA_DOUBLE,
                new long[] {0, 8, 4},
                new int[] {3, 3},
                k,
                one,
                zero,
                one,
                Reduce.MAX,
                null,
                MemorySegment.ofArray(new double[0]));
    }

    /** Layouts of the same carrier and order, whatever their name or alignment, are the same type. */
    @Test
    void anyFloatLayoutInNativeOrderWillDo() {
        long[] shape = {3, 7};
        int[] k = {2}, one = {1}, zero = {0};
        double[] image = new double[21];
        for (int i = 0; i < image.length; i++) image[i] = i * 0.5;
        double[] expected = FoldNd.unfold(image, shape, k, one, zero, one);
        for (ValueLayout t : List.of(JAVA_DOUBLE.withName("x"), ValueLayout.JAVA_DOUBLE_UNALIGNED)) {
            double[] columns = new double[expected.length];
            FoldSegments.unfold(
                    MemorySegment.ofArray(image), t, shape, k, one, zero, one, MemorySegment.ofArray(columns));
            assertArrayEquals(expected, columns);
        }
    }

    // The README's example: the snippet in foldnd-ffm's documentation is this method's body up to
    // the assertions, as is.
    @Test
    void readmeExample() {
        // README snippet begin
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0}, size = {3, 3};
        long[] imageShape = {1, 2, 3, 3}, columnShape = {1, 8, 4};
        float[] columns, back;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(JAVA_FLOAT, 18); // 0, 1, ..., 17
            for (int i = 0; i < 18; i++) image.setAtIndex(JAVA_FLOAT, i, i);
            MemorySegment cols = arena.allocate(JAVA_FLOAT, 32);
            FoldSegments.unfold(image, JAVA_FLOAT, imageShape, k, one, zero, one, cols);
            MemorySegment mean = arena.allocate(JAVA_FLOAT, 18);
            FoldSegments.fold(cols, JAVA_FLOAT, columnShape, size, k, one, zero, one, Reduce.MEAN, null, mean);
            columns = cols.toArray(JAVA_FLOAT); // the 2x2 blocks, as torch.nn.functional.unfold
            back = mean.toArray(JAVA_FLOAT); // 0, 1, ..., 17 again
        }
        // README snippet end
        float[] image = new float[18];
        for (int i = 0; i < image.length; i++) image[i] = i;
        assertArrayEquals(FoldNd.unfold(image, imageShape, k, one, zero, one), columns);
        assertArrayEquals(image, back);
        assertEquals(0f, columns[0]);
        assertEquals(1f, columns[1]);
        assertEquals(3f, columns[2]);
        assertEquals(4f, columns[3]);
    }
}
