// Command waits parks goroutines on known objects — a global mutex main holds, an
// RWMutex main holds for writing, unbuffered and buffered channels, a WaitGroup, a
// select over two global channels, a sync.Cond, a sleep — some of them with pprof
// labels, and leaks goroutines on channels only they can reach (also inside a
// select). Each goroutine records its id and role before it parks; main waits until
// a full stack dump shows every one parked in its expected state, writes what it
// knows to $GODBG_TRUTH, then panics (GOTRACEBACK=crash leaves a core).
//
// With the argument "leakprofile" it first writes Go's own goroutine leak profile
// (pprof.Lookup("goroutineleak"), Go 1.26 with GOEXPERIMENT=goroutineleakprofile,
// and 1.27) to $GODBG_TRUTH's directory as leakprofile.txt.
package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"time"

	"godbg.test/parkpoint"
)

const panicMsg = "waits: the end"

var (
	mu       sync.Mutex
	rw       sync.RWMutex
	unbuf    = make(chan int)
	sendCh   = make(chan int)
	buffered = make(chan string, 4)
	wg       sync.WaitGroup
	selA     = make(chan int)
	selB     = make(chan string)
	labelled = make(chan int)
	condMu   sync.Mutex
	cond     = sync.NewCond(&condMu)
	ids      = make(chan idMsg)
)

type idMsg struct {
	role string
	id   int64
}

// role is one kind of parked goroutine.
type role struct {
	IDs        []int64           `json:"ids"`
	Kind       string            `json:"kind"`        // godbg's waiting_on.kind
	Object     string            `json:"object"`      // the global it waits on ("" for leaked ones)
	Channels   []string          `json:"channels"`    // a select's channels, "recv main.selA"
	WaitReason []string          `json:"wait_reason"` // acceptable runtime wait reasons
	Labels     map[string]string `json:"labels"`
	Leaked     bool              `json:"leaked"`
	Sends      []int64           `json:"sends,omitempty"` // values sent by the chan send waiters, by id order
}

type truth struct {
	GoVersion string           `json:"go_version"`
	MainGoid  int64            `json:"main_goid"`
	Roles     map[string]*role `json:"roles"`
	Buffered  []string         `json:"buffered"`
	WGCounter int              `json:"wg_counter"`
	SendValue map[string]int64 `json:"send_values"` // goroutine id -> value it sends on main.sendCh
	LeakProf  bool             `json:"leak_profile"`
}

func report(r string) { ids <- idMsg{r, parkpoint.Goid()} }

var sendValues sync.Map

//go:noinline
func mutexWaiter() { report("mutex"); mu.Lock(); mu.Unlock() }

//go:noinline
func readerWaiter() { report("rlock"); rw.RLock(); rw.RUnlock() }

//go:noinline
func recvWaiter() { report("recv"); <-unbuf }

//go:noinline
func sendWaiter(v int) {
	sendValues.Store(parkpoint.Goid(), int64(v))
	report("send")
	sendCh <- v
}

//go:noinline
func bufferedSender() { report("bufsend"); buffered <- "e" }

//go:noinline
func wgWaiter() { report("wg"); wg.Wait() }

//go:noinline
func selectWaiter() {
	report("select")
	select {
	case <-selA:
	case selB <- "x":
	}
}

//go:noinline
func condWaiter() {
	report("cond")
	condMu.Lock()
	for {
		cond.Wait()
	}
}

//go:noinline
func sleeper() { report("sleep"); time.Sleep(time.Hour) }

//go:noinline
func labelledDo(n int) {
	pprof.Do(context.Background(), pprof.Labels("role", "worker", "n", strconv.Itoa(n)), func(context.Context) {
		report("labels_do")
		<-labelled
	})
}

//go:noinline
func labelledSet() {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("tenant", "acme")))
	report("labels_set")
	<-labelled
}

// The leakers start goroutines on channels nothing else can reach, then return.
//
//go:noinline
func leakRecv() {
	ch := make(chan int)
	go func() { report("leak_recv"); <-ch }()
}

//go:noinline
func leakSend() {
	ch := make(chan int)
	go func() { report("leak_send"); ch <- 7 }()
}

//go:noinline
func leakSelect() {
	a, b := make(chan int), make(chan bool)
	go func() {
		report("leak_select")
		select {
		case <-a:
		case b <- true:
		}
	}()
}

