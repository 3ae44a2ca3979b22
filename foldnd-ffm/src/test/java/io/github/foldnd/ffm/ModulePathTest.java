package io.github.foldnd.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.ffm.modulepath.ModulePathMain;
import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How FoldSegments finds the library's symbols, on the class path (this JVM) and on the module
 * path (a child JVM), and the fallback by the library's path.
 */
class ModulePathTest {
    @Test
    void onTheClassPathTheLoaderLookupFindsTheSymbols() {
        assertEquals("loaderLookup", NativeCalls.get().source);
    }

    /** The fallback for a JavaCPP in another class loader: the path JavaCPP loaded the library from. */
    @Test
    void theLibrarysPathFindsTheSymbolsToo() throws Throwable {
        NativeCalls.get(); // loads the library
        Path path = NativeCalls.libraryPath().orElseThrow();
        assertTrue(path.getFileName().toString().contains(NativeCalls.LIBRARY), path.toString());
        NativeCalls byPath = NativeCalls.byPath(path);
        assertEquals(path.toString(), byPath.source);
        // a call through the fallback's handles: the seed example's first column row
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(ValueLayout.JAVA_FLOAT, 18);
            for (int i = 0; i < 18; i++) image.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            MemorySegment columns = arena.allocate(ValueLayout.JAVA_FLOAT, 32);
            MemorySegment d = arena.allocateFrom(ValueLayout.JAVA_LONG, 2, 1, 2, 0, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 0, 0);
            int status = (int) byPath.f32.unfold().invokeExact(image, 18L, columns, 32L, d, 16L, 0L, Long.MAX_VALUE, 1);
            assertEquals(0, status);
            assertEquals(4f, columns.getAtIndex(ValueLayout.JAVA_FLOAT, 3));
        }
    }

    @Test
    void onTheModulePath() throws Exception {
        List<String> modulePath = new ArrayList<>(), classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            String name = p.getFileName().toString();
            if (p.endsWith(Path.of("target", "test-classes"))) classPath.add(entry);
            else if (p.endsWith(Path.of("target", "classes"))
                    || name.startsWith("foldnd")
                    || name.startsWith("javacpp")) {
                modulePath.add(entry);
            }
        }
        assertEquals(1, classPath.size(), "test classes on " + System.getProperty("java.class.path"));
        assertTrue(
                modulePath.size() >= 5,
                "foldnd-ffm, foldnd and its platform jar, JavaCPP and its platform jar: " + modulePath);
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path",
                String.join(File.pathSeparator, modulePath),
                "--add-modules",
                "io.github.foldnd.ffm",
                "--enable-native-access=io.github.foldnd.ffm,io.github.foldnd,org.bytedeco.javacpp",
                "--add-opens",
                "io.github.foldnd.ffm/io.github.foldnd.ffm=ALL-UNNAMED",
                "-cp",
                classPath.get(0),
                ModulePathMain.class.getName());
        Path log = Files.createTempFile("foldnd-ffm-module-path", ".log");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("module io.github.foldnd.ffm\n"), out);
            assertTrue(out.contains("symbols loaderLookup\n"), out);
            assertTrue(out.contains("ok\n"), out);
            assertFalse(out.contains("WARNING"), "native access is granted by module: no warning\n" + out);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
