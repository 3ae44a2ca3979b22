package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The zero-copy paths allocate nothing on the Java heap per call: with a geometry built once, a
 * fold or unfold between direct buffers or JavaCPP pointers on the native engine allocates 0
 * bytes (counted by the JVM for this thread; no timing involved).
 */
class AllocationTest {
    @ParameterizedTest
    @ValueSource(strings = {"buffer", "pointer"})
    void nativeZeroCopyCallsAllocateNothing(String kind) {
        Engine e = Engine.nativeEngine().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(e != null, "no native engine on this platform");
        FoldGeometry fold = FoldGeometry.builder().kernelSize(2, 2).forFold(new long[] {1, 4, 9}, 4, 4);
        FoldGeometry unfold = FoldGeometry.builder().kernelSize(2, 2).forUnfold(1, 1, 4, 4);
        FloatBuffer cols = Harness.directFloats(36), image = Harness.directFloats(16);
        FloatPointer colsP = new FloatPointer(36), imageP = new FloatPointer(16);
        Runnable call = kind.equals("buffer")
                ? () -> {
                    e.fold(fold, cols, Reduce.SUM, null, image);
                    e.unfold(unfold, image, cols);
                }
                : () -> {
                    e.fold(fold, colsP, Reduce.MEAN, null, imageP);
                    e.unfold(unfold, imageP, colsP);
                };
        for (int i = 0; i < 20_000; i++) call.run(); // let the JIT compile the path
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 10_000; i++) call.run();
        long after = threads.getThreadAllocatedBytes(id);
        // Integer division: any per-call allocation (16 bytes at least, the smallest object) reads >= 16.
        assertEquals(0, (after - before) / 10_000, "bytes allocated per call on the " + kind + " path");
    }
}
