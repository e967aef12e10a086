// Package parkpoint is what every godbg test program uses to record its truth only
// once that truth is final: the ids of its goroutines, a wait until the runtime
// itself shows each of them parked where the program says, and the truth file.
//
// A goroutine that has told main its id is not yet parked: it may still be in the
// call that reported, or on its way to the channel it will block on. A core taken
// then shows it somewhere else. WaitParked polls runtime.Stack(all) until every
// goroutine named shows its expected state and innermost main-package frame.
package parkpoint

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Goid reads the current goroutine's id from the header line of its own stack trace.
func Goid() int64 {
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

// Want is where one goroutine must be before the truth is written.
type Want struct {
	Goid int64
	// State is the first item of the bracket in the goroutine's header line:
	// a wait reason ("chan receive", "sync.Mutex.Lock", "select (no cases)") or a
	// status ("syscall"). Empty means any state: a goroutine that keeps running
	// shows as preempted ("runnable") in the stop-the-world dump, never "running".
	State string
	// States, when set, lists the states any one of which will do: a wait reason
	// that differs between Go releases ("semacquire" became "sync.WaitGroup.Wait").
	States []string
	// Function, when set, is the innermost main-package frame the goroutine must
	// show ("main.recurse", "main.(*server).serve", "main.genericWait[...]").
	// A running goroutine on another thread shows no frames: leave it empty.
	Function string
}

// Timeout bounds WaitParked: a program that cannot settle fails loudly.
const Timeout = 60 * time.Second

// WaitParked returns once every goroutine in wants shows its state and function in
// a full stack dump of the program. It panics after Timeout, naming a goroutine
// that never got there and what it showed last.
func WaitParked(wants []Want) {
	poll(func(seen map[int64]shown) string {
		for _, w := range wants {
			g, ok := seen[w.Goid]
			if !ok || !w.stateOK(g.state) || (w.Function != "" && g.mainFunc != w.Function) {
				return fmt.Sprintf("goroutine %d wants [%s%s] in %q, shows [%s] in %q (present %v)",
					w.Goid, w.State, strings.Join(w.States, "|"), w.Function, g.state, g.mainFunc, ok)
			}
		}
		return ""
	})
}

func (w Want) stateOK(state string) bool {
	if w.State != "" && state != w.State {
		return false
	}
	if len(w.States) == 0 {
		return true
	}
	for _, s := range w.States {
		if state == s {
			return true
		}
	}
	return false
}

// WaitStates returns once, for each state, at least that many goroutines show it:
// for programs with too many goroutines to name one by one (the benchmarks').
func WaitStates(counts map[string]int) {
	poll(func(seen map[int64]shown) string {
		have := map[string]int{}
		for _, g := range seen {
			have[g.state]++
		}
		for state, n := range counts {
			if have[state] < n {
				return fmt.Sprintf("%d goroutines show [%s], want %d", have[state], state, n)
			}
		}
		return ""
	})
}

// poll takes full stack dumps until pending finds nothing pending (""), or panics
// with its last answer after Timeout.
func poll(pending func(map[int64]shown) string) {
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(Timeout)
	for {
		n := runtime.Stack(buf, true)
		if n == len(buf) { // the dump was cut: grow and take it again
			buf = make([]byte, 2*len(buf))
			continue
		}
		why := pending(parse(string(buf[:n])))
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			panic("parkpoint: goroutines never parked: " + why)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // poll interval, not a guess at when they are done
	}
}

type shown struct {
	state    string // first item of the header's bracket
	mainFunc string // innermost frame whose function is in package main
}

// parse reads "goroutine 6 [chan receive, 2 minutes]:" headers (GOTRACEBACK=crash
// adds "gp=… m=…" before the bracket) and each goroutine's innermost main frame.
func parse(dump string) map[int64]shown {
	out := map[int64]shown{}
	var cur int64 = -1
	for _, line := range strings.Split(dump, "\n") {
		if strings.HasPrefix(line, "goroutine ") && strings.HasSuffix(line, ":") {
			fields := strings.Fields(line)
			id, err := strconv.ParseInt(fields[1], 10, 64)
			open, close := strings.Index(line, "["), strings.LastIndex(line, "]")
			if err != nil || open < 0 || close < open {
				cur = -1
				continue
			}
			state := line[open+1 : close]
			if i := strings.Index(state, ", "); i >= 0 {
				state = state[:i]
			}
			cur = id
			out[id] = shown{state: state}
			continue
		}
		if cur < 0 || strings.HasPrefix(line, "\t") || !strings.HasPrefix(line, "main.") {
			continue
		}
		g := out[cur]
		if g.mainFunc == "" {
			if i := strings.LastIndex(line, "("); i > 0 {
				g.mainFunc = line[:i]
				out[cur] = g
			}
		}
	}
	return out
}

// WriteTruth writes v as indented JSON to the file $GODBG_TRUTH names (nothing
// when it is unset, as when a person runs the program by hand).
func WriteTruth(v any) {
	path := os.Getenv("GODBG_TRUTH")
	if path == "" {
		return
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		panic(err)
	}
}
