package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * A million calls on every memory kind leave resident memory flat: native scratch, critical
 * regions and JNI copies are all released on every path. Resident set size is read from
 * /proc/self/status (Linux) after a warm-up and after the million calls; a leak of even 32 bytes
 * a call would show as 32 MB. The measured growth is printed (see README, Robustness).
 */
class LeakTest {
    static final int CALLS = 1_000_000;
    static final long LIMIT = 32L << 20;

    @Test
    void aMillionCallsPerMemoryKindKeepResidentMemoryFlat() throws IOException {
        Engine e = Engine.nativeEngine().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(e != null, "no native engine on this platform");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/status")), "needs /proc (Linux)");
        FoldGeometry fold = FoldGeometry.builder().kernelSize(2, 2).forFold(new long[] {1, 4, 9}, 4, 4);
        FoldGeometry unfold = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 1, 4, 4);
        float[] cols = new float[36], image = new float[16];
        FloatBuffer colsB = direct(36), imageB = direct(16);
        FloatPointer colsP = new FloatPointer(36), imageP = new FloatPointer(16);
        Runnable[] kinds = {
            () -> { e.fold(fold, cols, Reduce.MEAN, null); e.unfold(unfold, image); },
            () -> { e.fold(fold, colsB, Reduce.SUM, null, imageB); e.unfold(unfold, imageB, colsB); },
            () -> { e.fold(fold, colsP, Reduce.MAX, null, imageP); e.unfold(unfold, imageP, colsP); },
        };
        String[] names = {"heap arrays", "direct buffers", "pointers"};
        for (int k = 0; k < kinds.length; k++) {
            for (int i = 0; i < 100_000; i++) kinds[k].run();
            System.gc();
            long before = rss();
            for (int i = 0; i < CALLS; i++) kinds[k].run();
            System.gc();
            long growth = rss() - before;
            System.out.printf("leak check, %s: resident memory %+d KiB after %d fold + %d unfold calls%n", names[k], growth >> 10, CALLS, CALLS);
            assertTrue(growth < LIMIT, names[k] + ": resident memory grew by " + (growth >> 10) + " KiB");
        }
    }

    private static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }

    private static FloatBuffer direct(int n) {
        return ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
