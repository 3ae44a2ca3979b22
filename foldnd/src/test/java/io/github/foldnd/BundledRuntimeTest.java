package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The native library brings its OpenMP runtime: a child JVM in which the system's libgomp cannot
 * load (a private mount namespace binds /dev/null over it, as in a slim container without it)
 * still gets the native engine, and the libgomp mapped into it is the copy beside the JNI library
 * (NativeKernels preloads it; the build copies it there), named from the child's /proc/self/maps.
 * Linux x86-64 only, where unshare can make the namespace (root in CI); skipped visibly elsewhere.
 */
class BundledRuntimeTest {
    private static final List<String> SYSTEM_LIBGOMP =
            List.of("/usr/lib/x86_64-linux-gnu/libgomp.so.1", "/lib/x86_64-linux-gnu/libgomp.so.1");

    @Test
    void nativeEngineLoadsWithTheSystemLibgompOutOfReach() throws Exception {
        assumeTrue(
                System.getProperty("os.name").startsWith("Linux")
                        && System.getProperty("os.arch").equals("amd64"),
                "Linux x86-64 only");
        Set<String> system = new LinkedHashSet<>();
        for (String p : SYSTEM_LIBGOMP) {
            if (Files.exists(Path.of(p))) system.add(Path.of(p).toRealPath().toString());
        }
        assumeTrue(canHide(), "unshare -m with mount is not permitted here");
        // sh -c 'mount --bind /dev/null FILE ...; exec java ...' inside a private mount namespace.
        StringBuilder script = new StringBuilder("set -e; ");
        for (String p : system)
            script.append("mount --bind /dev/null '").append(p).append("'; ");
        script.append("exec \"$@\"");
        List<String> command = new ArrayList<>(List.of("unshare", "-m", "sh", "-c", script.toString(), "sh"));
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Child.class.getName()));
        command.addAll(system);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("system libgomp unloadable: true"), out);
        assertTrue(out.contains("engine: native"), out);
        String loaded = out.lines()
                .filter(l -> l.startsWith("libgomp: "))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no libgomp mapped:\n" + out));
        assertTrue(loaded.contains("io/github/foldnd/linux-x86_64/libgomp.so.1"), out);
        for (String s : system) assertTrue(!loaded.endsWith(" " + s), out);
    }

    private static boolean canHide() throws IOException, InterruptedException {
        try {
            Process p = new ProcessBuilder("unshare", "-m", "sh", "-c", "mount --bind /dev/null /dev/null")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) { // no unshare
            return false;
        }
    }

    /** Runs in the namespace: args are the hidden system libraries. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            boolean unloadable = true;
            for (String lib : args) {
                try {
                    System.load(lib);
                    unloadable = false;
                } catch (UnsatisfiedLinkError expected) {
                    // /dev/null is no ELF file: the system's libgomp is out of reach
                }
            }
            System.out.println("system libgomp unloadable: " + unloadable);
            System.out.println("engine: " + FoldNd.engineName() + " "
                    + Engine.nativeUnavailableReason().orElse(""));
            Optional<String> gomp = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.endsWith("/libgomp.so.1"))
                    .findFirst();
            System.out.println("libgomp: "
                    + gomp.map(l -> l.substring(l.lastIndexOf(' ') + 1)).orElse("none"));
        }
    }
}
