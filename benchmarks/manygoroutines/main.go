// Command manygoroutines parks N goroutines (default 100,000) in a handful of
// places, some at small recursion depths, then panics: with GOTRACEBACK=crash it
// leaves a core for benchmarks/goroutines_bench.py.
package main

import (
	"os"
	"strconv"
	"sync"
	"time"

	"godbg.test/parkpoint"
)

var (
	block = make(chan int)
	mu    sync.Mutex
	// ready counts goroutines about to park: a cheap first wait, so the stack
	// dumps that prove they parked are few.
	ready sync.WaitGroup
)

//go:noinline
func recv() { ready.Done(); <-block }

//go:noinline
func sel(a chan int) {
	ready.Done()
	select {
	case <-a:
	case <-block:
	}
}

//go:noinline
func sleeper() { ready.Done(); time.Sleep(time.Hour) }

//go:noinline
func locker() { ready.Done(); mu.Lock() }

//go:noinline
func deep(n int) int {
	if n == 0 {
		ready.Done()
		return <-block
	}
	return deep(n-1) + 1
}

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	mu.Lock()
	ready.Add(n)
	for i := 0; i < n; i++ {
		switch i % 5 {
		case 0:
			go recv()
		case 1:
			go sel(make(chan int))
		case 2:
			go sleeper()
		case 3:
			go locker()
		default:
			go deep(i % 20)
		}
	}
	ready.Wait()
	// Wait until the runtime shows every goroutine parked where it belongs, so
	// each run's core holds the same state.
	want := map[string]int{}
	for i := 0; i < n; i++ {
		want[[]string{"chan receive", "select", "sleep", "sync.Mutex.Lock", "chan receive"}[i%5]]++
	}
	parkpoint.WaitStates(want)
	panic("manygoroutines: the end")
}
