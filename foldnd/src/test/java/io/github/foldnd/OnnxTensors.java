package io.github.foldnd;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough of the protobuf wire format to read ONNX's node-test files (test support; no protobuf
 * dependency): a TensorProto ({@code input_*.pb}, {@code output_*.pb}) as a shape and its values, and
 * from a ModelProto ({@code model.onnx}) the default-domain opset and one node's integer attributes.
 *
 * <p>Field numbers, from onnx/onnx.proto: TensorProto dims 1 (repeated int64), data_type 2,
 * float_data 4 (packed), int64_data 7 (packed), name 8, raw_data 9 (little-endian), double_data 10
 * (packed); data types FLOAT 1, INT64 7, DOUBLE 11. ModelProto graph 7, opset_import 8
 * (OperatorSetIdProto: domain 1, version 2); GraphProto node 1; NodeProto op_type 4, attribute 5;
 * AttributeProto name 1, i 3, ints 8, type 20 (INT 2, INTS 7). A repeated scalar field is accepted
 * packed or not, as a protobuf parser must. Unknown fields are skipped; anything malformed throws.
 */
final class OnnxTensors {
    private OnnxTensors() {}

    static final int FLOAT = 1, INT64 = 7, DOUBLE = 11;
    private static final int ATTRIBUTE_INT = 2, ATTRIBUTE_INTS = 7;

    /**
     * A tensor: its dims and, by data type, exactly one of floats (FLOAT), longs (INT64) or doubles
     * (DOUBLE) non-null.
     */
    record Tensor(String name, int dataType, long[] dims, float[] floats, long[] longs, double[] doubles) {
        long elements() {
            long n = 1;
            for (long d : dims) n = Math.multiplyExact(n, d);
            return n;
        }

        float[] floatValues() {
            if (floats == null) throw new IllegalStateException(name + " is not FLOAT but data type " + dataType);
            return floats;
        }

        long[] longValues() {
            if (longs == null) throw new IllegalStateException(name + " is not INT64 but data type " + dataType);
            return longs;
        }

        @Override
        public String toString() {
            return name + " type " + dataType + " dims " + Arrays.toString(dims);
        }
    }

    /**
     * One node of a model: its op_type, the default-domain opset the model imports (-1 if none), and
     * its INT / INTS attributes by name in file order (an INT as one value), plus the names of the
     * attributes of any other type.
     */
    record Node(String opType, long opset, Map<String, long[]> ints, List<String> otherAttributes) {}

    // ---- TensorProto --------------------------------------------------------------------------

