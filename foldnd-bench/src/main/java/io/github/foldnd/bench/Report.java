package io.github.foldnd.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Turns a JMH JSON result file into report.md (tables of speed-ups against the peers and the copy
 * floor, checked against issue #3's targets) and speedup.png, with the machine and versions named.
 * Usage: {@code Report results.json outputDirectory}; see README, Benchmarks.
 */
public final class Report {
    /**
     * Cases the fold/unfold targets are taken over: the convolution layers and the images, which are
     * the 2-d cases (in Case's order, the layers first), not the 1-d frames or the 3-d volume.
     */
    static final List<String> TARGET_CASES = Arrays.stream(Case.values())
            .filter(c -> c.size.length == 2)
            .map(Case::name)
            .toList();

    static final List<String> CONV_CASES = TARGET_CASES.subList(0, 7);

    /** score (and error) of each benchmark, keyed "Class.method" + " " + params. */
    private final Map<String, double[]> scores = new LinkedHashMap<>();

    private final Map<String, Double> allocation = new LinkedHashMap<>();
    private String jdk = "?", vm = "?";

    public static void main(String[] args) throws IOException {
        Path json = Path.of(args.length > 0 ? args[0] : "target/jmh-results.json");
        Path out = Path.of(args.length > 1 ? args[1] : "target/jmh");
        Files.createDirectories(out);
        Report r = new Report();
        r.read(json);
        String md = r.markdown();
        Files.writeString(out.resolve("report.md"), md);
        r.plot(out.resolve("speedup.png"));
        System.out.println(md);
        System.out.println("written: " + out.resolve("report.md") + ", " + out.resolve("speedup.png"));
    }

    void read(Path json) throws IOException {
        JsonArray all = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
        for (JsonElement e : all) {
            JsonObject o = e.getAsJsonObject();
            String[] name = o.get("benchmark").getAsString().split("\\.");
            String key = name[name.length - 2] + "." + name[name.length - 1] + params(o);
            JsonObject m = o.getAsJsonObject("primaryMetric");
            double error = m.get("scoreError").isJsonPrimitive()
                            && !m.get("scoreError").getAsString().equals("NaN")
                    ? m.get("scoreError").getAsDouble()
                    : Double.NaN;
            scores.put(key, new double[] {m.get("score").getAsDouble(), error});
            JsonObject secondary = o.getAsJsonObject("secondaryMetrics");
            if (secondary != null) {
                for (String s : secondary.keySet()) {
                    if (s.endsWith("gc.alloc.rate.norm"))
                        allocation.put(
                                key, secondary.getAsJsonObject(s).get("score").getAsDouble());
                }
            }
            jdk = o.get("jdkVersion").getAsString();
            vm = o.get("vmName").getAsString() + " " + o.get("vmVersion").getAsString();
        }
    }

    private static String params(JsonObject o) {
        JsonObject p = o.getAsJsonObject("params");
        if (p == null) return "";
        return p.keySet().stream()
                .sorted()
                .map(k -> " " + k + "=" + p.get(k).getAsString())
                .collect(Collectors.joining());
    }

    double score(String key) {
        double[] s = scores.get(key);
        return s == null ? Double.NaN : s[0];
    }

    /** Milliseconds the copy floor allows for a case: its bytes at the measured copy bandwidth. */
    double floorMs(Case c) {
        double copyMs = score("CopyFloorBenchmark.copy");
        double bandwidth = 2.0 * CopyFloorBenchmark.ELEMENTS * 4 / copyMs; // bytes per ms
        return c.bytesMoved(4) / bandwidth;
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        double copyMs = score("CopyFloorBenchmark.copy");
        sb.append(String.format(
                Locale.ROOT,
                "Machine: %s, %d cores; %s (%s); PyTorch 2.10.0 and ND4J 1.0.0-M2.1 as peers; "
                        + "foldnd threads = %d. Copy floor: %.1f GB/s (read + write, all threads).%n%n",
                cpu(),
                Runtime.getRuntime().availableProcessors(),
                "JDK " + jdk,
                vm,
                io.github.foldnd.FoldNd.threads(),
                2.0 * CopyFloorBenchmark.ELEMENTS * 4 / copyMs / 1e6));
        for (String op : new String[] {"Fold", "Unfold"}) {
            String cls = op + "Benchmark.";
            sb.append("**")
                    .append(op)
                    .append("** (float32, times in ms, speed-up = peer time / foldnd native time):\n\n");
            sb.append(
                    "| case | native, direct buffer | vs PyTorch | vs ND4J | x copy floor | pure Java / native | native array | native pointer |\n");
            sb.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
            List<Double> torch = new ArrayList<>(),
                    nd4j = new ArrayList<>(),
                    floor = new ArrayList<>(),
                    java = new ArrayList<>();
            for (Case c : Case.values()) {
                String p = " shape=" + c.name();
                double nat = score(cls + "nativeBuffer" + p);
                if (Double.isNaN(nat)) continue;
                double vsTorch = score(cls + "pytorch" + p) / nat, vsNd4j = score(cls + "nd4j" + p) / nat;
                double xFloor = nat / floorMs(c), javaRatio = score(cls + "javaArray" + p) / nat;
                if (TARGET_CASES.contains(c.name())) {
                    torch.add(vsTorch);
                    nd4j.add(vsNd4j);
                    floor.add(xFloor);
                }
                if (CONV_CASES.contains(c.name())) java.add(javaRatio);
                sb.append(String.format(
                        Locale.ROOT,
                        "| %s | %.3f | %.1fx | %.1fx | %.2f | %.1f | %.3f | %.3f |%n",
                        c,
                        nat,
                        vsTorch,
                        vsNd4j,
                        xFloor,
                        javaRatio,
                        score(cls + "nativeArray" + p),
                        score(cls + "nativePointer" + p)));
            }
            sb.append('\n');
            boolean isFold = op.equals("Fold");
            sb.append(String.format(
                    Locale.ROOT,
                    "%s over the convolution and image cases: vs PyTorch median %.1fx (min %.1fx; target %s), "
                            + "vs ND4J median %.1fx%s, median %.2fx the copy floor%s; pure Java within %.1fx of native on the convolution "
                            + "cases (median; target within 3x).%n%n",
                    op,
                    median(torch),
                    min(torch),
                    isFold ? ">= 5x, none below 2x" : ">= 6x, none below 2x",
                    median(nd4j),
                    isFold ? " (target >= 5x)" : "",
                    median(floor),
                    isFold ? " (target within 1.5x)" : "",
                    median(java)));
        }
        sb.append("**Crossing into native code** (a fold of (1, 4, 9) columns into a 4x4 image, ns per call")
                .append(allocation.isEmpty() ? "" : "; bytes allocated per call from JMH's gc profiler")
                .append("):\n\n");
        sb.append("| call | ns/op |")
                .append(allocation.isEmpty() ? "" : " B/op |")
                .append('\n');
        sb.append("|---|---:|").append(allocation.isEmpty() ? "" : "---:|").append('\n');
        for (String m :
                new String[] {"staticArray", "nativeArray", "nativeBuffer", "nativePointer", "javaArray", "javaBuffer"
                }) {
            String key = "TinyCallBenchmark." + m;
            if (!scores.containsKey(key)) continue;
            sb.append(String.format(Locale.ROOT, "| %s | %.0f |", m, score(key)));
            if (!allocation.isEmpty())
                sb.append(String.format(Locale.ROOT, " %.0f |", allocation.getOrDefault(key, Double.NaN)));
            sb.append('\n');
        }
        sb.append(
                "\n**Where native pays off** (3x3 fold, padding 1, of one n x n channel, direct buffers, ns per call):\n\n");
        sb.append("| n | native | pure Java | Java / native |\n|---:|---:|---:|---:|\n");
        for (int n : new int[] {2, 4, 8, 16, 32, 64, 128, 256}) {
            double nat = score("CrossoverBenchmark.nativeBuffer n=" + n),
                    java = score("CrossoverBenchmark.javaBuffer n=" + n);
            if (Double.isNaN(nat)) continue;
            sb.append(String.format(Locale.ROOT, "| %d | %.0f | %.0f | %.2f |%n", n, nat, java, java / nat));
        }
        if (scores.keySet().stream().anyMatch(k -> k.startsWith("ConvBenchmark."))) {
            sb.append(
                            "\n**Convolution** (ConvNd vs PyTorch's convolution and autograd backward, float32, batch 8, ms per call;")
                    .append(" speed-up = PyTorch time / foldnd time):\n\n");
            sb.append(
                    "| layer | forward | vs PyTorch | vs ND4J | backwardInput | vs PyTorch | backwardWeight | vs PyTorch |\n");
            sb.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for (ConvBenchmark.Layer l : ConvBenchmark.Layer.values()) {
                String p = " layer=" + l.name();
                double f = score("ConvBenchmark.foldndForward" + p),
                        bi = score("ConvBenchmark.foldndBackwardInput" + p);
                double bw = score("ConvBenchmark.foldndBackwardWeight" + p);
                if (Double.isNaN(f)) continue;
                sb.append(String.format(
                        Locale.ROOT,
                        "| %s | %.2f | %.2fx | %.2fx | %.2f | %.2fx | %.2f | %.2fx |%n",
                        l,
                        f,
                        score("ConvBenchmark.pytorchForward" + p) / f,
                        score("ConvBenchmark.nd4jForward" + p) / f,
                        bi,
                        score("ConvBenchmark.pytorchBackwardInput" + p) / bi,
                        bw,
                        score("ConvBenchmark.pytorchBackwardWeight" + p) / bw));
            }
        }
        List<String> more = scores.keySet().stream()
                .filter(k -> k.startsWith("MoreKindsBenchmark."))
                .toList();
        if (!more.isEmpty()) {
            sb.append("\n**Other kinds** (ms per call):\n\n| benchmark | case, merge | ms |\n|---|---|---:|\n");
            for (String k : more) {
                String[] parts = k.split(" ", 2);
                sb.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %.3f |%n",
                        parts[0].substring("MoreKindsBenchmark.".length()),
                        parts.length > 1 ? parts[1] : "",
                        score(k)));
            }
        }
        return sb.toString();
    }

    void plot(Path png) throws IOException {
        CategoryChart chart = new CategoryChartBuilder()
                .width(1100)
                .height(520)
                .title("foldnd native engine: speed-up over PyTorch's CPU fold/unfold (same run, same threads)")
                .xAxisTitle("case")
                .yAxisTitle("PyTorch time / foldnd time")
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        List<String> cases = new ArrayList<>();
        List<Double> fold = new ArrayList<>(), unfold = new ArrayList<>();
        for (Case c : Case.values()) {
            String p = " shape=" + c.name();
            double f = score("FoldBenchmark.pytorch" + p) / score("FoldBenchmark.nativeBuffer" + p);
            double u = score("UnfoldBenchmark.pytorch" + p) / score("UnfoldBenchmark.nativeBuffer" + p);
            if (Double.isNaN(f) && Double.isNaN(u)) continue;
            cases.add(c.name());
            fold.add(Double.isNaN(f) ? 0 : f);
            unfold.add(Double.isNaN(u) ? 0 : u);
        }
        if (cases.isEmpty()) return;
        chart.addSeries("fold (col2im)", cases, fold);
        chart.addSeries("unfold (im2col)", cases, unfold);
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) return Double.NaN;
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static String cpu() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElse(System.getProperty("os.arch"));
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
    }
}
