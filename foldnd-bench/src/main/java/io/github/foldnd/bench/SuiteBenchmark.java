package io.github.foldnd.bench;

import io.github.foldnd.Engine;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What every benchmark class of the suite shares: the JMH settings (the average time of a call, in
 * milliseconds; 2 warm-up and 3 measured iterations of 1 s; one fork) and the native engine. Each
 * class annotates only what it changes: its heap ({@code @Fork(jvmArgsAppend = ...)}, the fork count
 * still 1 from here), or nanoseconds for the tiny calls.
 *
 * <p>JMH (1.37) reads these annotations from a benchmark's method, then its class, then that class's
 * superclasses: @BenchmarkMode through BenchmarkGeneratorUtils.getAnnSuper, the others through
 * getAnnSuperAll (MethodGroup), attribute by attribute, so an attribute a subclass leaves blank (such
 * as the fork count of {@code @Fork(jvmArgsAppend = "-Xmx8g")}) comes from here. The settings each
 * benchmark gets are in target/classes/META-INF/BenchmarkList.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public abstract class SuiteBenchmark {
    /** The native engine, or NoSuchElementException: a native body never measures another engine. */
    static Engine nativeEngine() {
        return Engine.nativeEngine().orElseThrow();
    }
}
