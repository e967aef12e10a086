module godbg.test/basic

go 1.22
