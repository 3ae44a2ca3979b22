package io.github.foldnd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.FoldNd;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: the demo, and fold/unfold on .npy files written by NumPy itself. */
class CliTest {
    static final Path NPY = Path.of("src/test/resources/npy");
    static final float[] SEED_COLUMNS = {
        0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8, 9, 10, 12, 13, 10, 11, 13, 14, 12, 13, 15, 16, 13, 14, 16, 17
    };

    @TempDir
    Path tmp;

    record Result(int status, String out, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs the command and requires it to succeed (exit status 0; what it printed to stderr says why not). */
    static void succeeds(String... args) {
        Result r = run(args);
        assertEquals(0, r.status(), r.err());
    }

    @Test
    void demoWalksThroughTheQuestion() {
        Result r = run();
        assertEquals(0, r.status());
        assertTrue(r.out().contains("[[[ 0.,  1.,  3.,  4.],\n  [ 1.,  2.,  4.,  5.],"), r.out());
        assertTrue(r.out().contains("[13., 14., 16., 17.]]]"), r.out());
        assertTrue(r.out().contains("column 0 alone"), r.out());
        assertTrue(r.out().contains("[[[[ 0.,  2.,  2.],\n   [ 3.,  8.,  5.],"), "columns 0 and 1: " + r.out());
        assertTrue(r.out().contains("equal to the image: true"), r.out());
    }

    @Test
    void demoPrintsTheShapeAndColumnItComputes() {
        // unfold's definition, independent of the library: with a 2x2 kernel on (1, 2, 3, 3), row (c, i, j)
        // of the column for block (bi, bj) is image[c][bi + i][bj + j], and there are (3 - 2 + 1)^2 blocks.
        int channels = 2, side = 3, k = 2, grid = side - k + 1;
        List<String> column0 = new ArrayList<>();
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) column0.add(Integer.toString(c * side * side + i * side + j));
            }
        }
        String shape = "(1, " + channels * k * k + ", " + grid * grid + ")",
                column = "[" + String.join(", ", column0) + "]";
        assertEquals("(1, 8, 4)", shape); // the question's numbers, to show what the definition gives
        assertEquals("[0, 1, 3, 4, 9, 10, 12, 13]", column);

        // The library agrees with the definition...
        float[] image = new float[channels * side * side];
        for (int i = 0; i < image.length; i++) image[i] = i;
        int[] kernel = {k, k}, one = {1, 1}, zero = {0, 0};
        long[] imageShape = {1, channels, side, side},
                columnShape = FoldNd.unfoldShape(imageShape, kernel, one, zero, one);
        float[] columns = FoldNd.unfold(image, imageShape, kernel, one, zero, one);
        assertEquals(shape, Npy.tuple(columnShape));
        assertEquals(column, Demo.column(columns, (int) columnShape[1], (int) columnShape[2], 0));

        // ...and the demo prints what it computed.
        String out = run().out();
        assertTrue(out.contains("unfold with a 2x2 kernel -> " + shape + ", one column per 2x2 block:"), out);
        assertTrue(out.contains("column 0 alone (" + column + ") folds to:"), out);
    }

    @Test
    void unfoldThenFoldNumPyFiles() throws Exception {
        Path cols = tmp.resolve("cols.npy"), back = tmp.resolve("back.npy");
        succeeds("unfold", NPY.resolve("seed_f4.npy").toString(), cols.toString(), "--kernel", "2,2");
        Npy.Array c = Npy.read(cols);
        assertArrayEquals(new long[] {1, 8, 4}, c.shape());
        assertArrayEquals(SEED_COLUMNS, c.floats());

        succeeds(
                "fold",
                cols.toString(),
                back.toString(),
                "--output-size",
                "3,3",
                "--kernel",
                "2,2",
                "--reduce",
                "mean");
        Npy.Array b = Npy.read(back);
        assertArrayEquals(new long[] {1, 2, 3, 3}, b.shape());
        for (int i = 0; i < 18; i++) assertEquals(i, b.floats()[i]);
    }

    @Test
    void readsEveryNumPyFlavourItWrites() throws Exception {
        Npy.Array v2 = Npy.read(NPY.resolve("seed_f4_v2.npy"));
        assertArrayEquals(new long[] {1, 2, 3, 3}, v2.shape());
        Npy.Array be = Npy.read(NPY.resolve("seed_f8_be_unbatched.npy"));
        assertArrayEquals(new long[] {2, 3, 3}, be.shape());
        assertNull(be.floats());
        for (int i = 0; i < 18; i++) {
            assertEquals(i, v2.floats()[i]);
            assertEquals(i, be.doubles()[i]);
        }
        Path cols = tmp.resolve("c.npy");
        String bigEndian = NPY.resolve("seed_f8_be_unbatched.npy").toString();
        succeeds("unfold", bigEndian, cols.toString(), "--kernel", "2,2");
        Npy.Array c = Npy.read(cols);
        assertArrayEquals(new long[] {8, 4}, c.shape());
        for (int i = 0; i < 32; i++) assertEquals(SEED_COLUMNS[i], c.doubles()[i]);
    }

    @Test
    void oneDimensionalOverlapAdd() throws Exception {
        Path cols = tmp.resolve("frames.npy"), out = tmp.resolve("signal.npy");
        succeeds("unfold", NPY.resolve("signal_f4.npy").toString(), cols.toString(), "--kernel", "2");
        assertArrayEquals(new float[] {0, 1, 2, 3, 1, 2, 3, 4}, Npy.read(cols).floats());
        succeeds(
                "fold", cols.toString(), out.toString(), "--output-size", "5", "--kernel", "2", "--weights", "0.5,0.5");
        assertArrayEquals(new float[] {0, 1, 2, 3, 2}, Npy.read(out).floats());
    }

    @Test
    void asymmetricPaddingInOnnxPadsOrder() throws Exception {
        // The signal 0..4 with one zero before it and none after: blocks start at -1, 0, 1, 2, 3.
        Path cols = tmp.resolve("frames.npy"), out = tmp.resolve("signal.npy");
        succeeds(
                "unfold",
                NPY.resolve("signal_f4.npy").toString(),
                cols.toString(),
                "--kernel",
                "2",
                "--padding",
                "1,0");
        Npy.Array c = Npy.read(cols);
        assertArrayEquals(new long[] {2, 5}, c.shape());
        assertArrayEquals(new float[] {0, 0, 1, 2, 3, 0, 1, 2, 3, 4}, c.floats());
        succeeds(
                "fold",
                cols.toString(),
                out.toString(),
                "--output-size",
                "5",
                "--kernel",
                "2",
                "--padding",
                "1,0",
                "--reduce",
                "mean");
        assertArrayEquals(new float[] {0, 1, 2, 3, 4}, Npy.read(out).floats());
        Result three = run(
                "unfold",
                NPY.resolve("signal_f4.npy").toString(),
                cols.toString(),
                "--kernel",
                "2",
                "--padding",
                "1,0,0");
        assertEquals(2, three.status());
        assertTrue(
                three.err().contains("padding must have 1 elements")
                        && three.err().contains("or 2 (ONNX pads"),
                three.err());
    }

    @Test
    void writerProducesNumPyVersion1Headers() throws Exception {
        Path p = tmp.resolve("w.npy");
        Npy.write(p, new Npy.Array(new long[] {3}, "<f4", new float[] {1, 2, 3}));
        byte[] bytes = Files.readAllBytes(p);
        int headerLength = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLength) % 64, "data must start 64-byte aligned");
        String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), header);
        assertTrue(header.endsWith("\n"));
        assertArrayEquals(new float[] {1, 2, 3}, Npy.read(p).floats());
    }

    @Test
    void badInputExitsWithAMessage() {
        String in = NPY.resolve("seed_f4.npy").toString(),
                out = tmp.resolve("o.npy").toString();
        String ints = NPY.resolve("ints.npy").toString();
        Result foldInts = run("fold", ints, out, "--output-size", "3", "--kernel", "2");
        assertEquals(2, foldInts.status());
        assertTrue(
                foldInts.err()
                        .contains("cannot fold " + ints + ": it holds int32 (<i4), and fold sums overlapping values,"
                                + " which foldnd defines for floating types only"),
                foldInts.err());
        assertTrue(foldInts.err().contains("unfold works for every dtype"), foldInts.err());
        Result fortran = run("unfold", NPY.resolve("fortran.npy").toString(), out, "--kernel", "2");
        assertTrue(fortran.err().contains("Fortran order"), fortran.err());
        assertTrue(run("unfold", in, out).err().contains("--kernel is required"));
        String notInts = run("unfold", in, out, "--kernel", "2,x").err();
        assertTrue(notInts.contains("--kernel must be comma-separated integers, got '2,x'"), notInts);
        assertTrue(
                run("unfold", in, out, "--kernel", "2,2", "--bogus", "1").err().contains("unknown option --bogus"));
        assertTrue(run("fold", in, out, "--kernel", "2,2").err().contains("fold needs --output-size"));
        Result shape = run("unfold", in, out, "--kernel", "4,4");
        assertEquals(2, shape.status());
        assertTrue(shape.err().contains("no block fits"), shape.err());
        assertEquals(
                1,
                run("unfold", tmp.resolve("missing.npy").toString(), out, "--kernel", "2")
                        .status());
        assertEquals(2, run("frobnicate").status());
        assertTrue(run("--help").out().contains("usage:"));
    }
}
