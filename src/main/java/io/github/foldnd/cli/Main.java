package io.github.foldnd.cli;

public final class Main {
    public static void main(String[] args) {
        System.out.println(io.github.foldnd.FoldNd.engineName());
    }
}
