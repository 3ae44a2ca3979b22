package io.github.foldnd.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.github.foldnd.Engine;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.javacpp.Loader;

/**
 * The downcall handles of native/include/foldnd/c_api.h, in the library that foldnd's native engine
 * loads through JavaCPP (jniNativeKernels): made once, on first use.
 *
 * <p>Each kernel has two handles. The plain one takes native segments only: a normal downcall,
 * during which the thread is in native code (the GC runs) and every segment argument's arena is
 * kept alive, so closing a shared arena from another thread fails instead of freeing the memory
 * under the kernel. The critical one ({@link Linker.Option#critical(boolean) critical(true)}) also
 * takes heap segments, by their array's address, zero-copy: the GC cannot run during such a call,
 * so {@link FoldSegments} cuts heap calls into parts of about {@link FoldSegments#CRITICAL_BYTES},
 * as foldnd's native engine does for heap arrays.
 */
final class NativeCalls {
    /** The C interface version this module was written for (FOLDND_C_API_VERSION in c_api.h). */
    static final int C_API_VERSION = 5;

    /** The JavaCPP library that holds the symbols (NativeKernels' JNI library). */
    static final String LIBRARY = "jniNativeKernels";

    /** How many element type codes foldnd::ElementType has: 0 to 7. */
    private static final int TYPE_CODES = 8;

    private static final FunctionDescriptor UNFOLD = FunctionDescriptor.of(
            JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT);
    /**
     * foldnd_unfold_typed_c: the element type's code, then unfold's arguments with an offset (in
     * elements) after each array's length.
     */
    private static final FunctionDescriptor UNFOLD_TYPED = FunctionDescriptor.of(
            JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_INT);

    private static final FunctionDescriptor FOLD = FunctionDescriptor.of(
            JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_INT);
    /**
     * foldnd_fold_typed_c: the element type's code, then fold's arguments with an offset (in
     * elements) after the columns' and the image's lengths.
     */
    private static final FunctionDescriptor FOLD_TYPED = FunctionDescriptor.of(
            JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG,
            JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT);
    /** foldnd_fold_blocks_f32/_f64: columns, image, weight sum, descriptor, merge, weights, blocks, items, threads. */
    private static final FunctionDescriptor FOLD_BLOCKS = FunctionDescriptor.of(
            JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT);
    /** foldnd_finish_blocks_f32/_f64: image, weight sum, descriptor, merge, threads. */
    private static final FunctionDescriptor FINISH_BLOCKS = FunctionDescriptor.of(
            JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT);

