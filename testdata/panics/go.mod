module godbg.test/panics

go 1.22
