package io.github.foldnd.spi;

/**
 * Implemented by foldnd's platform jars ({@code foldnd-<version>-<platform>.jar}), one per
 * platform whose native library the jar carries; not for applications to implement or call.
 *
 * <p>It exists for the module path: {@code io.github.foldnd} uses this service, so the JDK's
 * service binding resolves every platform module on the module path (and their native files)
 * although no application module requires them. The native engine also lists the platforms found
 * when it cannot load, so a missing platform jar is named in {@code Engine.nativeUnavailableReason()}.
 */
public interface PlatformLibrary {
    /** The JavaCPP platform name of the library the jar carries, e.g. {@code linux-x86_64}. */
    String platform();
}
