package io.github.foldnd.conv;

import static io.github.foldnd.internal.Check.fail;
import static io.github.foldnd.internal.Check.notNull;

import io.github.foldnd.internal.BlockParameters;
import java.util.Arrays;

/**
 * The immutable, validated parameters of one convolution layer of d spatial dimensions (d = 1, 2, 3,
 * ...): kernel size k, stride s, zero padding, dilation δ and groups, each set by name, so that they
 * cannot be passed in the wrong order. {@link ConvNd}'s positional overloads take {@code stride,
 * padding, dilation, groups} (PyTorch's order) while {@link io.github.foldnd.FoldNd} takes {@code
 * dilation, padding, stride}: with int arrays in both, a swap compiles and, where the output size
 * happens to come out the same, runs. Every ConvNd method has an overload taking a ConvGeometry in
 * their place:
 * <pre>{@code
 * ConvGeometry layer = ConvGeometry.builder().kernelSize(3, 3).padding(1, 1).stride(2, 2).build();
 * float[] y = ConvNd.forward(x, xShape, w, wShape, bias, layer);
 * }</pre>
 * Parameters not set default to stride 1, padding 0 and dilation 1 in every dimension of kernelSize,
 * and groups 1. Padding is d values p (b = e = p before and after each dimension, PyTorch's) or 2d
 * values in ONNX {@code pads} order, every start b[0..d) then every end e[0..d) (asymmetric, as ONNX
 * Conv and TF's "SAME" padding need); 2d values with b = e are kept as the d values b, so equal layers
 * are equal however their padding was written. Sizes along each dimension i:
 * <pre>
 *   x       (N, C_in, *n)
 *   weight  (C_out, C_in / groups, *kernelSize)
 *   y       (N, C_out, *out),   out[i] = (n[i] + b[i] + e[i] - δ[i] (k[i] - 1) - 1) / s[i] + 1
 * </pre>
 * (integer division, as {@link #outputSize(long...)} computes it). The channels are not part of the
 * geometry: that C_in and C_out are divisible by groups is checked by each ConvNd call, against its
 * shapes.
 *
 * <p>{@link Builder#build()} refuses bad parameters with an exception naming the argument, the value
 * received and what was expected, in the words ConvNd's positional overloads use for the same value:
 * NullPointerException for null (when it is passed, or at build() for a kernelSize never set),
 * IllegalArgumentException for a wrong length (anything but kernelSize's, or 2d for padding) or a value
 * out of range (a kernel size, stride or dilation below 1, padding below 0, groups below 1).
 */
public final class ConvGeometry {
    // Read by ConvNd's overloads, never written nor handed out: the accessors return copies.
    final int[] kernelSize, stride, padding, dilation;
    final int groups;
    private final int[] paddingBegin, paddingEnd;
    private final BlockParameters params;

    /** From validated parameters (the padding already in its one form: see BlockParameters). */
    private ConvGeometry(BlockParameters p, int groups) {
        this.kernelSize = p.kernelSize;
        this.stride = p.stride;
        this.dilation = p.dilation;
        this.padding = p.padding;
        this.paddingBegin = p.paddingBegin;
        this.paddingEnd = p.paddingEnd;
        this.params = p;
        this.groups = groups;
    }

    /** A builder whose stride, padding, dilation and groups default to 1, 0, 1 in every dimension, and 1. */
    public static Builder builder() {
        return new Builder();
    }

    /** The number of spatial dimensions d: kernelSize's length. */
    public int dims() {
        return kernelSize.length;
    }

    /** Kernel size k per dimension (a copy): the weight's shape is (C_out, C_in / groups, *kernelSize). */
    public int[] kernelSize() {
        return kernelSize.clone();
    }

    /** Stride s per dimension (a copy). */
    public int[] stride() {
        return stride.clone();
    }

    /**
     * The zero padding (a copy): d values when it is the same before and after every dimension,
     * else 2d values in ONNX {@code pads} order (the start of each dimension, then the end of each).
     * Either form can be passed back wherever padding is taken.
     */
    public int[] padding() {
        return padding.clone();
    }

    /** The zero padding before the first element of each dimension, b[0..d) (a copy). */
    public int[] paddingBegin() {
        return paddingBegin.clone();
    }

    /** The zero padding after the last element of each dimension, e[0..d) (a copy). */
    public int[] paddingEnd() {
        return paddingEnd.clone();
    }

    /** Whether the padding is the same before and after every dimension. */
    public boolean symmetricPadding() {
        return padding.length == kernelSize.length;
    }

    /** Dilation δ per dimension (a copy). */
    public int[] dilation() {
        return dilation.clone();
    }

    /** The number of groups: C_in and C_out are split into this many, each convolved on its own. */
    public int groups() {
        return groups;
    }

