package io.github.foldnd.conv;

import static io.github.foldnd.Harness.assertBitwise;
import static io.github.foldnd.conv.ConvHarness.doubles;
import static io.github.foldnd.conv.ConvHarness.floats;
import static io.github.foldnd.conv.ConvHarness.length;
import static io.github.foldnd.conv.ConvHarness.randomConv;
import static io.github.foldnd.conv.ConvHarness.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.foldnd.Harness;
import io.github.foldnd.Harness.DType;
import io.github.foldnd.conv.ConvHarness.Data;
import io.github.foldnd.conv.ConvHarness.Run;
import io.github.foldnd.conv.ConvReference.Conv;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ConvGeometry: the builder's defaults and copies, its validation (each bad parameter refused at
 * build() or at its setter, with the words ConvNd's positional overloads use), outputSize against the
 * sizes ConvNd computes, and ConvNd's ConvGeometry overloads against the positional ones: bit for bit
 * on random layers, one twin for every positional method, and none of the positional form's swaps.
 */
class ConvGeometryTest {
    // ---- the builder -----------------------------------------------------------------------------

    @Test
    void builderDefaultsAreStrideOnePaddingZeroDilationOneGroupsOne() {
        ConvGeometry g = ConvGeometry.builder().kernelSize(3, 5).build();
        assertEquals(2, g.dims());
        assertArrayEquals(new int[] {3, 5}, g.kernelSize());
        assertArrayEquals(new int[] {1, 1}, g.stride());
        assertArrayEquals(new int[] {0, 0}, g.padding());
        assertArrayEquals(new int[] {0, 0}, g.paddingBegin());
        assertArrayEquals(new int[] {0, 0}, g.paddingEnd());
        assertTrue(g.symmetricPadding());
        assertArrayEquals(new int[] {1, 1}, g.dilation());
        assertEquals(1, g.groups());
        assertEquals(
                ConvGeometry.builder()
                        .kernelSize(3, 5)
                        .stride(1, 1)
                        .padding(0, 0)
                        .dilation(1, 1)
                        .groups(1)
                        .build(),
                g);

        ConvGeometry one = ConvGeometry.builder().kernelSize(4).build(); // the defaults follow kernelSize's length
        assertArrayEquals(new int[] {1}, one.stride());
        assertArrayEquals(new int[] {0}, one.padding());
        assertArrayEquals(new int[] {1}, one.dilation());
    }

    @Test
    void settersAndAccessorsCopy() {
        int[] k = {3, 3}, s = {2, 2}, p = {1, 1}, d = {1, 2};
        ConvGeometry.Builder b = ConvGeometry.builder()
                .kernelSize(k)
                .stride(s)
                .padding(p)
                .dilation(d)
                .groups(2);
        k[0] = s[0] = p[0] = d[0] = 9; // after the setters: changes nothing
        ConvGeometry g = b.build();
        assertEquals(
                "ConvGeometry[kernelSize [3, 3], stride [2, 2], padding [1, 1], dilation [1, 2], groups 2]", "" + g);
        g.kernelSize()[0] = 7;
        g.stride()[0] = 7;
        g.padding()[0] = 7;
        g.paddingBegin()[0] = 7;
        g.paddingEnd()[0] = 7;
        g.dilation()[0] = 7;
        assertEquals(
                "ConvGeometry[kernelSize [3, 3], stride [2, 2], padding [1, 1], dilation [1, 2], groups 2]", "" + g);
        assertEquals(g, b.build(), "a builder builds again, the same");
        assertEquals(g, b.stride(1, 1).stride(2, 2).build(), "a setter called twice keeps the last value");
    }

