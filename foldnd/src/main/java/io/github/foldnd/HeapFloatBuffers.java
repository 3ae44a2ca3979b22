package io.github.foldnd;

import io.github.foldnd.internal.Check;
import java.nio.FloatBuffer;

/**
 * Fold and unfold between buffers of which at least one lives on the Java heap: the call runs on
 * arrays, through the engine's array kernels, each array from an offset.
 *
 * <ul>
 *   <li>A heap buffer with an accessible array ({@code hasArray()}: {@code FloatBuffer.wrap},
 *       {@code allocate} and their slices) is used in place, zero-copy, from
 *       {@code arrayOffset() + position}.
 *   <li>Any other argument is staged through a private array of exactly the call's elements: a
 *       read-only heap buffer or a view such as {@code ByteBuffer.allocate(n).asFloatBuffer()}
 *       (no accessible array), or the direct side of a call that mixes heap and direct buffers.
 *       An input is copied in before the call; an output is computed into the copy, then copied
 *       out. Views are read and written through get and put, so their byte order does not matter.
 * </ul>
 *
 * <p>Positions arrive captured and checked by the caller ({@code Bounds}), and nothing here reads a
 * position or limit again: a heap buffer's array and array offset never change, and a staged
 * buffer is read and written through a private duplicate whose limit is its capacity, which never
 * changes either. So another thread moving the caller's position or limit meanwhile cannot move
 * what the call touches.
 *
 * <!-- template -->
 * <p>This file is the template of the double twin, {@code HeapDoubleBuffers}, which the build
 * generates from it (pom.xml, execution {@code generate-double-twins}, with the rules of
 * src/codegen/float-to-double.rules) into target/generated-sources/twins. Edit this file only:
 * the twin is neither edited nor committed.
 * <!-- /template -->
 */
final class HeapFloatBuffers {
    private HeapFloatBuffers() {}

    /** A buffer argument as the elements [at, at + n) of an array: the buffer's own, or a staged copy. */
    private record Span(float[] array, int at, boolean staged) {}

    /** unfold from positions captured and checked by the caller; at least one plane. */
    static void unfold(Engine e, FoldGeometry g, FloatBuffer input, int in, FloatBuffer output, int out, int threads) {
        int inN = (int) g.imageLength(), outN = (int) g.columnLength(); // ints: both fit their buffers
        Span src = input(input, in, inN, "input"), dst = output(output, out, outN, "output");
        disjoint(dst, outN, src, inN, null);
        e.unfoldKernel(g, src.array, src.at, dst.array, dst.at, threads);
        if (dst.staged) whole(output).put(out, dst.array, 0, outN);
    }

    /** fold from positions captured and checked by the caller; at least one plane. */
    static void fold(
            Engine e,
            FoldGeometry g,
            FloatBuffer input,
            int in,
            FloatBuffer output,
            int out,
            Reduce reduce,
            float[] weights,
            int threads) {
        int inN = (int) g.columnLength(), outN = (int) g.imageLength();
        Span src = input(input, in, inN, "input"), dst = output(output, out, outN, "output");
        disjoint(dst, outN, src, inN, weights);
        e.foldKernel(g, src.array, src.at, dst.array, dst.at, reduce, weights, threads);
        if (dst.staged) whole(output).put(out, dst.array, 0, outN);
    }

    private static Span input(FloatBuffer b, int position, int n, String name) {
        if (b.hasArray()) return new Span(b.array(), b.arrayOffset() + position, false);
        float[] copy = new float[stageable(n, name)];
        whole(b).get(position, copy);
        return new Span(copy, 0, true);
    }

    private static Span output(FloatBuffer b, int position, int n, String name) {
        if (b.hasArray()) return new Span(b.array(), b.arrayOffset() + position, false);
        return new Span(new float[stageable(n, name)], 0, true); // every element is written, then copied out
    }

    /**
     * A private duplicate of the whole buffer (position 0, limit its capacity): absolute indices
     * from the captured position are checked against the capacity, which never changes, not
     * against a limit that another thread may move. (duplicate() copies the caller's position and
     * limit as they are; if another thread leaves them inconsistent, it throws
     * IllegalArgumentException: a refusal, never an access.)
     */
    private static FloatBuffer whole(FloatBuffer b) {
        return b.duplicate().clear();
    }

    /** n, if a Java array can hold it: only the direct side of a mixed call can be larger. */
    private static int stageable(int n, String name) {
        if (n > Check.MAX_ARRAY) {
            throw Check.fail(
                    "%s has %d elements to stage through a Java array, which holds at most %d: "
                            + "pass direct buffers for both input and output",
                    name, n, Check.MAX_ARRAY);
        }
        return n;
    }

    /**
     * Refuses an output that shares an element with the input or the weights, which the kernels
     * read while they write it: only a buffer's own array can be shared (staged copies are private).
     */
    private static void disjoint(Span out, int outN, Span in, int inN, float[] weights) {
        if (out.array == in.array && out.at < in.at + inN && in.at < out.at + outN) {
            throw Check.fail(
                    "output must not overlap input in memory (output: elements [%d, %d), input: elements [%d, %d) "
                            + "of the same float[%d]): fold/unfold do not work in place",
                    out.at, out.at + outN, in.at, in.at + inN, out.array.length);
        }
        if (out.array == weights) {
            throw Check.fail(
                    "output must not overlap weights in memory (output: elements [%d, %d) of the weights' own "
                            + "float[%d]): fold/unfold do not work in place",
                    out.at, out.at + outN, weights.length);
        }
    }
}
