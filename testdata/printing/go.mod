module godbg.test/printing

go 1.22
