package io.github.foldnd;

/**
 * fold and unfold written straight from the definition, one block at a time, sharing nothing with
 * src/main: block l at kernel offset k of channel c reads image position
 * {@code x[i] = l[i]*stride[i] - begin[i] + k[i]*dilation[i]}, and column row {@code c*K + k},
 * column {@code l} holds it (0 in the padding). Padding is d values (begin = end) or 2d in ONNX
 * pads order (every begin, then every end); the end padding only lengthens the grid.
 *
 * <p>Values are held in double; {@link Arith} rounds every operation to the element type, so a
 * float reference is exactly IEEE float arithmetic. Contributions are merged in the order PyTorch's
 * col2im adds them: channel, then kernel offset, then block, each element starting from the merge's
 * identity.
 */
public final class Reference {
    /** Arithmetic in one element type. */
    public enum Arith {
        FLOAT {
            @Override
            double add(double a, double b) {
                return (float) a + (float) b;
            }

            @Override
            double mul(double a, double b) {
                return (float) a * (float) b;
            }

            @Override
            double div(double a, double b) {
                return (float) a / (float) b;
            }
        },
        DOUBLE {
            @Override
            double add(double a, double b) {
                return a + b;
            }

            @Override
            double mul(double a, double b) {
                return a * b;
            }

            @Override
            double div(double a, double b) {
                return a / b;
            }
        },
        /** IEEE half: each operation in float, then rounded to half (HalfReference). */
        FLOAT16 {
            @Override
            double add(double a, double b) {
                return HalfReference.round(ElementType.FLOAT16, (float) a + (float) b);
            }

            @Override
            double mul(double a, double b) {
                return HalfReference.round(ElementType.FLOAT16, (float) a * (float) b);
            }

            @Override
            double div(double a, double b) {
                return HalfReference.round(ElementType.FLOAT16, (float) a / (float) b);
            }
        },
        /** bfloat16: each operation in float, then rounded to bfloat16. */
        BFLOAT16 {
            @Override
            double add(double a, double b) {
                return HalfReference.round(ElementType.BFLOAT16, (float) a + (float) b);
            }

            @Override
            double mul(double a, double b) {
                return HalfReference.round(ElementType.BFLOAT16, (float) a * (float) b);
            }

            @Override
            double div(double a, double b) {
                return HalfReference.round(ElementType.BFLOAT16, (float) a / (float) b);
            }
        };

        abstract double add(double a, double b);

        abstract double mul(double a, double b);

        abstract double div(double a, double b);
    }

    /** One call's shape: batch, channels, image size and block parameters. */
    public record Shape(
            int batch, int channels, int[] size, int[] kernel, int[] dilation, int[] padding, int[] stride) {
        int dims() {
            return size.length;
        }

        /** Padding before dimension i: padding[i], whether padding has d values or 2d (ONNX pads). */
        int begin(int i) {
            return padding[i];
        }

        /** Padding after dimension i: padding[i] (d values) or padding[d + i] (2d, ONNX pads). */
        int end(int i) {
            return padding[padding.length == 2 * dims() ? dims() + i : i];
        }

        int[] grid() {
            int[] g = new int[dims()];
            for (int i = 0; i < dims(); i++) {
                g[i] = Math.floorDiv(size[i] + begin(i) + end(i) - dilation[i] * (kernel[i] - 1) - 1, stride[i]) + 1;
            }
            return g;
        }

        int kernelVolume() {
            return product(kernel);
        }

        int blocks() {
            return product(grid());
        }

        int plane() {
            return product(size);
        }
    }

    private Reference() {}

    public static double[] unfold(double[] image, Shape s) {
        int K = s.kernelVolume(), L = s.blocks(), P = s.plane();
        int[] grid = s.grid();
        double[] columns = new double[s.batch() * s.channels() * K * L];
        for (int n = 0; n < s.batch(); n++) {
            for (int c = 0; c < s.channels(); c++) {
                for (int k = 0; k < K; k++) {
                    int[] kk = unravel(k, s.kernel());
                    for (int l = 0; l < L; l++) {
                        int at = position(unravel(l, grid), kk, s);
                        int row = (n * s.channels() + c) * K + k;
                        columns[row * L + l] = at < 0 ? 0.0 : image[(n * s.channels() + c) * P + at];
                    }
                }
            }
        }
        return columns;
    }

