module consumer {
    requires io.github.foldnd;
}
