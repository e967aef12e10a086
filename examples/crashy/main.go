// Command crashy is godbg's demo program: a tiny order processor that runs
// out of stock deep in a call chain. On the way out two deferred calls run:
// one releases a lock, the other recovers and panics again with the order's
// number, so the crash shows a chain of two panics. Meanwhile a few workers
// wait on a channel. Run it with GOTRACEBACK=crash to get a core
// (scripts/demo.sh does).
package main

import (
	"fmt"
	"os"
	"sync"
)

type order struct {
	id    int
	items []string
}

var (
	inventory = map[string]int{"apple": 3, "pear": 0, "plum": 7}
	locks     sync.Map
)

// reserve takes one item out of the inventory.
//
//go:noinline
func reserve(item string) {
	n := inventory[item]
	if n == 0 {
		panic("out of stock: " + item)
	}
	inventory[item] = n - 1
}

//go:noinline
func releaseLock(id int) {
	locks.Delete(id)
	fmt.Fprintf(os.Stderr, "released lock of order %d\n", id)
}

// process reserves every item of an order. If that panics, the deferred calls
// release the order's lock and re-panic with the order's number added.
func process(o order) {
	defer func() {
		if r := recover(); r != nil {
			panic(fmt.Errorf("order %d: %v", o.id, r))
		}
	}()
	locks.Store(o.id, true)
	defer releaseLock(o.id)
	for _, item := range o.items {
		reserve(item)
	}
}

func worker(jobs <-chan order, done chan<- int) {
	for o := range jobs {
		process(o)
		done <- o.id
	}
}

func main() {
	jobs := make(chan order)
	done := make(chan int)
	for i := 0; i < 3; i++ {
		go worker(jobs, done) // these wait on jobs while main works
	}
	for _, o := range []order{{1, []string{"apple", "plum"}}, {2, []string{"apple", "pear"}}} {
		process(o)
		fmt.Printf("order %d done\n", o.id)
	}
}
