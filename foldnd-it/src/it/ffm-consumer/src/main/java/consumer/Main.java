package consumer;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import io.github.foldnd.Reduce;
import io.github.foldnd.ffm.FoldSegments;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** The question's example through FoldSegments on native memory; exits 1 unless it round-trips. */
public final class Main {
    public static void main(String[] args) {
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0}, size = {3, 3};
        float[] image = new float[18];
        for (int i = 0; i < 18; i++) image[i] = i;
        float[] columns, back;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(JAVA_FLOAT, 18).copyFrom(MemorySegment.ofArray(image));
            MemorySegment cols = arena.allocate(JAVA_FLOAT, 32);
            FoldSegments.unfold(in, JAVA_FLOAT, new long[] {1, 2, 3, 3}, k, one, zero, one, cols);
            MemorySegment mean = arena.allocate(JAVA_FLOAT, 18);
            FoldSegments.fold(cols, JAVA_FLOAT, new long[] {1, 8, 4}, size, k, one, zero, one, Reduce.MEAN, null, mean);
            columns = cols.toArray(JAVA_FLOAT);
            back = mean.toArray(JAVA_FLOAT);
        }
        float[] row0 = Arrays.copyOfRange(columns, 0, 4);
        System.out.println("ffm on Java " + Runtime.version().feature() + ", module "
                + Main.class.getModule().getName() + ": column row 0 " + Arrays.toString(row0)
                + ", MEAN fold recovers the image: " + Arrays.equals(back, image));
        if (Runtime.version().feature() < 25 || !Arrays.equals(row0, new float[] {0, 1, 3, 4})
                || !Arrays.equals(back, image)) {
            System.out.println("FAILED");
            System.exit(1);
        }
    }
}
