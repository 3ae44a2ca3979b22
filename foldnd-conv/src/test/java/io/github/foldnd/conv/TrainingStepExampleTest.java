package io.github.foldnd.conv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The README's example, run as a test: one training step of a 3x3 convolution layer (4 channels
 * to 8, padding 1) on a batch of two 16x16 images, with a mean squared-error loss; the step must lower
 * the loss, and the gradients it used (and the input gradient for the layer below) must match
 * central differences of the loss.
 */
class TrainingStepExampleTest {
    @Test
    void oneStepOfGradientDescentLowersTheLoss() {
        Random rnd = new Random(0);
        long[] xShape = {2, 4, 16, 16}, wShape = {8, 4, 3, 3}, yShape = {2, 8, 16, 16};
        int[] stride = {1, 1}, padding = {1, 1}, dilation = {1, 1}, kernel = {3, 3}, size = {16, 16};
        float[] x = randn(rnd, 2 * 4 * 16 * 16), target = randn(rnd, 2 * 8 * 16 * 16);
        float[] w = randn(rnd, 8 * 4 * 3 * 3), b = new float[8], before = w.clone();
        float learningRate = 0.5f;

        float[] y = ConvNd.forward(x, xShape, w, wShape, b, stride, padding, dilation, 1);
        float[] gradY = new float[y.length]; // loss = ½ mean (y − target)²
        double loss = 0;
        for (int i = 0; i < y.length; i++) {
            gradY[i] = (y[i] - target[i]) / y.length;
            loss += 0.5 * (y[i] - target[i]) * (y[i] - target[i]) / y.length;
        }
        ConvNd.WeightGradients<float[]> g =
                ConvNd.backwardWeight(x, xShape, gradY, yShape, kernel, stride, padding, dilation, 1);
        float[] gradX = ConvNd.backwardInput(
                gradY, yShape, w, wShape, size, stride, padding, dilation, 1); // for the layer below
        for (int i = 0; i < w.length; i++) w[i] -= learningRate * g.weight()[i];
        for (int i = 0; i < b.length; i++) b[i] -= learningRate * g.bias()[i];

        float[] after = ConvNd.forward(x, xShape, w, wShape, b, stride, padding, dilation, 1);
        double newLoss = 0;
        for (int i = 0; i < after.length; i++)
            newLoss += 0.5 * (after[i] - target[i]) * (after[i] - target[i]) / after.length;
        assertTrue(newLoss < loss, "loss " + loss + " -> " + newLoss);

        // The gradients the step used, against central differences of the loss (in double, where
        // the quadratic loss makes them exact up to rounding), at random elements of x, w and b.
        double[] xd = toDouble(x), wd = toDouble(before), bd = new double[8], td = toDouble(target);
        Loss f = (xs, ws, bs) -> {
            double[] yd = ConvNd.forward(xs, xShape, ws, wShape, bs, stride, padding, dilation, 1);
            double l = 0;
            for (int i = 0; i < yd.length; i++) l += 0.5 * (yd[i] - td[i]) * (yd[i] - td[i]) / yd.length;
            return l;
        };
        for (int trial = 0; trial < 12; trial++) {
            int i = rnd.nextInt(x.length), j = rnd.nextInt(w.length), c = rnd.nextInt(8);
            assertClose(gradX[i], difference(xd, i, v -> f.at(v, wd, bd)), "gradX[" + i + "]");
            assertClose(g.weight()[j], difference(wd, j, v -> f.at(xd, v, bd)), "gradWeight[" + j + "]");
            assertClose(g.bias()[c], difference(bd, c, v -> f.at(xd, wd, v)), "gradBias[" + c + "]");
        }
    }

    private interface Loss {
        double at(double[] x, double[] w, double[] b);
    }

    /** (L(v + h e_i) - L(v - h e_i)) / 2h. */
    private static double difference(double[] v, int i, java.util.function.ToDoubleFunction<double[]> loss) {
        double h = 1e-3, saved = v[i];
        v[i] = saved + h;
        double up = loss.applyAsDouble(v);
        v[i] = saved - h;
        double down = loss.applyAsDouble(v);
        v[i] = saved;
        return (up - down) / (2 * h);
    }

    /** Within float rounding of the float computation: relative 1e-3, or 1e-7 absolute near 0. */
    private static void assertClose(float actual, double expected, String what) {
        assertTrue(
                Math.abs(actual - expected) <= 1e-3 * Math.abs(expected) + 1e-7,
                what + ": computed " + actual + ", central difference " + expected);
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    private static float[] randn(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }
}