    @Test
    void paddingIsDValuesOrTwoDInOnnxOrder() {
        ConvGeometry asymmetric =
                ConvGeometry.builder().kernelSize(3, 3).padding(1, 0, 2, 1).build();
        assertArrayEquals(new int[] {1, 0, 2, 1}, asymmetric.padding());
        assertArrayEquals(new int[] {1, 0}, asymmetric.paddingBegin());
        assertArrayEquals(new int[] {2, 1}, asymmetric.paddingEnd());
        assertFalse(asymmetric.symmetricPadding());

        // 2d values with begin = end are the d values: one form, so the layers are equal.
        ConvGeometry twoD =
                ConvGeometry.builder().kernelSize(3, 3).padding(1, 2, 1, 2).build();
        ConvGeometry d = ConvGeometry.builder().kernelSize(3, 3).padding(1, 2).build();
        assertArrayEquals(new int[] {1, 2}, twoD.padding());
        assertTrue(twoD.symmetricPadding());
        assertEquals(d, twoD);
        assertEquals(d.hashCode(), twoD.hashCode());
        assertEquals(d.toString(), twoD.toString());
    }

    @Test
    void equalsHashCodeAndToStringSeeEveryParameter() {
        Supplier<ConvGeometry.Builder> base = () -> ConvGeometry.builder()
                .kernelSize(3, 3)
                .stride(2, 2)
                .padding(1, 1)
                .dilation(1, 1)
                .groups(2);
        ConvGeometry g = base.get().build();
        // The same parameters set in another order: the same layer.
        ConvGeometry reordered = ConvGeometry.builder()
                .groups(2)
                .dilation(1, 1)
                .padding(1, 1)
                .stride(2, 2)
                .kernelSize(3, 3)
                .build();
        assertEquals(g, reordered);
        assertEquals(g.hashCode(), reordered.hashCode());
        assertEquals(g.toString(), reordered.toString());
        assertNotEquals(g, null);
        assertNotEquals(g, "ConvGeometry");
        List<ConvGeometry> others = List.of(
                base.get().kernelSize(3, 5).build(),
                base.get().stride(2, 1).build(),
                base.get().padding(1, 0).build(),
                base.get().padding(1, 1, 1, 0).build(),
                base.get().dilation(1, 2).build(),
                base.get().groups(1).build(),
                base.get().stride(1, 1).dilation(2, 2).build()); // stride and dilation swapped
        for (ConvGeometry other : others) {
            assertNotEquals(g, other, other.toString());
            assertNotEquals(g.hashCode(), other.hashCode(), other.toString()); // true of these, not of every pair
            assertNotEquals(g.toString(), other.toString());
        }
    }

    // ---- validation ------------------------------------------------------------------------------

    /** A bad builder, the exception it must throw and what its message must say (argument, value, expectation). */
    static List<Arguments> badBuilders() {
        int[] many = new int[65];
        Arrays.fill(many, 1);
        return List.of(
                bad(() -> ConvGeometry.builder().build(), NullPointerException.class, "kernelSize must not be null"),
                bad(
                        () -> ConvGeometry.builder().kernelSize((int[]) null),
                        NullPointerException.class,
                        "kernelSize must not be null"),
                bad(
                        () -> ConvGeometry.builder().stride((int[]) null),
                        NullPointerException.class,
                        "stride must not be null"),
                bad(
                        () -> ConvGeometry.builder().padding((int[]) null),
                        NullPointerException.class,
                        "padding must not be null"),
                bad(
                        () -> ConvGeometry.builder().dilation((int[]) null),
                        NullPointerException.class,
                        "dilation must not be null"),
                bad(() -> k33().kernelSize().build(), "kernelSize must have at least 1 element, got []"),
                bad(
                        () -> k33().kernelSize(many).build(),
                        "kernelSize must have at most 64 elements (spatial dimensions), got 65"),
                bad(() -> k33().kernelSize(3, 0).build(), "kernelSize must be positive, got [3, 0]"),
                bad(() -> k33().kernelSize(-1, 3).build(), "kernelSize must be positive, got [-1, 3]"),
                bad(
                        () -> k33().kernelSize(1 << 16, 1 << 16, 1 << 16, 1 << 16)
                                .build(),
                        "the product of kernelSize overflows a long"),
                bad(
                        () -> k33().stride(1).build(),
                        "stride must have 2 elements (one per spatial dimension, as kernelSize [3, 3]), got [1]"),
                bad(() -> k33().stride(2, 0).build(), "stride must be positive, got [2, 0]"),
                bad(() -> k33().stride(-2, 1).build(), "stride must be positive, got [-2, 1]"),
                bad(
                        () -> k33().dilation(1, 1, 1).build(),
                        "dilation must have 2 elements (one per spatial dimension, as kernelSize [3, 3]), got [1, 1, 1]"),
                bad(() -> k33().dilation(0, 1).build(), "dilation must be positive, got [0, 1]"),
                bad(
                        () -> k33().padding(1, 1, 1).build(),
                        "padding must have 2 elements (one per spatial dimension, as kernelSize [3, 3]) or 4",
                        "got [1, 1, 1]"),
                bad(() -> k33().padding().build(), "padding must have 2 elements", "got []"),
                bad(() -> k33().padding(0, -1).build(), "padding must be non-negative, got [0, -1]"),
                bad(() -> k33().padding(0, 0, 0, -2).build(), "padding must be non-negative, got [0, 0, 0, -2]"),
                bad(() -> k33().groups(0).build(), "groups must be positive, got 0"),
                bad(() -> k33().groups(-3).build(), "groups must be positive, got -3"),
                // A default follows kernelSize's length, whenever kernelSize is set.
                bad(() -> k33().stride(2, 2).kernelSize(3).build(), "stride must have 1 elements", "got [2, 2]"));
    }

