package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.github.foldnd.Harness.DType;
import io.github.foldnd.Harness.Memory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ONNX's own Col2Im node tests (opset 18), run through fold with SUM on every engine and memory
 * kind. The data are ONNX's files, copied unchanged into src/test/resources/onnx/col2im (see the
 * README there): per test, model.onnx holds the Col2Im node and its attributes, and
 * test_data_set_0 its inputs (input_0 the columns (N, C·K, L), input_1 image_shape, input_2
 * block_shape) and its expected output_0, the image (N, C, *image_shape). ONNX's attributes map
 * straight onto forFold: dilations, pads (begin of every dimension, then end of every dimension,
 * passed through as is) and strides, absent meaning 1, 0 and 1.
 */
class OnnxCol2ImConformanceTest {
    private static final String ROOT = "onnx/col2im";

    /**
     * Every directory committed under ROOT, with the attributes its model.onnx holds (as ONNX's
     * onnx/backend/test/case/node/col2im.py writes them): so that a resource left out, or an attribute
     * the reader missed, fails here instead of making the test vacuous or silently using defaults.
     */
    private static final Map<String, Map<String, long[]>> COMMITTED = new LinkedHashMap<>();

    static {
        COMMITTED.put("test_col2im", Map.of());
        COMMITTED.put("test_col2im_5d", Map.of());
        COMMITTED.put("test_col2im_dilations", Map.of("dilations", new long[] {1, 5}));
        COMMITTED.put("test_col2im_pads", Map.of("pads", new long[] {0, 1, 0, 1}));
        COMMITTED.put("test_col2im_strides", Map.of("strides", new long[] {2, 2}));
    }

