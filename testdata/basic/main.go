// Command basic is the smallest godbg integration program: a few goroutines
// parked on a channel, a global map, a raised stack limit, then a panic on the
// main goroutine. Before it panics it writes what it knows about itself to the
// JSON file named by $GODBG_TRUTH, so tests compare godbg's answers with the
// program's own account and with Go's crash traceback.
package main

import (
	"runtime"
	"runtime/debug"
	"sort"

	"godbg.test/parkpoint"
)

const (
	workers  = 4
	maxStack = 64 << 20
	panicMsg = "basic: the end"
)

// table is the global map tests look up as main.table.
var table = map[string]int{}

type truth struct {
	GoVersion    string         `json:"go_version"`
	GOARCH       string         `json:"goarch"`
	MaxStackSize int            `json:"maxstacksize"`
	Workers      int            `json:"workers"`
	WorkerIDs    []int64        `json:"worker_goids"`
	WaitReason   string         `json:"worker_wait_reason"`
	WorkerFunc   string         `json:"worker_function"`
	Map          map[string]int `json:"map"`
	MapKeys      []string       `json:"map_keys"`
	Panic        string         `json:"panic"`
}

//go:noinline
func worker(ch chan int, ids chan<- int64) {
	ids <- parkpoint.Goid()
	<-ch
}

// readyForCore marks the moment the program's state is final: the truth file is
// written and only the panic is left.
//
//go:noinline
func readyForCore() {}

func main() {
	debug.SetMaxStack(maxStack)
	for i, k := range []string{"alpha", "beta", "gamma", "delta", "epsilon"} {
		table[k] = (i + 1) * 10
	}

	ch := make(chan int)
	ids := make(chan int64)
	for i := 0; i < workers; i++ {
		go worker(ch, ids)
	}
	t := truth{
		GoVersion:    runtime.Version(),
		GOARCH:       runtime.GOARCH,
		MaxStackSize: maxStack,
		Workers:      workers,
		WaitReason:   "chan receive",
		WorkerFunc:   "main.worker",
		Map:          table,
		Panic:        panicMsg,
	}
	for i := 0; i < workers; i++ {
		t.WorkerIDs = append(t.WorkerIDs, <-ids)
	}
	sort.Slice(t.WorkerIDs, func(i, j int) bool { return t.WorkerIDs[i] < t.WorkerIDs[j] })
	for k := range table {
		t.MapKeys = append(t.MapKeys, k)
	}
	sort.Strings(t.MapKeys)
	wants := make([]parkpoint.Want, 0, len(t.WorkerIDs))
	for _, id := range t.WorkerIDs {
		wants = append(wants, parkpoint.Want{Goid: id, State: t.WaitReason, Function: t.WorkerFunc})
	}
	parkpoint.WaitParked(wants)
	parkpoint.WriteTruth(t)
	readyForCore()
	panic(panicMsg)
}
