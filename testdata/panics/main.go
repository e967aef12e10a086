// Command panics dies in the way its first argument names, so that godbg's `panic`
// command can be checked against Go's own crash output (GOTRACEBACK=crash) and
// `panic replay` against the order of the MARK lines the program prints to stderr.
//
// Modes:
//
//	chain      (default) a Stringer panic recovered and re-panicked with the same value,
//	           recovered again and replaced by an error value, which runs heap, stack and
//	           open-coded deferred calls up to an outer deferred call that fails with
//	           an index out of range
//	recover    a panic recovered in a deferred call; the program runs on and exits 0
//	nilmap     assignment to entry in nil map
//	index      index out of range
//	assert     a failed type assertion
//	mapwrites  concurrent map writes (a fatal error, not a panic)
//	overflow   stack overflow under debug.SetMaxStack(8<<20)
//	deadlock   all goroutines are asleep
//
// Before dying it writes what it knows to the JSON file named by $GODBG_TRUTH:
// the panic values with their dynamic types, oldest first, and the deferred calls
// in the order they are deferred.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// index and length are globals so the compiler cannot prove the index out of range.
var (
	index  = 5
	length = 3
)

type stageError struct {
	stage int
	what  string
}

func (e *stageError) Error() string { return fmt.Sprintf("stage %d: %s", e.stage, e.what) }

// color is a Stringer: preprintpanics replaces it by its String() before printing.
type color int

func (c color) String() string { return fmt.Sprintf("color #%d", int(c)) }

type truthPanic struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

type truthDefer struct {
	Function string `json:"function"`
	Frame    string `json:"frame"`
	Kind     string `json:"kind"`
}

type truth struct {
	Mode   string       `json:"mode"`
	Panics []truthPanic `json:"panics"`
	Defers []truthDefer `json:"defers"`
	Fatal  string       `json:"fatal_error,omitempty"`
}

var record = truth{}

func note(value any, text string) {
	record.Panics = append(record.Panics, truthPanic{text, fmt.Sprintf("%T", value)})
}

func deferred(function, frame, kind string) {
	record.Defers = append(record.Defers, truthDefer{function, frame, kind})
}

func writeTruth() {
	path := os.Getenv("GODBG_TRUTH")
	if path == "" {
		return
	}
	data, err := json.MarshalIndent(record, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		panic(err)
	}
}

func mark(s string) { fmt.Fprintln(os.Stderr, "MARK", s) }

//go:noinline
func chain() {
	defer func() { // open-coded: chain has one defer and no loop
		mark("defer chain")
		s := make([]int, length)
		note(nil, fmt.Sprintf("runtime error: index out of range [%d] with length %d", index, length))
		record.Panics[len(record.Panics)-1].Type = "runtime.boundsError"
		writeTruth()
		s[index]++
	}()
	deferred("main.chain.func1", "main.chain", "open-coded")
	level1()
}

//go:noinline
func level1() {
	// A defer in a loop makes the whole function use defer records: heap records for
	// the loop, a stack record for the defer outside it.
	for i := 0; i < 2; i++ {
		defer func(i int) { mark(fmt.Sprintf("defer level1 heap %d", i)) }(i)
		deferred("main.level1.deferwrap1", "main.level1", "heap")
	}
	defer mark("defer level1 stack")
	deferred("main.level1.deferwrap2", "main.level1", "stack")
	level2()
}

//go:noinline
func level2() {
	defer func() { // open-coded
		mark("defer level2")
		r := recover()
		mark(fmt.Sprintf("recovered %v", r))
		err := &stageError{7, "disk quota exceeded"}
		note(err, err.Error())
		panic(err)
	}()
	deferred("main.level2.func1", "main.level2", "open-coded")
	level3()
}

//go:noinline
func level3() {
	defer mark("defer level3 outer") // open-coded, slot 0: runs after func1 panics again
	deferred("main.level3.deferwrap1", "main.level3", "open-coded")
	defer func() { // open-coded, slot 1
		mark("defer level3")
		r := recover()
		mark(fmt.Sprintf("recovered %v", r))
		note(r, fmt.Sprint(r))
		panic(r) // the same value again: "[recovered, repanicked]" from Go 1.25 on
	}()
	deferred("main.level3.func1", "main.level3", "open-coded")
	c := color(3)
	note(c, c.String())
	mark("panic level3")
	panic(c)
}

//go:noinline
func recoverMode() {
	defer func() {
		mark("defer recoverMode")
		r := recover()
		mark(fmt.Sprintf("recovered %v", r))
	}()
	deferred("main.recoverMode.func1", "main.recoverMode", "open-coded")
	note("calm down", "calm down")
	writeTruth()
	mark("panic recoverMode")
	panic("calm down")
}

//go:noinline
func nilMap() {
	var m map[string]int
	note(nil, "assignment to entry in nil map")
	record.Panics[0].Type = "runtime.plainError"
	writeTruth()
	m["x"] = 1
}

//go:noinline
func indexMode() {
	s := make([]int, length)
	note(nil, fmt.Sprintf("runtime error: index out of range [%d] with length %d", index, length))
	record.Panics[0].Type = "runtime.boundsError"
	writeTruth()
	s[index] = 1
}

var boxed any = "a string"

//go:noinline
func assertMode() {
	note(nil, "interface conversion: interface {} is string, not int")
	record.Panics[0].Type = "*runtime.TypeAssertionError"
	writeTruth()
	fmt.Println(boxed.(int))
}

//go:noinline
func mapWrites() {
	record.Fatal = "concurrent map writes"
	writeTruth()
	m := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				m[i%1000+w] = i
			}
		}(w)
	}
	wg.Wait()
}

//go:noinline
func recurse(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	return recurse(n+1) + int(pad[(n+1)%64])
}

func overflow() {
	debug.SetMaxStack(8 << 20)
	record.Fatal = "stack overflow"
	writeTruth()
	recurse(0)
}

func deadlock() {
	record.Fatal = "all goroutines are asleep - deadlock!"
	writeTruth()
	ch := make(chan int)
	go func() {
		time.Sleep(10 * time.Millisecond)
		<-make(chan int)
	}()
	<-ch
}

func main() {
	mode := "chain"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	record.Mode = mode
	switch mode {
	case "chain":
		chain()
	case "recover":
		recoverMode()
		mark("runs on")
	case "nilmap":
		nilMap()
	case "index":
		indexMode()
	case "assert":
		assertMode()
	case "mapwrites":
		mapWrites()
	case "overflow":
		overflow()
	case "deadlock":
		deadlock()
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", mode)
		os.Exit(2)
	}
}
