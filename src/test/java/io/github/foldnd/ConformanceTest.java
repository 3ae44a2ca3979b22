package io.github.foldnd;

import static io.github.foldnd.Harness.assertBitwise;

import io.github.foldnd.Harness.DType;
import io.github.foldnd.Harness.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every engine, element type and memory kind, in 1-d to 4-d, batched and unbatched, against the
 * definition (Reference), bit for bit: unfold, and fold with every merge, unweighted and weighted.
 */
class ConformanceTest {
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Arguments combo : Harness.combos()) {
            for (int d = 1; d <= 4; d++) {
                for (boolean batched : new boolean[] {true, false}) {
                    Object[] a = combo.get();
                    out.add(Arguments.of(a[0], a[1], a[2], d, batched));
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} {2} d={3} batched={4}")
    @MethodSource("cases")
    void unfoldAndFoldMatchTheDefinition(Engine engine, DType type, Memory memory, int d, boolean batched) {
        Random rnd = new Random(1000L * d + (batched ? 7 : 0) + type.ordinal() * 31 + memory.ordinal() * 131);
        for (int trial = 0; trial < 8; trial++) {
            Reference.Shape s = Harness.randomShape(rnd, d, batched);
            if (!batched) {
                s = new Reference.Shape(1, s.channels(), s.size(), s.kernel(), s.dilation(), s.padding(), s.stride());
            }
            String what = engine + " " + type + " " + memory + " " + Harness.unfoldGeometry(s, batched);

            double[] image = Harness.random(rnd, type, s.batch() * s.channels() * s.plane());
            assertBitwise(Reference.unfold(image, s),
                    Harness.unfold(engine, type, memory, Harness.unfoldGeometry(s, batched), image), "unfold " + what);

            FoldGeometry g = Harness.foldGeometry(s, batched);
            double[] columns = Harness.random(rnd, type, (int) g.columnLength());
            double[] weights = Harness.random(rnd, type, s.kernelVolume());
            for (Reduce r : Reduce.values()) {
                for (double[] w : new double[][] {null, weights}) {
                    assertBitwise(Reference.fold(columns, s, r, w, type.arith),
                            Harness.fold(engine, type, memory, g, columns, r, w),
                            "fold " + r + (w == null ? "" : " weighted") + " " + what);
                }
            }
        }
    }
}
