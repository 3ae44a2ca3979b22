package io.github.foldnd.internal;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.FoldGeometry;
import java.util.Arrays;

/**
 * The block parameters of a fold, unfold or convolution alone (kernel size, dilation, padding,
 * stride), validated with the messages every foldnd module gives: {@code FoldGeometry} and
 * foldnd-conv's {@code ConvGeometry} both build one, so a parameter is refused in the same words
 * whichever API received it. Padding is d values or 2d in ONNX {@code pads} order, kept in one form
 * per geometry (d values when both ends agree).
 *
 * <p>Not API: {@code io.github.foldnd.internal} is exported only to foldnd's own modules.
 */
public final class BlockParameters {

    public final int[] kernelSize, dilation, padding, paddingBegin, paddingEnd, stride;
    public final long kernelVolume;

    public BlockParameters(int[] kernelSize, int[] dilation, int[] padding, int[] stride) {
        notNull(kernelSize, "kernelSize");
        notNull(dilation, "dilation");
        notNull(padding, "padding");
        notNull(stride, "stride");
        if (kernelSize.length < 1) throw fail("kernelSize must have at least 1 element, got []");
        if (kernelSize.length > FoldGeometry.MAX_DIMS) {
            throw fail(
                    "kernelSize must have at most %d elements (spatial dimensions), got %d",
                    FoldGeometry.MAX_DIMS, kernelSize.length);
        }
        int d = kernelSize.length;
        sameLength("dilation", dilation, d, kernelSize);
        if (padding.length != d && padding.length != 2 * d) {
            throw fail(
                    "padding must have %d elements (one per spatial dimension, as kernelSize %s) or %d (ONNX pads "
                            + "order: the start of each dimension, then the end of each), got %s",
                    d, Arrays.toString(kernelSize), 2 * d, Arrays.toString(padding));
        }
        sameLength("stride", stride, d, kernelSize);
        atLeast("kernelSize", kernelSize, 1, "positive");
        atLeast("dilation", dilation, 1, "positive");
        atLeast("padding", padding, 0, "non-negative");
        atLeast("stride", stride, 1, "positive");
        this.kernelSize = kernelSize.clone();
        this.dilation = dilation.clone();
        this.paddingBegin = Arrays.copyOfRange(padding, 0, d);
        this.paddingEnd = Arrays.copyOfRange(padding, padding.length - d, padding.length);
        // One form per geometry, so that equal geometries report equal padding.
        this.padding = Arrays.equals(paddingBegin, paddingEnd) ? paddingBegin.clone() : padding.clone();
        this.stride = stride.clone();
        long k = 1;
        for (int v : kernelSize) k = Check.multiply(k, v, "the product of kernelSize");
        this.kernelVolume = k;
    }

    public int dims() {
        return kernelSize.length;
    }

    /** Blocks per dimension for an image of this size; refuses a geometry where no block fits. */
    public long[] grid(long[] size, String sizeName) {
        long[] g = new long[size.length];
        for (int i = 0; i < size.length; i++) {
            if (size[i] > Long.MAX_VALUE / 2) throw fail("%s %s is too large", sizeName, Arrays.toString(size));
            long span = (long) dilation[i] * (kernelSize[i] - 1) + 1; // < 2^62: no overflow
            long padded = size[i] + paddingBegin[i] + (long) paddingEnd[i];
            if (padded < span) {
                throw fail(
                        "no block fits in dimension %d: %s with padding gives %d + %d + %d = %d, smaller than "
                                + "the dilated kernel %d*(%d-1)+1 = %d (kernelSize %s, dilation %s, padding %s)",
                        i,
                        sizeName,
                        size[i],
                        paddingBegin[i],
                        paddingEnd[i],
                        padded,
                        dilation[i],
                        kernelSize[i],
                        span,
                        Arrays.toString(kernelSize),
                        Arrays.toString(dilation),
                        Arrays.toString(padding));
            }
            g[i] = (padded - span) / stride[i] + 1;
        }
        return g;
    }

    private static void sameLength(String name, int[] values, int d, int[] kernelSize) {
        if (values.length != d) {
            throw fail(
                    "%s must have %d elements (one per spatial dimension, as kernelSize %s), got %s",
                    name, d, Arrays.toString(kernelSize), Arrays.toString(values));
        }
    }

    private static void atLeast(String name, int[] values, int min, String what) {
        for (int v : values) {
            if (v < min) throw fail("%s must be %s, got %s", name, what, Arrays.toString(values));
        }
    }
}
