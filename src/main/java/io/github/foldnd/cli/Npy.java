package io.github.foldnd.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format (versions 1.0 to 3.0) for float32 and float64 arrays in C order: enough for
 * a NumPy user to hand arrays to the command line and read the results back with np.load.
 */
final class Npy {
    /** A loaded array: its shape, and values as float[] or double[]. */
    record Array(long[] shape, float[] floats, double[] doubles) {
        boolean isFloat() { return floats != null; }
    }

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=])([fi])(\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    static Array read(Path path) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        for (byte m : MAGIC) {
            if (b.remaining() == 0 || b.get() != m) throw new IllegalArgumentException(path + " is not a .npy file (bad magic)");
        }
        int major = b.get() & 0xff;
        b.get();
        long headerLength = major == 1 ? b.getShort() & 0xffff : b.getInt() & 0xffffffffL;
        if (headerLength > b.remaining()) throw new IllegalArgumentException(path + ": truncated header");
        byte[] h = new byte[(int) headerLength];
        b.get(h);
        String header = new String(h, major >= 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher descr = DESCR.matcher(header), fortran = FORTRAN.matcher(header), shape = SHAPE.matcher(header);
        if (!descr.find() || !fortran.find() || !shape.find()) throw new IllegalArgumentException(path + ": unreadable header " + header.trim());
        String kind = descr.group(2) + descr.group(3);
        if (!kind.equals("f4") && !kind.equals("f8")) {
            throw new IllegalArgumentException(path + " holds dtype " + descr.group(1) + kind + "; expected float32 (<f4) or float64 (<f8)");
        }
        if (fortran.group(1).equals("True")) {
            throw new IllegalArgumentException(path + " is in Fortran order; save it with np.ascontiguousarray first");
        }
        List<Long> dims = new ArrayList<>();
        for (String s : shape.group(1).split(",")) {
            if (!s.isBlank()) dims.add(Long.parseLong(s.trim()));
        }
        long[] dimsArray = dims.stream().mapToLong(Long::longValue).toArray();
        long n = 1;
        for (long d : dimsArray) n = Math.multiplyExact(n, d);
        b.order(descr.group(1).equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        int size = kind.equals("f4") ? 4 : 8;
        if (n * size != b.remaining()) {
            throw new IllegalArgumentException(path + ": shape " + shape.group(1) + " needs " + n * size + " data bytes, file has " + b.remaining());
        }
        if (size == 4) {
            float[] v = new float[(int) n];
            b.asFloatBuffer().get(v);
            return new Array(dimsArray, v, null);
        }
        double[] v = new double[(int) n];
        b.asDoubleBuffer().get(v);
        return new Array(dimsArray, null, v);
    }

    static void write(Path path, long[] shape, float[] floats, double[] doubles) throws IOException {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) dims.append(d).append(", ");
        if (shape.length > 1) dims.setLength(dims.length() - 1);  // (3,) for one dimension, (2, 3) else
        String dict = "{'descr': '<" + (floats != null ? "f4" : "f8") + "', 'fortran_order': False, 'shape': ("
                + dims.toString().trim() + "), }";
        int total = MAGIC.length + 4 + dict.length() + 1;
        String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";  // pad so data starts 64-aligned
        int n = floats != null ? floats.length : doubles.length;
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 4 + header.length() + n * (floats != null ? 4 : 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1));
        if (floats != null) b.asFloatBuffer().put(floats);
        else b.asDoubleBuffer().put(doubles);
        Files.write(path, b.array());
    }
}
