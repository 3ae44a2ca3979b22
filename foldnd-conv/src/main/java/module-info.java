/**
 * ConvNd: N-dimensional convolution from foldnd's unfold/fold and OpenBLAS GEMM. The API is
 * {@code io.github.foldnd.conv.ConvNd}.
 */
module io.github.foldnd.conv {
    requires transitive io.github.foldnd;
    requires org.bytedeco.openblas;

    exports io.github.foldnd.conv;
}
