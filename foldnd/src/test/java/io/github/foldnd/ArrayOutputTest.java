package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The overloads that write into a caller's array: on every engine, bit for bit what the
 * allocating overloads return, into an array that may be longer (its tail untouched) and may be
 * reused from call to call; and every refusal before anything is written.
 */
class ArrayOutputTest {
    private static final int TAIL = 3;
    private static final float SENTINEL = -7.25f;

    @Test
    void writesWhatTheAllocatingOverloadsReturnOnEveryEngine() {
        Random rnd = new Random(5);
        for (int trial = 0; trial < 40; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, 1 + trial % 4, true);
            boolean batched = rnd.nextBoolean();
            FoldGeometry ug = Harness.unfoldGeometry(s, batched), fg = Harness.foldGeometry(s, batched);
            float[] image = Harness.toFloat(Harness.random(rnd, Harness.DType.FLOAT, (int) ug.imageLength()));
            float[] cols = Harness.toFloat(Harness.random(rnd, Harness.DType.FLOAT, (int) fg.columnLength()));
            double[] dimage = Harness.random(rnd, Harness.DType.DOUBLE, (int) ug.imageLength());
            float[] weights = Harness.toFloat(Harness.random(rnd, Harness.DType.FLOAT, Reference.product(s.kernel())));
            for (Engine e : Engine.available()) {
                String what = e.name() + " " + s;
                float[] out = sentinels(ug.columnLength());
                e.unfold(ug, image, out);
                assertArrayEquals(e.unfold(ug, image), Arrays.copyOf(out, out.length - TAIL), what);
                assertTailUntouched(out, what);
                double[] dout = new double[(int) ug.columnLength()];
                e.unfold(ug, dimage, dout);
                assertArrayEquals(e.unfold(ug, dimage), dout, what);
                for (Reduce r : Reduce.values()) {
                    for (float[] w : new float[][] {null, weights}) {
                        float[] img = sentinels(fg.imageLength());
                        e.fold(fg, cols, r, w, img);
                        assertArrayEquals(
                                e.fold(fg, cols, r, w), Arrays.copyOf(img, img.length - TAIL), what + " " + r);
                        assertTailUntouched(img, what);
                    }
                }
            }
        }
    }

    @Test
    void theFacadeReusesOneOutputArray() {
        float[] image = SeedExampleTest.image();
        long[] shape = {1, 2, 3, 3};
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0};
        float[] cols = new float[32], back = new float[18];
        for (int round = 0; round < 3; round++) { // the same arrays each round: nothing accumulates
            FoldNd.unfold(image, shape, k, one, zero, one, cols);
            assertArrayEquals(FoldNd.unfold(image, shape, k, one, zero, one), cols);
            FoldNd.fold(cols, new long[] {1, 8, 4}, new int[] {3, 3}, k, one, zero, one, Reduce.MEAN, null, back);
            assertArrayEquals(image, back);
        }
        double[] dback = new double[18];
        FoldNd.fold(
                Harness.toDouble(cols),
                new long[] {1, 8, 4},
                new int[] {3, 3},
                k,
                one,
                zero,
                one,
                Reduce.MEAN,
                null,
                dback);
        assertArrayEquals(Harness.toDouble(image), dback);
    }

    @Test
    void refusesBadArraysBeforeWriting() {
        FoldGeometry g = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 2, 3, 3); // 18 -> 32
        FoldGeometry same = FoldGeometry.builder().kernelSize(1, 1).forUnfold(1, 2, 3, 3); // 18 -> 18
        for (Engine e : Engine.available()) {
            NullPointerException npe =
                    assertThrows(NullPointerException.class, () -> e.unfold(g, (float[]) null, new float[32]));
            assertTrue(npe.getMessage().contains("input"), npe.getMessage());
            npe = assertThrows(NullPointerException.class, () -> e.unfold(g, new float[18], (float[]) null));
            assertTrue(npe.getMessage().contains("output"), npe.getMessage());
            IllegalArgumentException bad =
                    assertThrows(IllegalArgumentException.class, () -> e.unfold(g, new float[17], new float[32]));
            assertEquals("input must have 18 elements to match its shape, got 17", bad.getMessage());
            float[] shortOut = Arrays.copyOf(sentinels(0), 31);
            Arrays.fill(shortOut, SENTINEL);
            bad = assertThrows(IllegalArgumentException.class, () -> e.unfold(g, new float[18], shortOut));
            assertEquals("output must have at least 32 elements for this geometry, got 31", bad.getMessage());
            assertTrue(allSentinels(shortOut), "nothing written before the refusal");
            float[] both = new float[18];
            bad = assertThrows(IllegalArgumentException.class, () -> e.unfold(same, both, both));
            assertEquals("output must not be the input array: fold/unfold do not work in place", bad.getMessage());
            bad = assertThrows(
                    IllegalArgumentException.class, () -> e.fold(g, new float[32], Reduce.SUM, null, new float[17]));
            assertEquals("output must have at least 18 elements for this geometry, got 17", bad.getMessage());
            FoldGeometry one = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 1, 2, 2); // K = 4 = image
            float[] w = {1, 2, 3, 4};
            bad = assertThrows(IllegalArgumentException.class, () -> e.fold(one, new float[4], Reduce.SUM, w, w));
            assertEquals("output must not be the weights array", bad.getMessage());
            assertArrayEquals(new float[] {1, 2, 3, 4}, w, "weights untouched");
        }
    }

    private static float[] sentinels(long n) {
        float[] a = new float[(int) n + TAIL];
        Arrays.fill(a, SENTINEL);
        return a;
    }

    private static boolean allSentinels(float[] a) {
        for (float x : a) if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits(SENTINEL)) return false;
        return true;
    }

    private static void assertTailUntouched(float[] a, String what) {
        for (int i = a.length - TAIL; i < a.length; i++) assertEquals(SENTINEL, a[i], what + ": tail written");
    }
}
