package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * foldnd on ND4J's memory, zero-copy: unfold and fold read and write an INDArray's own buffer
 * through its JavaCPP pointer ({@code data().pointer()}), and agree with ND4J's im2col/col2im.
 * ND4J's column layout (N, C, kH, kW, outH, outW) holds the same elements in the same order as
 * foldnd's (N, C·K, L). The first two methods are README's "Using foldnd from ND4J" snippet.
 */
class Nd4jInteropTest {
    static final int[] K = {3, 3}, D = {1, 1}, P = {1, 1}, S = {2, 2};

    /** README: unfold an INDArray into another, in place. */
    static INDArray unfold(INDArray image) { // (N, C, H, W), float, C order
        long[] shape = image.shape();
        long[] columnShape = FoldNd.unfoldShape(shape, K, D, P, S); // (N, C·9, L)
        INDArray columns = Nd4j.create(DataType.FLOAT, columnShape);
        FoldNd.unfold((FloatPointer) image.data().pointer(), shape, K, D, P, S, (FloatPointer)
                columns.data().pointer());
        return columns;
    }

    /** README: fold (sum) columns back into a new INDArray of shape (N, C, h, w). */
    static INDArray fold(INDArray columns, int h, int w) {
        long[] shape = columns.shape();
        INDArray image = Nd4j.create(DataType.FLOAT, shape[0], shape[1] / (K[0] * K[1]), h, w);
        FoldNd.fold(
                (FloatPointer) columns.data().pointer(),
                shape,
                new int[] {h, w},
                K,
                D,
                P,
                S,
                Reduce.SUM,
                null,
                (FloatPointer) image.data().pointer());
        return image;
    }

    @Test
    void unfoldAndFoldWorkInPlaceOnNd4jArraysAndAgreeWithNd4j() {
        Nd4j.getRandom().setSeed(7);
        int n = 2, c = 3, h = 9, w = 8, oh = 5, ow = 4;
        INDArray image = Nd4j.rand(DataType.FLOAT, n, c, h, w);
        float[] imageBefore = image.data().asFloat();

        INDArray columns = unfold(image);
        assertArrayEquals(new long[] {n, c * 9, oh * ow}, columns.shape());
        INDArray nd4jColumns = Nd4j.create(DataType.FLOAT, n, c, K[0], K[1], oh, ow);
        Convolution.im2col(image, K[0], K[1], S[0], S[1], P[0], P[1], D[0], D[1], false, nd4jColumns);
        // unfold copies values: equal bit for bit
        assertArrayEquals(nd4jColumns.dup('c').data().asFloat(), columns.data().asFloat());
        assertArrayEquals(imageBefore, image.data().asFloat(), "the input INDArray is not modified");

        INDArray folded = fold(columns, h, w);
        INDArray nd4jFolded = Nd4j.create(DataType.FLOAT, n, c, h, w);
        Convolution.col2im(nd4jColumns, nd4jFolded, S[0], S[1], P[0], P[1], h, w, D[0], D[1]);
        float[] expected = nd4jFolded.dup('c').data().asFloat(),
                actual = folded.data().asFloat();
        // fold sums up to 4 terms per element here; ND4J may add them in another order
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], 1e-6f * (1 + Math.abs(expected[i])), "element " + i);
    }

    @Test
    void foldndWritesIntoTheArraysOwnMemory() {
        INDArray image = Nd4j.rand(DataType.FLOAT, 1, 2, 5, 5);
        INDArray columns = Nd4j.create(DataType.FLOAT, FoldNd.unfoldShape(image.shape(), K, D, P, S));
        FloatPointer before = (FloatPointer) columns.data().pointer();
        FoldNd.unfold((FloatPointer) image.data().pointer(), image.shape(), K, D, P, S, before);
        assertSame(before, columns.data().pointer(), "no new buffer");
        // visible through ND4J itself: block 0 starts at (-1, -1) (padding 1), so its centre (k = 4) is x[0, 0, 0, 0]
        assertEquals(image.getFloat(0, 0, 0, 0), columns.getFloat(0, 4, 0));
    }
}