    static Tensor tensor(byte[] bytes) {
        Reader r = new Reader(bytes, 0, bytes.length);
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        byte[] raw = null;
        FloatList floats = new FloatList();
        List<Long> longs = new ArrayList<>();
        List<Double> doubles = new ArrayList<>();
        while (r.more()) {
            int tag = r.tag(), field = tag >>> 3, wire = tag & 7;
            switch (field) {
                case 1 -> r.int64s(wire, dims);
                case 2 -> dataType = (int) r.varintField(wire);
                case 4 -> r.floats(wire, floats);
                case 7 -> r.int64s(wire, longs);
                case 8 -> name = r.string(wire);
                case 9 -> raw = r.bytes(wire);
                case 10 -> r.doubles(wire, doubles);
                default -> r.skip(wire);
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long count = 1;
        for (long d : shape) {
            if (d < 0) throw malformed("negative dimension in " + Arrays.toString(shape));
            count = Math.multiplyExact(count, d);
        }
        if (count > Integer.MAX_VALUE) throw malformed("tensor too large: " + Arrays.toString(shape));
        int n = (int) count;
        Tensor t = switch (dataType) {
            case FLOAT ->
                new Tensor(name, dataType, shape, raw != null ? rawFloats(raw, n) : floats.toArray(), null, null);
            case INT64 ->
                new Tensor(
                        name,
                        dataType,
                        shape,
                        null,
                        raw != null
                                ? rawLongs(raw, n)
                                : longs.stream().mapToLong(Long::longValue).toArray(),
                        null);
            case DOUBLE ->
                new Tensor(
                        name,
                        dataType,
                        shape,
                        null,
                        null,
                        raw != null
                                ? rawDoubles(raw, n)
                                : doubles.stream()
                                        .mapToDouble(Double::doubleValue)
                                        .toArray());
            default -> throw malformed("unsupported data_type " + dataType + " in tensor '" + name + "'");
        };
        int have = t.floats != null ? t.floats.length : t.longs != null ? t.longs.length : t.doubles.length;
        if (have != n) {
            throw malformed("tensor '" + name + "' of dims " + Arrays.toString(shape) + " holds " + have
                    + " values, expected " + n);
        }
        return t;
    }

    private static float[] rawFloats(byte[] raw, int n) {
        checkRaw(raw, n, 4);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((int) littleEndian(raw, 4 * i, 4));
        return out;
    }

    private static long[] rawLongs(byte[] raw, int n) {
        checkRaw(raw, n, 8);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = littleEndian(raw, 8 * i, 8);
        return out;
    }

    private static double[] rawDoubles(byte[] raw, int n) {
        checkRaw(raw, n, 8);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = Double.longBitsToDouble(littleEndian(raw, 8 * i, 8));
        return out;
    }

    private static void checkRaw(byte[] raw, int n, int size) {
        if (raw.length != (long) n * size) {
            throw malformed("raw_data has " + raw.length + " bytes, expected " + n + " x " + size);
        }
    }

    private static long littleEndian(byte[] b, int at, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = (v << 8) | (b[at + i] & 0xFF);
        return v;
    }

    // ---- ModelProto -> the node of a given op_type -------------------------------------------

    /** The only node of op_type {@code opType} in the model's main graph; throws unless exactly one. */
    static Node node(byte[] model, String opType) {
        Reader r = new Reader(model, 0, model.length);
        long opset = -1;
        List<Node> found = new ArrayList<>();
        List<Reader> graphs = new ArrayList<>();
        while (r.more()) {
            int tag = r.tag(), field = tag >>> 3, wire = tag & 7;
            if (field == 7) graphs.add(r.message(wire));
            else if (field == 8) {
                Reader o = r.message(wire);
                String domain = "";
                long version = -1;
                while (o.more()) {
                    int t = o.tag();
                    switch (t >>> 3) {
                        case 1 -> domain = o.string(t & 7);
                        case 2 -> version = o.varintField(t & 7);
                        default -> o.skip(t & 7);
                    }
                }
                if (domain.isEmpty() || domain.equals("ai.onnx")) opset = version;
            } else r.skip(wire);
        }
        for (Reader g : graphs) {
            while (g.more()) {
                int tag = g.tag();
                if (tag >>> 3 == 1) {
                    Node n = nodeProto(g.message(tag & 7), opset);
                    if (n.opType().equals(opType)) found.add(n);
                } else g.skip(tag & 7);
            }
        }
        if (found.size() != 1) throw malformed("expected one " + opType + " node, found " + found.size());
        return found.get(0);
    }

    private static Node nodeProto(Reader r, long opset) {
        String opType = "";
        Map<String, long[]> ints = new LinkedHashMap<>();
        List<String> others = new ArrayList<>();
        while (r.more()) {
            int tag = r.tag(), wire = tag & 7;
            switch (tag >>> 3) {
                case 4 -> opType = r.string(wire);
                case 5 -> attribute(r.message(wire), ints, others);
                default -> r.skip(wire);
            }
        }
        return new Node(opType, opset, Collections.unmodifiableMap(ints), List.copyOf(others));
    }

    private static void attribute(Reader r, Map<String, long[]> ints, List<String> others) {
        String name = null;
        int type = 0;
        Long i = null;
        List<Long> values = new ArrayList<>();
        while (r.more()) {
            int tag = r.tag(), wire = tag & 7;
            switch (tag >>> 3) {
                case 1 -> name = r.string(wire);
                case 3 -> i = r.varintField(wire);
                case 8 -> r.int64s(wire, values);
                case 20 -> type = (int) r.varintField(wire);
                default -> r.skip(wire);
            }
        }
        if (name == null) throw malformed("attribute without a name");
        if (ints.containsKey(name) || others.contains(name)) throw malformed("attribute '" + name + "' twice");
        if (type == ATTRIBUTE_INTS)
            ints.put(name, values.stream().mapToLong(Long::longValue).toArray());
        else if (type == ATTRIBUTE_INT) {
            if (i == null) throw malformed("INT attribute '" + name + "' without a value");
            ints.put(name, new long[] {i});
        } else others.add(name);
    }

    private static IllegalArgumentException malformed(String what) {
        return new IllegalArgumentException("ONNX protobuf: " + what);
    }

    /** A growable float list (no boxing). */
    private static final class FloatList {
        float[] a = new float[16];
        int n;

        void add(float v) {
            if (n == a.length) a = Arrays.copyOf(a, 2 * n);
            a[n++] = v;
        }

        float[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    /** The protobuf wire format over bytes [pos, end). */
    private static final class Reader {
        private static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;

        private final byte[] b;
        private int pos;
        private final int end;

        Reader(byte[] b, int pos, int end) {
            this.b = b;
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        int tag() {
            long t = varint();
            if (t >>> 3 == 0 || t > Integer.MAX_VALUE) throw malformed("bad tag " + t + " at byte " + pos);
            return (int) t;
        }

        /** A base-128 varint of at most 10 bytes, as the 64 bits it encodes. */
        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) throw malformed("truncated varint");
                int x = b[pos++];
                v |= (long) (x & 0x7F) << shift;
                if (x >= 0) return v;
            }
            throw malformed("varint longer than 10 bytes");
        }

        long varintField(int wire) {
            expect(wire, VARINT);
            return varint();
        }

        /** The next length-delimited field's extent, consumed. */
        private int lengthDelimited() {
            long len = varint();
            if (len < 0 || len > end - pos) throw malformed("length " + len + " past the end of the message");
            int start = pos;
            pos += (int) len;
            return start;
        }

        Reader message(int wire) {
            expect(wire, LENGTH_DELIMITED);
            int start = lengthDelimited();
            return new Reader(b, start, pos);
        }

        byte[] bytes(int wire) {
            expect(wire, LENGTH_DELIMITED);
            int start = lengthDelimited();
            return Arrays.copyOfRange(b, start, pos);
        }

        String string(int wire) {
            return new String(bytes(wire), StandardCharsets.UTF_8);
        }

        /** A repeated int64: one varint, or a packed run of them. */
        void int64s(int wire, List<Long> out) {
            if (wire == VARINT) {
                out.add(varint());
                return;
            }
            Reader packed = message(wire);
            while (packed.more()) out.add(packed.varint());
        }

        /** A repeated float: one fixed32, or a packed run of them. */
        void floats(int wire, FloatList out) {
            if (wire == FIXED32) {
                out.add(Float.intBitsToFloat((int) fixed(4)));
                return;
            }
            Reader packed = message(wire);
            if ((packed.end - packed.pos) % 4 != 0) throw malformed("packed floats not a multiple of 4 bytes");
            while (packed.more()) out.add(Float.intBitsToFloat((int) packed.fixed(4)));
        }

        /** A repeated double: one fixed64, or a packed run of them. */
        void doubles(int wire, List<Double> out) {
            if (wire == FIXED64) {
                out.add(Double.longBitsToDouble(fixed(8)));
                return;
            }
            Reader packed = message(wire);
            if ((packed.end - packed.pos) % 8 != 0) throw malformed("packed doubles not a multiple of 8 bytes");
            while (packed.more()) out.add(Double.longBitsToDouble(packed.fixed(8)));
        }

        private long fixed(int size) {
            if (end - pos < size) throw malformed("truncated fixed" + 8 * size);
            long v = littleEndian(b, pos, size);
            pos += size;
            return v;
        }

        void skip(int wire) {
            switch (wire) {
                case VARINT -> varint();
                case FIXED64 -> fixed(8);
                case LENGTH_DELIMITED -> lengthDelimited();
                case FIXED32 -> fixed(4);
                default -> throw malformed("unsupported wire type " + wire + " (groups are not used by ONNX)");
            }
        }

        private static void expect(int wire, int expected) {
            if (wire != expected) throw malformed("wire type " + wire + ", expected " + expected);
        }
    }
}
