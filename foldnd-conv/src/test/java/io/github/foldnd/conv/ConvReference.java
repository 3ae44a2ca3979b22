package io.github.foldnd.conv;

import io.github.foldnd.Reference;

/**
 * Convolution written from its definition, one output element at a time, in double, sharing
 * nothing with src/main. Alongside each result it keeps the sum of the terms' magnitudes and their
 * count, from which a test derives how far a correctly rounded implementation may differ: a sum of
 * n products computed in any order in precision u is within about (n + 2) u Σ|term| of the exact
 * value.
 */
final class ConvReference {
    /** A convolution's sizes: x (N, C_in, *size), weight (C_out, C_in / groups, *kernel). */
    record Conv(
            int batch,
            int inChannels,
            int outChannels,
            int groups,
            int[] size,
            int[] kernel,
            int[] stride,
            int[] padding,
            int[] dilation) {
        int dims() {
            return size.length;
        }

        /** The sizes themselves (a record prints its arrays as [I@...), for the tests' failure messages. */
        @Override
        public String toString() {
            return String.format(
                    "Conv[batch %d, %d -> %d channels, groups %d, size %s, kernel %s, stride %s, padding %s, dilation %s]",
                    batch,
                    inChannels,
                    outChannels,
                    groups,
                    java.util.Arrays.toString(size),
                    java.util.Arrays.toString(kernel),
                    java.util.Arrays.toString(stride),
                    java.util.Arrays.toString(padding),
                    java.util.Arrays.toString(dilation));
        }

        /** Padding after dimension i: padding has d values (symmetric) or 2d (ONNX pads: every begin, then every end). */
        int end(int i) {
            return padding[padding.length == 2 * dims() ? dims() + i : i];
        }

        int[] grid() {
            int[] g = new int[dims()];
            for (int i = 0; i < dims(); i++)
                g[i] = Math.floorDiv(size[i] + padding[i] + end(i) - dilation[i] * (kernel[i] - 1) - 1, stride[i]) + 1;
            return g;
        }

        long[] xShape() {
            return shape(batch, inChannels, size);
        }

        long[] weightShape() {
            return shape(outChannels, inChannels / groups, kernel);
        }

        long[] yShape() {
            return shape(batch, outChannels, grid());
        }

        private static long[] shape(int a, int b, int[] rest) {
            long[] s = new long[rest.length + 2];
            s[0] = a;
            s[1] = b;
            for (int i = 0; i < rest.length; i++) s[i + 2] = rest[i];
            return s;
        }
    }

    /** Values, the magnitude sum of each one's terms, and the count of terms. */
    record Result(double[] value, double[] magnitude, int[] terms) {
        static Result of(int n) {
            return new Result(new double[n], new double[n], new int[n]);
        }

        void add(int i, double term) {
            value[i] += term;
            magnitude[i] += Math.abs(term);
            terms[i]++;
        }
    }

    private ConvReference() {}

    /** Calls f(n, o, c, outputIndex, inputIndex, weightIndex) for every term of the convolution. */
    interface Term {
        void at(int n, int o, int c, int y, int x, int w);
    }

    static void forEachTerm(Conv s, Term f) {
        int[] grid = s.grid();
        int gridVolume = Reference.product(grid),
                kernelVolume = Reference.product(s.kernel),
                plane = Reference.product(s.size);
        int inPerGroup = s.inChannels / s.groups, outPerGroup = s.outChannels / s.groups;
        for (int n = 0; n < s.batch; n++) {
            for (int o = 0; o < s.outChannels; o++) {
                int group = o / outPerGroup;
                for (int j = 0; j < gridVolume; j++) {
                    int[] jj = Reference.unravel(j, grid);
                    for (int cl = 0; cl < inPerGroup; cl++) {
                        int c = group * inPerGroup + cl;
                        for (int k = 0; k < kernelVolume; k++) {
                            int[] kk = Reference.unravel(k, s.kernel);
                            int at = 0;
                            boolean inside = true;
                            for (int i = 0; i < s.dims() && inside; i++) {
                                int p = jj[i] * s.stride[i] - s.padding[i] + kk[i] * s.dilation[i];
                                inside = p >= 0 && p < s.size[i];
                                at = at * s.size[i] + p;
                            }
                            if (!inside) continue;
                            f.at(
                                    n,
                                    o,
                                    c,
                                    (n * s.outChannels + o) * gridVolume + j,
                                    (n * s.inChannels + c) * plane + at,
                                    (o * inPerGroup + cl) * kernelVolume + k);
                        }
                    }
                }
            }
        }
    }

    static Result forward(Conv s, double[] x, double[] w, double[] bias) {
        Result y = Result.of(s.batch * s.outChannels * Reference.product(s.grid()));
        if (bias != null) {
            int gv = Reference.product(s.grid());
            for (int i = 0; i < y.value().length; i++) y.add(i, bias[(i / gv) % s.outChannels]);
        }
        forEachTerm(s, (n, o, c, yi, xi, wi) -> y.add(yi, w[wi] * x[xi]));
        return y;
    }

    static Result backwardInput(Conv s, double[] gradY, double[] w) {
        Result gx = Result.of(s.batch * s.inChannels * Reference.product(s.size));
        forEachTerm(s, (n, o, c, yi, xi, wi) -> gx.add(xi, gradY[yi] * w[wi]));
        return gx;
    }

    static Result backwardWeight(Conv s, double[] x, double[] gradY) {
        Result gw = Result.of(s.outChannels * (s.inChannels / s.groups) * Reference.product(s.kernel));
        forEachTerm(s, (n, o, c, yi, xi, wi) -> gw.add(wi, gradY[yi] * x[xi]));
        return gw;
    }

    static Result backwardBias(Conv s, double[] gradY) {
        Result gb = Result.of(s.outChannels);
        int gv = Reference.product(s.grid());
        for (int i = 0; i < gradY.length; i++) gb.add((i / gv) % s.outChannels, gradY[i]);
        return gb;
    }
}
