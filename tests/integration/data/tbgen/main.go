// Command tbgen crashes in the way its first argument names, so that the
// traceback parser's tests see Go's real crash output: panics (plain,
// recovered and re-panicked, with the same value again), a nil dereference,
// a stack overflow, a deadlock, an error value, a multi-line value.
// Other goroutines sit in states the goroutine headers name: a channel
// receive through an inlined call, a thread-locked goroutine, a raw read
// syscall, a sleep, a goroutine with pprof labels, and a deep recursion
// (elided frames). SIGQUIT ("quit") makes the runtime dump every M with its
// g0 stack and registers.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"
)

type stageError struct{ stage int }

func (e *stageError) Error() string { return fmt.Sprintf("stage %d failed", e.stage) }

var sink *int

//go:noinline
func deep(n int, ready *sync.WaitGroup) int {
	if n == 0 {
		ready.Done()
		select {}
	}
	return deep(n-1, ready) + 1
}

func inlined(ch chan int) int { return <-ch }

//go:noinline
func parked(ch chan int, ready *sync.WaitGroup) {
	ready.Done()
	inlined(ch)
}

//go:noinline
func locked(ready *sync.WaitGroup) {
	runtime.LockOSThread()
	ready.Done()
	select {}
}

//go:noinline
func reading(fd int, ready *sync.WaitGroup) {
	ready.Done()
	buf := make([]byte, 1)
	_, _ = syscall.Read(fd, buf)
}

//go:noinline
func labelled(ready *sync.WaitGroup) {
	pprof.Do(context.Background(), pprof.Labels("worker", "labelled", "the key", "a value"), func(context.Context) {
		ready.Done()
		select {}
	})
}

//go:noinline
func recurse(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	return recurse(n+1) + int(pad[3])
}

//go:noinline
func level2(mode string) {
	switch mode {
	case "recovered":
		defer func() {
			r := recover()
			panic(fmt.Sprintf("again after %v", r))
		}()
		panic("first")
	case "repanic":
		defer func() {
			r := recover()
			panic(r)
		}()
		panic(&stageError{7})
	case "nested":
		defer func() {
			panic("second")
		}()
		panic("first")
	case "error":
		panic(errors.New("an error value"))
	case "multiline":
		panic("line one\nline two")
	case "custom":
		type code int
		panic(code(42))
	case "nil":
		fmt.Println(*sink)
	case "overflow":
		recurse(0)
	case "deadlock":
		select {}
	case "goexit":
		runtime.Goexit()
	case "quit":
		// SIGQUIT from outside: the runtime dumps every M, with its g0 stack.
		_ = syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		select {}
	default:
		panic("plain panic")
	}
}

// settle waits until the helper goroutines are parked where the tests expect
// them, so that every run prints the same statuses.
func settle(selects int) {
	want := map[string]int{"[chan receive": 1, "[select (no cases)": selects, "[syscall": 1, "[sleep": 1}
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		dump := string(buf[:runtime.Stack(buf, true)])
		ok := true
		for status, n := range want {
			if strings.Count(dump, " "+status) < n {
				ok = false
			}
		}
		if ok {
			return
		}
	}
	panic("tbgen: goroutines did not settle")
}

//go:noinline
func level1(mode string) { level2(mode) }

func main() {
	mode := "plain"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if mode != "deadlock" && mode != "goexit" {
		var ready sync.WaitGroup
		ch := make(chan int)
		var fds [2]int
		if err := syscall.Pipe(fds[:]); err != nil {
			panic(err)
		}
		ready.Add(4)
		go parked(ch, &ready)
		go locked(&ready)
		go reading(fds[0], &ready)
		go labelled(&ready)
		go time.Sleep(time.Hour)
		selects := 2
		if mode == "plain" || mode == "quit" { // the long stacks only where the samples want them
			ready.Add(1)
			go deep(120, &ready)
			selects++
		}
		ready.Wait()
		settle(selects)
	}
	level1(mode)
}
