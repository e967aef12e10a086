module godbg.test/tbgen

go 1.22
