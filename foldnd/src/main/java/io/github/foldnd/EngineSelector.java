package io.github.foldnd;

/**
 * The one place that picks the engine {@link FoldNd} uses, like lz4-java's
 * {@code LZ4Factory.fastestInstance()}: the native engine when it loads and passes its self-check,
 * else pure Java; {@code -Dfoldnd.engine=native|java} forces one. The default native engine sends
 * calls of at most {@code NativeEngine.SMALL_ELEMENTS} elements to the Java kernels (same results);
 * a forced native engine runs every call in C++.
 */
final class EngineSelector {
    static final String PROPERTY = "foldnd.engine";

    private static volatile Engine selected;

    private EngineSelector() {}

    static Engine selected() {
        Engine e = selected;
        if (e == null) {
            e = select(System.getProperty(PROPERTY));
            selected = e;
        }
        return e;
    }

    /** The engine a property value asks for; a bad value or an unavailable forced engine throws. */
    static Engine select(String property) {
        if (property == null || property.isBlank()) {
            // Native, with calls too small to repay the JNI crossing run in Java (NativeEngine.SMALL_ELEMENTS).
            return NativeEngine.selectedInstance().<Engine>map(n -> n).orElse(JavaEngine.INSTANCE);
        }
        switch (property.trim()) {
            case "java":
                return JavaEngine.INSTANCE;
            case "native":
                return NativeEngine.instance()
                        .orElseThrow(() ->
                                new IllegalStateException(PROPERTY + "=native, but the native engine is unavailable: "
                                        + NativeEngine.unavailableReason().orElse("unknown reason")));
            default:
                throw new IllegalStateException(PROPERTY + " must be 'native' or 'java', got '" + property + "'");
        }
    }
}
