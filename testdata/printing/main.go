// Command printing holds values of every shape `print` must show — structs, pointers
// (and a cycle), maps with pointer and func values, funcs, error values of the standard
// library, a channel, a long slice — and a goroutine whose two map headers live one on
// its stack and one on the heap. It writes the truth to $GODBG_TRUTH, rendered by
// reflection the way godbg's `print --json` rules render them (pointers followed two
// deep, cycles marked, funcs named, channels summarised, error text), then panics so
// that GOTRACEBACK=crash leaves a core.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"syscall"
	"unsafe"

	"godbg.test/parkpoint"
)

type Point struct{ X, Y int }

type Item struct {
	Name string
	Tags []string
	Next *Item
	P    *Point
}

type Config struct {
	Name    string
	Port    int
	Ratio   float64
	Owner   *Item
	Items   map[int]*Item
	Handler func(int) int
	Err     error
	Jobs    chan int
	Any     any
	List    []Point
	Counts  map[string]int
	Flags   [3]bool
}

func handler(x int) int { return x * 2 }

func other(x int) int { return x + 1 }

// Depth is how deep the truth follows pointers: print's default --depth.
const Depth = 2

var (
	gCfg     Config
	gCfgPtr  *Config
	gCycle   *Item
	gItems   map[int]*Item
	gFuncs   map[string]func(int) int
	gErrs    []error
	gJobs    chan int
	gBig     []int
	gCounts  map[string]int
	gPoint   Point
	gNilPtr  *Item
	gAny     any
	gStrPtr  *string
	gMatrix  [2][3]int16
	gNilErr  error
	gDeep    *Item
	gEscaped map[string]int
)

// Header addresses the worker records (uintptrs: recording them moves nothing).
var (
	stackHeader uintptr
	heapHeader  uintptr
	workerReady = make(chan int64) // the worker sends its goroutine id
	quit        = make(chan struct{})
)

func build() {
	s := "pointed-to"
	gStrPtr = &s
	a := &Item{Name: "a", Tags: []string{"x", "y"}, P: &Point{1, 2}}
	b := &Item{Name: "b", Next: a}
	a.Next = b
	gCycle = a
	gDeep = &Item{Name: "d0", Next: &Item{Name: "d1", Next: &Item{Name: "d2", Next: &Item{Name: "d3"}}}}
	gItems = map[int]*Item{}
	for i := 0; i < 12; i++ {
		gItems[i] = &Item{Name: fmt.Sprint("item", i), P: &Point{i, -i}}
	}
	gItems[99] = nil
	gFuncs = map[string]func(int) int{"double": handler, "inc": other}
	gJobs = make(chan int, 4)
	gJobs <- 7
	gJobs <- 8
	gCounts = map[string]int{"one": 1, "two": 2, "three": 3}
	gBig = make([]int, 250)
	for i := range gBig {
		gBig[i] = i * i
	}
	gPoint = Point{3, 4}
	gAny = Point{5, 6}
	gMatrix = [2][3]int16{{1, 2, 3}, {-4, -5, -6}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dctx, dcancel := context.WithTimeout(context.Background(), 0)
	defer dcancel()
	<-dctx.Done()
	base := errors.New("disk on fire")
	gErrs = []error{
		base,
		fmt.Errorf("saving: %w", base),
		fmt.Errorf("two: %w and %w", base, syscall.EPERM),
		&fs.PathError{Op: "open", Path: "/nope", Err: syscall.ENOENT},
		os.NewSyscallError("bind", syscall.EADDRINUSE),
		syscall.EAGAIN,
		ctx.Err(),
		dctx.Err(),
		&net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 80}, Err: syscall.ECONNREFUSED},
		nil,
	}
	gCfg = Config{
		Name: "main config", Port: 8080, Ratio: 0.75, Owner: a,
		Items: gItems, Handler: handler, Err: gErrs[3], Jobs: gJobs, Any: &gPoint,
		List: []Point{{1, 1}, {2, 4}}, Counts: gCounts, Flags: [3]bool{true, false, true},
	}
	gCfgPtr = &gCfg
}

// grow makes the calling goroutine's stack big, so that it never has to move again (a
// moved stack would leave the recorded header address stale).
//
//go:noinline
func grow(n int) int {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return grow(n-1) + int(pad[n%len(pad)])
}

//go:noinline
func worker(id int, name string) {
	grow(64)
	local := map[string]int{"k": id}       // stays on the stack (-gcflags=-m: does not escape)
	escaped := map[string]int{"e": id * 2} // moved to the heap: a global keeps it
	gEscaped = escaped
	stackHeader = *(*uintptr)(unsafe.Pointer(&local))
	heapHeader = *(*uintptr)(unsafe.Pointer(&escaped))
	workerReady <- parkpoint.Goid()
	<-quit
	runtime.KeepAlive(local)
	fmt.Println(name, len(local))
}

// --- the truth, rendered as godbg's print rules render values ---

var errorTypes = map[string]bool{
	"*errors.errorString": true, "*fmt.wrapError": true, "*fmt.wrapErrors": true,
	"*fs.PathError": true, "*os.SyscallError": true, "syscall.Errno": true,
	"context.deadlineExceededError": true, "*net.OpError": true,
}