func main() {
	leakProfile := len(os.Args) > 1 && os.Args[1] == "leakprofile"
	mu.Lock()
	rw.Lock()
	wg.Add(1)
	for _, s := range []string{"a", "b", "c", "d"} {
		buffered <- s
	}
	t := truth{GoVersion: runtime.Version(), MainGoid: parkpoint.Goid(), Roles: map[string]*role{},
		Buffered: []string{"a", "b", "c", "d"}, WGCounter: 1, SendValue: map[string]int64{}, LeakProf: leakProfile}
	expected := 0
	add := func(name string, r role, n int, launch func(i int)) {
		t.Roles[name] = &r
		for i := 0; i < n; i++ {
			launch(i)
		}
		expected += n
	}
	semacquire := []string{"semacquire", "sync.WaitGroup.Wait"}
	add("mutex", role{Kind: "mutex", Object: "main.mu", WaitReason: []string{"sync.Mutex.Lock"}}, 3,
		func(int) { go mutexWaiter() })
	add("rlock", role{Kind: "rwmutex read", Object: "main.rw", WaitReason: []string{"sync.RWMutex.RLock"}}, 2,
		func(int) { go readerWaiter() })
	add("recv", role{Kind: "chan receive", Object: "main.unbuf", WaitReason: []string{"chan receive"}}, 3,
		func(int) { go recvWaiter() })
	add("send", role{Kind: "chan send", Object: "main.sendCh", WaitReason: []string{"chan send"}}, 2,
		func(i int) { go sendWaiter(100 + i) })
	add("bufsend", role{Kind: "chan send", Object: "main.buffered", WaitReason: []string{"chan send"}}, 1,
		func(int) { go bufferedSender() })
	add("wg", role{Kind: "waitgroup", Object: "main.wg", WaitReason: semacquire}, 2, func(int) { go wgWaiter() })
	add("select", role{Kind: "select", Channels: []string{"recv main.selA", "send main.selB"},
		WaitReason: []string{"select"}}, 2, func(int) { go selectWaiter() })
	add("cond", role{Kind: "cond", Object: "main.cond", WaitReason: []string{"sync.Cond.Wait"}}, 2,
		func(int) { go condWaiter() })
	add("sleep", role{Kind: "sleep", WaitReason: []string{"sleep"}}, 1, func(int) { go sleeper() })
	add("labels_do", role{Kind: "chan receive", Object: "main.labelled", WaitReason: []string{"chan receive"},
		Labels: map[string]string{"role": "worker", "n": "1"}}, 1, func(int) { go labelledDo(1) })
	add("labels_set", role{Kind: "chan receive", Object: "main.labelled", WaitReason: []string{"chan receive"},
		Labels: map[string]string{"tenant": "acme"}}, 1, func(int) { go labelledSet() })
	add("leak_recv", role{Kind: "chan receive", WaitReason: []string{"chan receive"}, Leaked: true}, 2,
		func(int) { leakRecv() })
	add("leak_send", role{Kind: "chan send", WaitReason: []string{"chan send"}, Leaked: true}, 1,
		func(int) { leakSend() })
	add("leak_select", role{Kind: "select", WaitReason: []string{"select"}, Leaked: true}, 1,
		func(int) { leakSelect() })

	for i := 0; i < expected; i++ {
		m := <-ids
		t.Roles[m.role].IDs = append(t.Roles[m.role].IDs, m.id)
	}
	for _, r := range t.Roles {
		sort.Slice(r.IDs, func(i, j int) bool { return r.IDs[i] < r.IDs[j] })
		if r.Labels == nil {
			r.Labels = map[string]string{}
		}
	}
	sendValues.Range(func(k, v any) bool {
		t.SendValue[strconv.FormatInt(k.(int64), 10)] = v.(int64)
		return true
	})
	waitSettled(t.Roles)
	parkpoint.WriteTruth(t)
	if leakProfile {
		writeLeakProfile()
	}
	readyForCore()
	panic(panicMsg)
}

// writeLeakProfile writes Go's goroutine leak profile (debug=2: every goroutine,
// leaked ones marked "(leaked)") beside the truth file; nothing when this
// toolchain has no such profile.
func writeLeakProfile() {
	p := pprof.Lookup("goroutineleak")
	if p == nil {
		return
	}
	f, err := os.Create(filepath.Join(filepath.Dir(os.Getenv("GODBG_TRUTH")), "leakprofile.txt"))
	if err != nil {
		panic(err)
	}
	if err := p.WriteTo(f, 2); err != nil {
		panic(err)
	}
	f.Close()
}

//go:noinline
func readyForCore() {}

// waitSettled returns once every reported goroutine shows one of its role's wait
// reasons, inside its role's own function, in a full stack dump.
func waitSettled(roles map[string]*role) {
	var wants []parkpoint.Want
	for name, r := range roles {
		for _, id := range r.IDs {
			wants = append(wants, parkpoint.Want{Goid: id, States: r.WaitReason, Function: roleFunc[name]})
		}
	}
	parkpoint.WaitParked(wants)
}

// roleFunc is the innermost main-package function each role parks in.
var roleFunc = map[string]string{
	"mutex": "main.mutexWaiter", "rlock": "main.readerWaiter", "recv": "main.recvWaiter",
	"send": "main.sendWaiter", "bufsend": "main.bufferedSender", "wg": "main.wgWaiter",
	"select": "main.selectWaiter", "cond": "main.condWaiter", "sleep": "main.sleeper",
	"labels_do": "main.labelledDo.func1", "labels_set": "main.labelledSet",
	"leak_recv": "main.leakRecv.func1", "leak_send": "main.leakSend.func1",
	"leak_select": "main.leakSelect.func1",
}