    private static final FunctionDescriptor UNFOLD_ITEMS =
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final FunctionDescriptor FOLD_ITEMS =
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT);
    private static final FunctionDescriptor FOLD_BLOCKS_ITEMS =
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT);

    /** The handles of one element type: unfold, fold and the streaming fold's two steps, plain and critical. */
    record Kernels(
            MethodHandle unfold,
            MethodHandle unfoldCritical,
            MethodHandle fold,
            MethodHandle foldCritical,
            MethodHandle foldBlocks,
            MethodHandle foldBlocksCritical,
            MethodHandle finishBlocks,
            MethodHandle finishBlocksCritical) {}

    final Kernels f32, f64;
    /** foldnd_unfold_typed_c, the unfold of every element type (by its code), plain and critical. */
    final MethodHandle unfoldTyped, unfoldTypedCritical;
    /**
     * foldnd_unfold_typed_c bound to each type code (foldnd::ElementType, 0 to 7) and to offsets 0,
     * so of the same type as {@link Kernels#unfold()}: [code] plain, [TYPE_CODES + code] critical.
     */
    private final MethodHandle[] unfoldOfType = new MethodHandle[2 * TYPE_CODES];
    /**
     * foldnd_fold_typed_c, the fold of the floating element types (FLOAT16, BFLOAT16, FLOAT32,
     * FLOAT64, by their codes; BAD_TYPE for the others), plain and critical.
     */
    final MethodHandle foldTyped, foldTypedCritical;
    /**
     * foldnd_fold_typed_c bound to each type code and to offsets 0, so of the same type as {@link
     * Kernels#fold()}: [code] plain, [TYPE_CODES + code] critical.
     */
    private final MethodHandle[] foldOfType = new MethodHandle[2 * TYPE_CODES];
    /**
     * foldnd_unfold_items_c, foldnd_fold_items_c and foldnd_fold_blocks_items_c: critical (short, and
     * their descriptor is on the heap).
     */
    final MethodHandle unfoldItems, foldItems, foldBlocksItems;
    /** How the symbols were found: "loaderLookup" or the library's path. */
    final String source;

    private NativeCalls(SymbolLookup lookup, String source) {
        this.source = source;
        Linker linker = Linker.nativeLinker();
        Linker.Option critical = Linker.Option.critical(true);
        this.f32 = kernels(linker, lookup, "f32");
        this.f64 = kernels(linker, lookup, "f64");
        MemorySegment typed = find(lookup, "foldnd_unfold_typed_c");
        this.unfoldTyped = linker.downcallHandle(typed, UNFOLD_TYPED);
        this.unfoldTypedCritical = linker.downcallHandle(typed, UNFOLD_TYPED, critical);
        for (int code = 0; code < TYPE_CODES; code++) {
            unfoldOfType[code] = withoutOffsets(unfoldTyped, code);
            unfoldOfType[TYPE_CODES + code] = withoutOffsets(unfoldTypedCritical, code);
        }
        MemorySegment typedFold = find(lookup, "foldnd_fold_typed_c");
        this.foldTyped = linker.downcallHandle(typedFold, FOLD_TYPED);
        this.foldTypedCritical = linker.downcallHandle(typedFold, FOLD_TYPED, critical);
        for (int code = 0; code < TYPE_CODES; code++) {
            foldOfType[code] = withoutOffsets(foldTyped, code);
            foldOfType[TYPE_CODES + code] = withoutOffsets(foldTypedCritical, code);
        }
        this.unfoldItems = linker.downcallHandle(find(lookup, "foldnd_unfold_items_c"), UNFOLD_ITEMS, critical);
        this.foldItems = linker.downcallHandle(find(lookup, "foldnd_fold_items_c"), FOLD_ITEMS, critical);
        this.foldBlocksItems =
                linker.downcallHandle(find(lookup, "foldnd_fold_blocks_items_c"), FOLD_BLOCKS_ITEMS, critical);
        MethodHandle version =
                linker.downcallHandle(find(lookup, "foldnd_c_api_version"), FunctionDescriptor.of(JAVA_INT));
        int v;
        try {
            v = (int) version.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("foldnd-ffm: foldnd_c_api_version failed", t);
        }
        if (v != C_API_VERSION) {
            throw new IllegalStateException("foldnd-ffm needs version " + C_API_VERSION
                    + " of foldnd's C interface (c_api.h), but the native library in " + source + " has version " + v
                    + ": use foldnd and foldnd-ffm of the same release");
        }
    }

    /**
     * foldnd_unfold_typed_c for the element type of this code (foldnd::ElementType), with offsets 0
     * (a segment starts at its elements): the type of {@link Kernels#unfold()}, (input, its length,
     * output, its length, descriptor, its length, first item, item count, threads) to status.
     */
    MethodHandle unfold(int code, boolean critical) {
        if (code < 0 || code >= TYPE_CODES) throw new IllegalArgumentException("no element type code " + code);
        return unfoldOfType[critical ? TYPE_CODES + code : code];
    }

    /**
     * foldnd_fold_typed_c for the element type of this code (foldnd::ElementType), with offsets 0:
     * the type of {@link Kernels#fold()}, (input, its length, output, its length, descriptor, its
     * length, merge, weights, their length, first item, item count, threads) to status. The native
     * side answers BAD_TYPE for an integer code.
     */
    MethodHandle fold(int code, boolean critical) {
        if (code < 0 || code >= TYPE_CODES) throw new IllegalArgumentException("no element type code " + code);
        return foldOfType[critical ? TYPE_CODES + code : code];
    }

    /**
     * A typed entry point (unfold or fold: both take the type code, then the input, its length and
     * offset, the output, its length and offset) bound to a type code and to offsets 0.
     */
    private static MethodHandle withoutOffsets(MethodHandle typed, int code) {
        MethodHandle h = MethodHandles.insertArguments(typed, 0, code); // (input, n, offset, output, n, offset, ...)
        h = MethodHandles.insertArguments(h, 2, 0L); // the input's offset
        return MethodHandles.insertArguments(h, 4, 0L); // the output's offset
    }

    /** The handles of the entry points with this suffix (f32, f64). */
    private static Kernels kernels(Linker linker, SymbolLookup lookup, String suffix) {
        Linker.Option critical = Linker.Option.critical(true);
        MemorySegment unfold = find(lookup, "foldnd_unfold_" + suffix), fold = find(lookup, "foldnd_fold_" + suffix);
        MemorySegment foldBlocks = find(lookup, "foldnd_fold_blocks_" + suffix),
                finishBlocks = find(lookup, "foldnd_finish_blocks_" + suffix);
        return new Kernels(
                linker.downcallHandle(unfold, UNFOLD),
                linker.downcallHandle(unfold, UNFOLD, critical),
                linker.downcallHandle(fold, FOLD),
                linker.downcallHandle(fold, FOLD, critical),
                linker.downcallHandle(foldBlocks, FOLD_BLOCKS),
                linker.downcallHandle(foldBlocks, FOLD_BLOCKS, critical),
                linker.downcallHandle(finishBlocks, FINISH_BLOCKS),
                linker.downcallHandle(finishBlocks, FINISH_BLOCKS, critical));
    }

    private static final class Holder {
        static final NativeCalls INSTANCE;
        static final String FAILURE;

        static {
            NativeCalls calls = null;
            String failure = null;
            try {
                calls = load();
            } catch (RuntimeException | LinkageError e) { // no library, no symbol, no native access
                failure = e.toString();
            }
            INSTANCE = calls;
            FAILURE = failure;
        }
    }

    /** The handles; IllegalStateException with the reason when the native library is not available. */
    static NativeCalls get() {
        NativeCalls calls = Holder.INSTANCE;
        if (calls == null) {
            throw new IllegalStateException(
                    "foldnd-ffm calls foldnd's native library, which is not available here: " + Holder.FAILURE);
        }
        return calls;
    }

    /**
     * Loads the library through foldnd's native engine (JavaCPP extracts it from the platform jar
     * and System.load()s it), then finds its symbols: in the libraries loaded by this module's class
     * loader, which is JavaCPP's on the class path and in the boot layer of the module path; else,
     * as where JavaCPP sits in another class loader, by the path JavaCPP loaded it from.
     */
    @SuppressWarnings("restricted")
    private static NativeCalls load() {
        if (Engine.nativeEngine().isEmpty()) {
            throw new IllegalStateException("foldnd's native engine is unavailable: "
                    + Engine.nativeUnavailableReason().orElse("(no reason given)"));
        }
        SymbolLookup loader = SymbolLookup.loaderLookup();
        if (loader.find("foldnd_c_api_version").isPresent()) return new NativeCalls(loader, "loaderLookup");
        Path path = libraryPath()
                .orElseThrow(() -> new IllegalStateException("JavaCPP loaded no library " + LIBRARY + " (loaded: "
                        + Loader.getLoadedLibraries().keySet() + ")"));
        return byPath(path);
    }

    /** The handles from the library at this path (the fallback of {@link #load}; tests call it directly). */
    @SuppressWarnings("restricted")
    static NativeCalls byPath(Path path) {
        return new NativeCalls(SymbolLookup.libraryLookup(path, Arena.global()), path.toString());
    }

    /** Where JavaCPP loaded jniNativeKernels from. */
    static Optional<Path> libraryPath() {
        for (Map.Entry<String, String> e : Loader.getLoadedLibraries().entrySet()) {
            if (e.getKey().equals(LIBRARY) && e.getValue() != null) return Optional.of(Path.of(e.getValue()));
        }
        return Optional.empty();
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name)
                .orElseThrow(() -> new IllegalStateException("foldnd's native library has no symbol " + name
                        + ": it predates foldnd-ffm (c_api.h); use foldnd and foldnd-ffm of the same release"));
    }
}
