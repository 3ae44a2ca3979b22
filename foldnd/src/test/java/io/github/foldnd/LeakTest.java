package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * A million calls on every memory kind leave resident memory flat: native scratch, critical
 * regions and JNI copies are all released on every path. Resident set size is read from
 * /proc/self/status (Linux) after a warm-up and after the million calls. The limit, 4 MiB, is
 * half of what a leak of 8 bytes a call would add (8 MB; more in practice, as malloc's smallest
 * chunk is 32 bytes); the growth measured is a few dozen KiB, and is printed (see README,
 * Robustness).
 */
class LeakTest {
    static final int CALLS = 1_000_000;
    static final long LIMIT = 4L << 20;

    /** Runs in the child JVM: the million calls per memory kind, one line of growth each. */
    public static void main(String[] args) throws IOException {
        Engine e = Engine.nativeEngine().orElseThrow();
        FoldGeometry fold = FoldGeometry.builder().kernelSize(2, 2).forFold(new long[] {1, 4, 9}, 4, 4);
        FoldGeometry unfold = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 1, 4, 4);
        float[] cols = new float[36], image = new float[16];
        FloatBuffer colsB = Harness.directFloats(36), imageB = Harness.directFloats(16);
        FloatPointer colsP = new FloatPointer(36), imageP = new FloatPointer(16);
        Runnable[] kinds = {
            () -> {
                e.fold(fold, cols, Reduce.MEAN, null);
                e.unfold(unfold, image);
            },
            () -> {
                e.fold(fold, colsB, Reduce.SUM, null, imageB);
                e.unfold(unfold, imageB, colsB);
            },
            () -> {
                e.fold(fold, colsP, Reduce.MAX, null, imageP);
                e.unfold(unfold, imageP, colsP);
            },
        };
        for (int k = 0; k < kinds.length; k++) {
            for (int i = 0; i < 100_000; i++) kinds[k].run();
            System.gc();
            long before = rss();
            for (int i = 0; i < CALLS; i++) kinds[k].run();
            System.gc();
            System.out.println("growth " + NAMES[k] + " " + (rss() - before));
        }
    }

    static final String[] NAMES = {"heap-arrays", "direct-buffers", "pointers"};

    /**
     * In a child JVM whose heap is fixed and touched up front (-Xms = -Xmx, AlwaysPreTouch), so
     * that the resident set can grow only through native memory: the Java heap's own growth
     * would otherwise be noise of several MiB.
     */
    @Test
    void aMillionCallsPerMemoryKindKeepResidentMemoryFlat() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Engine.nativeEngine().isPresent(), "no native engine on this platform");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/status")), "needs /proc (Linux)");
        ChildJvm.Result r = ChildJvm.run(
                LeakTest.class, List.of("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "leak"), Map.of(), null, false);
        assertEquals(0, r.exit(), r.output());
        for (String name : NAMES) {
            Matcher m = Pattern.compile("growth " + name + " (-?\\d+)").matcher(r.output());
            assertTrue(m.find(), r.output());
            long growth = Long.parseLong(m.group(1));
            System.out.printf(
                    "leak check, %s: resident memory %+d KiB after %d fold + %d unfold calls%n",
                    name, growth >> 10, CALLS, CALLS);
            assertTrue(growth < LIMIT, name + ": resident memory grew by " + (growth >> 10) + " KiB");
        }
    }

    private static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }
}
