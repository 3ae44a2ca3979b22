/**
 * foldnd with its native library for every platform: requires {@code io.github.foldnd}
 * transitively. The platform modules ({@code io.github.foldnd.linux.x86_64}, ...) need no requires:
 * they provide {@link io.github.foldnd.spi.PlatformLibrary}, so service binding resolves them.
 */
module io.github.foldnd.platform {
    requires transitive io.github.foldnd;
}
