package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Which engine runs, and the guarantee that the build under test really has its native engine. */
class EngineSelectionTest {
    @Test
    void propertyForcesAnEngine() {
        assertSame(Engine.pureJava(), EngineSelector.select("java"));
        assertSame(Engine.pureJava(), EngineSelector.select(" java "));
        IllegalStateException bad = assertThrows(IllegalStateException.class, () -> EngineSelector.select("gpu"));
        assertTrue(bad.getMessage().contains("foldnd.engine must be 'native' or 'java', got 'gpu'"), bad.getMessage());
        Engine.nativeEngine().ifPresentOrElse(
                n -> assertSame(n, EngineSelector.select("native")),
                () -> assertThrows(IllegalStateException.class, () -> EngineSelector.select("native")));
    }

    @Test
    void defaultIsTheFastestThatWorks() {
        Engine expected = Engine.nativeEngine().orElse(Engine.pureJava());
        assertSame(expected, EngineSelector.select(null));
        assertEquals(Engine.available().get(0), expected);
    }

    /**
     * The build sets foldnd.test.requireNative when it compiled the native library for this
     * platform, so a broken library fails the build rather than silently testing Java alone.
     */
    @Test
    void nativeEngineIsPresentWhenTheBuildMadeIt() {
        if (!Boolean.getBoolean("foldnd.test.requireNative")) return;
        assertTrue(Engine.nativeEngine().isPresent(), () -> "native engine unavailable: " + Engine.nativeUnavailableReason().orElse("?"));
        assertEquals(2, Engine.available().size());
    }

    /** The double classes must stay the mechanical twins of their float originals. */
    @Test
    void doubleClassesAreTheTwinsOfTheFloatClasses() throws Exception {
        Path dir = Path.of("src/main/java/io/github/foldnd");
        for (String[] pair : new String[][] {{"JavaFloatKernels", "JavaDoubleKernels"}, {"ConvFloatOps", "ConvDoubleOps"}}) {
            assertEquals(twin(Files.readString(dir.resolve(pair[0] + ".java"))), Files.readString(dir.resolve(pair[1] + ".java")),
                    pair[1] + " drifted from " + pair[0] + ": regenerate it with the transform in this test");
        }
    }

    /** The transform: every float becomes double (names, literals, the BLAS routine). */
    static String twin(String floatSource) {
        return floatSource.replace("float", "double").replace("Float", "Double").replace("0f", "0d").replace("1f", "1d")
                .replace("cblas_sgemm", "cblas_dgemm");
    }
}
