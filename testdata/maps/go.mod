module godbg.test/maps

go 1.22
