package io.github.foldnd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * FoldGeometry.forFold and forUnfold keep, per thread, the last geometry they built and copies of its
 * arguments, so that a loop of FoldNd calls builds it once: equal arguments (by value, in any array
 * instances) give the same geometry; changed ones, even in the same arrays, give a new one; bad
 * arguments are refused as ever.
 */
class GeometryMemoTest {
    @Test
    void equalArgumentsReuseTheGeometryAndChangedOnesDoNot() {
        int[] k = {2, 2}, one = {1, 1}, zero = {0, 0}, stride = {1, 1};
        FoldGeometry first = FoldGeometry.forFold(new long[] {1, 4, 9}, new int[] {4, 4}, k, one, zero, stride);
        assertSame(
                first,
                FoldGeometry.forFold(new long[] {1, 4, 9}, new int[] {4, 4}, k.clone(), one, zero.clone(), stride),
                "equal arguments in new arrays");
        stride[0] = 2; // the caller's array changed: (4 - 2) / 2 + 1 = 2 rows of 3 blocks
        FoldGeometry strided = FoldGeometry.forFold(new long[] {1, 4, 6}, new int[] {4, 4}, k, one, zero, stride);
        assertNotSame(first, strided);
        assertArrayEquals(new long[] {2, 3}, strided.blockGrid());
        stride[0] = 1;
        FoldGeometry again = FoldGeometry.forFold(new long[] {1, 4, 9}, new int[] {4, 4}, k, one, zero, stride);
        assertArrayEquals(new long[] {3, 3}, again.blockGrid(), "built anew from the current values");
        assertSame(again, FoldGeometry.forFold(new long[] {1, 4, 9}, new int[] {4, 4}, k, one, zero, stride));

        // A change after the call does not reach the kept copy.
        long[] shape = {1, 4, 9};
        FoldGeometry kept = FoldGeometry.forFold(shape, new int[] {4, 4}, k, one, zero, stride);
        shape[2] = 8;
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> FoldGeometry.forFold(shape, new int[] {4, 4}, k, one, zero, stride),
                "9 blocks expected, 8 given");
        assertTrue(e.getMessage().contains("9"), e.getMessage());
        shape[2] = 9;
        assertSame(kept, FoldGeometry.forFold(shape, new int[] {4, 4}, k, one, zero, stride));
    }

    @Test
    void foldAndUnfoldKeepTheirOwnAndNullsAreStillRefused() {
        int[] k = {3}, one = {1}, zero = {0};
        FoldGeometry unfold = FoldGeometry.forUnfold(new long[] {2, 3, 10}, k, one, zero, one);
        assertSame(unfold, FoldGeometry.forUnfold(new long[] {2, 3, 10}, k, one, zero, one));
        NullPointerException npe = assertThrows(
                NullPointerException.class, () -> FoldGeometry.forFold(new long[] {2, 3, 10}, null, k, one, zero, one));
        assertTrue(npe.getMessage().contains("outputSize"), npe.getMessage());
        assertThrows(NullPointerException.class, () -> FoldGeometry.forUnfold(null, k, one, zero, one));
        assertThrows(
                IllegalArgumentException.class,
                () -> FoldGeometry.forUnfold(new long[] {2, 3, 10}, new int[] {0}, one, zero, one));
        assertSame(unfold, FoldGeometry.forUnfold(new long[] {2, 3, 10}, k, one, zero, one), "kept after refusals");
    }

    @Test
    void eachThreadKeepsItsOwn() throws InterruptedException {
        int[] k = {2}, one = {1}, zero = {0};
        FoldGeometry here = FoldGeometry.forUnfold(new long[] {1, 2, 5}, k, one, zero, one);
        AtomicReference<FoldGeometry> there = new AtomicReference<>();
        Thread t = new Thread(() -> there.set(FoldGeometry.forUnfold(new long[] {1, 2, 5}, k, one, zero, one)));
        t.start();
        t.join();
        assertNotSame(here, there.get());
        assertArrayEquals(here.blockGrid(), there.get().blockGrid());
    }
}
