package io.github.foldnd.cli;

import io.github.foldnd.ElementType;
import io.github.foldnd.Engine;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The foldnd command line. Without arguments it prints the demo (the user's question answered);
 * {@code unfold} and {@code fold} read and write NumPy .npy files in C order: unfold of every dtype
 * {@link Npy} reads (uint8 to int64, float16, float32, float64, and bfloat16 bits stored as uint16
 * with {@code --as bfloat16}), fold of the floating ones; OUT keeps IN's dtype and byte order.
 *
 * <p>Every mistake is reported as one line on stderr starting with {@code foldnd: } (followed by
 * the usage text for command-line mistakes) and a nonzero exit status, never a stack trace. OUT is
 * written to a temporary file beside it and moved into place only when complete, so a failure
 * leaves no partial OUT behind and an existing OUT as it was.
 */
public final class Main {
    static final String USAGE = String.join(
            "\n",
            "usage:",
            "  java -jar foldnd-cli.jar                 the worked example from the question",
            "  java -jar foldnd-cli.jar unfold IN.npy OUT.npy --kernel K[,K..] [--dilation ..] [--padding ..] [--stride ..]",
            "                                  [--as bfloat16]",
            "  java -jar foldnd-cli.jar fold IN.npy OUT.npy --output-size N[,N..] --kernel K[,K..]",
            "                                  [--dilation ..] [--padding ..] [--stride ..]",
            "                                  [--reduce sum|mean|max|min] [--weights W[,W..]] [--as bfloat16]",
            "unfold: IN (N, C, *spatial) or (C, *spatial) -> OUT (N, C*K, L) or (C*K, L)",
            "fold:   IN (N, C*K, L) or (C*K, L) -> OUT (N, C, *output-size) or (C, *output-size)",
            "dilation, padding and stride default to 1, 0 and 1 in every dimension; --padding takes d values, or 2d\n"
                    + "(ONNX pads: the start of each dimension, then the end of each).",
            "dtypes: uint8 |u1, int8 |i1, int16 i2, uint16 u2, int32 i4, int64 i8, float16 f2, float32 f4, float64 f8,",
            "either byte order (< or >); --as bfloat16 reads a uint16 file (<u2 or >u2) as bfloat16 bits. unfold takes",
            "every dtype; fold sums overlapping values, so it takes the floating ones only (float16, bfloat16, float32,",
            "float64). OUT has IN's dtype and byte order, its descr written as IN's header spells it.");

    /** Exit status for bad usage or bad input. */
    static final int BAD_INPUT = 2;
    /** Exit status for a failure to read or write (or a lack of memory). */
    static final int IO_FAILURE = 1;

    private static final List<String> BOTH = List.of("--kernel", "--dilation", "--padding", "--stride", "--as");
    private static final List<String> FOLD_ONLY = List.of("--output-size", "--reduce", "--weights");

    /** A mistake with its exit status; {@code usage} adds the usage text (command-line mistakes only). */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final boolean usage;

        Failure(String message, int status, boolean usage) {
            super(message, null, false, false);
            this.status = status;
            this.usage = usage;
        }
    }

    private Main() {}

    /** Runs the command line and exits with its status (see {@link #run}). */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status (0 ok, 2 bad usage or input, 1 I/O error). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0) {
                Demo.run(out);
            } else {
                switch (args[0]) {
                    case "unfold", "fold" -> transform(args, out);
                    case "-h", "--help", "help" -> out.println(USAGE);
                    default -> throw usage("unknown command '" + args[0] + "'; expected unfold, fold or --help");
                }
            }
            return 0;
        } catch (Failure e) {
            err.println("foldnd: " + e.getMessage());
            if (e.usage) err.println(USAGE);
            return e.status;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // A bad input file, a geometry that does not fit it, or a bad -Dfoldnd.engine (thrown when
            // the engine is first selected): the message names the value and what was expected.
            err.println("foldnd: " + e.getMessage());
            return BAD_INPUT;
        } catch (IOException e) {
            // Ours say what failed on which file; a file system's own names just the file, so add why.
            err.println("foldnd: "
                    + (e instanceof FileSystemException f ? f.getFile() + ": " + reason(e) : e.getMessage()));
            return IO_FAILURE;
        } catch (OutOfMemoryError e) {
            // The checks refuse what cannot fit at all; this is what fits the heap's limit but not what is free.
            err.println("foldnd: out of memory: the JVM's heap is at most "
                    + Runtime.getRuntime().maxMemory() + " bytes; give it more with java -Xmx..");
            return IO_FAILURE;
        } catch (RuntimeException e) {
            // A case no check foresaw: still one line, naming the exception so that it can be reported.
            err.println("foldnd: unexpected " + e.toString().replace('\n', ' '));
            return BAD_INPUT;
        }
    }

    private static void transform(String[] args, PrintStream out) throws IOException {
        String command = args[0];
        boolean unfold = command.equals("unfold");
        List<String> files = new ArrayList<>();
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                out.println(USAGE);
                return;
            }
            if (!a.startsWith("-") || a.equals("-")) {
                files.add(a);
                continue;
            }
            if (!BOTH.contains(a) && !FOLD_ONLY.contains(a)) throw usage("unknown option " + a);
            if (unfold && FOLD_ONLY.contains(a)) throw usage(a + " applies to fold only, not to unfold");
            if (opts.containsKey(a)) throw usage(a + " given twice");
            if (i + 1 >= args.length) throw usage(a + " needs a value");
            if (args[i + 1].startsWith("--")) throw usage(a + " needs a value, got the option " + args[i + 1]);
            opts.put(a, args[++i]);
        }
        if (files.size() != 2) {
            throw usage(command + " needs two files, IN.npy and OUT.npy, got " + files.size() + ": " + files);
        }
        if (!opts.containsKey("--kernel")) throw usage("--kernel is required");
        if (!unfold && !opts.containsKey("--output-size")) throw usage("fold needs --output-size");
        FoldGeometry.Builder b = FoldGeometry.builder().kernelSize(ints(opts, "--kernel"));
        if (opts.containsKey("--dilation")) b.dilation(ints(opts, "--dilation"));
        if (opts.containsKey("--padding")) b.padding(ints(opts, "--padding"));
        if (opts.containsKey("--stride")) b.stride(ints(opts, "--stride"));
        int[] outputSize = unfold ? null : ints(opts, "--output-size");
        Reduce reduce = unfold ? Reduce.SUM : reduce(opts.getOrDefault("--reduce", "sum"));
        double[] weights = opts.containsKey("--weights") ? numbers(opts.get("--weights"), "--weights") : null;
        String as = opts.get("--as");
        if (as != null && !as.equals("bfloat16")) {
            throw usage("--as must be bfloat16 (to read uint16 data as bfloat16 bits), got '" + as + "'");
        }

        Path source = Path.of(files.get(0)), target = Path.of(files.get(1));
        refuseTarget(source, target);
        Engine engine = Engine.selected();
        Npy.Array in = read(source);
        ElementType type = elementType(source, in, as != null);
        String typeName = type == ElementType.BFLOAT16 ? "bfloat16" : in.typeName();
        if (!unfold && !floating(type)) {
            throw new IllegalArgumentException("cannot fold " + source + ": it holds " + typeName + " (" + in.descr()
                    + "), and fold sums overlapping values, which foldnd defines for floating types only"
                    + " (float16, bfloat16, float32, float64); unfold works for every dtype");
        }
        FoldGeometry g = unfold ? b.forUnfold(in.shape()) : b.forFold(in.shape(), outputSize);
        long[] outShape = unfold ? g.columnShape() : g.imageShape();
        checkFits(command, source, in, outShape, unfold ? g.columnLength() : g.imageLength());

        Object result = unfold ? unfold(engine, g, in.data()) : fold(engine, g, in, type, reduce, weights);
        try {
            Npy.write(target, new Npy.Array(outShape, in.descr(), result)); // IN's descr: its dtype and byte order
        } catch (IOException e) {
            throw new IOException("cannot write " + target + ": " + reason(e), e);
        }
        out.println(command + " " + Arrays.toString(in.shape()) + " -> " + Arrays.toString(outShape) + " (" + typeName
                + ", engine " + engine.name() + ") written to " + target);
    }

    /**
     * The core's element type of IN's dtype: |u1 and |i1 INT8, i2 and u2 INT16 (u2 BFLOAT16 with
     * {@code --as bfloat16}), i4 INT32, i8 INT64, f2 FLOAT16, f4 FLOAT32, f8 FLOAT64. Unsigned data
     * unfold as the signed type of their width: unfold moves bits.
     */
    private static ElementType elementType(Path source, Npy.Array in, boolean bfloat16) {
        if (bfloat16 && !in.kind().equals("u2")) {
            throw new IllegalArgumentException("--as bfloat16 reads uint16 data (<u2 or >u2) as bfloat16 bits, but "
                    + source + " holds " + in.typeName() + " (" + in.descr() + ")");
        }
        return switch (in.kind()) {
            case "u1", "i1" -> ElementType.INT8;
            case "i2" -> ElementType.INT16;
            case "u2" -> bfloat16 ? ElementType.BFLOAT16 : ElementType.INT16;
            case "i4" -> ElementType.INT32;
            case "i8" -> ElementType.INT64;
            case "f2" -> ElementType.FLOAT16;
            case "f4" -> ElementType.FLOAT32;
            case "f8" -> ElementType.FLOAT64;
            default ->
                throw new IllegalStateException("dtype " + in.descr() + " has no element type"); // Npy refuses it
        };
    }

    private static boolean floating(ElementType type) {
        return switch (type) {
            case FLOAT16, BFLOAT16, FLOAT32, FLOAT64 -> true;
            default -> false;
        };
    }

    /**
     * unfold through the core's unfold of the data's width (it moves bits, so one overload serves
     * every type of a width; the file's byte order was undone by Npy and is redone when OUT is written).
     */
    private static Object unfold(Engine engine, FoldGeometry g, Object data) {
        if (data instanceof byte[] a) return engine.unfold(g, a);
        if (data instanceof short[] a) return engine.unfold(g, a);
        if (data instanceof int[] a) return engine.unfold(g, a);
        if (data instanceof long[] a) return engine.unfold(g, a);
        if (data instanceof float[] a) return engine.unfold(g, a);
        return engine.unfold(g, (double[]) data);
    }

    /** fold of a floating type (integer types were refused before). */
    private static Object fold(
            Engine engine, FoldGeometry g, Npy.Array in, ElementType type, Reduce reduce, double[] weights) {
        return switch (type) {
            case FLOAT32 -> engine.fold(g, in.floats(), reduce, toFloats(weights));
            case FLOAT64 -> engine.fold(g, in.doubles(), reduce, weights);
            case FLOAT16, BFLOAT16 -> foldHalf(engine, g, in, type, reduce, toFloats(weights));
            default -> throw new IllegalStateException("fold of " + type + " data"); // refused in transform
        };
    }

    /**
     * fold of float16 or bfloat16 data (type FLOAT16 or BFLOAT16): the only call of the core's
     * {@code Engine.fold(FoldGeometry, short[], ElementType, Reduce, float[])}. The bits are a short[]
     * in Java's (native) order already: Npy undid the file's byte order when it read IN, and redoes it
     * when it writes OUT.
     */
    private static short[] foldHalf(
            Engine engine, FoldGeometry g, Npy.Array in, ElementType type, Reduce reduce, float[] weights) {
        return engine.fold(g, in.shorts(), type, reduce, weights);
    }

    /** Refuses an OUT that is IN (overwriting IN would lose it) or a folder, before anything is read or written. */
    private static void refuseTarget(Path source, Path target) throws IOException {
        boolean same = Files.exists(source) && Files.exists(target)
                ? Files.isSameFile(source, target) // sees through ./, .., symbolic and hard links
                : source.toAbsolutePath()
                        .normalize()
                        .equals(target.toAbsolutePath().normalize());
        if (same) {
            throw new IllegalArgumentException(
                    "OUT " + target + " is the same file as IN " + source + "; write to another file");
        }
        if (Files.isDirectory(target))
            throw new IllegalArgumentException("OUT " + target + " is a folder; expected a file name");
        Path folder = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(folder)) {
            throw new IOException("cannot write " + target + ": folder " + folder + " does not exist");
        }
    }

    private static Npy.Array read(Path source) throws IOException {
        try {
            return Npy.read(source);
        } catch (IOException e) {
            throw new IOException("cannot read " + source + ": " + reason(e), e);
        }
    }

    /** Refuses an output a Java array cannot hold, or that with the input cannot fit the heap even when empty. */
    private static void checkFits(String command, Path source, Npy.Array in, long[] outShape, long outLength) {
        String what = command + " of " + source + " " + Npy.tuple(in.shape()) + " gives shape " + Npy.tuple(outShape)
                + " = " + outLength + " elements";
        if (outLength > Npy.MAX_ARRAY) {
            throw new IllegalArgumentException(what + ", more than a Java array can hold (" + Npy.MAX_ARRAY + ")");
        }
        long itemSize = in.itemSize(), heap = Runtime.getRuntime().maxMemory();
        long needed = (in.length() + outLength) * itemSize; // both below 2^31 elements: no overflow
        if (needed > heap) {
            throw new Failure(
                    what + "; IN and OUT need " + needed + " bytes, but the JVM's heap is at most " + heap
                            + " bytes; give it more with java -Xmx..",
                    IO_FAILURE,
                    false);
        }
    }

    /** What went wrong, in words, without the exception's class name. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "no such file or folder";
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    static Failure usage(String message) {
        return new Failure(message, BAD_INPUT, true);
    }

    private static int[] ints(Map<String, String> opts, String option) {
        return list(
                opts.get(option),
                option,
                "integers",
                fields -> fields.mapToInt(Integer::parseInt).toArray());
    }

    private static double[] numbers(String csv, String option) {
        return list(
                csv,
                option,
                "numbers",
                fields -> fields.mapToDouble(Double::parseDouble).toArray());
    }

    /**
     * A comma-separated option value, its fields trimmed and parsed by parse; a field that does not
     * parse is a usage error naming the option and what it takes (kind).
     */
    private static <T> T list(String csv, String option, String kind, Function<Stream<String>, T> parse) {
        try {
            return parse.apply(Arrays.stream(csv.split(",", -1)).map(String::trim));
        } catch (NumberFormatException e) {
            throw usage(option + " must be comma-separated " + kind + ", got '" + csv + "'");
        }
    }

    private static Reduce reduce(String name) {
        for (Reduce r : Reduce.values()) {
            if (r.name().equals(name.toUpperCase(Locale.ROOT))) return r;
        }
        String names = Arrays.toString(Reduce.values()).toLowerCase(Locale.ROOT);
        throw usage("--reduce must be one of " + names + ", got '" + name + "'");
    }

    private static float[] toFloats(double[] values) {
        if (values == null) return null;
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
        return f;
    }
}
