package io.github.foldnd.cli;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format (versions 1.0 to 3.0) for arrays in C order of the dtypes foldnd takes: uint8
 * and int8 ({@code |u1}, {@code |i1}), int16 and uint16 ({@code i2}, {@code u2}), int32, int64,
 * float16, float32 and float64 ({@code i4}, {@code i8}, {@code f2}, {@code f4}, {@code f8}), in
 * either byte order: enough for a NumPy user to hand arrays to the command line and read the
 * results back with np.load. An array keeps the descr its header spelled ({@code '>i2'} stays
 * {@code '>i2'}) and is written back in that byte order.
 *
 * <p>Files are untrusted input: every size the header declares is checked against the file's real
 * size and against what a Java array can hold before anything is allocated, and every problem is
 * an {@link IllegalArgumentException} whose message names the file, what it holds and what was
 * expected. Data moves in chunks, so no byte count is ever held in an int.
 */
final class Npy {
    /**
     * An array: its shape, its dtype as a header spells it ({@code '<f4'}, {@code '>i2'},
     * {@code '|u1'}), and its values in a Java array of the dtype's width, in Java's (native) order
     * whatever the file's: byte[] for u1/i1, short[] for i2/u2 and the bits of f2 (and of bfloat16
     * read from u2), int[] for i4, long[] for i8, float[] for f4, double[] for f8. A Java array
     * rather than a ByteBuffer, so that an array holds up to {@link #MAX_ARRAY} elements of any
     * width, as float[] did before (a buffer stops at 2 GiB).
     */
    record Array(long[] shape, String descr, Object data) {
        /** Checks that descr is a dtype read here and that data is its array, as long as the shape says. */
        Array {
            Class<?> expected = arrayClass(descr);
            if (expected == null) throw new IllegalArgumentException("unsupported dtype " + descr + "; " + EXPECTED);
            if (data == null || data.getClass() != expected) {
                throw new IllegalArgumentException("dtype " + descr + " is held in a " + expected.getSimpleName()
                        + ", got " + (data == null ? "null" : data.getClass().getSimpleName()));
            }
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            if (n != java.lang.reflect.Array.getLength(data)) {
                throw new IllegalArgumentException("shape " + tuple(shape) + " needs " + n + " values, got "
                        + java.lang.reflect.Array.getLength(data));
            }
        }

        /** Number of elements. */
        long length() {
            return java.lang.reflect.Array.getLength(data);
        }

        /** Bytes per element: 1, 2, 4 or 8. */
        int itemSize() {
            return descr.charAt(2) - '0';
        }

        /** The dtype without its byte order: u1, i1, i2, u2, i4, i8, f2, f4 or f8. */
        String kind() {
            return descr.substring(1);
        }

        /** NumPy's name of the dtype: uint8, int16, float32, ... */
        String typeName() {
            return NAMES.get(kind());
        }

        /** The file's byte order: '<' little-endian, '>' big-endian, '=' and '|' this machine's. */
        ByteOrder order() {
            return Npy.order(descr.charAt(0));
        }

        /** The values of a u1 or i1 array; null for other dtypes. */
        byte[] bytes() {
            return data instanceof byte[] a ? a : null;
        }

        /** The values of an i2 or u2 array, or the bits of an f2 (or bfloat16) one; null for other dtypes. */
        short[] shorts() {
            return data instanceof short[] a ? a : null;
        }

        /** The values of an i4 array; null for other dtypes. */
        int[] ints() {
            return data instanceof int[] a ? a : null;
        }

        /** The values of an i8 array; null for other dtypes. */
        long[] longs() {
            return data instanceof long[] a ? a : null;
        }

        /** The values of an f4 array; null for other dtypes. */
        float[] floats() {
            return data instanceof float[] a ? a : null;
        }

        /** The values of an f8 array; null for other dtypes. */
        double[] doubles() {
            return data instanceof double[] a ? a : null;
        }
    }

