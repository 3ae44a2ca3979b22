package io.github.foldnd.cli;

import static io.github.foldnd.cli.CliRobustnessTest.assertOneLine;
import static io.github.foldnd.cli.CliRobustnessTest.assertUsageError;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.FoldNd;
import io.github.foldnd.cli.CliTest.Result;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every dtype the command line reads: unfold in each byte order, bit for bit, OUT keeping IN's descr;
 * bfloat16 bits read from uint16 with --as bfloat16; fold of float32/float64 in either byte order;
 * and the refusals (fold of integers, a misused --as, truncated data of every width).
 *
 * <p>The input files are made here, byte for byte as NumPy's np.save writes them (see {@link
 * #numpyFile}), independently of {@link Npy}'s writer, so the reader is not tested against itself.
 */
class CliDtypeTest {
    /** Every dtype, each wider one in both byte orders, and '=' (native) as NumPy reads it. */
    static final List<String> DESCRS = List.of(
            "|u1", "|i1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<i8", ">i8", "<f2", ">f2", "<f4", ">f4", "<f8",
            ">f8", "=i2", "=f8");

    static final long[] SEED_SHAPE = {1, 2, 3, 3};
    static final String SEED_TUPLE = "(1, 2, 3, 3)";

    @TempDir
    Path tmp;

    // ---- unfold: every dtype, bit for bit -----------------------------------------------------

    @Test
    void unfoldEveryDtypeInEitherByteOrderBitForBit() throws IOException {
        for (String descr : DESCRS) {
            long[] bits = seedBits(descr);
            Path in = write("in" + descr.substring(1) + order(descr) + ".npy", descr, SEED_TUPLE, bits);
            // No padding: column element j is image element SEED_COLUMNS[j], as CliTest computes by hand.
            long[] expected = new long[CliTest.SEED_COLUMNS.length];
            for (int j = 0; j < expected.length; j++) expected[j] = bits[(int) CliTest.SEED_COLUMNS[j]];
            checkUnfold(in, descr, "(1, 8, 4)", expected, "--kernel", "2,2");

            // Padding 1: where the float unfold of the image 1..18 reads i + 1 the column holds element
            // i, and where it reads 0 (padding) all bits are clear.
            float[] index = new float[18];
            for (int i = 0; i < index.length; i++) index[i] = i + 1;
            int[] two = {2, 2}, one = {1, 1};
            float[] at = FoldNd.unfold(index, SEED_SHAPE, two, one, one, one);
            long[] padded = new long[at.length];
            for (int j = 0; j < at.length; j++) padded[j] = at[j] == 0 ? 0 : bits[(int) at[j] - 1];
            checkUnfold(in, descr, "(1, 8, 16)", padded, "--kernel", "2,2", "--padding", "1,1");
        }
    }