    /** The test directories found under ROOT on the test class path, sorted. */
    static List<String> cases() {
        try (Stream<Path> dirs = Files.list(root())) {
            return dirs.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void everyCommittedTestIsDiscovered() {
        List<String> found = cases();
        assertEquals(COMMITTED.size(), found.size(), "test directories under " + ROOT + ": " + found);
        assertEquals(List.copyOf(COMMITTED.keySet()), found);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void foldMatchesOnnx(String test) {
        Path dir = root().resolve(test);
        Path data = dir.resolve("test_data_set_0");

        OnnxTensors.Node node = OnnxTensors.node(read(dir.resolve("model.onnx")), "Col2Im");
        assertEquals(18, node.opset(), test + ": opset");
        assertEquals(List.of(), node.otherAttributes(), test + ": attributes other than INT/INTS");
        Map<String, long[]> expectedAttributes = COMMITTED.get(test);
        assertNotNull(expectedAttributes, test + " is not one of the committed tests");
        assertEquals(expectedAttributes.keySet(), node.ints().keySet(), test + ": attributes read");
        expectedAttributes.forEach(
                (name, v) -> assertArrayEquals(v, node.ints().get(name), test + ": attribute " + name));

        OnnxTensors.Tensor columns = OnnxTensors.tensor(read(data.resolve("input_0.pb")));
        OnnxTensors.Tensor imageShape = OnnxTensors.tensor(read(data.resolve("input_1.pb")));
        OnnxTensors.Tensor blockShape = OnnxTensors.tensor(read(data.resolve("input_2.pb")));
        OnnxTensors.Tensor expected = OnnxTensors.tensor(read(data.resolve("output_0.pb")));
        assertEquals(3, columns.dims().length, test + ": columns " + columns);
        int[] outputSize = ints(imageShape.longValues()), kernel = ints(blockShape.longValues());
        int d = kernel.length;
        int[] dilation = attribute(node, "dilations", d, 1),
                padding = attribute(node, "pads", d, 0),
                stride = attribute(node, "strides", d, 1);

        FoldGeometry g = FoldGeometry.forFold(columns.dims(), outputSize, kernel, dilation, padding, stride);
        assertArrayEquals(expected.dims(), g.imageShape(), test + ": output shape");

        float[] in = columns.floatValues(), want = expected.floatValues();
        boolean exact = exactlySummable(in);
        double[] tolerance = exact ? null : tolerance(g, in);
        String geometry = test + " (" + (exact ? "bit-exact" : "within the summation bound") + ") dims "
                + Arrays.toString(columns.dims()) + " image_shape " + Arrays.toString(outputSize) + " block_shape "
                + Arrays.toString(kernel) + " dilations " + Arrays.toString(dilation) + " pads "
                + Arrays.toString(padding) + " strides " + Arrays.toString(stride);
        double[] input = new double[in.length];
        for (int i = 0; i < in.length; i++) input[i] = in[i];
        for (Engine engine : Engine.available()) {
            // Harness.fold calls engine.fold(g, float[], SUM, null) for HEAP_ARRAY and
            // engine.fold(g, FloatBuffer, SUM, null, FloatBuffer) on direct buffers for DIRECT_BUFFER,
            // and checks that the input is unchanged and nothing is written outside the output.
            for (Memory memory : Memory.values()) {
                double[] got = Harness.fold(engine, DType.FLOAT, memory, g, input, Reduce.SUM, null);
                compare(want, got, tolerance, engine + " " + memory + " " + geometry);
            }
        }
    }

    /**
     * When every column value is an integer and their absolute values sum to at most 2^24, every
     * partial sum of any of them, in any order, is an integer of magnitude at most 2^24, exactly
     * representable in float: fold's SUM is then exact whatever its order, as is ONNX's expected
     * output, and the two must agree bit for bit.
     */
    static boolean exactlySummable(float[] values) {
        double sum = 0;
        for (float v : values) {
            if (v != Math.rint(v) || Float.floatToRawIntBits(v) == Float.floatToRawIntBits(-0f)) return false;
            sum += Math.abs(v);
        }
        return sum <= 1 << 24;
    }

    /**
     * Otherwise, per output element: that element is a sum of at most K = kernelVolume column values
     * (one per kernel offset), and recursive summation of K floats, in any order, lies within
     * (K-1)·u·Σ|x| of the exact sum (u = 2^-24; Higham, Accuracy and Stability of Numerical
     * Algorithms, 2nd ed., §4.2); ONNX's reference lies within the same bound, or within u·|sum| if it
     * summed in higher precision and rounded once. So they differ by at most 2·K·u·Σ|x|, where Σ|x| is
     * the fold of the absolute column values, computed here in double.
     */
    static double[] tolerance(FoldGeometry g, float[] values) {
        double[] abs = new double[values.length];
        for (int i = 0; i < values.length; i++) abs[i] = Math.abs(values[i]);
        double[] bound = JavaEngine.INSTANCE.fold(g, abs, Reduce.SUM, null);
        double scale = 2.0 * g.kernelVolume() * 0x1p-24;
        for (int i = 0; i < bound.length; i++) bound[i] *= scale;
        return bound;
    }

    private static void compare(float[] expected, double[] actual, double[] tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            float got = (float) actual[i]; // exact: Harness carries float results as double
            boolean ok = tolerance == null
                    ? Float.floatToIntBits(got) == Float.floatToIntBits(expected[i])
                    : Math.abs((double) got - expected[i]) <= tolerance[i];
            if (!ok) {
                throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " but was " + got
                        + (tolerance == null ? "" : " (tolerance " + tolerance[i] + ")"));
            }
        }
    }

    /** An INTS attribute as int[], or d copies of its ONNX default when the node does not have it. */
    private static int[] attribute(OnnxTensors.Node node, String name, int d, int absent) {
        long[] v = node.ints().get(name);
        if (v == null) {
            int[] out = new int[d];
            Arrays.fill(out, absent);
            return out;
        }
        return ints(v);
    }

    private static int[] ints(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = Math.toIntExact(v[i]);
        return out;
    }

    private static Path root() {
        URL url = OnnxCol2ImConformanceTest.class.getClassLoader().getResource(ROOT);
        assertNotNull(url, ROOT + " is not on the test class path");
        assertEquals("file", url.getProtocol(), ROOT + " must be a directory on the test class path: " + url);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
