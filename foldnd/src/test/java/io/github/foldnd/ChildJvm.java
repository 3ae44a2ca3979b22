package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Test support: runs a test class's main in a child JVM with this JVM's class path, for checks
 * that would end or disturb the test JVM itself (exit(), address-space caps, RSS, GC behaviour).
 */
final class ChildJvm {
    private ChildJvm() {}

    record Result(int exit, String output) {}

    /** Called with the child's pid when it prints the line "ready"; the child then reads "go". */
    interface Started {
        void accept(long pid) throws Exception;
    }

    /** Runs main's main method: JVM flags first in args, the program's single argument last. */
    static Result run(Class<?> main, List<String> args, Map<String, String> env, Started started, boolean checkJni)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path")));
        if (checkJni) command.add(1, "-Xcheck:jni");
        command.addAll(args.subList(0, args.size() - 1));
        command.add(main.getName());
        command.add(args.get(args.size() - 1));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader reader =
                        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                Writer stdin = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                out.append(line).append('\n');
                if (line.equals("ready") && started != null) {
                    started.accept(p.pid());
                    stdin.write("go\n");
                    stdin.flush();
                }
            }
        }
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child did not finish:\n" + out);
        return new Result(p.exitValue(), out.toString());
    }
}
