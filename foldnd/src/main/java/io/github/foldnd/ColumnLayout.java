package io.github.foldnd;

/**
 * How the column matrix of a batch is laid out. Both hold the same N·C·K·L values; only their
 * order differs.
 *
 * <pre>
 *   PER_SAMPLE   (N, C·K, L)   PyTorch's layout: sample n's matrix is contiguous.
 *   BATCH_FUSED  (C·K, N·L)    row c·K + k holds the blocks of every sample, sample n at columns
 *                              [n·L, (n+1)·L): a convolution's GEMM then covers the whole batch at
 *                              once, W (C_out, C·K) x columns (C·K, N·L).
 * </pre>
 * For an unbatched geometry (or N = 1) the two coincide.
 */
public enum ColumnLayout {
    /** (N, C·K, L), PyTorch's {@code unfold} output and {@code fold} input. */
    PER_SAMPLE(0),
    /** (C·K, N·L), GEMM-friendly: one matrix product serves the whole batch. */
    BATCH_FUSED(1);

    /** The value of foldnd::Layout in native/include/foldnd/geometry.hpp (never the ordinal). */
    final int code;

    ColumnLayout(int code) {
        this.code = code;
    }
}
