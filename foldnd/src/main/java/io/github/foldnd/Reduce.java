package io.github.foldnd;

/**
 * How {@code fold} merges the contributions that overlapping blocks make to one output element.
 *
 * <p>Contributions are visited in increasing kernel-offset order (row-major), starting from the
 * merge's identity; with optional per-offset {@code weights} w, the contribution of block element
 * x at kernel offset k is {@code w[k] * x}.
 */
public enum Reduce {
    /** Σ w·x; elements no block covers are 0. Identical to PyTorch's {@code fold} when unweighted. */
    SUM(0),
    /** Σ w·x / Σ w over the covering blocks (plain average when unweighted); 0 where Σ w is 0. */
    MEAN(1),
    /** The largest contribution (NaN if any is NaN); 0 where no block covers. */
    MAX(2),
    /** The smallest contribution (NaN if any is NaN); 0 where no block covers. */
    MIN(3);

    /** The value of foldnd::Reduce in native/include/foldnd/geometry.hpp (never the ordinal). */
    final int code;

    Reduce(int code) {
        this.code = code;
    }

    /**
     * The value each output element starts from: 0 for SUM and MEAN, -∞ for MAX, +∞ for MIN. A
     * streamed fold ({@link Engine#foldBlocks}) whose output starts here gives the whole fold's
     * result bit for bit.
     */
    public double identity() {
        return switch (this) {
            case SUM, MEAN -> 0.0;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
        };
    }
}
