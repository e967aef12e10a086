// Command bench holds the two maps benchmarks/maps_bench.py times godbg, delve and
// runtime-gdb.py on: a 1,000,000-entry map[int]int and a 100,000-entry
// map[string]int. It writes their sizes to $GODBG_TRUTH and panics.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

const (
	bigCount  = 1_000_000
	strsCount = 100_000
)

var (
	big  map[int]int
	strs map[string]int
)

func main() {
	big = make(map[int]int)
	for i := 0; i < bigCount; i++ {
		big[i*7] = i
	}
	strs = make(map[string]int)
	for i := 0; i < strsCount; i++ {
		strs[fmt.Sprintf("key-%07d", i)] = i
	}
	if path := os.Getenv("GODBG_TRUTH"); path != "" {
		data, _ := json.Marshal(map[string]int{"big": len(big), "strs": len(strs)})
		if err := os.WriteFile(path, data, 0o644); err != nil {
			panic(err)
		}
	}
	panic("bench: the end")
}
