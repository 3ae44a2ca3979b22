package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the platform has no native library, the pure-Java engine takes over: a fresh JVM gets
 * foldnd's classes without the native folder (as on a platform with no native jar), and must
 * report the java engine, explain why native is unavailable, and still fold correctly.
 */
class FallbackTest {
    /** Runs in the child JVM. */
    public static void main(String[] args) {
        float[] back = SeedExampleTest.meanFoldThroughTheFacade();
        boolean ok = true;
        for (int i = 0; i < 18; i++) ok &= back[i] == i;
        System.out.println("engine=" + FoldNd.engineName() + " correct=" + ok + " nativeAvailable="
                + Engine.nativeEngine().isPresent() + " reason="
                + Engine.nativeUnavailableReason().orElse("none"));
    }

    @TempDir
    Path tmp;

    @Test
    void pureJavaTakesOverWithoutTheNativeLibrary() throws Exception {
        Path classes = Path.of("target/classes"), copy = tmp.resolve("classes");
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path p : files.toList()) {
                Path rel = classes.relativize(p);
                String unix = rel.toString().replace(File.separatorChar, '/');
                if (unix.matches("io/github/foldnd/[a-z]+-[a-z0-9_]+(/.*)?")) continue; // the platform folder
                if (Files.isDirectory(p)) Files.createDirectories(copy.resolve(rel));
                else Files.copy(p, copy.resolve(rel));
            }
        }
        List<String> classpath = new ArrayList<>();
        classpath.add(copy.toString());
        classpath.add("target/test-classes");
        Path main = classes.toAbsolutePath().normalize(),
                tests = Path.of("target/test-classes").toAbsolutePath().normalize();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            // JavaCPP itself stays, as in any application; no platform jar of foldnd exists to drop.
            Path at = Path.of(entry).toAbsolutePath().normalize();
            if (!at.equals(main) && !at.equals(tests)) classpath.add(entry);
        }
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        String.join(File.pathSeparator, classpath),
                        FallbackTest.class.getName())
                .redirectErrorStream(true)
                .start();
        String out;
        try (var in = child.getInputStream()) {
            out = new String(in.readAllBytes());
        }
        assertEquals(0, child.waitFor(), out);
        assertTrue(out.contains("engine=java correct=true nativeAvailable=false"), out);
        assertTrue(out.contains("reason=java.lang.UnsatisfiedLinkError"), out);
        // The reason names what is missing: no platform jar's PlatformLibrary service was found.
        assertTrue(out.contains("no foldnd platform jar found: depend on io.github.foldnd:foldnd-platform"), out);
    }
}
