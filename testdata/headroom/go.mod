module example.com/godbg/testdata/headroom

go 1.22

require godbg.test/parkpoint v0.0.0

replace godbg.test/parkpoint => ../parkpoint
