module godbg.test/mapsbench

go 1.22
