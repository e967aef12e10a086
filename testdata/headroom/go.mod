module example.com/godbg/testdata/headroom

go 1.22