    public static double[] fold(double[] columns, Shape s, Reduce reduce, double[] weights, Arith a) {
        int K = s.kernelVolume(), L = s.blocks(), P = s.plane();
        int[] grid = s.grid();
        double identity =
                reduce == Reduce.MAX ? Double.NEGATIVE_INFINITY : reduce == Reduce.MIN ? Double.POSITIVE_INFINITY : 0.0;
        double[] image = new double[s.batch() * s.channels() * P];
        for (int n = 0; n < s.batch(); n++) {
            for (int c = 0; c < s.channels(); c++) {
                int base = (n * s.channels() + c) * P;
                double[] cover = new double[P];
                java.util.Arrays.fill(image, base, base + P, identity);
                for (int k = 0; k < K; k++) {
                    int[] kk = unravel(k, s.kernel());
                    double w = weights == null ? 1.0 : weights[k];
                    for (int l = 0; l < L; l++) {
                        int at = position(unravel(l, grid), kk, s);
                        if (at < 0) continue;
                        double x = columns[((n * s.channels() + c) * K + k) * L + l];
                        double v = weights == null ? x : a.mul(w, x);
                        double o = image[base + at];
                        image[base + at] = switch (reduce) {
                            case SUM, MEAN -> a.add(o, v);
                            case MAX -> v > o || Double.isNaN(v) ? v : o;
                            case MIN -> v < o || Double.isNaN(v) ? v : o;
                        };
                        cover[at] = a.add(cover[at], w);
                    }
                }
                for (int i = 0; i < P; i++) {
                    if (reduce == Reduce.SUM) continue;
                    double o = image[base + i];
                    image[base + i] = cover[i] == 0 ? 0.0 : reduce == Reduce.MEAN ? a.div(o, cover[i]) : o;
                }
            }
        }
        return image;
    }

    /** Flat image offset of block ll at kernel offset kk, or -1 in the padding. */
    private static int position(int[] ll, int[] kk, Shape s) {
        int at = 0;
        for (int i = 0; i < s.dims(); i++) {
            int x = ll[i] * s.stride()[i] - s.begin(i) + kk[i] * s.dilation()[i];
            if (x < 0 || x >= s.size()[i]) return -1;
            at = at * s.size()[i] + x;
        }
        return at;
    }

    /** Row-major multi-index of flat index i in a box of the given extents. */
    public static int[] unravel(int i, int[] extents) {
        int[] idx = new int[extents.length];
        for (int d = extents.length - 1; d >= 0; d--) {
            idx[d] = i % extents[d];
            i /= extents[d];
        }
        return idx;
    }

    public static int product(int[] v) {
        int p = 1;
        for (int x : v) p *= x;
        return p;
    }

    /** (N, R, L) per sample to (R, N·L) batch-fused, by the layout's definition (ColumnLayout). */
    public static double[] fused(double[] perSample, int batch, int rows, int blocks) {
        double[] out = new double[perSample.length];
        for (int n = 0; n < batch; n++) {
            for (int r = 0; r < rows; r++) {
                for (int l = 0; l < blocks; l++)
                    out[(r * batch + n) * blocks + l] = perSample[(n * rows + r) * blocks + l];
            }
        }
        return out;
    }

    /** (R, N·L) batch-fused back to (N, R, L) per sample. */
    public static double[] unfused(double[] fused, int batch, int rows, int blocks) {
        double[] out = new double[fused.length];
        for (int n = 0; n < batch; n++) {
            for (int r = 0; r < rows; r++) {
                for (int l = 0; l < blocks; l++) out[(n * rows + r) * blocks + l] = fused[(r * batch + n) * blocks + l];
            }
        }
        return out;
    }
}
