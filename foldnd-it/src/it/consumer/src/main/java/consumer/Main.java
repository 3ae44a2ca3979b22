package consumer;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldNd;
import io.github.foldnd.Reduce;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** The question's example, as a user of foldnd-platform writes it; exits 1 unless all is as promised. */
public final class Main {
    public static void main(String[] args) throws Exception {
        String path = args[0];
        float[] image = new float[18]; // arange(18) as (1, 2, 3, 3)
        for (int i = 0; i < 18; i++) image[i] = i;
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0};
        float[] cols = FoldNd.unfold(image, new long[] {1, 2, 3, 3}, k, one, zero, one); // (1, 8, 4)
        float[] back = FoldNd.fold(cols, new long[] {1, 8, 4}, new int[] {3, 3}, k, one, zero, one, Reduce.MEAN, null);
        float[] first = Arrays.copyOfRange(cols, 0, 4);
        String module = String.valueOf(Main.class.getModule().getName());
        String engine = FoldNd.engineName();
        System.out.println(path + " path: module " + module + ", engine " + engine + ", column row 0 "
                + Arrays.toString(first) + ", MEAN fold recovers the image: " + Arrays.equals(back, image));
        check(engine.equals("native"), "the native engine: " + Engine.nativeUnavailableReason().orElse(""));
        check(Arrays.equals(first, new float[] {0, 1, 3, 4}), "column row 0 is [0, 1, 3, 4]");
        check(Arrays.equals(back, image), "MEAN fold recovers the image");
        check(path.equals("module") == Main.class.getModule().isNamed(), "runs on the " + path + " path");
        List<String> graph = ModuleLayer.boot().modules().stream().map(Module::getName).toList();
        if (path.equals("module")) {
            check(graph.contains("io.github.foldnd.linux.x86_64") || !isLinuxX64(),
                    "the platform module joined the graph by service binding: " + graph);
        }
        for (String banned : List.of("org.bytedeco.openblas", "org.bytedeco.pytorch", "org.nd4j", "jmh.core")) {
            check(graph.stream().noneMatch(m -> m.startsWith(banned)), "no " + banned + " module");
        }
        for (String banned : List.of("org.bytedeco.openblas.global.openblas", "org.openjdk.jmh.Main")) {
            check(!loadable(banned), "no " + banned + " on the path");
        }
        // The OpenMP runtime is the copy from foldnd's platform jar, not the system's.
        if (isLinuxX64()) {
            String gomp = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.endsWith("libgomp.so.1"))
                    .findFirst()
                    .orElse("");
            System.out.println("libgomp: " + gomp.substring(gomp.lastIndexOf(' ') + 1));
            check(gomp.contains("io/github/foldnd/linux-x86_64/"), "libgomp from foldnd's platform jar: " + gomp);
        }
    }

    private static boolean isLinuxX64() {
        return System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64");
    }

    private static boolean loadable(String name) {
        try {
            Class.forName(name, false, Main.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAILED: " + what);
            System.exit(1);
        }
    }
}
