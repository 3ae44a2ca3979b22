package io.github.foldnd.bench;

import io.github.foldnd.FoldGeometry;

/**
 * The problems the benchmarks run: convolution layers of common networks, large images with large
 * blocks (at stride 1, at half the block, and 9x9 at stride 4 with padding), blocks that do not
 * overlap, 1-d overlap-add frames (short, medium and long) and a 3-d volume. Each 2-d or 1-d case also has a 2-d form (a 1-d
 * signal as a 1 x n image) for the peers, whose fold/unfold are 2-d only; 3-d has no peer.
 * Column matrices are about 15 M elements (60 MB in float32), far beyond the last-level cache; those
 * of the three cases issue 10 added are 2-4 M (8-16 MB).
 */
public enum Case {
    /** ResNet stem: 7x7, stride 2, padding 3, on 224x224 RGB, batch 8. */
    CONV1_7X7S2(8, 3, new int[] {224, 224}, new int[] {7, 7}, new int[] {2, 2}, new int[] {3, 3}, new int[] {1, 1}),
    /** ResNet stage 2: 3x3 on 64 channels of 56x56, batch 8. */
    RES2_3X3(8, 64, new int[] {56, 56}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}),
    /** ResNet stage 3 downsampling: 3x3, stride 2, on 128 channels of 56x56, batch 16. */
    RES3_3X3S2(16, 128, new int[] {56, 56}, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}),
    /** VGG conv4: 3x3 on 256 channels of 28x28, batch 8. */
    VGG4_3X3(8, 256, new int[] {28, 28}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}),
    /** ResNet stage 5: 3x3 on 512 channels of 7x7, batch 64. */
    RES5_3X3(64, 512, new int[] {7, 7}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}),
    /** ResNet stage 2 at batch 1: parallelism must come from channels. */
    RES2_3X3_BATCH1(1, 64, new int[] {56, 56}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}),
    /** A dilated 3x3 (dilation 2, padding 2), as in DeepLab-style networks. */
    DILATED_3X3(8, 64, new int[] {56, 56}, new int[] {3, 3}, new int[] {1, 1}, new int[] {2, 2}, new int[] {2, 2}),
    /** A large image with large blocks at stride 1: every pixel covered by up to 256 blocks. */
    IMAGE_16X16S1(1, 1, new int[] {256, 256}, new int[] {16, 16}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1}),
    /** A large RGB image, 32x32 blocks at stride 16 (half the block), as in patch-based models. */
    IMAGE_32X32S16(
            1, 3, new int[] {1024, 1024}, new int[] {32, 32}, new int[] {16, 16}, new int[] {0, 0}, new int[] {1, 1}),
    /** Blocks that do not overlap (2x2 at stride 2, as in patch embedding): fold is a pure permutation. */
    NO_OVERLAP_2X2S2(
            64, 32, new int[] {32, 32}, new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, new int[] {1, 1}),
    /** One 1024x1024 plane, 16x16 blocks at stride 8 (half the block). */
    IMAGE_16X16S8(
            1, 1, new int[] {1024, 1024}, new int[] {16, 16}, new int[] {8, 8}, new int[] {0, 0}, new int[] {1, 1}),
    /** A 512x512 RGB image, 9x9 blocks at stride 4 with padding 4. */
    IMAGE_9X9S4P4(1, 3, new int[] {512, 512}, new int[] {9, 9}, new int[] {4, 4}, new int[] {4, 4}, new int[] {1, 1}),
    /** 1-d overlap-add: 1024-sample frames at hop 256 over a 2^20-sample signal. */
    FRAMES_1D(1, 1, new int[] {1 << 20}, new int[] {1024}, new int[] {256}, new int[] {0}, new int[] {1}),
    /**
     * Long frames: 4096 samples at hop 1024 over 4 signals of 2^20, so a fold band holds few blocks and
     * each offset's column run in it is a few cache lines.
     */
    FRAMES_4096_HOP1024(4, 1, new int[] {1 << 20}, new int[] {4096}, new int[] {1024}, new int[] {0}, new int[] {1}),
    /**
     * Short frames: 64 samples at hop 32 over 4 signals of 2^20, whose 32767 blocks put consecutive
     * offsets' column rows 4 bytes short of a multiple of 4 KiB apart.
     */
    FRAMES_64_HOP32(4, 1, new int[] {1 << 20}, new int[] {64}, new int[] {32}, new int[] {0}, new int[] {1}),
    /** A 3-d volume: 3x3x3 on 8 channels of 32^3, batch 2 (no peer has 3-d fold). */
    VOLUME_3D(2, 8, new int[] {32, 32, 32}, new int[] {3, 3, 3}, new int[] {1, 1, 1}, new int[] {1, 1, 1}, new int[] {
        1, 1, 1
    });
    public final int batch, channels;
    public final int[] size, kernel, stride, padding, dilation;

    Case(int batch, int channels, int[] size, int[] kernel, int[] stride, int[] padding, int[] dilation) {
        this.batch = batch;
        this.channels = channels;
        this.size = size;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
    }

    public FoldGeometry unfoldGeometry() {
        long[] shape = new long[size.length + 2];
        shape[0] = batch;
        shape[1] = channels;
        for (int i = 0; i < size.length; i++) shape[i + 2] = size[i];
        return FoldGeometry.forUnfold(shape, kernel, dilation, padding, stride);
    }

    public FoldGeometry foldGeometry() {
        return FoldGeometry.forFold(unfoldGeometry().columnShape(), size, kernel, dilation, padding, stride);
    }

    /** Whether the 2-d peers (PyTorch, ND4J) can run it. */
    public boolean hasPeers() {
        return size.length <= 2;
    }

    /** The 2-d form of a 1-d or 2-d parameter: a 1-d signal is a 1 x n image. */
    public int[] as2d(int[] values, int fill) {
        return values.length == 2 ? values.clone() : new int[] {fill, values[0]};
    }

    /** Bytes a fold or unfold must move at least: the columns and the image once each. */
    public long bytesMoved(int elementSize) {
        FoldGeometry g = unfoldGeometry();
        return (g.columnLength() + g.imageLength()) * elementSize;
    }
}
