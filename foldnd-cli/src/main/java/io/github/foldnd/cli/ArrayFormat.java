package io.github.foldnd.cli;

/** Prints a row-major array with its shape the way NumPy does: nested brackets, aligned columns. */
final class ArrayFormat {
    private ArrayFormat() {}

    /** The values nested by shape; their count must be the shape's product (a 0-d shape holds one value). */
    static String format(float[] values, long[] shape) {
        long count = 1;
        for (long d : shape) count = Math.multiplyExact(count, d);
        if (count != values.length) {
            throw new IllegalArgumentException(
                    "shape " + Npy.tuple(shape) + " needs " + count + " values, got " + values.length);
        }
        String[] cells = new String[values.length];
        int width = 1;
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            cells[i] = v == Math.rint(v) && Math.abs(v) < 1e7 ? (long) v + "." : Float.toString(v);
            width = Math.max(width, cells[i].length());
        }
        if (shape.length == 0) return cells[0]; // a 0-d array prints as its value, as NumPy does
        StringBuilder sb = new StringBuilder();
        append(sb, cells, width, shape, 0, 0);
        return sb.toString();
    }

    private static int append(StringBuilder sb, String[] cells, int width, long[] shape, int dim, int at) {
        sb.append('[');
        for (long i = 0; i < shape[dim]; i++) {
            if (i > 0) {
                sb.append(',');
                if (dim == shape.length - 1) {
                    sb.append(' ');
                } else {
                    sb.append("\n".repeat(shape.length - 1 - dim)).append(" ".repeat(dim + 1));
                }
            }
            if (dim == shape.length - 1) {
                sb.append(" ".repeat(width - cells[at].length())).append(cells[at++]);
            } else {
                at = append(sb, cells, width, shape, dim + 1, at);
            }
        }
        sb.append(']');
        return at;
    }
}
