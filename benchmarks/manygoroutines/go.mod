module godbg.bench/manygoroutines

go 1.22
