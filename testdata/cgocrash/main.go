// Command cgocrash dies of a signal, the way programs that call C do:
//
//	segv-c    SIGSEGV inside C code (c_deref, called through cgo), with goroutines
//	          parked inside C calls
//	segv-go   a nil pointer dereference in Go code (a runtime error panic)
//	quit      SIGQUIT, sent by the program to itself
//	snapshot  nothing goes wrong: tests gcore it at main.readyForCore
//
// Before it dies it writes what it knows about itself to $GODBG_TRUTH.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const blockers = 2

type truth struct {
	GoVersion   string   `json:"go_version"`
	Mode        string   `json:"mode"`
	MainGoid    int64    `json:"main_goroutine"`
	CGoroutines []int64  `json:"c_goroutines"`
	CFunction   string   `json:"c_function"`
	CFrames     []string `json:"c_frames"`
}

type node struct{ next *node }

var head *node

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
func readyForCore() {}

//go:noinline
func derefNil() *node {
	return head.next // head is nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cgocrash segv-c|segv-go|quit|snapshot")
		os.Exit(2)
	}
	mode := os.Args[1]
	t := truth{GoVersion: runtime.Version(), Mode: mode, MainGoid: goid(),
		CFunction: "c_block", CFrames: cCrashFrames}
	ids := make(chan int64)
	for i := 0; i < blockers; i++ {
		go func() {
			ids <- goid()
			blockInC()
		}()
	}
	for i := 0; i < blockers; i++ {
		t.CGoroutines = append(t.CGoroutines, <-ids)
	}
	sort.Slice(t.CGoroutines, func(i, j int) bool { return t.CGoroutines[i] < t.CGoroutines[j] })
	waitInC(t.CGoroutines)
	writeTruth(t)
	readyForCore()
	switch mode {
	case "segv-c":
		crashInC()
	case "segv-go":
		derefNil()
	case "quit":
		if err := syscall.Kill(os.Getpid(), syscall.SIGQUIT); err != nil {
			panic(err)
		}
	case "snapshot":
	default:
		panic("cgocrash: unknown mode " + mode)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// waitInC returns once every goroutine in ids is inside its C call: in a full
// stack dump its status is syscall and main._Cfunc_c_block is on its stack.
func waitInC(ids []int64) {
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		dump := string(buf[:runtime.Stack(buf, true)])
		inC := 0
		for _, block := range strings.Split(dump, "\n\n") {
			for _, id := range ids {
				if strings.HasPrefix(block, "goroutine "+strconv.FormatInt(id, 10)+" ") &&
					strings.Contains(block, "[syscall") && strings.Contains(block, "main._Cfunc_c_block") {
					inC++
				}
			}
		}
		if inC == len(ids) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	panic("cgocrash: goroutines did not enter C")
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
