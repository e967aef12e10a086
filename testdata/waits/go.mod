module godbg.test/waits

go 1.22
