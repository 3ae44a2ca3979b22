package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * foldnd on PyTorch's memory (org.bytedeco:pytorch, test scope), zero-copy: unfold and fold read
 * and write contiguous CPU tensors through their data pointers, and equal {@code at::im2col} /
 * {@code at::col2im} bit for bit. {@link #unfold} and {@link #fold} are the README's snippet.
 */
class PyTorchInteropTest {
    static final int[] K = {3, 3}, D = {1, 1}, P = {1, 1}, S = {2, 2};

    /**
     * README: unfold a contiguous float tensor (N, C, H, W) into a new tensor. A tensor's data
     * pointer comes without a size, so give it one: foldnd checks bounds against it.
     */
    static Tensor unfold(Tensor image) {
        long[] shape = image.sizes().vec().get();
        Tensor columns = torch.empty(FoldNd.unfoldShape(shape, K, D, P, S));
        FloatPointer in = image.data_ptr_float().capacity(image.numel());
        FloatPointer out = columns.data_ptr_float().capacity(columns.numel());
        FoldNd.unfold(in, shape, K, D, P, S, out);
        return columns;
    }

    /** README: fold (sum) a (N, C·K, L) float tensor back into (N, C, h, w). */
    static Tensor fold(Tensor columns, int h, int w) {
        long[] shape = columns.sizes().vec().get();
        Tensor image = torch.empty(shape[0], shape[1] / (K[0] * K[1]), h, w);
        FloatPointer in = columns.data_ptr_float().capacity(columns.numel());
        FloatPointer out = image.data_ptr_float().capacity(image.numel());
        FoldNd.fold(in, shape, new int[] {h, w}, K, D, P, S, Reduce.SUM, null, out);
        return image;
    }

    @Test
    void unfoldAndFoldOnTensorsEqualPyTorchBitForBit() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(11);
            Tensor image = torch.rand(2, 3, 9, 8);
            Tensor before = image.clone();
            Tensor columns = unfold(image);
            Tensor expected = torch.im2col(image, longs(K), longs(D), longs(P), longs(S));
            assertTrue(columns.equal(expected), "unfold equals at::im2col bit for bit");
            assertTrue(image.equal(before), "the input tensor is unchanged");

            Tensor folded = fold(columns, 9, 8);
            Tensor expectedFold = torch.col2im(columns, new long[] {9, 8}, longs(K), longs(D), longs(P), longs(S));
            assertTrue(folded.equal(expectedFold), "fold equals at::col2im bit for bit");
        }
    }

    private static long[] longs(int[] v) {
        return java.util.Arrays.stream(v).asLongStream().toArray();
    }
}
