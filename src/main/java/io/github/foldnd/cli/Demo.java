package io.github.foldnd.cli;

import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import java.io.PrintStream;

/** The user's question (shared/seed-question.md), answered step by step with foldnd. */
final class Demo {
    private Demo() {}

    static void run(PrintStream out) {
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0}, size = {3, 3};
        long[] imageShape = {1, 2, 3, 3};
        float[] image = new float[18];
        for (int i = 0; i < image.length; i++) image[i] = i;
        out.println("foldnd demo (engine: " + FoldNd.engineName() + ", threads: " + FoldNd.threads() + ")");
        out.println();
        out.println("image = arange(18) shaped (1, 2, 3, 3):");
        out.println(ArrayFormat.format(image, imageShape));
        out.println();

        long[] colShape = FoldNd.unfoldShape(imageShape, k, one, zero, one);
        float[] columns = FoldNd.unfold(image, imageShape, k, one, zero, one);
        out.println("unfold with a 2x2 kernel -> (1, 8, 4), one column per 2x2 block:");
        out.println(ArrayFormat.format(columns, colShape));
        out.println();

        out.println("fold puts every column back, summing where blocks overlap:");
        out.println(ArrayFormat.format(FoldNd.fold(columns, colShape, size, k, one, zero, one), imageShape));
        out.println();

        for (int upTo = 1; upTo <= 2; upTo++) {
            float[] some = new float[columns.length];
            for (int r = 0; r < 8; r++) {
                for (int c = 0; c < upTo; c++) some[r * 4 + c] = columns[r * 4 + c];
            }
            out.println(upTo == 1 ? "as in the question, column 0 alone ([0, 1, 3, 4, 9, 10, 12, 13]) folds to:"
                    : "and columns 0 and 1 together (the overlap is summed) fold to:");
            out.println(ArrayFormat.format(FoldNd.fold(some, colShape, size, k, one, zero, one), imageShape));
            out.println();
        }

        float[] mean = FoldNd.fold(columns, colShape, size, k, one, zero, one, Reduce.MEAN, null);
        out.println("fold with Reduce.MEAN divides by the overlap count and recovers the image exactly:");
        out.println(ArrayFormat.format(mean, imageShape));
        out.println("equal to the image: " + java.util.Arrays.equals(mean, image));
    }
}
