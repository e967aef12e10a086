// Command headroom parks goroutines at known recursion depths with known frame sizes,
// raises the stack limit to a value that is not a power of two, writes what it knows
// about itself to $GODBG_TRUTH and panics (GOTRACEBACK=crash dumps a core).
//
// With the argument "overflow" it sets debug.SetMaxStack(8<<20) and recurses until the
// runtime throws "stack overflow".
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"unsafe"

	"godbg.test/parkpoint"
)

const maxStack = 100_000_000 // not a power of two: the largest stack is 64 MiB

var depths = []int{10, 1000, 20000}

type parked struct {
	Goid      int64   `json:"goid"`
	Depth     int     `json:"depth"`
	Frames    int     `json:"recurse_frames"`
	LocalAddr uintptr `json:"local_addr"`
	BigFrame  bool    `json:"big_frame"`
	BigSize   int     `json:"big_local_bytes"`
}

type truth struct {
	GoVersion    string   `json:"go_version"`
	MaxStackSize int      `json:"maxstacksize"`
	Goroutines   []parked `json:"goroutines"`
}

var block = make(chan struct{})

// recurse pushes n more frames of itself, each with a 64-byte local, then reports
// from the deepest one and parks.
//
//go:noinline
func recurse(n int, report func(uintptr)) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	if n == 0 {
		report(uintptr(unsafe.Pointer(&pad[0])))
		<-block
		return int(pad[0])
	}
	return recurse(n-1, report) + int(pad[n%64])
}

// bigFrame has one 16 KiB local: its frame is the largest on its stack.
//
//go:noinline
func bigFrame(report func(uintptr)) int {
	var big [16 << 10]byte
	big[len(big)-1] = 1
	report(uintptr(unsafe.Pointer(&big[0])))
	<-block
	return int(big[len(big)-1])
}

//go:noinline
func overflow(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	return overflow(n+1) + int(pad[(n+1)%256])
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "overflow" {
		debug.SetMaxStack(8 << 20)
		parkpoint.WriteTruth(truth{GoVersion: runtime.Version(), MaxStackSize: 8 << 20})
		overflow(0)
		return
	}
	debug.SetMaxStack(maxStack)
	// The truth holds stack addresses: no collection may shrink (move) a stack
	// between the report and the crash.
	debug.SetGCPercent(-1)
	results := make(chan parked)
	for _, d := range depths {
		d := d
		go func() {
			id := parkpoint.Goid()
			recurse(d, func(addr uintptr) {
				results <- parked{Goid: id, Depth: d, Frames: d + 1, LocalAddr: addr}
			})
		}()
	}
	go func() {
		id := parkpoint.Goid()
		bigFrame(func(addr uintptr) {
			results <- parked{Goid: id, LocalAddr: addr, BigFrame: true, BigSize: 16 << 10}
		})
	}()
	t := truth{GoVersion: runtime.Version(), MaxStackSize: maxStack}
	for i := 0; i < len(depths)+1; i++ {
		t.Goroutines = append(t.Goroutines, <-results)
	}
	// Each goroutine reported from inside its report closure: it is parked only
	// once it blocks on <-block in the function that called the closure.
	wants := make([]parkpoint.Want, 0, len(t.Goroutines))
	for _, g := range t.Goroutines {
		fn := "main.recurse"
		if g.BigFrame {
			fn = "main.bigFrame"
		}
		wants = append(wants, parkpoint.Want{Goid: g.Goid, State: "chan receive", Function: fn})
	}
	parkpoint.WaitParked(wants)
	parkpoint.WriteTruth(t)
	panic("headroom: the end")
}
