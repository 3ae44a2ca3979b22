package io.github.foldnd;

import java.util.Arrays;

/**
 * Walks the blocks of one kernel offset row by row, for the pure-Java kernels; the mirror of
 * {@code forEachRow} in native/include/foldnd/kernels.hpp, so both engines visit contributions in
 * the same order. One cursor per thread; the {@link Tables} are shared.
 *
 * <p>A "row" is one line of blocks along the last dimension. For a valid row, block j in
 * [{@link #lo}, {@link #hi}) reads image element {@code start + (j - lo) * step}; blocks outside that
 * range, and every block of an invalid row, fall in the padding.
 */
final class BlockCursor {
    /**
     * Per dimension i and kernel index k in [0, kernel[i]): the image coordinate of block 0 and the
     * range of blocks inside the image. Separable: sum(kernel) entries, not prod(kernel); only
     * the target table of small geometries ({@link #targets}) has an entry per offset and block.
     */
    static final class Tables {
        final int dims, kernelVolume, blocks, width, rows, imagePlane, kernelStride;
        private final FoldGeometry geometry;
        final int[] kernel, grid, first;
        final long[] stride, imageStride, origin;
        final int[] lo, hi;
        /**
         * For geometries of at most {@link #TARGET_LIMIT} blocks times offsets: the plane's image
         * index that block l of kernel offset k adds to, at {@code k * blocks + l}, or -1 where it
         * lies in the padding; else null. A tiny fold (the calls that {@code Engine.selected()}
         * sends to Java) spent most of its time on each row's setup, 12 rows of 3 blocks for the
         * (1, 4, 9) -> 4x4 case: {@code FoldNd.fold(float[] ...)} on it took 317-404 ns a call
         * with the row walk and 177-234 with the table (JavaFloatKernels.foldPlaneByTargets; a
         * loop of 2 million calls, 8 rounds, JDK 17, Intel Xeon, 2026-11-28).
         */
        final int[] targets;

        /** Only for geometries with at least one plane, whose sizes then all fit in an int. */
        Tables(FoldGeometry g) {
            int[] k = g.kernelSizeUnsafe(),
                    dil = g.dilationUnsafe(),
                    pad = g.paddingBeginUnsafe(),
                    s = g.strideUnsafe();
            long[] n = g.imageSizeUnsafe(), gr = g.gridUnsafe();
            dims = k.length;
            kernel = k;
            geometry = g;
            kernelStride = (int) g.kernelStride();
            kernelVolume = (int) g.kernelVolume();
            blocks = (int) g.blocks();
            imagePlane = (int) g.imagePlane();
            grid = new int[dims];
            stride = new long[dims];
            imageStride = new long[dims];
            first = new int[dims];
            int total = 0;
            for (int i = 0; i < dims; i++) {
                grid[i] = (int) gr[i];
                stride[i] = s[i];
                first[i] = total;
                total += k[i];
            }
            width = grid[dims - 1];
            rows = blocks / width;
            imageStride[dims - 1] = 1;
            for (int i = dims - 2; i >= 0; i--) imageStride[i] = imageStride[i + 1] * n[i + 1];
            origin = new long[total];
            lo = new int[total];
            hi = new int[total];
            for (int i = 0; i < dims; i++) {
                for (int kk = 0; kk < k[i]; kk++) {
                    long x0 = (long) kk * dil[i] - pad[i];
                    long a = x0 >= 0 ? 0 : (-x0 + s[i] - 1) / s[i]; // first block with x >= 0
                    long b = n[i] - 1 - x0 < 0 ? 0 : (n[i] - 1 - x0) / s[i] + 1; // first block with x >= n
                    a = Math.min(a, grid[i]);
                    b = Math.max(a, Math.min(b, grid[i]));
                    origin[first[i] + kk] = x0;
                    lo[first[i] + kk] = (int) a;
                    hi[first[i] + kk] = (int) b;
                }
            }
            targets = (long) kernelVolume * blocks <= TARGET_LIMIT ? targets() : null;
        }

        /** The target table: the cursor's walk, written down (every row, valid or not, in order). */
        private int[] targets() {
            int[] map = new int[kernelVolume * blocks];
            Arrays.fill(map, -1);
            BlockCursor c = new BlockCursor(this);
            c.seekKernel(0);
            for (int k = 0; k < kernelVolume; k++, c.nextKernel()) {
                c.beginRows();
                while (c.nextRow()) {
                    if (!c.valid) continue;
                    int at = k * blocks + c.row * width;
                    for (int j = c.lo, x = c.start; j < c.hi; j++, x += c.step) map[at + j] = x;
                }
            }
            return map;
        }
    }

    /** The most blocks times kernel offsets for which {@link Tables#targets} is kept (4 KiB of table). */
    static final int TARGET_LIMIT = 1024;

    /** Where plane p starts in the columns; an int because the columns fit in an array or buffer. */
    static int columnBase(Tables t, int p) {
        return (int) t.geometry.columnBase(p);
    }

    private final Tables t;
    private final int[] k, l;
    private int last;

    /** The current row: its index among the kernel offset's rows, validity, and block range. */
    int row;

    boolean valid;
    int start, lo, hi, step;
    private long lastOrigin;

    BlockCursor(Tables tables) {
        this.t = tables;
        this.k = new int[tables.dims];
        this.l = new int[tables.dims];
        this.last = tables.dims - 1;
    }

    /** Moves to kernel offset kidx (row-major decomposition). */
    void seekKernel(int kidx) {
        for (int i = last; i >= 0; i--) {
            k[i] = kidx % t.kernel[i];
            kidx /= t.kernel[i];
        }
    }

    /** Moves to the next kernel offset in row-major order. */
    void nextKernel() {
        for (int i = last; i >= 0; i--) {
            if (++k[i] < t.kernel[i]) return;
            k[i] = 0;
        }
    }

    /** Positions before the first row of the current kernel offset. */
    void beginRows() {
        int at = t.first[last] + k[last];
        lo = t.lo[at];
        hi = t.hi[at];
        lastOrigin = t.origin[at];
        step = (int) t.stride[last];
        Arrays.fill(l, 0);
        row = -1;
    }

    /** Advances to the next row; false after the last. */
    boolean nextRow() {
        if (row >= 0) {
            for (int i = last - 1; i >= 0; i--) {
                if (++l[i] < t.grid[i]) break;
                l[i] = 0;
            }
        }
        if (++row >= t.rows) return false;
        boolean ok = lo < hi;
        long off = lastOrigin;
        for (int i = 0; i < last && ok; i++) {
            int ti = t.first[i] + k[i];
            ok = l[i] >= t.lo[ti] && l[i] < t.hi[ti];
            off += (t.origin[ti] + l[i] * t.stride[i]) * t.imageStride[i];
        }
        valid = ok;
        // Block 0 may lie in the padding (off < 0), block lo never does: start is a real index.
        start = ok ? (int) (off + (long) lo * step) : 0;
        return true;
    }
}
