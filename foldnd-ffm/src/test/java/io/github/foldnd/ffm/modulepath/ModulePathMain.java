package io.github.foldnd.ffm.modulepath;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import io.github.foldnd.ffm.FoldSegments;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Run by ModulePathTest in a child JVM, from the class path, with foldnd-ffm, foldnd, its platform
 * module and JavaCPP on the module path: prints the module FoldSegments came from, how its
 * symbols were found, and "ok" when unfold and fold match FoldNd. (In a package of its own: the
 * class path may not add classes to io.github.foldnd.ffm, a package of a named module.)
 */
public final class ModulePathMain {
    private ModulePathMain() {}

    public static void main(String[] args) throws Exception {
        System.out.println("module " + FoldSegments.class.getModule().getName());
        long[] shape = {2, 3, 5, 4};
        int[] k = {2, 3}, one = {1, 1}, pad = {1, 0};
        double[] image = new double[2 * 3 * 5 * 4];
        for (int i = 0; i < image.length; i++) image[i] = Math.sin(i);
        double[] columns = FoldNd.unfold(image, shape, k, one, pad, one);
        long[] columnShape = FoldNd.unfoldShape(shape, k, one, pad, one);
        double[] folded = FoldNd.fold(columns, columnShape, new int[] {5, 4}, k, one, pad, one, Reduce.MAX, null);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment in = arena.allocateFrom(JAVA_DOUBLE, image);
            MemorySegment cols = arena.allocate(JAVA_DOUBLE, columns.length);
            FoldSegments.unfold(in, JAVA_DOUBLE, shape, k, one, pad, one, cols);
            MemorySegment back = arena.allocate(JAVA_DOUBLE, image.length);
            FoldSegments.fold(
                    cols, JAVA_DOUBLE, columnShape, new int[] {5, 4}, k, one, pad, one, Reduce.MAX, null, back);
            if (!Arrays.equals(columns, cols.toArray(JAVA_DOUBLE))) throw new AssertionError("unfold differs");
            if (!Arrays.equals(folded, back.toArray(JAVA_DOUBLE))) throw new AssertionError("fold differs");
        }
        Class<?> calls = Class.forName("io.github.foldnd.ffm.NativeCalls");
        Method get = calls.getDeclaredMethod("get");
        get.setAccessible(true); // --add-opens io.github.foldnd.ffm/io.github.foldnd.ffm=ALL-UNNAMED
        Field source = calls.getDeclaredField("source");
        source.setAccessible(true);
        System.out.println("symbols " + source.get(get.invoke(null)));
        System.out.println("ok");
    }
}
