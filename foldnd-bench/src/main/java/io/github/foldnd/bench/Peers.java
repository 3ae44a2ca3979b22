package io.github.foldnd.bench;

import io.github.foldnd.FoldGeometry;
import io.github.foldnd.FoldNd;
import java.nio.ByteBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The peers measured in the same run: PyTorch's fold/unfold (at::col2im / at::im2col, writing into
 * preallocated tensors that wrap the same direct memory, zero-copy) and ND4J's
 * Convolution.col2im / im2col (writing into preallocated INDArrays, in ND4J's own column layout
 * (N, C, kH, kW, outH, outW), which holds the same number of elements).
 */
final class Peers {
    private Peers() {}

    /** PyTorch on tensors over the given direct buffers, using the same thread count as foldnd. */
    static final class Torch {
        final Tensor columns, image;
        final long[] outputSize, kernel, dilation, padding, stride;

        Torch(Case c, ByteBuffer columnMemory, ByteBuffer imageMemory) {
            torch.set_num_threads(FoldNd.threads());
            FoldGeometry g = c.unfoldGeometry();
            long[] colShape = g.columnShape();
            int[] size = c.as2d(c.size, 1);
            long[] imageShape = {c.batch, c.channels, size[0], size[1]};
            TensorOptions options = new TensorOptions(torch.ScalarType.Float);
            columns = torch.from_blob(new FloatPointer(columnMemory.asFloatBuffer()), colShape, options);
            image = torch.from_blob(new FloatPointer(imageMemory.asFloatBuffer()), imageShape, options);
            outputSize = longs(size);
            kernel = longs(c.as2d(c.kernel, 1));
            dilation = longs(c.as2d(c.dilation, 1));
            padding = longs(c.as2d(c.padding, 0));
            stride = longs(c.as2d(c.stride, 1));
        }

        Tensor fold() {
            return torch.col2im_out(image, columns, outputSize, kernel, dilation, padding, stride);
        }

        Tensor unfold() {
            return torch.im2col_out(columns, image, kernel, dilation, padding, stride);
        }
    }

    /** ND4J on its own arrays: a 6-d column array and a 4-d image, float32. */
    static final class Nd4jPeer {
        final INDArray columns, image;
        final int[] size, kernel, dilation, padding, stride;

        Nd4jPeer(Case c) {
            size = c.as2d(c.size, 1);
            kernel = c.as2d(c.kernel, 1);
            dilation = c.as2d(c.dilation, 1);
            padding = c.as2d(c.padding, 0);
            stride = c.as2d(c.stride, 1);
            long[] grid = c.unfoldGeometry().blockGrid();
            long oh = grid.length == 2 ? grid[0] : 1, ow = grid[grid.length - 1];
            columns = Nd4j.rand(DataType.FLOAT, c.batch, c.channels, kernel[0], kernel[1], oh, ow);
            image = Nd4j.rand(DataType.FLOAT, c.batch, c.channels, size[0], size[1]);
        }

        INDArray fold() {
            return Convolution.col2im(
                    columns,
                    image,
                    stride[0],
                    stride[1],
                    padding[0],
                    padding[1],
                    size[0],
                    size[1],
                    dilation[0],
                    dilation[1]);
        }

        INDArray unfold() {
            return Convolution.im2col(
                    image,
                    kernel[0],
                    kernel[1],
                    stride[0],
                    stride[1],
                    padding[0],
                    padding[1],
                    dilation[0],
                    dilation[1],
                    false,
                    columns);
        }
    }

    private static long[] longs(int[] v) {
        long[] r = new long[v.length];
        for (int i = 0; i < v.length; i++) r[i] = v[i];
        return r;
    }
}
