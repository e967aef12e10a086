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
	"fmt"
	"os"
	"runtime"
	"sort"
	"syscall"
	"time"

	"godbg.test/parkpoint"
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
	t := truth{GoVersion: runtime.Version(), Mode: mode, MainGoid: parkpoint.Goid(),
		CFunction: "c_block", CFrames: cCrashFrames}
	ids := make(chan int64)
	for i := 0; i < blockers; i++ {
		go func() {
			ids <- parkpoint.Goid()
			blockInC()
		}()
	}
	for i := 0; i < blockers; i++ {
		t.CGoroutines = append(t.CGoroutines, <-ids)
	}
	sort.Slice(t.CGoroutines, func(i, j int) bool { return t.CGoroutines[i] < t.CGoroutines[j] })
	waitInC(t.CGoroutines)
	parkpoint.WriteTruth(t)
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
// stack dump its status is syscall and main._Cfunc_c_block is its innermost
// main-package frame.
func waitInC(ids []int64) {
	wants := make([]parkpoint.Want, 0, len(ids))
	for _, id := range ids {
		wants = append(wants, parkpoint.Want{Goid: id, State: "syscall", Function: "main._Cfunc_c_block"})
	}
	parkpoint.WaitParked(wants)
}
