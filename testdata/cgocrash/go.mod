module godbg.test/cgocrash

go 1.22
