/**
 * foldnd on {@link java.lang.foreign.MemorySegment}s (Java 22+): {@link io.github.foldnd.ffm.FoldSegments}
 * folds and unfolds native and heap segments through FFM downcalls into foldnd's native library,
 * which keep each native segment's arena alive for the call.
 *
 * <p>The downcalls are restricted methods, and so are JavaCPP's loading of the library and the
 * binding of foldnd's JNI methods: on JDK 24 and later, which warn otherwise, grant native access
 * on the module path with
 * {@code --enable-native-access=io.github.foldnd.ffm,io.github.foldnd,org.bytedeco.javacpp}, on the
 * class path with {@code --enable-native-access=ALL-UNNAMED}.
 */
module io.github.foldnd.ffm {
    requires transitive io.github.foldnd;

    exports io.github.foldnd.ffm;
}
