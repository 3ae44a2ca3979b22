package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.foldnd.internal.NativeContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The codes that cross JNI are the same on both sides: each Java enum's explicit codes equal the
 * values of its C++ enum in native/include/foldnd/geometry.hpp, read from the header itself; and
 * {@link NativeContract}, through which foldnd-ffm reaches them, hands out the same values.
 */
class NativeContractTest {
    /** name -> value of {@code enum <name> : int { A = 0, B = 1, ... };} in the header. */
    private static Map<String, Integer> nativeEnum(String name) throws Exception {
        String header = Files.readString(Path.of("../native/include/foldnd/geometry.hpp"));
        Matcher m = Pattern.compile("enum " + name + " : int \\{(.*?)\\};", Pattern.DOTALL)
                .matcher(header);
        if (!m.find()) throw new AssertionError("no enum " + name + " in geometry.hpp");
        Map<String, Integer> values = new LinkedHashMap<>();
        Matcher entry =
                Pattern.compile("(\\w+)\\s*=\\s*(\\d+)").matcher(m.group(1).replaceAll("//[^\\n]*", ""));
        while (entry.find()) values.put(entry.group(1), Integer.parseInt(entry.group(2)));
        return values;
    }

    private static <E extends Enum<E>> Map<String, Integer> javaEnum(
            E[] values, java.util.function.ToIntFunction<E> code) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (E e : values) if (code.applyAsInt(e) >= 0) out.put(e.name(), code.applyAsInt(e));
        return out;
    }

    @Test
    void statusCodesAgree() throws Exception {
        assertEquals(nativeEnum("Status"), javaEnum(NativeStatus.values(), s -> s.code));
        assertEquals(NativeStatus.UNKNOWN, NativeStatus.of(99));
        assertEquals(NativeStatus.UNKNOWN, NativeStatus.of(-1));
        for (NativeStatus s : NativeStatus.values()) {
            if (s.code >= 0) assertEquals(s, NativeStatus.of(s.code));
        }
    }

    @Test
    void reduceCodesAgree() throws Exception {
        assertEquals(nativeEnum("Reduce"), javaEnum(Reduce.values(), r -> r.code));
    }

    @Test
    void elementTypeCodesAgree() throws Exception {
        assertEquals(nativeEnum("ElementType"), javaEnum(ElementType.values(), t -> t.code));
    }

    @Test
    void layoutCodesAgreeAndReachTheDescriptor() throws Exception {
        assertEquals(nativeEnum("Layout"), javaEnum(ColumnLayout.values(), l -> l.code));
        for (ColumnLayout l : ColumnLayout.values()) {
            FoldGeometry g =
                    FoldGeometry.builder().kernelSize(2).forUnfold(2, 2, 5).withColumnLayout(l);
            assertEquals(l.code, g.descriptor()[3], "descriptor[3] carries the layout's code");
        }
    }

    @Test
    void theNativeContractHandsOutTheSameValues() {
        FoldGeometry g = FoldGeometry.builder().kernelSize(2, 3).padding(1, 0).forUnfold(2, 3, 5, 6);
        long[] d = NativeContract.descriptor(g);
        assertArrayEquals(g.descriptor(), d);
        assertNotSame(g.descriptor(), d, "a copy: the geometry's own array stays private");
        for (Reduce r : Reduce.values()) assertEquals(r.code, NativeContract.code(r));
        for (NativeStatus s : NativeStatus.values()) {
            if (s.code >= 0) assertEquals(s.name(), NativeContract.statusName(s.code));
        }
        assertEquals("UNKNOWN", NativeContract.statusName(99));
        assertEquals(NativeEngine.instance().isPresent(), NativeContract.nativeAvailable());
        // installed once, by FoldGeometry (another package's Access: FoldSegmentsRefusalTest in foldnd-ffm)
        NativeContract.Access again = new NativeContract.Access() {
            @Override
            public long[] descriptor(FoldGeometry geometry) {
                return new long[0];
            }

            @Override
            public int code(Reduce reduce) {
                return 0;
            }

            @Override
            public String statusName(int status) {
                return "";
            }

            @Override
            public boolean nativeAvailable() {
                return false;
            }

            @Override
            public int convolve(NativeContract.ConvPass pass) {
                return 0;
            }

            @Override
            public int convolveArrays(NativeContract.ConvArrays pass) {
                return 0;
            }

            @Override
            public int convTiledPlan(
                    ElementType type,
                    int pass,
                    FoldGeometry x,
                    long outChannels,
                    long groups,
                    int threads,
                    long[] plan) {
                return 0;
            }

            @Override
            public long convScratchPeak(boolean reset) {
                return 0;
            }
        };
        assertThrows(IllegalStateException.class, () -> NativeContract.install(again));
        assertArrayEquals(g.descriptor(), NativeContract.descriptor(g), "still FoldGeometry's");
    }
}
