// Command bigmap fills one map[int]int, main.big, with N entries (default
// 10,000,000) and panics: with GOTRACEBACK=crash it leaves a core for
// benchmarks/scaling.py. The keys are i*7, the values i.
package main

import (
	"os"
	"strconv"
)

var big map[int]int

func main() {
	n := 10_000_000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	big = make(map[int]int)
	for i := 0; i < n; i++ {
		big[i*7] = i
	}
	panic("bigmap: the end")
}
