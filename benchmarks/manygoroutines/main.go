// Command manygoroutines parks N goroutines (default 100,000) in a handful of
// places, some at small recursion depths, then panics: with GOTRACEBACK=crash it
// leaves a core for benchmarks/goroutines_bench.py.
package main

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

var (
	block = make(chan int)
	mu    sync.Mutex
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
	time.Sleep(200 * time.Millisecond)
	runtime.Gosched()
	panic("manygoroutines: the end")
}
