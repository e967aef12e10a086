module godbg.example/crashy

go 1.22
