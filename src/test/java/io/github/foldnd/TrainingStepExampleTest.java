package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The README's example, run as a test: one training step of a 3x3 convolution layer (4 channels
 * to 8, padding 1) on a batch of two 16x16 images, with a mean squared-error loss; the step must lower
 * the loss.
 */
class TrainingStepExampleTest {
    @Test
    void oneStepOfGradientDescentLowersTheLoss() {
        Random rnd = new Random(0);
        long[] xShape = {2, 4, 16, 16}, wShape = {8, 4, 3, 3}, yShape = {2, 8, 16, 16};
        int[] stride = {1, 1}, padding = {1, 1}, dilation = {1, 1}, kernel = {3, 3}, size = {16, 16};
        float[] x = randn(rnd, 2 * 4 * 16 * 16), target = randn(rnd, 2 * 8 * 16 * 16);
        float[] w = randn(rnd, 8 * 4 * 3 * 3), b = new float[8];
        float learningRate = 0.5f;

        float[] y = ConvNd.forward(x, xShape, w, wShape, b, stride, padding, dilation, 1);
        float[] gradY = new float[y.length];                      // loss = ½ mean (y − target)²
        double loss = 0;
        for (int i = 0; i < y.length; i++) {
            gradY[i] = (y[i] - target[i]) / y.length;
            loss += 0.5 * (y[i] - target[i]) * (y[i] - target[i]) / y.length;
        }
        ConvNd.WeightGradients<float[]> g = ConvNd.backwardWeight(x, xShape, gradY, yShape, kernel, stride, padding, dilation, 1);
        float[] gradX = ConvNd.backwardInput(gradY, yShape, w, wShape, size, stride, padding, dilation, 1);  // for the layer below
        for (int i = 0; i < w.length; i++) w[i] -= learningRate * g.weight()[i];
        for (int i = 0; i < b.length; i++) b[i] -= learningRate * g.bias()[i];

        float[] after = ConvNd.forward(x, xShape, w, wShape, b, stride, padding, dilation, 1);
        double newLoss = 0;
        for (int i = 0; i < after.length; i++) newLoss += 0.5 * (after[i] - target[i]) * (after[i] - target[i]) / after.length;
        assertTrue(newLoss < loss, "loss " + loss + " -> " + newLoss);
        assertTrue(gradX.length == x.length);
    }

    private static float[] randn(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }
}