    private static ConvGeometry.Builder k33() {
        return ConvGeometry.builder().kernelSize(3, 3);
    }

    private static Arguments bad(Executable call, String... mentions) {
        return bad(call, IllegalArgumentException.class, mentions);
    }

    private static Arguments bad(Executable call, Class<? extends RuntimeException> type, String... mentions) {
        return Arguments.of(String.join(" / ", mentions), call, type, mentions);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badBuilders")
    void refusesEachBadParameterNamingItsValue(
            String name, Executable call, Class<? extends RuntimeException> type, String[] mentions) {
        RuntimeException e = assertThrows(type, call);
        for (String m : mentions) {
            assertTrue(e.getMessage().contains(m), () -> "message lacks '" + m + "': " + e.getMessage());
        }
    }

    /**
     * A bad stride, padding, dilation, groups or kernel size is refused by build() in the very words the
     * positional overloads use for it (they reach FoldGeometry's checks and ConvShape's).
     */
    @Test
    void messagesAreThePositionalOverloadsOwn() {
        long[] x = {1, 2, 7, 7}, w = {2, 2, 3, 3}, y = {1, 2, 5, 5};
        float[] xs = new float[98], ws = new float[36], gys = new float[50];
        int[] one = {1, 1}, zero = {0, 0};
        // {stride, padding, dilation, groups}, one of them bad
        List<Object[]> cases = List.of(
                new Object[] {new int[] {1}, zero, one, 1},
                new Object[] {new int[] {0, 1}, zero, one, 1},
                new Object[] {one, new int[] {1, 1, 1}, one, 1},
                new Object[] {one, new int[] {0, -1}, one, 1},
                new Object[] {one, new int[] {0, 0, 0, -1}, one, 1},
                new Object[] {one, zero, new int[] {1, 1, 1}, 1},
                new Object[] {one, zero, new int[] {1, -1}, 1},
                new Object[] {one, zero, one, 0});
        for (Object[] c : cases) {
            int[] s = (int[]) c[0], p = (int[]) c[1], d = (int[]) c[2];
            int groups = (int) c[3];
            String what = "stride " + Arrays.toString(s) + ", padding " + Arrays.toString(p) + ", dilation "
                    + Arrays.toString(d) + ", groups " + groups;
            String positional = assertThrows(
                            IllegalArgumentException.class, () -> ConvNd.forward(xs, x, ws, w, null, s, p, d, groups))
                    .getMessage();
            String built = assertThrows(
                            IllegalArgumentException.class,
                            () -> k33().stride(s)
                                    .padding(p)
                                    .dilation(d)
                                    .groups(groups)
                                    .build())
                    .getMessage();
            assertEquals(positional, built, what);
        }
        int[] badKernel = {3, 0};
        String positional = assertThrows(
                        IllegalArgumentException.class,
                        () -> ConvNd.backwardWeight(xs, x, gys, y, badKernel, one, zero, one, 1))
                .getMessage();
        String built = assertThrows(
                        IllegalArgumentException.class,
                        () -> ConvGeometry.builder().kernelSize(badKernel).build())
                .getMessage();
        assertEquals(positional, built, "kernelSize " + Arrays.toString(badKernel));
    }

    // ---- outputSize ------------------------------------------------------------------------------

    @Test
    void outputSizeIsTheFormula() {
        // (7 + 1 + 1 - 1*(3-1) - 1)/2 + 1 = 4
        assertArrayEquals(
                new long[] {4},
                ConvGeometry.builder()
                        .kernelSize(3)
                        .stride(2)
                        .padding(1)
                        .build()
                        .outputSize(7L));
        // (10 + 0 + 1 - 2*(3-1) - 1)/1 + 1 = 7 and (5 + 2 + 0 - 1*(1-1) - 1)/3 + 1 = 3
        ConvGeometry g = ConvGeometry.builder()
                .kernelSize(3, 1)
                .stride(1, 3)
                .padding(0, 2, 1, 0)
                .dilation(2, 1)
                .build();
        assertArrayEquals(new long[] {7, 3}, g.outputSize(10L, 5L));
        assertArrayEquals(new long[] {7, 3}, g.outputSize(10, 5));
        // Past the int range.
        assertArrayEquals(
                new long[] {(1L << 40) - 2},
                ConvGeometry.builder().kernelSize(3).build().outputSize(1L << 40));
    }

    /** On random layers, outputSize is what ConvNd computes: the spatial part of y's shape. */
    @Test
    void outputSizeIsConvNdsOutputShape() {
        Random rnd = new Random(5);
        for (int trial = 0; trial < 60; trial++) {
            Conv s = randomConv(rnd, 1 + trial % 3, true);
            ConvGeometry g = geometry(s);
            long[] yShape =
                    ConvShape.of(s.xShape(), s.weightShape(), s.stride(), s.padding(), s.dilation(), s.groups()).yShape;
            long[] expected = Arrays.copyOfRange(yShape, 2, yShape.length);
            assertArrayEquals(expected, g.outputSize(s.size()), s.toString());
            assertArrayEquals(
                    expected,
                    g.outputSize(Arrays.stream(s.size()).asLongStream().toArray()),
                    s.toString());
            assertArrayEquals(Arrays.stream(s.grid()).asLongStream().toArray(), expected, "reference " + s);
        }
    }

    @Test
    void outputSizeRefusesBadSizesNamingThem() {
        ConvGeometry g = ConvGeometry.builder()
                .kernelSize(3, 3)
                .dilation(2, 1)
                .padding(0, 1, 1, 0)
                .build();
        assertEquals(
                "inputSize must not be null",
                assertThrows(NullPointerException.class, () -> g.outputSize((long[]) null))
                        .getMessage());
        assertEquals(
                "inputSize must not be null",
                assertThrows(NullPointerException.class, () -> g.outputSize((int[]) null))
                        .getMessage());
        List<Executable> cases = List.of(
                () -> g.outputSize(8L),
                () -> g.outputSize(8, 8, 8),
                () -> g.outputSize(8, 0),
                () -> g.outputSize(8L, Long.MAX_VALUE),
                () -> g.outputSize(3, 8));
        String[] mentions = {
            "inputSize must have 2 elements (one per spatial dimension, as kernelSize [3, 3]), got [8]",
            "inputSize must have 2 elements (one per spatial dimension, as kernelSize [3, 3]), got [8, 8, 8]",
            "inputSize must be from 1 to 4611686018427387903 in every dimension, got [8, 0]",
            "inputSize must be from 1 to 4611686018427387903 in every dimension, got [8, 9223372036854775807]",
            "no block fits in dimension 0: inputSize with padding gives 3 + 0 + 1 = 4, smaller than the dilated "
                    + "kernel 2*(3-1)+1 = 5"
        };
        for (int i = 0; i < cases.size(); i++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cases.get(i));
            String m = mentions[i];
            assertTrue(e.getMessage().contains(m), () -> "message lacks '" + m + "': " + e.getMessage());
        }
    }

