package io.github.foldnd;

import java.nio.Buffer;

/**
 * The convolution algorithm, once for both element types (ConvFloatOps, ConvDoubleOps give the
 * typed operations). Everything runs on direct buffers positioned at their data, columns in the
 * batch-fused layout, so that each group needs one GEMM for the whole batch:
 * <pre>
 *   forward:        cols = unfold(x)                  (C_in K, N L)
 *                   Y_g  = W_g  cols_g                 (C_out/g, N L)    then (C_out, N, L) -> (N, C_out, L), + bias
 *   backwardInput:  G    = gradY as (C_out, N L)
 *                   D_g  = W_g^T G_g                   (C_in K/g, N L)   then gradX = fold(D)
 *   backwardWeight: dW_g = G_g cols_g^T                (C_out/g, C_in K/g); dBias = sums of gradY over N and L
 * </pre>
 * Threads: GEMM runs on OpenBLAS's threads (FoldNd.threads() of them); unfold and fold run on the
 * caller's thread when OpenBLAS is in use. Two pools taking turns still oversubscribe the cores:
 * OpenMP's team spins for a while after each parallel region, right when OpenBLAS's threads start
 * (measured: ConvNd forward on a 256-channel 14x14 layer 10.2 ms with both pools, 6.7 ms with
 * OpenMP's threads told to sleep at once). The copies are memory-bound and small beside the
 * products, so one thread loses little there. Without OpenBLAS, the engine gets every thread.
 * The shapes are validated by ConvNd, so the engine's kernels are called directly.
 */
abstract class Convolution<B extends Buffer> {
    /**
     * Scratch slots per thread: the column matrix, gradY or y reordered, and the staging copies of
     * heap-array arguments (GEMM needs native memory). Reused across calls, grown as needed.
     */
    static final int COLUMNS = 0, REORDERED = 1, STAGE_A = 2, STAGE_B = 3, STAGE_C = 4, STAGE_OUT = 5, SLOTS = 6;

    /** A view of n elements of this thread's scratch slot (grown as needed, reused across calls). */
    abstract B scratch(int slot, long n);

    /** A view of buffer b from element offset on (positions stay relative to b's). */
    abstract B slice(B b, long offset, long length);

    /** c = op(a) op(b), row-major, op = transpose when asked; c is m x n. */
    abstract void gemm(boolean transA, boolean transB, int m, int n, int k, B a, int lda, B b, int ldb, B c, int ldc);

    abstract void unfold(FoldGeometry g, B image, B columns);

    abstract void fold(FoldGeometry g, B columns, B image);

    /** The engine's thread count inside a convolution: see the class comment. */
    static int engineThreads() {
        return Blas.available() ? 1 : FoldNd.threads();
    }

    /** (outer, middle, inner) to (middle, outer, inner). */
    abstract void transpose(B from, B to, int outer, int middle, int inner);

    /** y(n, c, l) += bias(c). */
    abstract void addBias(B y, B bias, int batch, int channels, int blocks);

    /** gradBias(c) = sum over n, l of gradY(n, c, l). */
    abstract void sumBias(B gradY, B gradBias, int batch, int channels, int blocks);

    /** Sets n elements of b from its position to 0. */
    abstract void zero(B b, long n);

    final void forward(ConvShape s, B x, B weight, B bias, B y) {
        if (s.batch == 0) return;  // y is empty (and BLAS refuses leading dimensions of 0)
        B cols = scratch(COLUMNS, s.columnLength());
        unfold(s.columns, x, cols);
        B fused = s.batch == 1 ? y : scratch(REORDERED, s.yLength());  // N = 1: the layouts coincide
        for (int g = 0; g < s.groups; g++) {
            gemm(false, false, s.outs, s.cols, s.rows, slice(weight, (long) g * s.outs * s.rows, (long) s.outs * s.rows), s.rows,
                    slice(cols, (long) g * s.rows * s.cols, (long) s.rows * s.cols), s.cols,
                    slice(fused, (long) g * s.outs * s.cols, (long) s.outs * s.cols), s.cols);
        }
        if (s.batch > 1) transpose(fused, y, s.outChannels, s.batch, s.blocks);
        if (bias != null) addBias(y, bias, s.batch, s.outChannels, s.blocks);
    }

    final void backwardInput(ConvShape s, B gradY, B weight, B gradX) {
        if (s.batch == 0) return;  // gradX is empty
        B fused = gradY;
        if (s.batch > 1) {
            fused = scratch(REORDERED, s.yLength());
            transpose(gradY, fused, s.batch, s.outChannels, s.blocks);
        }
        B cols = scratch(COLUMNS, s.columnLength());
        for (int g = 0; g < s.groups; g++) {
            gemm(true, false, s.rows, s.cols, s.outs, slice(weight, (long) g * s.outs * s.rows, (long) s.outs * s.rows), s.rows,
                    slice(fused, (long) g * s.outs * s.cols, (long) s.outs * s.cols), s.cols,
                    slice(cols, (long) g * s.rows * s.cols, (long) s.rows * s.cols), s.cols);
        }
        fold(s.columns, cols, gradX);
    }

    final void backwardWeight(ConvShape s, B x, B gradY, B gradWeight, B gradBias) {
        if (s.batch == 0) {  // no samples: the gradients are sums of nothing
            zero(gradWeight, s.weightLength());
            if (gradBias != null) zero(gradBias, s.outChannels);
            return;
        }
        B cols = scratch(COLUMNS, s.columnLength());
        unfold(s.columns, x, cols);
        B fused = gradY;
        if (s.batch > 1) {
            fused = scratch(REORDERED, s.yLength());
            transpose(gradY, fused, s.batch, s.outChannels, s.blocks);
        }
        for (int g = 0; g < s.groups; g++) {
            gemm(false, true, s.outs, s.rows, s.cols, slice(fused, (long) g * s.outs * s.cols, (long) s.outs * s.cols), s.cols,
                    slice(cols, (long) g * s.rows * s.cols, (long) s.rows * s.cols), s.cols,
                    slice(gradWeight, (long) g * s.outs * s.rows, (long) s.outs * s.rows), s.rows);
        }
        if (gradBias != null) sumBias(gradY, gradBias, s.batch, s.outChannels, s.blocks);
    }
}