func render(v reflect.Value, path map[uintptr]bool) any {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.String:
		return v.String()
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return []any{}
		}
		out := []any{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, render(v.Index(i), path))
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			out[v.Type().Field(i).Name] = render(v.Field(i), path)
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		p := v.Pointer()
		hex := fmt.Sprintf("%#x", p)
		if path[p] {
			return map[string]any{"ptr": hex, "cycle": true}
		}
		if len(path) >= Depth || v.Type().Elem().Size() == 0 {
			return hex
		}
		path[p] = true
		defer delete(path, p)
		return map[string]any{"ptr": hex, "value": render(v.Elem(), path)}
	case reflect.Func:
		if v.IsNil() {
			return nil
		}
		return map[string]any{"func": runtime.FuncForPC(v.Pointer()).Name()}
	case reflect.Chan:
		if v.IsNil() {
			return nil
		}
		return map[string]any{"chan": fmt.Sprintf("%#x", v.Pointer()), "len": v.Len(), "cap": v.Cap()}
	case reflect.Map:
		if v.IsNil() {
			return map[string]any{"map": nil, "count": 0}
		}
		return map[string]any{"map": fmt.Sprintf("%#x", v.Pointer()), "count": v.Len()}
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		e := v.Elem()
		out := map[string]any{"type": e.Type().String(), "value": render(e, path)}
		if !v.CanInterface() && v.CanAddr() { // an unexported field: read it all the same
			v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
		}
		if err, ok := v.Interface().(error); ok && errorTypes[e.Type().String()] {
			out["error"] = err.Error()
		}
		return out
	}
	panic("printing: cannot render " + v.Kind().String())
}

func truthOf(x any) any {
	return render(reflect.ValueOf(x).Elem(), map[uintptr]bool{})
}

func addr(p unsafe.Pointer) string { return fmt.Sprintf("%#x", uintptr(p)) }

func main() {
	debug.SetGCPercent(-1) // no GC: no stack shrinks, nothing moves
	build()
	go worker(42, "w") // the truth's worker.args
	goid := <-workerReady
	parkpoint.WaitParked([]parkpoint.Want{{Goid: goid, State: "chan receive", Function: "main.worker"}})
	truth := map[string]any{
		"go_version": runtime.Version(),
		"globals": map[string]any{
			"main.gCfg": truthOf(&gCfg), "main.gCfgPtr": truthOf(&gCfgPtr), "main.gCycle": truthOf(&gCycle),
			"main.gFuncs": truthOf(&gFuncs), "main.gErrs": truthOf(&gErrs), "main.gJobs": truthOf(&gJobs),
			"main.gBig": truthOf(&gBig), "main.gPoint": truthOf(&gPoint), "main.gNilPtr": truthOf(&gNilPtr),
			"main.gAny": truthOf(&gAny), "main.gStrPtr": truthOf(&gStrPtr), "main.gMatrix": truthOf(&gMatrix),
			"main.gNilErr": truthOf(&gNilErr), "main.gDeep": truthOf(&gDeep), "main.gItems": truthOf(&gItems),
		},
		"exprs": map[string]any{
			"main.gCfg.Owner.Name":  gCfg.Owner.Name,
			"main.gCfg.List[1].Y":   gCfg.List[1].Y,
			"len(main.gBig)":        len(gBig),
			"cap(main.gJobs)":       cap(gJobs),
			"len(main.gJobs)":       len(gJobs),
			"main.gCounts[\"two\"]": gCounts["two"],
			"len(main.gItems)":      len(gItems),
			"main.gBig[249]":        gBig[249],
			"*main.gStrPtr":         *gStrPtr,
			"main.gMatrix[1][2]":    gMatrix[1][2],
			"main.gCfgPtr.Port":     gCfgPtr.Port,
		},
		"item_values": func() map[string]any {
			out := map[string]any{}
			for k, v := range gItems {
				out[fmt.Sprint(k)] = render(reflect.ValueOf(v), map[uintptr]bool{})
			}
			return out
		}(),
		// Addresses and types for `print 0xADDR --type T` and `map 0xADDR --type T`.
		"addresses": map[string]any{
			"main.gCfg": addr(unsafe.Pointer(&gCfg)), "main.gPoint": addr(unsafe.Pointer(&gPoint)),
			"main.gCycle": addr(unsafe.Pointer(gCycle)),
		},
		"maps": map[string]any{
			"gItems":  map[string]any{"header": fmt.Sprintf("%#x", reflect.ValueOf(gItems).Pointer()), "type": "map[int]*main.Item"},
			"gCounts": map[string]any{"header": fmt.Sprintf("%#x", reflect.ValueOf(gCounts).Pointer()), "type": "map[string]int"},
			"gFuncs":  map[string]any{"header": fmt.Sprintf("%#x", reflect.ValueOf(gFuncs).Pointer()), "type": "map[string]func(int) int"},
		},
		"worker": map[string]any{
			"goroutine": goid, "stack_header": fmt.Sprintf("%#x", stackHeader),
			"heap_header": fmt.Sprintf("%#x", heapHeader),
			// worker's arguments and locals at its park point, as bt --full shows them.
			"args": map[string]any{"id": 42, "name": "w"},
			"locals": map[string]any{
				"local":   map[string]any{"map": fmt.Sprintf("%#x", stackHeader), "count": 1},
				"escaped": map[string]any{"map": fmt.Sprintf("%#x", heapHeader), "count": 1},
			},
		},
	}
	parkpoint.WriteTruth(truth)
	panic("printing: the end")
}