    /** The most elements a Java array reliably holds (a few header words below Integer.MAX_VALUE). */
    static final int MAX_ARRAY = Integer.MAX_VALUE - 8;
    /** NumPy itself refuses headers over 10000 bytes by default; 1 MiB leaves room and bounds the allocation. */
    static final int MAX_HEADER = 1 << 20;
    /** Bytes moved per read or write: large enough to be fast, small enough to cost no memory. */
    private static final int CHUNK = 1 << 20;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Magic, major and minor version, and the shortest (version 1.0, 2-byte) header length. */
    private static final int PREAMBLE = MAGIC.length + 2 + 2;

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    /** The dtypes read and written, without their byte order, and NumPy's names for them. */
    private static final Map<String, String> NAMES = Map.of(
            "u1", "uint8", "i1", "int8", "i2", "int16", "u2", "uint16", "i4", "int32", "i8", "int64", "f2", "float16",
            "f4", "float32", "f8", "float64");
    /** What a file may hold, for the message refusing another dtype. */
    static final String EXPECTED = "expected uint8 (|u1), int8 (|i1), int16 (<i2), uint16 (<u2), int32 (<i4),"
            + " int64 (<i8), float16 (<f2), float32 (<f4) or float64 (<f8), in either byte order (< or >)";

    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** Reads a C-order array of a dtype listed above; a malformed file is an IllegalArgumentException. */
    static Array read(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < PREAMBLE) {
                throw bad(
                        path,
                        " is too short for a .npy file: " + fileSize + " bytes, but a .npy file starts with a "
                                + PREAMBLE + "-byte preamble");
            }
            ByteBuffer pre = readFully(ch, PREAMBLE);
            for (byte m : MAGIC) {
                if (pre.get() != m) throw bad(path, " is not a .npy file: it does not start with \\x93NUMPY");
            }
            int major = pre.get() & 0xff, minor = pre.get() & 0xff;
            if (major < 1 || major > 3) {
                throw bad(path, " is .npy version " + major + "." + minor + "; expected 1.0, 2.0 or 3.0");
            }
            long headerLength = pre.getShort() & 0xffff;
            long headerStart = PREAMBLE;
            if (major > 1) { // versions 2 and 3 have a 4-byte header length: 2 more bytes to read
                if (fileSize < PREAMBLE + 2) throw bad(path, ": truncated header length");
                ByteBuffer rest = readFully(ch, 2);
                headerLength |= (long) (rest.getShort() & 0xffff) << 16;
                headerStart += 2;
            }
            if (headerLength > fileSize - headerStart) {
                throw bad(
                        path,
                        ": truncated header: it declares " + headerLength + " bytes, but the file has only "
                                + (fileSize - headerStart) + " after the preamble");
            }
            if (headerLength > MAX_HEADER) {
                throw bad(path, ": header of " + headerLength + " bytes; expected at most " + MAX_HEADER);
            }
            ByteBuffer h = readFully(ch, (int) headerLength);
            String header = new String(h.array(), major >= 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            return readData(ch, path, header, fileSize - headerStart - headerLength);
        }
    }

    /** Parses the header dictionary, checks the declared size against the data bytes, and reads them. */
    private static Array readData(FileChannel ch, Path path, String header, long dataBytes) throws IOException {
        Matcher descr = DESCR.matcher(header), fortran = FORTRAN.matcher(header), shape = SHAPE.matcher(header);
        if (!descr.find() || !fortran.find() || !shape.find()) {
            throw bad(path, ": unreadable header " + printable(header));
        }
        String dtype = descr.group(1);
        Class<?> arrayClass = arrayClass(dtype);
        if (arrayClass == null) throw bad(path, " holds dtype " + printable(dtype) + "; " + EXPECTED);
        if (fortran.group(1).equals("True")) {
            throw bad(path, " is in Fortran order; save it with np.ascontiguousarray first");
        }
        long[] dims = parseShape(shape.group(1), path);
        int itemSize = dtype.charAt(2) - '0';
        long n = 1, bytes;
        try {
            for (long d : dims) n = Math.multiplyExact(n, d);
            bytes = Math.multiplyExact(n, itemSize);
        } catch (ArithmeticException e) {
            throw bad(path, " declares shape " + tuple(dims) + ", more bytes than a long can count");
        }
        String declared = path + " declares shape " + tuple(dims) + " = " + n + " elements, " + bytes + " bytes";
        if (bytes > dataBytes)
            throw new IllegalArgumentException(declared + ", but holds only " + dataBytes + " bytes of data");
        if (bytes < dataBytes)
            throw new IllegalArgumentException(declared + ", but holds " + dataBytes + " bytes of data");
        if (n > MAX_ARRAY) {
            throw new IllegalArgumentException(
                    declared + ", more elements than a Java array can hold (" + MAX_ARRAY + ")");
        }
        ByteOrder order = order(dtype.charAt(0));
        // One chunked loop for every dtype, as write has: only the copy out of each chunk differs.
        Object data = java.lang.reflect.Array.newInstance(arrayClass.getComponentType(), (int) n);
        for (int at = 0; at < n; ) {
            int count = Math.min((int) n - at, CHUNK / itemSize);
            ByteBuffer chunk = readFully(ch, count * itemSize).order(order);
            if (data instanceof byte[] a) chunk.get(a, at, count);
            else if (data instanceof short[] a) chunk.asShortBuffer().get(a, at, count);
            else if (data instanceof int[] a) chunk.asIntBuffer().get(a, at, count);
            else if (data instanceof long[] a) chunk.asLongBuffer().get(a, at, count);
            else if (data instanceof float[] a) chunk.asFloatBuffer().get(a, at, count);
            else chunk.asDoubleBuffer().get((double[]) data, at, count);
            at += count;
        }
        return new Array(dims, dtype, data);
    }

    /**
     * The Java array that holds a dtype ({@code '<f4'}: float[]), or null for a dtype not read here.
     * The byte order may be '<', '>', '=' (native) or '|' (not applicable: NumPy writes it for
     * 1-byte types, and takes it as native for wider ones).
     */
    private static Class<?> arrayClass(String descr) {
        if (descr == null || descr.length() != 3 || "<>=|".indexOf(descr.charAt(0)) < 0) return null;
        return switch (descr.substring(1)) {
            case "u1", "i1" -> byte[].class;
            case "i2", "u2", "f2" -> short[].class;
            case "i4" -> int[].class;
            case "i8" -> long[].class;
            case "f4" -> float[].class;
            case "f8" -> double[].class;
            default -> null;
        };
    }

    private static ByteOrder order(char c) {
        return switch (c) {
            case '<' -> ByteOrder.LITTLE_ENDIAN;
            case '>' -> ByteOrder.BIG_ENDIAN;
            default -> ByteOrder.nativeOrder(); // '=' and '|', as NumPy reads them
        };
    }

    /** The dimensions of a shape tuple's inside, "2, 3" or "5," or "": each a non-negative integer. */
    private static long[] parseShape(String inside, Path path) {
        String[] parts = inside.trim().isEmpty() ? new String[0] : inside.split(",", -1);
        int count = parts.length > 0 && parts[parts.length - 1].isBlank() ? parts.length - 1 : parts.length; // "(5,)"
        long[] dims = new long[count];
        for (int i = 0; i < count; i++) {
            String s = parts[i].trim();
            try {
                dims[i] = Long.parseLong(s.endsWith("L") ? s.substring(0, s.length() - 1) : s); // Python 2 wrote 5L
            } catch (NumberFormatException e) {
                dims[i] = -1;
            }
            if (dims[i] < 0) {
                String got = printable(s);
                throw bad(
                        path, ": shape (" + printable(inside) + ") must hold non-negative integers, got '" + got + "'");
            }
        }
        return dims;
    }

    /**
     * Writes an array as a version 1.0 .npy file (2.0 if the header outgrows 64 KiB), its descr as
     * the array spells it and its data in that byte order. The file is written to a temporary file in the
     * same folder and moved into place only once complete and on disk: a failure (a full disk, a file
     * size limit) deletes the temporary file and leaves {@code path} as it was, or absent. A symbolic
     * link is followed (the file it names is replaced, the link stays); a device or pipe such as
     * /dev/stdout is written directly, since it cannot be replaced (and as root, replacing /dev/null
     * with a file would break the system).
     */
    static void write(Path path, Array array) throws IOException {
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
                write(ch, array);
            }
            return;
        }
        Path target = Files.exists(path) ? path.toRealPath() : path;
        Path folder = target.toAbsolutePath().getParent();
        String name = target.getFileName().toString();
        Path tmp = null;
        try {
            // A dot file, so listings hide it; the name cut short so the random suffix keeps it under NAME_MAX.
            String prefix = "." + name.substring(0, Math.min(name.length(), 100)) + ".";
            tmp = Files.createTempFile(folder, prefix, ".tmp", permissions());
            if (Files.exists(target) && permissions().length > 0) {
                Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target)); // keep the old file's mode
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                write(ch, array);
                ch.force(true); // on disk before the rename makes it visible, so a crash cannot leave a hollow file
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // Nothing better to do: the error that brought us here is the one to report.
                }
            }
        }
    }

    /**
     * New files as open(2) makes them, rw-rw-rw- less the umask, rather than createTempFile's owner-only
     * default: the output is an ordinary file. Empty where the file system has no POSIX permissions.
     */
    private static FileAttribute<?>[] permissions() {
        if (!FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) return new FileAttribute<?>[0];
        return new FileAttribute<?>[] {
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-rw-rw-"))
        };
    }

    /** Writes the array to the channel from its position (see {@link #write(Path, Array)}). */
    static void write(FileChannel ch, Array array) throws IOException {
        String dict =
                "{'descr': '" + array.descr() + "', 'fortran_order': False, 'shape': " + tuple(array.shape()) + ", }";
        int lengthBytes = MAGIC.length + 2 + 2 + dict.length() + 1 <= 0xffff ? 2 : 4;
        int total = MAGIC.length + 2 + lengthBytes + dict.length() + 1;
        String padding = " ".repeat((64 - total % 64) % 64); // so the data starts 64-byte aligned, as NumPy's do
        byte[] header = (dict + padding + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) (lengthBytes == 2 ? 1 : 2)).put((byte) 0);
        if (lengthBytes == 2) b.putShort((short) header.length);
        else b.putInt(header.length);
        b.flip();
        writeFully(ch, b);
        writeFully(ch, ByteBuffer.wrap(header));
        Object data = array.data();
        int n = (int) array.length(), itemSize = array.itemSize(), perChunk = CHUNK / itemSize;
        b.order(array.order());
        for (int at = 0; at < n; at += perChunk) {
            int count = Math.min(n - at, perChunk);
            b.clear();
            if (data instanceof byte[] a) b.put(a, at, count);
            else if (data instanceof short[] a) b.asShortBuffer().put(a, at, count);
            else if (data instanceof int[] a) b.asIntBuffer().put(a, at, count);
            else if (data instanceof long[] a) b.asLongBuffer().put(a, at, count);
            else if (data instanceof float[] a) b.asFloatBuffer().put(a, at, count);
            else b.asDoubleBuffer().put((double[]) data, at, count);
            b.limit(count * itemSize).position(0);
            writeFully(ch, b);
        }
    }

    /** A shape the way Python prints a tuple: (), (3,), (2, 3). */
    static String tuple(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) sb.append(i > 0 ? ", " : "").append(shape[i]);
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** A malformed file: the message starts with the file's name. */
    private static IllegalArgumentException bad(Path path, String what) {
        return new IllegalArgumentException(path + what);
    }

    private static ByteBuffer readFully(FileChannel ch, int bytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new EOFException("the file ended early; did it shrink while being read?");
        }
        return b.flip();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** The header for an error message: at most 200 characters, control characters escaped, so it stays on one line. */
    private static String printable(String header) {
        String s = header.trim();
        if (s.length() > 200) s = s.substring(0, 200) + "...";
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray())
            sb.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        return sb.toString();
    }
}
