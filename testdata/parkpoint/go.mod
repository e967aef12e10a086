module godbg.test/parkpoint

go 1.22
