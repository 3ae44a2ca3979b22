package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The question this project answers (quoted in the README, "The question"), on every engine. */
class SeedExampleTest {
    static final int[] K = {2, 2}, ONE = {1, 1}, ZERO = {0, 0};

    /** The (1, 8, 4) matrix printed in the question. */
    static final float[] COLUMNS = {
        0, 1, 3, 4,
        1, 2, 4, 5,
        3, 4, 6, 7,
        4, 5, 7, 8,
        9, 10, 12, 13,
        10, 11, 13, 14,
        12, 13, 15, 16,
        13, 14, 16, 17,
    };

    /** The question's columns folded back with MEAN through the FoldNd facade (the selected engine): arange(18). */
    static float[] meanFoldThroughTheFacade() {
        return FoldNd.fold(
                COLUMNS.clone(), new long[] {1, 8, 4}, new int[] {3, 3}, K, ONE, ZERO, ONE, Reduce.MEAN, null);
    }

    static float[] image() {
        float[] x = new float[18];
        for (int i = 0; i < 18; i++) x[i] = i;
        return x;
    }

    static java.util.stream.Stream<Engine> engines() {
        return Harness.engines();
    }

    @ParameterizedTest
    @MethodSource("engines")
    void unfoldGivesTheQuestionsMatrix(Engine e) {
        FoldGeometry g = FoldGeometry.forUnfold(new long[] {1, 2, 3, 3}, K, ONE, ZERO, ONE);
        assertArrayEquals(new long[] {1, 8, 4}, g.columnShape());
        assertArrayEquals(COLUMNS, e.unfold(g, image()));
    }

    @ParameterizedTest
    @MethodSource("engines")
    void foldSumsTheOverlaps(Engine e) {
        FoldGeometry g = FoldGeometry.forFold(new long[] {1, 8, 4}, new int[] {3, 3}, K, ONE, ZERO, ONE);
        // Each pixel times the number of 2x2 blocks covering it: corners 1, edges 2, centre 4.
        float[] expected = new float[18];
        int[] cover = {1, 2, 1, 2, 4, 2, 1, 2, 1};
        for (int i = 0; i < 18; i++) expected[i] = i * cover[i % 9];
        assertArrayEquals(expected, e.fold(g, COLUMNS, Reduce.SUM, null));
    }

    @ParameterizedTest
    @MethodSource("engines")
    void columnByColumnAsInTheQuestion(Engine e) {
        FoldGeometry g = FoldGeometry.forFold(new long[] {1, 8, 4}, new int[] {3, 3}, K, ONE, ZERO, ONE);
        float[] first = new float[32], firstTwo = new float[32];
        for (int r = 0; r < 8; r++) {
            first[r * 4] = COLUMNS[r * 4];
            firstTwo[r * 4] = COLUMNS[r * 4];
            firstTwo[r * 4 + 1] = COLUMNS[r * 4 + 1];
        }
        assertArrayEquals(
                new float[] {0, 1, 0, 3, 4, 0, 0, 0, 0, 9, 10, 0, 12, 13, 0, 0, 0, 0},
                e.fold(g, first, Reduce.SUM, null));
        assertArrayEquals(
                new float[] {0, 2, 2, 3, 8, 5, 0, 0, 0, 9, 20, 11, 12, 26, 14, 0, 0, 0},
                e.fold(g, firstTwo, Reduce.SUM, null));
    }

    @ParameterizedTest
    @MethodSource("engines")
    void meanRecoversTheImageExactly(Engine e) {
        FoldGeometry g = FoldGeometry.forFold(new long[] {1, 8, 4}, new int[] {3, 3}, K, ONE, ZERO, ONE);
        assertArrayEquals(image(), e.fold(g, COLUMNS, Reduce.MEAN, null));
    }

    @org.junit.jupiter.api.Test
    void theStaticApiGivesTheSameOnTheSelectedEngine() {
        float[] cols = FoldNd.unfold(image(), new long[] {1, 2, 3, 3}, K, ONE, ZERO, ONE);
        assertArrayEquals(COLUMNS, cols);
        assertArrayEquals(
                image(),
                FoldNd.fold(cols, new long[] {1, 8, 4}, new int[] {3, 3}, K, ONE, ZERO, ONE, Reduce.MEAN, null));
        assertArrayEquals(new long[] {1, 8, 4}, FoldNd.unfoldShape(new long[] {1, 2, 3, 3}, K, ONE, ZERO, ONE));
    }
}
