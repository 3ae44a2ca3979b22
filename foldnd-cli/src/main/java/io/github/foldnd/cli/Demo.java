package io.github.foldnd.cli;

import io.github.foldnd.FoldGeometry;
import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.StringJoiner;

/**
 * The user's question (quoted in the README, "The question"), answered step by step with foldnd. Every shape
 * and value it prints is computed, none written in as a literal, so the text cannot drift from
 * what the library does.
 */
final class Demo {
    private Demo() {}

    static void run(PrintStream out) {
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0}, size = {3, 3};
        long[] imageShape = {1, 2, 3, 3};
        float[] image = new float[18];
        for (int i = 0; i < image.length; i++) image[i] = i;
        out.println("foldnd demo (engine: " + FoldNd.engineName() + ", threads: " + FoldNd.threads() + ")");
        out.println();
        out.println("image = arange(18) shaped " + Npy.tuple(imageShape) + ":");
        out.println(ArrayFormat.format(image, imageShape));
        out.println();

        long[] colShape =
                FoldGeometry.builder().kernelSize(k).forUnfold(imageShape).columnShape();
        float[] columns = FoldNd.unfold(image, imageShape, k, one, zero, one);
        int rows = (int) colShape[1], blocks = (int) colShape[2];
        out.println("unfold with a 2x2 kernel -> " + Npy.tuple(colShape) + ", one column per 2x2 block:");
        out.println(ArrayFormat.format(columns, colShape));
        out.println();

        out.println("fold puts every column back, summing where blocks overlap:");
        out.println(ArrayFormat.format(FoldNd.fold(columns, colShape, size, k, one, zero, one), imageShape));
        out.println();

        for (int upTo = 1; upTo <= 2; upTo++) {
            float[] some = new float[columns.length];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < upTo; c++) some[r * blocks + c] = columns[r * blocks + c];
            }
            out.println(
                    upTo == 1
                            ? "as in the question, column 0 alone (" + column(columns, rows, blocks, 0) + ") folds to:"
                            : "and columns 0 and 1 together (the overlap is summed) fold to:");
            out.println(ArrayFormat.format(FoldNd.fold(some, colShape, size, k, one, zero, one), imageShape));
            out.println();
        }

        float[] mean = FoldNd.fold(columns, colShape, size, k, one, zero, one, Reduce.MEAN, null);
        out.println("fold with Reduce.MEAN divides by the overlap count and recovers the image exactly:");
        out.println(ArrayFormat.format(mean, imageShape));
        out.println("equal to the image: " + Arrays.equals(mean, image));
    }

    /** Column c of a (1, rows, blocks) unfold result as a list, whole numbers without a decimal point: [0, 1, 3]. */
    static String column(float[] columns, int rows, int blocks, int c) {
        StringJoiner list = new StringJoiner(", ", "[", "]");
        for (int r = 0; r < rows; r++) {
            float v = columns[r * blocks + c];
            list.add(v == Math.rint(v) ? Long.toString((long) v) : Float.toString(v));
        }
        return list.toString();
    }
}
