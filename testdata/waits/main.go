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
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
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

func goid() int64 {
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

func report(r string) { ids <- idMsg{r, goid()} }

var sendValues sync.Map

//go:noinline
func mutexWaiter() { report("mutex"); mu.Lock(); mu.Unlock() }

//go:noinline
func readerWaiter() { report("rlock"); rw.RLock(); rw.RUnlock() }

//go:noinline
func recvWaiter() { report("recv"); <-unbuf }

//go:noinline
func sendWaiter(v int) {
	sendValues.Store(goid(), int64(v))
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
	t := truth{GoVersion: runtime.Version(), MainGoid: goid(), Roles: map[string]*role{},
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
	writeTruth(t)
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

// waitSettled returns once every reported goroutine shows one of its expected wait
// reasons in a full stack dump (a "leaked" status counts too).
func waitSettled(roles map[string]*role) {
	want := map[int64][]string{}
	for _, r := range roles {
		for _, id := range r.IDs {
			want[id] = r.WaitReason
		}
	}
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		dump := string(buf[:runtime.Stack(buf, true)])
		settled := 0
		for _, line := range strings.Split(dump, "\n") {
			if !strings.HasPrefix(line, "goroutine ") {
				continue
			}
			fields := strings.Fields(line)
			id, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				continue
			}
			for _, reason := range want[id] {
				if strings.Contains(line, "["+reason) {
					settled++
					break
				}
			}
		}
		if settled == len(want) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	panic("waits: goroutines did not settle")
}

func writeTruth(t truth) {
	path := os.Getenv("GODBG_TRUTH")
	if path == "" {
		return
	}
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		panic(err)
	}
}
