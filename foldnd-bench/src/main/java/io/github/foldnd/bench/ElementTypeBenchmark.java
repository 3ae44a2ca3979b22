package io.github.foldnd.bench;

import io.github.foldnd.ElementType;
import io.github.foldnd.FoldGeometry;
import io.github.foldnd.Reduce;
import java.nio.ByteBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.ShortPointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The element types on the native engine, zero-copy through JavaCPP pointers: float16 and bfloat16
 * fold against float fold on the same geometry (elements per second: the same element counts), and
 * 8- and 16-bit unfold against float unfold (bytes per second: a quarter and a half of the bytes).
 */
@Fork(jvmArgsAppend = "-Xmx8g")
@State(Scope.Benchmark)
public class ElementTypeBenchmark extends SuiteBenchmark {
    @Param({"RES2_3X3", "IMAGE_32X32S16", "FRAMES_1D"})
    public Case shape;

    FoldGeometry fold, unfold;
    FloatPointer columnsF, imageF;
    ShortPointer columnsH, imageH, columnsB, imageB;
    BytePointer columns8, image8;

    @Setup(Level.Trial)
    public void setUp() {
        fold = shape.foldGeometry();
        unfold = shape.unfoldGeometry();
        long c = fold.columnLength(), n = fold.imageLength();
        float[] values = Data.randomFloats(c, 11);
        ByteBuffer cf = Data.direct(c, 4), ch = Data.direct(c, 2), cb = Data.direct(c, 2), c8 = Data.direct(c, 1);
        for (int i = 0; i < values.length; i++) {
            cf.putFloat(i * 4, values[i]);
            ch.putShort(i * 2, half(values[i]));
            cb.putShort(i * 2, (short) (Float.floatToRawIntBits(values[i]) >>> 16)); // bfloat16, truncated
            c8.put(i, (byte) (values[i] * 100));
        }
        columnsF = Data.pointer(cf);
        imageF = Data.pointer(Data.direct(n, 4));
        columnsH = new ShortPointer(ch.asShortBuffer());
        imageH = new ShortPointer(Data.direct(n, 2).asShortBuffer());
        columnsB = new ShortPointer(cb.asShortBuffer());
        imageB = new ShortPointer(Data.direct(n, 2).asShortBuffer());
        columns8 = new BytePointer(c8);
        image8 = new BytePointer(Data.direct(n, 1));
    }

    /** A float in [-1, 1) as half bits (truncating its fraction: any half value will do here). */
    private static short half(float f) {
        int x = Float.floatToRawIntBits(f), sign = (x >>> 16) & 0x8000, e = ((x >>> 23) & 0xFF) - 112;
        return (short) (e <= 0 ? sign : sign | (e << 10) | ((x >>> 13) & 0x3FF));
    }

    @Benchmark
    public Object foldFloat() {
        nativeEngine().fold(fold, columnsF, Reduce.SUM, null, imageF);
        return imageF;
    }

    @Benchmark
    public Object foldFloat16() {
        nativeEngine().fold(fold, columnsH, ElementType.FLOAT16, Reduce.SUM, null, imageH);
        return imageH;
    }

    @Benchmark
    public Object foldBfloat16() {
        nativeEngine().fold(fold, columnsB, ElementType.BFLOAT16, Reduce.SUM, null, imageB);
        return imageB;
    }

    @Benchmark
    public Object unfoldFloat() {
        nativeEngine().unfold(unfold, imageF, columnsF);
        return columnsF;
    }

    @Benchmark
    public Object unfoldShort() {
        nativeEngine().unfold(unfold, imageH, columnsH);
        return columnsH;
    }

    @Benchmark
    public Object unfoldByte() {
        nativeEngine().unfold(unfold, image8, columns8);
        return columns8;
    }
}
