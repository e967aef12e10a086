module godbg.bench/bigmap

go 1.22
