package io.github.foldnd.cli;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.cli.CliTest.Result;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line under attack: truncated and lying .npy files, absurd shapes, a bad engine
 * property, a file size limit while writing, misused flags and OUT naming IN. Each mistake must be
 * one line on stderr starting with "foldnd: " (plus the usage text for command-line mistakes), a
 * nonzero exit, no stack trace, and no partial or clobbered OUT.
 */
class CliRobustnessTest {
    static final Path SEED = CliTest.NPY.resolve("seed_f4.npy");
    static final String MAIN = "io.github.foldnd.cli.Main";

    @TempDir
    Path tmp;

    // ---- hostile input files ------------------------------------------------------------------

    @Test
    void truncatedFilesOfZeroToNineBytes() throws IOException {
        byte[] seed = Files.readAllBytes(SEED);
        for (int length = 0; length <= 9; length++) {
            Path in = tmp.resolve("cut" + length + ".npy");
            Files.write(in, Arrays.copyOf(seed, length));
            Result r = unfold(in);
            assertOneLine(r, 2, in + " is too short for a .npy file: " + length + " bytes");
        }
        Path text = tmp.resolve("text.npy");
        Files.writeString(text, "just some text, long enough");
        assertOneLine(unfold(text), 2, text + " is not a .npy file: it does not start with \\x93NUMPY");
    }

    @Test
    void truncatedHeaderAndTruncatedData() throws IOException {
        byte[] seed = Files.readAllBytes(SEED);
        Path header = tmp.resolve("header.npy"), data = tmp.resolve("data.npy");
        Files.write(header, Arrays.copyOf(seed, 50)); // the header declares 118 bytes; 40 follow the preamble
        assertOneLine(
                unfold(header), 2, header + ": truncated header: it declares 118 bytes, but the file has only 40");
        Files.write(data, Arrays.copyOf(seed, 128 + 20)); // 20 of the 72 data bytes
        assertOneLine(
                unfold(data),
                2,
                "declares shape (1, 2, 3, 3) = 18 elements, 72 bytes, but holds only 20 bytes of data");
    }

    @Test
    void headerOnlyFile() throws IOException {
        Path in = npy("header-only.npy", "'<f4'", "(1, 2, 3, 3)", 0);
        assertOneLine(
                unfold(in),
                2,
                in + " declares shape (1, 2, 3, 3) = 18 elements, 72 bytes, but holds only 0 bytes of data");
    }

    @Test
    void shapeWhoseSizeOverflowsALong() throws IOException {
        Path in = npy("huge.npy", "'<f4'", "(1099511627776, 1099511627776, 1099511627776)", 8);
        assertOneLine(
                unfold(in),
                2,
                in + " declares shape (1099511627776, 1099511627776, 1099511627776), more bytes than a long can count");
        Path bytes =
                npy("bytes.npy", "'<f8'", "(4611686018427387904,)", 8); // 2^62 elements fit a long, 2^65 bytes do not
        assertOneLine(unfold(bytes), 2, "more bytes than a long can count");
    }

