module ffm.consumer {
    requires io.github.foldnd.ffm;
}
