package io.github.foldnd.cli;

import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The foldnd command line. Without arguments it prints the demo (the user's question answered);
 * {@code unfold} and {@code fold} read and write NumPy .npy files (float32/float64, C order).
 */
public final class Main {
    static final String USAGE = String.join("\n",
            "usage:",
            "  java -jar foldnd-cli.jar                 the worked example from the question",
            "  java -jar foldnd-cli.jar unfold IN.npy OUT.npy --kernel K[,K..] [--dilation ..] [--padding ..] [--stride ..]",
            "  java -jar foldnd-cli.jar fold IN.npy OUT.npy --output-size N[,N..] --kernel K[,K..]",
            "                                  [--dilation ..] [--padding ..] [--stride ..]",
            "                                  [--reduce sum|mean|max|min] [--weights W[,W..]]",
            "unfold: IN (N, C, *spatial) or (C, *spatial) -> OUT (N, C*K, L) or (C*K, L)",
            "fold:   IN (N, C*K, L) or (C*K, L) -> OUT (N, C, *output-size) or (C, *output-size)",
            "dilation, padding and stride default to 1, 0 and 1 in every dimension; OUT has IN's dtype.");

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status (0 ok, 2 bad usage or input, 1 I/O error). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            Demo.run(out);
            return 0;
        }
        try {
            switch (args[0]) {
                case "unfold", "fold" -> transform(args, out);
                case "-h", "--help", "help" -> out.println(USAGE);
                default -> throw new IllegalArgumentException("unknown command '" + args[0] + "'");
            }
            return 0;
        } catch (IllegalArgumentException | NullPointerException e) {
            err.println("foldnd: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (IOException e) {
            err.println("foldnd: " + e);
            return 1;
        }
    }

    private static void transform(String[] args, PrintStream out) throws IOException {
        List<String> files = new ArrayList<>();
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].startsWith("--")) {
                if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + " needs a value");
                opts.put(args[i].substring(2), args[++i]);
            } else {
                files.add(args[i]);
            }
        }
        if (files.size() != 2) throw new IllegalArgumentException(args[0] + " needs IN.npy and OUT.npy, got " + files);
        for (String key : opts.keySet()) {
            if (!List.of("kernel", "dilation", "padding", "stride", "output-size", "reduce", "weights").contains(key)) {
                throw new IllegalArgumentException("unknown option --" + key);
            }
        }
        if (!opts.containsKey("kernel")) throw new IllegalArgumentException("--kernel is required");
        FoldGeometry.Builder b = FoldGeometry.builder().kernelSize(ints(opts.get("kernel"), "--kernel"));
        if (opts.containsKey("dilation")) b.dilation(ints(opts.get("dilation"), "--dilation"));
        if (opts.containsKey("padding")) b.padding(ints(opts.get("padding"), "--padding"));
        if (opts.containsKey("stride")) b.stride(ints(opts.get("stride"), "--stride"));

        Npy.Array in = Npy.read(Path.of(files.get(0)));
        Engine engine = Engine.selected();
        Path target = Path.of(files.get(1));
        FoldGeometry g;
        if (args[0].equals("unfold")) {
            g = b.forUnfold(in.shape());
            if (in.isFloat()) Npy.write(target, g.columnShape(), engine.unfold(g, in.floats()), null);
            else Npy.write(target, g.columnShape(), null, engine.unfold(g, in.doubles()));
        } else {
            if (!opts.containsKey("output-size")) throw new IllegalArgumentException("fold needs --output-size");
            g = b.forFold(in.shape(), ints(opts.get("output-size"), "--output-size"));
            Reduce reduce = Reduce.valueOf(opts.getOrDefault("reduce", "sum").toUpperCase(Locale.ROOT));
            double[] w = opts.containsKey("weights") ? Arrays.stream(opts.get("weights").split(",")).mapToDouble(s -> number(s, "--weights")).toArray() : null;
            if (in.isFloat()) {
                float[] wf = null;
                if (w != null) {
                    wf = new float[w.length];
                    for (int i = 0; i < w.length; i++) wf[i] = (float) w[i];
                }
                Npy.write(target, g.imageShape(), engine.fold(g, in.floats(), reduce, wf), null);
            } else {
                Npy.write(target, g.imageShape(), null, engine.fold(g, in.doubles(), reduce, w));
            }
        }
        out.println(args[0] + " " + Arrays.toString(in.shape()) + " -> " + Arrays.toString(args[0].equals("unfold") ? g.columnShape() : g.imageShape())
                + " (" + (in.isFloat() ? "float32" : "float64") + ", engine " + engine.name() + ") written to " + target);
    }

    private static int[] ints(String csv, String option) {
        try {
            return Arrays.stream(csv.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be comma-separated integers, got '" + csv + "'");
        }
    }

    private static double number(String s, String option) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be comma-separated numbers, got '" + s + "'");
        }
    }
}
