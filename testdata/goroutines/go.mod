module godbg.test/goroutines

go 1.22