    // ---- ConvNd's ConvGeometry overloads ---------------------------------------------------------

    static List<Arguments> typesAndMemory() {
        List<Arguments> out = new ArrayList<>();
        for (DType t : DType.values()) {
            for (boolean buffers : new boolean[] {false, true}) out.add(Arguments.of(t, buffers));
        }
        return out;
    }

    /**
     * forward, backwardInput and backwardWeight with a ConvGeometry give the positional overloads'
     * results bit for bit, on random layers of 1 to 3 dimensions with groups (depthwise included),
     * stride, dilation and asymmetric padding, all of which the trials must have covered.
     */
    @ParameterizedTest(name = "{0} buffers={1}")
    @MethodSource("typesAndMemory")
    void geometryOverloadsGiveThePositionalResultsBitForBit(DType type, boolean buffers) {
        Random rnd = new Random(77 + type.ordinal() * 2 + (buffers ? 1 : 0));
        Set<String> seen = new TreeSet<>();
        for (int trial = 0; trial < 30; trial++) {
            int d = 1 + trial % 3;
            Conv s = randomConv(rnd, d, true);
            Data v = Data.random(rnd, type, s, trial % 4 != 0);
            String what = type + (buffers ? " buffers " : " arrays ") + s;
            seen.add(d + "-d");
            if (s.groups() > 1) seen.add("groups");
            if (Arrays.stream(s.stride()).anyMatch(x -> x > 1)) seen.add("stride");
            if (Arrays.stream(s.dilation()).anyMatch(x -> x > 1)) seen.add("dilation");
            if (s.padding().length == 2 * d
                    && !Arrays.equals(Arrays.copyOf(s.padding(), d), Arrays.copyOfRange(s.padding(), d, 2 * d))) {
                seen.add("asymmetric padding");
            }
            if (v.b() == null) seen.add("no bias");

            Run positional = new Run(type, buffers, s);
            GeometryRun named = new GeometryRun(type, buffers, s, geometry(s));
            assertBitwise(
                    positional.forward(v.x(), v.w(), v.b()), named.forward(v.x(), v.w(), v.b()), "forward " + what);
            assertBitwise(
                    positional.backwardInput(v.gy(), v.w()),
                    named.backwardInput(v.gy(), v.w()),
                    "backwardInput " + what);
            double[][] expected = positional.backwardWeight(v.x(), v.gy()),
                    actual = named.backwardWeight(v.x(), v.gy());
            assertBitwise(expected[0], actual[0], "backwardWeight " + what);
            assertBitwise(expected[1], actual[1], "backwardBias " + what);
        }
        assertEquals(
                Set.of("1-d", "2-d", "3-d", "groups", "stride", "dilation", "asymmetric padding", "no bias"),
                seen,
                "what the random layers covered");
    }