    /**
     * The output's spatial size for an input of spatial size n (x of shape (N, C_in, *n) gives y of
     * shape (N, C_out, *outputSize(n))), one value per dimension i:
     * <pre>
     *   out[i] = (n[i] + paddingBegin[i] + paddingEnd[i] - dilation[i] * (kernelSize[i] - 1) - 1) / stride[i] + 1
     * </pre>
     * with integer division (the numerator is never negative: see below).
     *
     * @param inputSize n, d positive sizes
     * @return out, d positive sizes
     * @throws NullPointerException if inputSize is null
     * @throws IllegalArgumentException if inputSize does not have d elements, has one below 1 or above
     *     Long.MAX_VALUE / 2, or no block fits in a dimension: n[i] + b[i] + e[i] smaller than the
     *     dilated kernel δ[i] (k[i] - 1) + 1
     */
    public long[] outputSize(long... inputSize) {
        notNull(inputSize, "inputSize");
        int d = kernelSize.length;
        if (inputSize.length != d) {
            throw fail(
                    "inputSize must have %d elements (one per spatial dimension, as kernelSize %s), got %s",
                    d, Arrays.toString(kernelSize), Arrays.toString(inputSize));
        }
        for (long n : inputSize) {
            if (n < 1 || n > Long.MAX_VALUE / 2) {
                throw fail(
                        "inputSize must be from 1 to %d in every dimension, got %s",
                        Long.MAX_VALUE / 2, Arrays.toString(inputSize));
            }
        }
        return params.grid(inputSize, "inputSize"); // FoldGeometry's grid, and its "no block fits" refusal
    }

    /**
     * {@link #outputSize(long...)} of an int input size, as ConvNd's {@code inputSpatialSize} is given.
     *
     * @throws NullPointerException if inputSize is null
     * @throws IllegalArgumentException as {@link #outputSize(long...)}
     */
    public long[] outputSize(int... inputSize) {
        return outputSize(
                Arrays.stream(notNull(inputSize, "inputSize")).asLongStream().toArray());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConvGeometry g
                && groups == g.groups
                && Arrays.equals(kernelSize, g.kernelSize)
                && Arrays.equals(stride, g.stride)
                && Arrays.equals(padding, g.padding) // one form per geometry: see the constructor
                && Arrays.equals(dilation, g.dilation);
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(kernelSize);
        h = 31 * h + Arrays.hashCode(stride);
        h = 31 * h + Arrays.hashCode(padding);
        h = 31 * h + Arrays.hashCode(dilation);
        return 31 * h + groups;
    }

    @Override
    public String toString() {
        return "ConvGeometry[kernelSize " + Arrays.toString(kernelSize) + ", stride " + Arrays.toString(stride)
                + ", padding " + Arrays.toString(padding) + ", dilation " + Arrays.toString(dilation) + ", groups "
                + groups + "]";
    }

    /**
     * Collects a layer's parameters by name, in any order, then validates them all in {@link #build()}:
     * <pre>{@code
     * ConvGeometry g = ConvGeometry.builder().kernelSize(3, 3).stride(2, 2).padding(1, 1).build();
     * }</pre>
     * Each setter copies its argument (changing the array afterwards changes nothing) and refuses null
     * at once; a setter called twice keeps the last value. A builder can build any number of geometries.
     */
    public static final class Builder {
        private int[] kernelSize, stride, padding, dilation;
        private int groups = 1;

        private Builder() {}

        /** Sets the kernel size (required; its length is the number of spatial dimensions d). */
        public Builder kernelSize(int... kernelSize) {
            this.kernelSize = notNull(kernelSize, "kernelSize").clone();
            return this;
        }

        /** Sets the stride (default 1 in every dimension): d positive values. */
        public Builder stride(int... stride) {
            this.stride = notNull(stride, "stride").clone();
            return this;
        }

        /**
         * Sets the zero padding (default 0 in every dimension): d non-negative values, the same before
         * and after each dimension, or 2d in ONNX {@code pads} order (the start of each dimension, then
         * the end of each).
         */
        public Builder padding(int... padding) {
            this.padding = notNull(padding, "padding").clone();
            return this;
        }

        /** Sets the dilation (default 1 in every dimension): d positive values. */
        public Builder dilation(int... dilation) {
            this.dilation = notNull(dilation, "dilation").clone();
            return this;
        }

        /** Sets the number of groups (default 1): positive; groups = C_in = C_out is a depthwise convolution. */
        public Builder groups(int groups) {
            this.groups = groups;
            return this;
        }

        /**
         * The geometry of these parameters, with the defaults for those not set.
         *
         * @throws NullPointerException if kernelSize was never set
         * @throws IllegalArgumentException naming the first bad parameter, its value and what was expected
         */
        public ConvGeometry build() {
            notNull(kernelSize, "kernelSize");
            // The checks, messages and order of FoldGeometry's (which ConvNd's positional overloads
            // reach): one BlockParameters for both; then groups, as ConvShape checks them.
            BlockParameters p = new BlockParameters(kernelSize, or(dilation, 1), or(padding, 0), or(stride, 1));
            ConvShape.positiveGroups(groups);
            return new ConvGeometry(p, groups);
        }

        /** values, or kernelSize's length of fill where they were not set. */
        private int[] or(int[] values, int fill) {
            if (values != null) return values;
            int[] filled = new int[kernelSize.length];
            Arrays.fill(filled, fill);
            return filled;
        }
    }
}