    @Test
    void shapeDeclaringMoreElementsThanTheDataHolds() throws IOException {
        Path in = npy("lies.npy", "'<f8'", "(1, 2, 1000, 1000)", 16);
        assertOneLine(
                unfold(in),
                2,
                in + " declares shape (1, 2, 1000, 1000) = 2000000 elements, 16000000 bytes,"
                        + " but holds only 16 bytes of data");
        Path extra = npy("extra.npy", "'<f4'", "(1, 2, 2)", 20);
        assertOneLine(unfold(extra), 2, "declares shape (1, 2, 2) = 4 elements, 16 bytes, but holds 20 bytes of data");
    }

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC}) // file systems there make sparse files; NTFS would reserve the 8 GiB
    void shapeBeyondWhatAJavaArrayHolds() throws IOException {
        // 2^31 - 1 floats, and the file really is that long: a sparse file, so this costs no disk.
        Path in = npy("sparse.npy", "'<f4'", "(1, 1, 2147483647)", 0);
        long dataBytes = 4L * Integer.MAX_VALUE;
        try (RandomAccessFile f = new RandomAccessFile(in.toFile(), "rw")) {
            f.setLength(f.length() + dataBytes);
        }
        assertOneLine(
                unfold(in),
                2,
                "= 2147483647 elements, " + dataBytes + " bytes, more elements than a Java array can hold");
    }

    @Test
    void malformedHeaders() throws IOException {
        String[][] cases = { // descr, shape, expected message fragment
            {"'<f4'", "(-1, 3)", "must hold non-negative integers, got '-1'"},
            {"'<f4'", "(2, x)", "must hold non-negative integers, got 'x'"},
            {"'<f4'", "(2,\n x\u0007y)", "shape (2,\\x0a x\\x07y) must hold non-negative integers, got 'x\\x07y'"},
            {"'<f4'", "(99999999999999999999,)", "must hold non-negative integers, got '99999999999999999999'"},
            {"'<u8'", "(2,)", "holds dtype <u8; expected uint8 (|u1), int8 (|i1), int16 (<i2), uint16 (<u2),"},
            {"'<c8'", "(2,)", "holds dtype <c8; expected uint8 (|u1)"},
            {"'<M8[ns]'", "(2,)", "holds dtype <M8[ns]; expected uint8 (|u1)"},
            {"'<\u0007f4'", "(2,)", "holds dtype <\\x07f4; expected"},
        };
        for (String[] c : cases) assertOneLine(unfold(npy("bad.npy", c[0], c[1], 16)), 2, c[2]);
        // No shape, and a newline inside the header: the message still takes one line, control characters escaped.
        Path noShape = tmp.resolve("noshape.npy");
        Files.write(noShape, npyBytes("{'descr': '<f4', 'fortran_order': False,\n\u0001 }\n", 0));
        assertOneLine(unfold(noShape), 2, "unreadable header {'descr': '<f4', 'fortran_order': False,\\x0a\\x01 }");
    }

    @Test
    void headerLengthsBeyondTheFileOrUnknownVersions() throws IOException {
        Path in = tmp.resolve("v2.npy");
        ByteBuffer v2 = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        v2.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0})
                .putInt(-1); // version 2.0: a 4-byte length, 2^32 - 1
        Files.write(in, v2.array());
        assertOneLine(unfold(in), 2, in + ": truncated header: it declares 4294967295 bytes, but the file has only 52");
        byte[] v9 = npyBytes("{}\n", 0);
        v9[6] = 9;
        Files.write(in, v9);
        assertOneLine(unfold(in), 2, in + " is .npy version 9.0; expected 1.0, 2.0 or 3.0");
    }

    @Test
    void inputThatIsAFolderOrMissing() {
        assertOneLine(unfold(tmp), 1, "cannot read " + tmp + ": ");
        Path missing = tmp.resolve("missing.npy");
        assertOneLine(unfold(missing), 1, "cannot read " + missing + ": no such file or folder");
    }

    @Test
    void outputsAJavaArrayCannotHoldAreRefused() throws IOException {
        Path in = npy("signal.npy", "'<f4'", "(1, 100000)", 400_000);
        Result r = CliTest.run("unfold", in.toString(), tmp.resolve("o.npy").toString(), "--kernel", "50000");
        assertOneLine(
                r, 2, "gives shape (50000, 50001) = 2500050000 elements, more than a Java array can hold (2147483639)");
        assertFalse(Files.exists(tmp.resolve("o.npy")));
    }

    // ---- the engine property ------------------------------------------------------------------

    @Test
    void bogusEngineProperty() throws Exception {
        // The engine choice is cached for the life of the JVM, so this needs a JVM of its own.
        Path out = tmp.resolve("o.npy");
        Result r = java(
                List.of("-Dfoldnd.engine=bogus", MAIN, "unfold", SEED.toString(), out.toString(), "--kernel", "2,2"));
        assertOneLine(r, 2, "foldnd.engine must be 'native' or 'java', got 'bogus'");
        assertFalse(Files.exists(out));
        assertOneLine(
                java(List.of("-Dfoldnd.engine=bogus", MAIN)),
                2,
                "foldnd.engine must be 'native' or 'java', got 'bogus'");
    }

    @Test
    void heapTooSmallForTheOutput() throws Exception {
        Path in = npy("signal.npy", "'<f4'", "(1, 100000)", 400_000), out = tmp.resolve("o.npy");
        Result r = java(List.of(
                "-Xmx64m", "-Dfoldnd.engine=java", MAIN, "unfold", in.toString(), out.toString(), "--kernel", "20000"));
        assertOneLine(r, 1, "= 1600020000 elements; IN and OUT need 6400480000 bytes, but the JVM's heap is at most");
        assertFalse(Files.exists(out));
    }

    // ---- writing: all or nothing --------------------------------------------------------------

    /*
     * bash's ulimit -f counts 1024-byte blocks, so OUT (about 15 KiB) cannot be written. HotSpot
     * ignores SIGXFSZ (checked on Linux, JDK 17), so the write fails with EFBIG ("File too large")
     * and foldnd reports it; had the signal killed the JVM instead, OUT would still be whole or
     * absent, because only a completely written temporary file is moved onto it.
     */
    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void fileSizeLimitLeavesNoTruncatedOutput() throws Exception {
        Path in = image("big.npy", 32), out = tmp.resolve("out.npy");
        Result r = underFileSizeLimit(in, out);
        assertOneLine(r, 1, "cannot write " + out + ": File too large");
        assertFalse(Files.exists(out), "no truncated OUT");
        assertEquals(List.of(in), listing(), "no temporary file left behind");
    }

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void fileSizeLimitLeavesAnExistingOutputAsItWas() throws Exception {
        Path in = image("big.npy", 32), out = tmp.resolve("out.npy");
        Files.writeString(out, "the previous result");
        Result r = underFileSizeLimit(in, out);
        assertOneLine(r, 1, "cannot write " + out + ": File too large");
        assertEquals("the previous result", new String(Files.readAllBytes(out), ISO_8859_1));
        assertEquals(List.of(in, out), listing(), "no temporary file left behind");
    }

    @Test
    void successReplacesTheOutputAndLeavesNoTemporaryFile() throws IOException {
        Path out = tmp.resolve("out.npy");
        Files.writeString(out, "the previous result");
        assertEquals(
                0,
                CliTest.run("unfold", SEED.toString(), out.toString(), "--kernel", "2,2")
                        .status());
        assertArrayEquals(CliTest.SEED_COLUMNS, Npy.read(out).floats());
        assertEquals(List.of(out), listing());
    }

    @Test
    @EnabledOnOs({OS.LINUX, OS.MAC})
    void aSymbolicLinkOutputStaysALinkToTheNewResult() throws IOException {
        Path real = tmp.resolve("real.npy"), link = Files.createSymbolicLink(tmp.resolve("link.npy"), real);
        Files.writeString(real, "the previous result");
        assertEquals(
                0,
                CliTest.run("unfold", SEED.toString(), link.toString(), "--kernel", "2,2")
                        .status());
        assertTrue(Files.isSymbolicLink(link), "the link was replaced by a file");
        assertArrayEquals(CliTest.SEED_COLUMNS, Npy.read(real).floats());
        assertEquals(List.of(link, real), listing());
    }

    @Test
    void writesAndReadsMoreThanOneChunk() throws IOException {
        float[] floats = new float[700_000]; // 2.8 MB: crosses the 1 MiB chunks at unaligned element counts
        double[] doubles = new double[300_001];
        for (int i = 0; i < floats.length; i++) floats[i] = i * 0.5f;
        for (int i = 0; i < doubles.length; i++) doubles[i] = -i * 0.25;
        Npy.write(tmp.resolve("f.npy"), new Npy.Array(new long[] {7, 100_000}, "<f4", floats));
        Npy.write(tmp.resolve("d.npy"), new Npy.Array(new long[] {300_001}, "<f8", doubles));
        assertArrayEquals(floats, Npy.read(tmp.resolve("f.npy")).floats());
        assertArrayEquals(doubles, Npy.read(tmp.resolve("d.npy")).doubles());
        assertEquals(128 + 4L * floats.length, Files.size(tmp.resolve("f.npy")));
    }

    @Test
    void outputInAMissingFolderOrNamingAFolder() {
        Path out = tmp.resolve("no/such/folder/o.npy");
        Result r = CliTest.run("unfold", SEED.toString(), out.toString(), "--kernel", "2,2");
        assertOneLine(r, 1, "cannot write " + out + ": folder " + out.getParent() + " does not exist");
        assertOneLine(
                CliTest.run("unfold", SEED.toString(), tmp.toString(), "--kernel", "2,2"),
                2,
                "OUT " + tmp + " is a folder; expected a file name");
    }

    // ---- OUT naming IN ------------------------------------------------------------------------

    @Test
    void outputThatIsTheInputIsRefusedBeforeWriting() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("dir")), in = dir.resolve("in.npy");
        Files.copy(SEED, in);
        byte[] before = Files.readAllBytes(in);
        List<String> spellings = new ArrayList<>(List.of(in.toString(), dir + "/./in.npy", dir + "/../dir/in.npy"));
        if (!OS.WINDOWS.isCurrentOs())
            spellings.add(Files.createSymbolicLink(tmp.resolve("link.npy"), in).toString());
        for (String spelling : spellings) {
            Result r = CliTest.run("unfold", in.toString(), spelling, "--kernel", "2,2");
            assertOneLine(r, 2, "OUT " + spelling + " is the same file as IN " + in + "; write to another file");
            r = CliTest.run("unfold", spelling, in.toString(), "--kernel", "2,2");
            assertOneLine(r, 2, "OUT " + in + " is the same file as IN " + spelling);
        }
        assertArrayEquals(before, Files.readAllBytes(in), "IN untouched");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(in), files.toList(), "nothing written beside IN");
        }
    }

    @Test
    void outputThatIsTheMissingInputIsRefused() {
        // Neither exists, so they are compared as normalized absolute paths: two spellings of one file.
        String missing = tmp.resolve("m.npy").toString();
        assertOneLine(
                CliTest.run("unfold", missing, tmp + "/./m.npy", "--kernel", "2"),
                2,
                "is the same file as IN " + missing);
    }

    // ---- flags --------------------------------------------------------------------------------

    @Test
    void repeatedFlagsAreRefused() {
        String in = SEED.toString(), out = tmp.resolve("o.npy").toString();
        assertUsageError(CliTest.run("unfold", in, out, "--kernel", "2", "--kernel", "3"), "--kernel given twice");
        assertUsageError(
                CliTest.run("fold", in, out, "--kernel", "2", "--output-size", "3", "--stride", "1", "--stride", "1"),
                "--stride given twice");
        Result reduce = CliTest.run("fold", in, out, "--reduce", "sum", "--kernel", "2", "--reduce", "max");
        assertUsageError(reduce, "--reduce given twice");
        assertFalse(Files.exists(Path.of(out)));
    }

    @Test
    void foldOnlyFlagsAreRefusedForUnfold() {
        String in = SEED.toString(), out = tmp.resolve("o.npy").toString();
        for (String[] flag :
                new String[][] {{"--output-size", "3,3"}, {"--reduce", "mean"}, {"--weights", "1,1,1,1"}}) {
            Result r = CliTest.run("unfold", in, out, "--kernel", "2,2", flag[0], flag[1]);
            assertUsageError(r, flag[0] + " applies to fold only, not to unfold");
        }
        assertFalse(Files.exists(Path.of(out)));
    }

    @Test
    void unknownFlagsMissingValuesAndStrayArguments() {
        String in = SEED.toString(), out = tmp.resolve("o.npy").toString();
        assertUsageError(
                CliTest.run("unfold", in, out, "--kernel", "2,2", "--strides", "1"), "unknown option --strides");
        assertUsageError(CliTest.run("unfold", in, out, "--kernel", "2,2", "-k", "1"), "unknown option -k");
        assertUsageError(CliTest.run("unfold", in, out, "--kernel"), "--kernel needs a value");
        assertUsageError(
                CliTest.run("unfold", in, out, "--kernel", "--stride", "1"),
                "--kernel needs a value, got the option --stride");
        assertUsageError(
                CliTest.run("unfold", in, out, "extra.npy", "--kernel", "2"),
                "unfold needs two files, IN.npy and OUT.npy, got 3: [" + in + ", " + out + ", extra.npy]");
        assertUsageError(
                CliTest.run("unfold", in, "--kernel", "2"), "unfold needs two files, IN.npy and OUT.npy, got 1");
        assertUsageError(
                CliTest.run("unfold", in, out, "--kernel", "2,"),
                "--kernel must be comma-separated integers, got '2,'");
        assertUsageError(
                CliTest.run("unfold", in, out, "--kernel", "99999999999"), "--kernel must be comma-separated integers");
        assertUsageError(
                CliTest.run("fold", in, out, "--kernel", "2", "--output-size", "3", "--reduce", "avg"),
                "--reduce must be one of [sum, mean, max, min], got 'avg'");
        assertUsageError(
                CliTest.run("fold", in, out, "--kernel", "2", "--output-size", "3", "--weights", "1,x"),
                "--weights must be comma-separated numbers, got '1,x'");
        assertUsageError(CliTest.run("frobnicate"), "unknown command 'frobnicate'; expected unfold, fold or --help");
        assertFalse(Files.exists(Path.of(out)));
    }

    @Test
    void helpAfterTheCommandPrintsTheUsage() {
        Result r = CliTest.run("unfold", "--help");
        assertEquals(0, r.status());
        assertEquals(Main.USAGE + System.lineSeparator(), r.out());
        assertEquals("", r.err());
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** A mistake in a file or its fit: exactly one line on stderr, nothing on stdout, no stack trace. */
    static void assertOneLine(Result r, int status, String fragment) {
        String err = r.err();
        assertEquals(status, r.status(), err);
        assertTrue(err.startsWith("foldnd: ") && err.endsWith("\n"), err);
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.contains(fragment), "expected '" + fragment + "' in: " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception") || err.contains("Error"), err);
        assertEquals("", r.out());
    }

    /** A command-line mistake: one line, then the usage text and nothing else; exit 2. */
    static void assertUsageError(Result r, String fragment) {
        String first = r.err().lines().findFirst().orElse("");
        assertOneLine(new Result(r.status(), "", first + "\n"), 2, fragment);
        assertEquals(first + System.lineSeparator() + Main.USAGE + System.lineSeparator(), r.err());
        assertEquals("", r.out());
    }

    private Result unfold(Path in) {
        return CliTest.run("unfold", in.toString(), tmp.resolve("out.npy").toString(), "--kernel", "2,2");
    }

    /** The header dictionary with this descr and shape, and that many zero data bytes, as a version 1.0 file. */
    private Path npy(String name, String descr, String shape, int dataBytes) throws IOException {
        String dict = "{'descr': " + descr + ", 'fortran_order': False, 'shape': " + shape + ", }\n";
        return Files.write(tmp.resolve(name), npyBytes(dict, dataBytes));
    }

    private static byte[] npyBytes(String header, int dataBytes) {
        byte[] h = header.getBytes(ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0})
                .putShort((short) h.length)
                .put(h);
        return b.array();
    }

    /** A (1, 1, n, n) float32 image: its 2x2 unfold is about 16 n^2 bytes. */
    private Path image(String name, int n) throws IOException {
        Path p = tmp.resolve(name);
        Npy.write(p, new Npy.Array(new long[] {1, 1, n, n}, "<f4", new float[n * n]));
        return p;
    }

    private List<Path> listing() throws IOException {
        try (Stream<Path> files = Files.list(tmp)) {
            return files.sorted().toList();
        }
    }

    /** unfold IN OUT in a child JVM that may write at most 1 KiB per file (bash's ulimit -f 1). */
    private Result underFileSizeLimit(Path in, Path out) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", "-c", "ulimit -f 1 && exec \"$@\"", "bash"));
        command.addAll(javaCommand(
                List.of("-Dfoldnd.engine=java", MAIN, "unfold", in.toString(), out.toString(), "--kernel", "2,2")));
        return exec(command);
    }

    /** Runs this JVM's java with the test class path and these arguments. */
    private Result java(List<String> args) throws Exception {
        return exec(javaCommand(args));
    }

    private static List<String> javaCommand(List<String> args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:-UsePerfData", // no hsperfdata file: the child's only file writes are the ones under test
                "-cp",
                System.getProperty("java.class.path")));
        command.addAll(args);
        return command;
    }

    /** Runs a child process; its output is a few lines, which fit the pipes' buffers, so they are read after it ends. */
    private static Result exec(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out: " + command);
        return new Result(
                p.exitValue(),
                new String(p.getInputStream().readAllBytes(), UTF_8),
                new String(p.getErrorStream().readAllBytes(), UTF_8));
    }
}
