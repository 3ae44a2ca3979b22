package io.github.foldnd;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * The pure-Java engine's unfold for every element type (byte, short, int, long, float and double
 * buffers: heap arrays arrive wrapped, native memory as direct views), in the row order of
 * native/include/foldnd/kernels.hpp: unfold only moves elements and writes zeros, so one loop serves
 * every type through a {@link Lanes} pair that knows how to copy and clear.
 */
final class JavaUnfold {
    private JavaUnfold() {}

    /** An input and an output buffer of one element width, indexed absolutely. */
    interface Lanes {
        /** out[to .. to + n) = 0. */
        void zero(int to, int n);

        /** out[to + j] = in[from + j * step] for j in [0, n). */
        void copy(int from, int to, int n, int step);
    }

    static void unfold(FoldGeometry g, Lanes lanes, int inBase, int outBase, int threads) {
        BlockCursor.Tables t = g.tables();
        int kernels = t.kernelVolume, width = t.width, plane = t.imagePlane;
        Parallel.forRange((int) g.planes() * kernels, threads, t.blocks, (begin, end) -> {
            BlockCursor c = new BlockCursor(t);
            c.seekKernel(begin % kernels);
            for (int r = begin; r < end; r++, c.nextKernel()) {
                int p = r / kernels;
                int src = inBase + p * plane,
                        dst = outBase + BlockCursor.columnBase(t, p) + (r % kernels) * t.kernelStride;
                c.beginRows();
                while (c.nextRow()) {
                    int o = dst + c.row * width;
                    if (!c.valid) {
                        lanes.zero(o, width);
                        continue;
                    }
                    lanes.zero(o, c.lo);
                    lanes.copy(src + c.start, o + c.lo, c.hi - c.lo, c.step);
                    lanes.zero(o + c.hi, width - c.hi);
                }
            }
        });
    }

    /** Lanes over two buffers of the same class (Byte, Short, Int, Long, Float or DoubleBuffer). */
    static Lanes of(Buffer in, Buffer out) {
        if (in instanceof FloatBuffer a && out instanceof FloatBuffer b) {
            return new Lanes() {
                public void zero(int to, int n) {
                    for (int i = 0; i < n; i++) b.put(to + i, 0f);
                }

                public void copy(int from, int to, int n, int step) {
                    if (step == 1) b.put(to, a, from, n); // a bulk copy (arraycopy or a memory copy)
                    else for (int j = 0; j < n; j++) b.put(to + j, a.get(from + j * step));
                }
            };
        }
        if (in instanceof DoubleBuffer a && out instanceof DoubleBuffer b) {
            return new Lanes() {
                public void zero(int to, int n) {
                    for (int i = 0; i < n; i++) b.put(to + i, 0d);
                }

                public void copy(int from, int to, int n, int step) {
                    if (step == 1) b.put(to, a, from, n);
                    else for (int j = 0; j < n; j++) b.put(to + j, a.get(from + j * step));
                }
            };
        }
        if (in instanceof ByteBuffer a && out instanceof ByteBuffer b) {
            return new Lanes() {
                public void zero(int to, int n) {
                    for (int i = 0; i < n; i++) b.put(to + i, (byte) 0);
                }

                public void copy(int from, int to, int n, int step) {
                    if (step == 1) b.put(to, a, from, n);
                    else for (int j = 0; j < n; j++) b.put(to + j, a.get(from + j * step));
                }
            };
        }
        if (in instanceof ShortBuffer a && out instanceof ShortBuffer b) {
            return new Lanes() {
                public void zero(int to, int n) {
                    for (int i = 0; i < n; i++) b.put(to + i, (short) 0);
                }

                public void copy(int from, int to, int n, int step) {
                    if (step == 1) b.put(to, a, from, n);
                    else for (int j = 0; j < n; j++) b.put(to + j, a.get(from + j * step));
                }
            };
        }
        if (in instanceof IntBuffer a && out instanceof IntBuffer b) {
            return new Lanes() {
                public void zero(int to, int n) {
                    for (int i = 0; i < n; i++) b.put(to + i, 0);
                }

                public void copy(int from, int to, int n, int step) {
                    if (step == 1) b.put(to, a, from, n);
                    else for (int j = 0; j < n; j++) b.put(to + j, a.get(from + j * step));
                }
            };
        }
        LongBuffer a = (LongBuffer) in, b = (LongBuffer) out;
        return new Lanes() {
            public void zero(int to, int n) {
                for (int i = 0; i < n; i++) b.put(to + i, 0L);
            }

            public void copy(int from, int to, int n, int step) {
                if (step == 1) b.put(to, a, from, n);
                else for (int j = 0; j < n; j++) b.put(to + j, a.get(from + j * step));
            }
        };
    }
}