    /** Every public positional method has a ConvGeometry twin: the same name, result and other arguments. */
    @Test
    void everyPositionalMethodHasAGeometryTwin() throws Exception {
        List<Class<?>> tail =
                List.of(int[].class, int[].class, int[].class, int.class); // stride, padding, dilation, groups
        List<String> twins = new ArrayList<>();
        for (Method m : ConvNd.class.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers())) continue;
            List<Class<?>> params = new ArrayList<>(List.of(m.getParameterTypes()));
            int at = indexOf(params, tail);
            if (at < 0) continue;
            params.subList(at, at + tail.size()).clear();
            if (m.getName().equals("backwardWeight")) params.remove(--at); // its kernelSize is the geometry's
            params.add(at, ConvGeometry.class);
            Method twin = ConvNd.class.getMethod(m.getName(), params.toArray(Class<?>[]::new));
            assertEquals(m.getGenericReturnType(), twin.getGenericReturnType(), twin.toString());
            assertTrue(Modifier.isStatic(twin.getModifiers()), twin.toString());
            twins.add(m.getName()
                    + params.stream().map(Class::getSimpleName).collect(Collectors.joining(", ", "(", ")")));
        }
        assertEquals(
                12, twins.size(), "forward, backwardInput, backwardWeight; float, double; arrays, buffers: " + twins);
    }

    private static int indexOf(List<Class<?>> params, List<Class<?>> part) {
        for (int i = 0; i + part.size() <= params.size(); i++) {
            if (params.subList(i, i + part.size()).equals(part)) return i;
        }
        return -1;
    }

    /**
     * The issue: stride and dilation swapped in a positional call compile, run and, where the output
     * size comes out the same, return a wrong result without a word. The ConvGeometry overloads take
     * no int nor int[] for the layer (only backwardInput's inputSpatialSize, which is no layer
     * parameter), and the builder sets each parameter by its name, in any order.
     */
    @Test
    void theSwapThePositionalFormAcceptsCannotBeWritten() {
        Random rnd = new Random(3);
        long[] xShape = {1, 1, 7, 7}, wShape = {1, 1, 3, 3};
        float[] x = Harness.toFloat(Harness.random(rnd, DType.FLOAT, 49));
        float[] w = Harness.toFloat(Harness.random(rnd, DType.FLOAT, 9));
        int[] stride = {2, 2}, padding = {0, 0}, dilation = {1, 1};
        float[] right = ConvNd.forward(x, xShape, w, wShape, null, stride, padding, dilation, 1);
        float[] swapped = ConvNd.forward(x, xShape, w, wShape, null, dilation, padding, stride, 1); // accepted
        assertEquals(right.length, swapped.length, "both (1, 1, 3, 3)");
        assertFalse(Arrays.equals(right, swapped), "the swap gives another result");

        // Named: whichever order the setters are called in, it is the same layer and the right result.
        ConvGeometry layer = ConvGeometry.builder()
                .dilation(dilation)
                .stride(stride)
                .kernelSize(3, 3)
                .build();
        assertEquals(
                layer,
                ConvGeometry.builder()
                        .kernelSize(3, 3)
                        .stride(stride)
                        .dilation(dilation)
                        .build());
        assertArrayEquals(stride, layer.stride());
        assertArrayEquals(dilation, layer.dilation());
        assertBitwise(
                Harness.toDouble(right),
                Harness.toDouble(ConvNd.forward(x, xShape, w, wShape, null, layer)),
                "the geometry's forward");

        // The builder's setters are the parameters' names, one value each.
        Set<String> setters = new TreeSet<>();
        for (Method m : ConvGeometry.Builder.class.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers())) continue;
            setters.add(m.getName() + Arrays.toString(m.getParameterTypes()));
        }
        assertEquals(
                new TreeSet<>(Set.of(
                        "build[]",
                        "dilation[class [I]",
                        "groups[int]",
                        "kernelSize[class [I]",
                        "padding[class [I]",
                        "stride[class [I]")),
                setters);

        // The overloads take the layer only as the geometry: no int, and no int[] but inputSpatialSize.
        int overloads = 0;
        for (Method m : ConvNd.class.getDeclaredMethods()) {
            List<Class<?>> params = List.of(m.getParameterTypes());
            if (!params.contains(ConvGeometry.class) || !Modifier.isPublic(m.getModifiers())) continue;
            overloads++;
            assertFalse(params.contains(int.class), m.toString());
            long arrays = params.stream().filter(int[].class::equals).count();
            assertEquals(m.getName().equals("backwardInput") ? 1 : 0, arrays, m.toString());
        }
        assertEquals(18, overloads, "3 passes x 2 types on allocated arrays, caller's arrays and buffers");
    }

    /** The geometry's kernelSize must be the weight's; a null geometry is named. */
    @Test
    void geometryOverloadsCheckTheGeometryAgainstTheShapes() {
        long[] x = {1, 2, 7, 7}, w = {2, 2, 3, 3}, y = {1, 2, 5, 5};
        float[] xs = new float[98], ws = new float[36], gys = new float[50];
        ConvGeometry k33 = k33().build(),
                k55 = ConvGeometry.builder().kernelSize(5, 5).build();
        ConvGeometry k3 = ConvGeometry.builder().kernelSize(3).build();
        List<Executable> nulls = List.of(
                () -> ConvNd.forward(xs, x, ws, w, null, null),
                () -> ConvNd.backwardInput(gys, y, ws, w, new int[] {7, 7}, null),
                () -> ConvNd.backwardWeight(xs, x, gys, y, null),
                () -> ConvNd.forward(floats(98), x, floats(36), w, null, null, floats(50)),
                () -> ConvNd.backwardInput(doubles(50), y, doubles(36), w, new int[] {7, 7}, null, doubles(98)),
                () -> ConvNd.backwardWeight(doubles(98), x, doubles(50), y, null, doubles(36), null));
        for (Executable call : nulls) {
            assertEquals(
                    "geometry must not be null",
                    assertThrows(NullPointerException.class, call).getMessage());
        }
        assertEquals(
                "weightShape must not be null",
                assertThrows(NullPointerException.class, () -> ConvNd.forward(xs, x, ws, null, null, k33))
                        .getMessage());

        List<Executable> mismatches = List.of(
                () -> ConvNd.forward(xs, x, ws, w, null, k55),
                () -> ConvNd.forward(xs, x, ws, w, null, k3),
                () -> ConvNd.backwardInput(gys, y, ws, w, new int[] {7, 7}, k55),
                () -> ConvNd.forward(floats(98), x, floats(36), w, null, k55, floats(50)),
                () -> ConvNd.backwardInput(doubles(50), y, doubles(36), w, new int[] {7, 7}, k3, doubles(98)));
        String[] mentions = {
            "the geometry's kernelSize [5, 5], got [2, 2, 3, 3]",
            "the geometry's kernelSize [3], got [2, 2, 3, 3]",
            "the geometry's kernelSize [5, 5], got [2, 2, 3, 3]",
            "the geometry's kernelSize [5, 5], got [2, 2, 3, 3]",
            "the geometry's kernelSize [3], got [2, 2, 3, 3]"
        };
        for (int i = 0; i < mismatches.size(); i++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, mismatches.get(i));
            String m = mentions[i];
            assertTrue(e.getMessage().startsWith("weightShape must be"), e.getMessage());
            assertTrue(e.getMessage().contains(m), () -> "message lacks '" + m + "': " + e.getMessage());
        }
        // backwardWeight's kernel is the geometry's, so gradY's shape must agree with it.
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ConvNd.backwardWeight(xs, x, gys, y, k55));
        assertTrue(e.getMessage().contains("gradYShape must be [1, 2, 3, 3]"), e.getMessage());
        // The shape checks stay the positional overloads': groups against the channels.
        e = assertThrows(
                IllegalArgumentException.class,
                () -> ConvNd.forward(xs, x, ws, w, null, k33().groups(3).build()));
        assertTrue(e.getMessage().contains("xShape[1] (C_in) must be divisible by groups = 3, got 2"), e.getMessage());
    }

    /** The README's ConvGeometry example: the training step's three calls, the same bit for bit as the positional ones. */
    @Test
    void readmeExample() {
        Random rnd = new Random(0);
        long[] xShape = {2, 4, 16, 16}, wShape = {8, 4, 3, 3}, yShape = {2, 8, 16, 16};
        int[] stride = {1, 1}, padding = {1, 1}, dilation = {1, 1}, kernel = {3, 3}, size = {16, 16};
        float[] x = Harness.toFloat(Harness.random(rnd, DType.FLOAT, 2 * 4 * 16 * 16));
        float[] w = Harness.toFloat(Harness.random(rnd, DType.FLOAT, 8 * 4 * 3 * 3));
        float[] b = Harness.toFloat(Harness.random(rnd, DType.FLOAT, 8));
        float[] gradY = Harness.toFloat(Harness.random(rnd, DType.FLOAT, 2 * 8 * 16 * 16));

        ConvGeometry layer =
                ConvGeometry.builder().kernelSize(3, 3).padding(1, 1).build(); // stride 1, dilation 1, groups 1
        assertArrayEquals(new long[] {16, 16}, layer.outputSize(16, 16));
        float[] y = ConvNd.forward(x, xShape, w, wShape, b, layer);
        ConvNd.WeightGradients<float[]> g = ConvNd.backwardWeight(x, xShape, gradY, yShape, layer);
        float[] gradX = ConvNd.backwardInput(gradY, yShape, w, wShape, size, layer);

        assertBitwise(
                Harness.toDouble(ConvNd.forward(x, xShape, w, wShape, b, stride, padding, dilation, 1)),
                Harness.toDouble(y),
                "forward");
        ConvNd.WeightGradients<float[]> expected =
                ConvNd.backwardWeight(x, xShape, gradY, yShape, kernel, stride, padding, dilation, 1);
        assertBitwise(Harness.toDouble(expected.weight()), Harness.toDouble(g.weight()), "gradWeight");
        assertBitwise(Harness.toDouble(expected.bias()), Harness.toDouble(g.bias()), "gradBias");
        assertBitwise(
                Harness.toDouble(ConvNd.backwardInput(gradY, yShape, w, wShape, size, stride, padding, dilation, 1)),
                Harness.toDouble(gradX),
                "gradX");
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** The layer of a random convolution, by name. */
    static ConvGeometry geometry(Conv s) {
        return ConvGeometry.builder()
                .kernelSize(s.kernel())
                .stride(s.stride())
                .padding(s.padding())
                .dilation(s.dilation())
                .groups(s.groups())
                .build();
    }

    /** ConvHarness.Run's calls through the ConvGeometry overloads: heap arrays or direct buffers, float or double. */
    static final class GeometryRun {
        private final DType type;
        private final boolean buffers;
        private final long[] xShape, wShape, yShape;
        private final int[] size;
        private final int outChannels;
        private final ConvGeometry g;

        GeometryRun(DType type, boolean buffers, Conv s, ConvGeometry g) {
            this.type = type;
            this.buffers = buffers;
            this.g = g;
            xShape = s.xShape();
            wShape = s.weightShape();
            yShape = s.yShape();
            size = s.size();
            outChannels = s.outChannels();
        }

        double[] forward(double[] x, double[] w, double[] b) {
            if (type == DType.DOUBLE) {
                if (!buffers) return ConvNd.forward(x.clone(), xShape, w.clone(), wShape, b, g);
                DoubleBuffer y = doubles(length(yShape));
                ConvNd.forward(doubles(x), xShape, doubles(w), wShape, doubles(b), g, y);
                return read(y);
            }
            if (!buffers)
                return Harness.toDouble(ConvNd.forward(toFloat(x), xShape, toFloat(w), wShape, toFloat(b), g));
            FloatBuffer y = floats(length(yShape));
            ConvNd.forward(floats(x), xShape, floats(w), wShape, floats(b), g, y);
            return read(y);
        }

        double[] backwardInput(double[] gy, double[] w) {
            if (type == DType.DOUBLE) {
                if (!buffers) return ConvNd.backwardInput(gy, yShape, w, wShape, size, g);
                DoubleBuffer gx = doubles(length(xShape));
                ConvNd.backwardInput(doubles(gy), yShape, doubles(w), wShape, size, g, gx);
                return read(gx);
            }
            if (!buffers)
                return Harness.toDouble(ConvNd.backwardInput(toFloat(gy), yShape, toFloat(w), wShape, size, g));
            FloatBuffer gx = floats(length(xShape));
            ConvNd.backwardInput(floats(gy), yShape, floats(w), wShape, size, g, gx);
            return read(gx);
        }

        double[][] backwardWeight(double[] x, double[] gy) {
            if (type == DType.DOUBLE) {
                if (!buffers) {
                    ConvNd.WeightGradients<double[]> r = ConvNd.backwardWeight(x, xShape, gy, yShape, g);
                    return new double[][] {r.weight(), r.bias()};
                }
                DoubleBuffer gw = doubles(length(wShape)), gb = doubles(outChannels);
                ConvNd.backwardWeight(doubles(x), xShape, doubles(gy), yShape, g, gw, gb);
                return new double[][] {read(gw), read(gb)};
            }
            if (!buffers) {
                ConvNd.WeightGradients<float[]> r = ConvNd.backwardWeight(toFloat(x), xShape, toFloat(gy), yShape, g);
                return new double[][] {Harness.toDouble(r.weight()), Harness.toDouble(r.bias())};
            }
            FloatBuffer gw = floats(length(wShape)), gb = floats(outChannels);
            ConvNd.backwardWeight(floats(x), xShape, floats(gy), yShape, g, gw, gb);
            return new double[][] {read(gw), read(gb)};
        }

        private static float[] toFloat(double[] v) {
            return v == null ? null : Harness.toFloat(v);
        }
    }
}
