// Command basic is the smallest godbg integration program: a few goroutines
// parked on a channel, a global map, a raised stack limit, then a panic on the
// main goroutine. Before it panics it writes what it knows about itself to the
// JSON file named by $GODBG_TRUTH, so tests compare godbg's answers with the
// program's own account and with Go's crash traceback.
package main

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
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

// goid reads the current goroutine's id from the header line of its own stack trace.
func goid() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id int64
	for _, c := range buf[len("goroutine "):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

//go:noinline
func worker(ch chan int, ids chan<- int64) {
	ids <- goid()
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
	waitParked(t.WorkerIDs, "["+t.WaitReason)
	writeTruth(t)
	readyForCore()
	panic(panicMsg)
}

// waitParked returns once every goroutine in ids shows the given status in a
// full stack dump, so the truth file never races with a worker still on its way
// to the channel.
func waitParked(ids []int64, status string) {
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		dump := string(buf[:runtime.Stack(buf, true)])
		parked := 0
		for _, line := range strings.Split(dump, "\n") {
			for _, id := range ids {
				// "goroutine 6 [chan receive]:", with "gp=… m=…" before the
				// bracket when GOTRACEBACK is crash.
				if strings.HasPrefix(line, "goroutine "+strconv.FormatInt(id, 10)+" ") &&
					strings.Contains(line, status) {
					parked++
				}
			}
		}
		if parked == len(ids) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	panic("basic: workers did not park")
}

func writeTruth(t truth) {
	path := os.Getenv("GODBG_TRUTH")
	if path == "" {
		return
	}
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		panic(err)
	}
}
