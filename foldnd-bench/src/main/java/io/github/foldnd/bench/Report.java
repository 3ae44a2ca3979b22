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
 * floor on every memory kind, with their errors, checked against issue 10's targets) and speedup.png, with the machine and versions named.
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
        for (String op : new String[] {"Fold", "Unfold"}) foldOrUnfold(sb, op);
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

    /**
     * One operation's table: the native engine's time on direct buffers; its multiple of the copy
     * floor on every memory kind (buffer, JavaCPP pointer, the caller's array, the allocating array
     * API); its speed-up over PyTorch on buffers and through the allocating array API; each with its
     * error (JMH's 99.9% interval, carried through the ratio). Then the medians and extremes over
     * TARGET_CASES, beside issue 10's targets.
     */
    private void foldOrUnfold(StringBuilder sb, String op) {
        String cls = op + "Benchmark.";
        boolean isFold = op.equals("Fold");
        largestRelativeError = 0;
        sb.append("**")
                .append(op)
                .append(
                        "** (float32, native engine; times in ms; x floor = time / the copy floor's time for the case's")
                .append(" bytes; vs PyTorch = PyTorch's time / foldnd's; +- is the 99.9% error of JMH carried")
                .append(" through each ratio):\n\n");
        sb.append("| case | buffer, ms | x floor: buffer | pointer | caller's array | allocating array |"
                + " vs PyTorch: buffer | allocating array | pure Java / native, arrays |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        Map<String, List<Double>> over = new LinkedHashMap<>();
        for (Case c : Case.values()) {
            String p = " shape=" + c.name();
            double[] nat = scoreAndError(cls + "nativeBuffer" + p);
            if (Double.isNaN(nat[0])) continue;
            double[] floor = floorMsAndError(c);
            double[] xBuffer = ratio(nat, floor), xPointer = ratio(scoreAndError(cls + "nativePointer" + p), floor);
            double[] xInto = ratio(scoreAndError(cls + "nativeArrayInto" + p), floor);
            double[] allocating = scoreAndError(cls + "nativeArray" + p);
            double[] xAllocating = ratio(allocating, floor);
            double[] torch = scoreAndError(cls + "pytorch" + p);
            double[] vsTorch = ratio(torch, nat), vsTorchAllocating = ratio(torch, allocating);
            double[] java = ratio(scoreAndError(cls + "javaArray" + p), allocating);
            if (TARGET_CASES.contains(c.name())) {
                collect(over, "floor buffer", xBuffer);
                collect(over, "floor into", xInto);
                collect(over, "floor allocating", xAllocating);
                collect(over, "torch buffer", vsTorch);
                collect(over, "torch allocating", vsTorchAllocating);
            }
            sb.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    c,
                    withError(nat, 3, ""),
                    withError(xBuffer, 2, ""),
                    withError(xPointer, 2, ""),
                    withError(xInto, 2, ""),
                    withError(xAllocating, 2, ""),
                    withError(vsTorch, 1, "x"),
                    withError(vsTorchAllocating, 1, "x"),
                    withError(java, 1, "")));
        }
        sb.append('\n');
        sb.append(String.format(
                Locale.ROOT,
                "%s over the %d convolution and image cases (the 2-d ones):%n"
                        + "- direct buffers: median %s the copy floor, worst %s (target: median within 1.3x, none above 1.5x);"
                        + " vs PyTorch median %s, min %s%s;%n"
                        + "- into the caller's array: median %s the floor, worst %s (target: within 1.5x, none above 1.8x);%n"
                        + "- allocating array API: median %s the floor (target: within %s), vs PyTorch median %s, min %s%s;%n"
                        + "- errors: the largest on a ratio above is +-%.0f%% of it (target: below 10%%).%n%n",
                op,
                over.getOrDefault("floor buffer", List.of()).size(),
                times(median(over.get("floor buffer")), 2),
                times(max(over.get("floor buffer")), 2),
                times(median(over.get("torch buffer")), 1),
                times(min(over.get("torch buffer")), 1),
                isFold ? " (target: median >= 8x, none below 3x)" : " (no target: the floor is unfold's)",
                times(median(over.get("floor into")), 2),
                times(max(over.get("floor into")), 2),
                times(median(over.get("floor allocating")), 2),
                isFold ? "2x" : "2.5x",
                times(median(over.get("torch allocating")), 1),
                times(min(over.get("torch allocating")), 1),
                isFold ? " (target: median >= 6x, none below 3x)" : "",
                100 * largestRelativeError));
    }

    /** "2.57x", or "-" where the run did not measure it. */
    static String times(double v, int digits) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + digits + "fx", v);
    }

    /** The largest relative error of a ratio put in a table so far. */
    private double largestRelativeError;

    private void collect(Map<String, List<Double>> over, String what, double[] ratio) {
        if (Double.isNaN(ratio[0])) return;
        over.computeIfAbsent(what, k -> new ArrayList<>()).add(ratio[0]);
        if (!Double.isNaN(ratio[1])) largestRelativeError = Math.max(largestRelativeError, ratio[1] / ratio[0]);
    }

    /** score and error (NaN, NaN where the run has no such benchmark). */
    double[] scoreAndError(String key) {
        double[] s = scores.get(key);
        return s == null ? new double[] {Double.NaN, Double.NaN} : s;
    }

    /** The copy floor's milliseconds for a case and their error, from the copy's. */
    double[] floorMsAndError(Case c) {
        double[] copy = scoreAndError("CopyFloorBenchmark.copy");
        double floor = floorMs(c);
        return new double[] {floor, floor * copy[1] / copy[0]};
    }

    /** a / b and its error: relative errors added in quadrature. */
    static double[] ratio(double[] a, double[] b) {
        double r = a[0] / b[0];
        return new double[] {r, r * Math.hypot(a[1] / a[0], b[1] / b[0])};
    }

    static String withError(double[] v, int digits, String unit) {
        if (Double.isNaN(v[0])) return "-";
        String f = "%." + digits + "f";
        if (Double.isNaN(v[1])) return String.format(Locale.ROOT, f + unit, v[0]);
        return String.format(Locale.ROOT, f + unit + " +- " + f, v[0], v[1]);
    }

    static double max(List<Double> v) {
        return v == null
                ? Double.NaN
                : v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
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
        if (v == null || v.isEmpty()) return Double.NaN;
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static double min(List<Double> v) {
        if (v == null) return Double.NaN;
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
