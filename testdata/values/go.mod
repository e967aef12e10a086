module godbg.test/values

go 1.22
