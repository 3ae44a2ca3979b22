/**
 * foldnd: N-dimensional fold (col2im) and unfold (im2col), with a native engine (OpenMP C++
 * through JavaCPP) and a pure-Java engine. The API is {@code io.github.foldnd}.
 *
 * <p>The native library comes in platform modules ({@code io.github.foldnd.linux.x86_64}, ...;
 * the artifact {@code foldnd-platform} brings them all) that provide
 * {@link io.github.foldnd.spi.PlatformLibrary}: service binding puts them on the module graph, so
 * an application needs only {@code requires io.github.foldnd;}. JavaCPP loads the library, so on
 * JDK 24 and later grant native access to it and to this module, which declares the native methods:
 * {@code --enable-native-access=org.bytedeco.javacpp,io.github.foldnd}.
 */
module io.github.foldnd {
    requires transitive org.bytedeco.javacpp;

    exports io.github.foldnd;
    exports io.github.foldnd.spi;
    // Not API: what foldnd's own modules share (argument checks, direct-buffer addresses, and the
    // native contract that foldnd-ffm calls the kernels with).
    exports io.github.foldnd.internal to
            io.github.foldnd.conv,
            io.github.foldnd.ffm;

    uses io.github.foldnd.spi.PlatformLibrary;
}