    @Test
    void bfloat16IsReadFromUint16AndWrittenBackAsUint16() throws IOException {
        for (String descr : List.of("<u2", ">u2")) {
            // bfloat16 of image values -8.5, -7.5, ..: the upper 16 bits of the float, exact for these.
            float[] image = new float[18];
            long[] bits = new long[18];
            for (int i = 0; i < image.length; i++) {
                image[i] = i - 8.5f;
                bits[i] = Float.floatToRawIntBits(image[i]) >>> 16;
            }
            Path in = write("bf16" + order(descr) + ".npy", descr, SEED_TUPLE, bits), out = tmp.resolve("o.npy");
            Result r = CliTest.run("unfold", in.toString(), out.toString(), "--kernel", "2,2", "--as", "bfloat16");
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().contains("(bfloat16, engine "), r.out());
            assertEquals(header(descr, "(1, 8, 4)"), headerOf(out), "written back as uint16: NumPy has no bfloat16");
            // The columns, as floats, are the existing float unfold of the same values.
            float[] columns = FoldNd.unfold(
                    image, SEED_SHAPE, new int[] {2, 2}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1});
            short[] read = Npy.read(out).shorts();
            assertEquals(columns.length, read.length);
            for (int j = 0; j < columns.length; j++) {
                assertEquals(
                        columns[j], Float.intBitsToFloat((read[j] & 0xffff) << 16), descr + " column element " + j);
            }
            assertArrayEquals(encode(descr, columnsBits(bits)), dataOf(out), descr + ": the file's byte order kept");
        }
    }

    // ---- fold -----------------------------------------------------------------------------------

    @Test
    void foldOfFloat32AndFloat64KeepsTheByteOrder() throws IOException {
        for (String descr : List.of("<f4", ">f4", "<f8", ">f8", "=f4")) {
            long[] bits = new long[18];
            for (int i = 0; i < 18; i++) {
                bits[i] = descr.endsWith("4") ? Float.floatToRawIntBits(i) : Double.doubleToRawLongBits(i);
            }
            Path in = write("img.npy", descr, SEED_TUPLE, bits),
                    cols = tmp.resolve("cols.npy"),
                    back = tmp.resolve("back.npy");
            CliTest.succeeds("unfold", in.toString(), cols.toString(), "--kernel", "2,2");
            CliTest.succeeds(
                    "fold",
                    cols.toString(),
                    back.toString(),
                    "--output-size",
                    "3,3",
                    "--kernel",
                    "2,2",
                    "--reduce",
                    "mean");
            assertEquals(header(descr, SEED_TUPLE), headerOf(back), "OUT keeps IN's descr");
            assertArrayEquals(encode(descr, bits), dataOf(back), descr + ": mean of the copies is the image");
            Npy.Array a = Npy.read(back);
            for (int i = 0; i < 18; i++) assertEquals(i, descr.endsWith("4") ? a.floats()[i] : a.doubles()[i]);
        }
    }

    @Test
    void foldOfIntegersIsRefused() throws IOException {
        String[][] cases = {
            {"|u1", "uint8"},
            {"|i1", "int8"},
            {"<i2", "int16"},
            {">i2", "int16"},
            {"<u2", "uint16"},
            {">u2", "uint16"},
            {"<i4", "int32"},
            {">i8", "int64"}
        };
        for (String[] c : cases) {
            Path in = write("cols.npy", c[0], "(1, 8, 4)", new long[32]), out = tmp.resolve("o.npy");
            Result r = CliTest.run("fold", in.toString(), out.toString(), "--output-size", "3,3", "--kernel", "2,2");
            assertOneLine(
                    r,
                    2,
                    "cannot fold " + in + ": it holds " + c[1] + " (" + c[0] + "), and fold sums overlapping values,"
                            + " which foldnd defines for floating types only (float16, bfloat16, float32, float64);"
                            + " unfold works for every dtype");
            assertFalse(Files.exists(out), "no OUT");
        }
    }

    /**
     * fold of float16 and bfloat16 (the latter with --as bfloat16): unfold then fold with mean gives
     * the image back, bit for bit (small integers are exact in both), in IN's descr and byte order.
     */
    @Test
    void float16AndBfloat16FoldBack() throws IOException {
        for (String descr : List.of("<f2", ">f2", "<u2", ">u2")) {
            boolean bfloat16 = descr.endsWith("u2");
            long[] bits = new long[18];
            for (int i = 0; i < 18; i++) bits[i] = bfloat16 ? Float.floatToRawIntBits(i) >>> 16 : half(i);
            Path in = write("img.npy", descr, SEED_TUPLE, bits),
                    cols = tmp.resolve("cols.npy"),
                    back = tmp.resolve("back.npy");
            String[] as = bfloat16 ? new String[] {"--as", "bfloat16"} : new String[0];
            CliTest.succeeds(concat(new String[] {"unfold", in.toString(), cols.toString(), "--kernel", "2,2"}, as));
            Result r = CliTest.run(concat(
                    new String[] {
                        "fold",
                        cols.toString(),
                        back.toString(),
                        "--output-size",
                        "3,3",
                        "--kernel",
                        "2,2",
                        "--reduce",
                        "mean"
                    },
                    as));
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().contains(bfloat16 ? "(bfloat16, " : "(float16, "), r.out());
            assertEquals(header(descr, SEED_TUPLE), headerOf(back), "OUT keeps IN's descr");
            assertArrayEquals(encode(descr, bits), dataOf(back), descr);
        }
    }

    // ---- --as -----------------------------------------------------------------------------------

    @Test
    void asTakesOnlyBfloat16AndOnlyForUint16() throws IOException {
        Path u2 = write("u2.npy", "<u2", SEED_TUPLE, new long[18]);
        String out = tmp.resolve("o.npy").toString();
        for (String value : List.of("float16", "BFLOAT16", "")) {
            assertUsageError(
                    CliTest.run("unfold", u2.toString(), out, "--kernel", "2,2", "--as", value),
                    "--as must be bfloat16 (to read uint16 data as bfloat16 bits), got '" + value + "'");
        }
        assertUsageError(CliTest.run("unfold", u2.toString(), out, "--kernel", "2,2", "--as"), "--as needs a value");
        String[][] cases = {{"<i2", "int16"}, {">i2", "int16"}, {"<f2", "float16"}, {"|u1", "uint8"}, {"<f4", "float32"}
        };
        for (String[] c : cases) {
            Path in = write("x.npy", c[0], SEED_TUPLE, new long[18]);
            String message = "--as bfloat16 reads uint16 data (<u2 or >u2) as bfloat16 bits, but " + in + " holds "
                    + c[1] + " (" + c[0] + ")";
            assertOneLine(CliTest.run("unfold", in.toString(), out, "--kernel", "2,2", "--as", "bfloat16"), 2, message);
            assertOneLine(
                    CliTest.run(
                            "fold", in.toString(), out, "--output-size", "4,4", "--kernel", "2,2", "--as", "bfloat16"),
                    2,
                    message);
        }
        assertFalse(Files.exists(Path.of(out)));
    }

    // ---- the reader's refusals, at every width ------------------------------------------------

    @Test
    void truncatedDataOfEveryWidthIsRefused() throws IOException {
        for (String descr : DESCRS) {
            int width = descr.charAt(2) - '0', bytes = 18 * width;
            byte[] whole = numpyFile(descr, SEED_TUPLE, new byte[bytes]);
            Path in = tmp.resolve("cut.npy"), out = tmp.resolve("o.npy");
            Files.write(in, Arrays.copyOf(whole, whole.length - 1));
            assertOneLine(
                    CliTest.run("unfold", in.toString(), out.toString(), "--kernel", "2,2"),
                    2,
                    in + " declares shape (1, 2, 3, 3) = 18 elements, " + bytes + " bytes, but holds only "
                            + (bytes - 1) + " bytes of data");
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void otherDtypesAreRefusedNamingThem() throws IOException {
        for (String descr : List.of("<u4", ">u8", "<c8", "|b1", "|S3", "<U2", "<f16", "|V2", ">i3")) {
            Path in = tmp.resolve("other.npy");
            Files.write(in, numpyFile(descr, "(4,)", new byte[16]));
            assertOneLine(
                    CliTest.run("unfold", in.toString(), tmp.resolve("o.npy").toString(), "--kernel", "2"),
                    2,
                    in + " holds dtype " + descr + "; " + Npy.EXPECTED);
        }
    }

    // ---- Npy on its own -----------------------------------------------------------------------

    @Test
    void writesAndReadsEveryWidthInBothOrdersAcrossChunks() throws IOException {
        short[] shorts = new short[700_001]; // 1.4 MB: crosses the 1 MiB chunks at an unaligned element count
        long[] longs = new long[200_001];
        byte[] bytes = new byte[1_500_001];
        int[] ints = new int[300_001];
        Random random = new Random(12);
        for (int i = 0; i < shorts.length; i++) shorts[i] = (short) random.nextInt();
        for (int i = 0; i < longs.length; i++) longs[i] = random.nextLong();
        random.nextBytes(bytes);
        for (int i = 0; i < ints.length; i++) ints[i] = random.nextInt();
        Object[][] cases = {
            {">i2", shorts},
            {"<u2", shorts},
            {">f2", shorts},
            {"<i8", longs},
            {">i8", longs},
            {"|u1", bytes},
            {"|i1", bytes},
            {">i4", ints}
        };
        for (Object[] c : cases) {
            String descr = (String) c[0];
            int n = java.lang.reflect.Array.getLength(c[1]);
            Path p = tmp.resolve("w.npy");
            Npy.write(p, new Npy.Array(new long[] {n}, descr, c[1]));
            Npy.Array a = Npy.read(p);
            assertEquals(descr, a.descr());
            assertArrayEquals(new long[] {n}, a.shape());
            assertEquals(header(descr, "(" + n + ",)"), headerOf(p));
            int width = descr.charAt(2) - '0';
            assertEquals(128 + (long) width * n, Files.size(p), descr);
            ByteBuffer data = ByteBuffer.wrap(dataOf(p)).order(byteOrder(descr));
            for (int i : new int[] {0, 1, n / 2, n - 1}) {
                long expected = bitsOf(c[1], i), got;
                if (width == 1) got = data.get(i) & 0xffL;
                else if (width == 2) got = data.getShort(2 * i) & 0xffffL;
                else if (width == 4) got = data.getInt(4 * i) & 0xffffffffL;
                else got = data.getLong(8 * i);
                assertEquals(expected, got, descr + " element " + i + " in the file's byte order");
                assertEquals(expected, bitsOf(a.data(), i), descr + " element " + i + " read back");
            }
        }
    }

    @Test
    void anArrayMustMatchItsDtypeAndShape() {
        Npy.Array a = new Npy.Array(new long[] {2}, ">i2", new short[] {1, 2});
        assertNull(a.floats());
        assertNull(a.ints());
        assertEquals("int16", a.typeName());
        assertEquals(ByteOrder.BIG_ENDIAN, a.order());
        String wrong = assertThrows(
                        IllegalArgumentException.class, () -> new Npy.Array(new long[] {2}, "<f4", new short[2]))
                .getMessage();
        assertEquals("dtype <f4 is held in a float[], got short[]", wrong);
        String count = assertThrows(
                        IllegalArgumentException.class, () -> new Npy.Array(new long[] {3}, "<i2", new short[2]))
                .getMessage();
        assertEquals("shape (3,) needs 3 values, got 2", count);
        String dtype = assertThrows(
                        IllegalArgumentException.class, () -> new Npy.Array(new long[] {2}, "<u4", new int[2]))
                .getMessage();
        assertEquals("unsupported dtype <u4; " + Npy.EXPECTED, dtype);
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Unfolds IN with these options and checks OUT: IN's descr, NumPy's header, the expected bits in IN's order. */
    private void checkUnfold(Path in, String descr, String shape, long[] expected, String... options)
            throws IOException {
        Path out = tmp.resolve("out.npy");
        String[] args = concat(new String[] {"unfold", in.toString(), out.toString()}, options);
        Result r = CliTest.run(args);
        assertEquals(0, r.status(), descr + ": " + r.err());
        assertTrue(r.out().contains("(" + name(descr) + ", engine "), r.out());
        assertEquals(header(descr, shape), headerOf(out), descr + ": OUT's header");
        assertArrayEquals(encode(descr, expected), dataOf(out), descr + ": OUT's data " + Arrays.toString(options));
        Npy.Array a = Npy.read(out);
        assertEquals(descr, a.descr());
        for (int j = 0; j < expected.length; j++) assertEquals(expected[j], bitsOf(a, j), descr + " element " + j);
    }

    /** 18 random bit patterns of the dtype's width; floats finite, and element 5 -1 or -0.0 (all or the sign bit). */
    private static long[] seedBits(String descr) {
        Random random = new Random(descr.hashCode());
        int width = descr.charAt(2) - '0';
        long[] bits = new long[18];
        for (int i = 0; i < bits.length; i++) {
            long b = random.nextLong();
            if (width < 8) b &= (1L << (8 * width)) - 1;
            if (descr.endsWith("f4") && (b & 0x7f800000L) == 0x7f800000L) b &= ~0x40000000L; // not Inf or NaN
            if (descr.endsWith("f8") && (b >>> 52 & 0x7ff) == 0x7ff) b &= ~(1L << 62);
            bits[i] = b;
        }
        boolean floating = descr.charAt(1) == 'f';
        bits[5] = floating ? 1L << (8 * width - 1) : width < 8 ? (1L << (8 * width)) - 1 : -1L;
        return bits;
    }

    /** The column bits of a (1, 2, 3, 3) image's 2x2 unfold (CliTest.SEED_COLUMNS indexes the image). */
    private static long[] columnsBits(long[] image) {
        long[] c = new long[CliTest.SEED_COLUMNS.length];
        for (int j = 0; j < c.length; j++) c[j] = image[(int) CliTest.SEED_COLUMNS[j]];
        return c;
    }

    /** An element's bits (zero-extended below 64 bits) through the array's typed accessor. */
    private static long bitsOf(Npy.Array a, int i) {
        return switch (a.kind()) {
            case "u1", "i1" -> a.bytes()[i] & 0xffL;
            case "i2", "u2", "f2" -> a.shorts()[i] & 0xffffL;
            case "i4" -> a.ints()[i] & 0xffffffffL;
            case "i8" -> a.longs()[i];
            case "f4" -> Float.floatToRawIntBits(a.floats()[i]) & 0xffffffffL;
            default -> Double.doubleToRawLongBits(a.doubles()[i]);
        };
    }

    private static long bitsOf(Object array, int i) {
        if (array instanceof byte[] a) return a[i] & 0xffL;
        if (array instanceof short[] a) return a[i] & 0xffffL;
        if (array instanceof int[] a) return a[i] & 0xffffffffL;
        return ((long[]) array)[i];
    }

    /** The elements' bits as the file holds them: the dtype's width, in its byte order. */
    private static byte[] encode(String descr, long[] bits) {
        int width = descr.charAt(2) - '0';
        ByteBuffer b = ByteBuffer.allocate(bits.length * width).order(byteOrder(descr));
        for (long v : bits) {
            switch (width) {
                case 1 -> b.put((byte) v);
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return b.array();
    }

    private Path write(String name, String descr, String shape, long[] bits) throws IOException {
        return Files.write(tmp.resolve(name), numpyFile(descr, shape, encode(descr, bits)));
    }

    /**
     * A .npy file as NumPy's np.save writes it (format version 1.0): the magic, version 1.0, the
     * header length (little-endian), the header dictionary in NumPy's spelling padded with spaces
     * and a newline so that the data starts 64-byte aligned, then the data.
     */
    static byte[] numpyFile(String descr, String shape, byte[] data) {
        byte[] h = header(descr, shape).getBytes(ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0})
                .putShort((short) h.length)
                .put(h)
                .put(data);
        return b.array();
    }

    /**
     * NumPy's version 1.0 header for this descr and shape (a tuple as Python prints it): 1 to 64
     * spaces then a newline, so that the 10-byte preamble and the header end on a multiple of 64
     * (NumPy's _wrap_header). Npy writes the same, but for no space where 64 would fit, a case
     * none of the shapes here meets.
     */
    static String header(String descr, String shape) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        return dict + " ".repeat(64 - (10 + dict.length() + 1) % 64) + "\n";
    }

    private static String headerOf(Path p) throws IOException {
        byte[] bytes = Files.readAllBytes(p);
        int length = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
        return new String(bytes, 10, length, ISO_8859_1);
    }

    private static byte[] dataOf(Path p) throws IOException {
        byte[] bytes = Files.readAllBytes(p);
        int length = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
        return Arrays.copyOfRange(bytes, 10 + length, bytes.length);
    }

    private static ByteOrder byteOrder(String descr) {
        return switch (descr.charAt(0)) {
            case '<' -> ByteOrder.LITTLE_ENDIAN;
            case '>' -> ByteOrder.BIG_ENDIAN;
            default -> ByteOrder.nativeOrder();
        };
    }

    private static String order(String descr) {
        return switch (descr.charAt(0)) {
            case '<' -> "_le";
            case '>' -> "_be";
            case '=' -> "_native";
            default -> "";
        };
    }

    private static String name(String descr) {
        return switch (descr.substring(1)) {
            case "u1" -> "uint8";
            case "i1" -> "int8";
            case "i2" -> "int16";
            case "u2" -> "uint16";
            case "i4" -> "int32";
            case "i8" -> "int64";
            case "f2" -> "float16";
            case "f4" -> "float32";
            default -> "float64";
        };
    }

    /** IEEE half precision bits of a small non-negative integer (exact up to 2048). */
    private static long half(int v) {
        if (v == 0) return 0;
        int e = 31 - Integer.numberOfLeadingZeros(v);
        return (long) (e + 15) << 10 | (long) (v - (1 << e)) << (10 - e);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
