// Command goroutines parks hundreds of goroutines in known places (channel
// receive and send, mutex, sleep, select, cond, deep recursion, inlined calls,
// generic and method frames, a blocking read in a system call, a locked thread,
// one goroutine spinning on another thread), writes what it knows about them to
// the JSON file named by $GODBG_TRUTH, then panics. Run with GOTRACEBACK=crash
// it leaves a core and Go's own traceback of every goroutine on stderr.
//
// With the argument "signal" it ends differently: it sends SIGQUIT to the thread
// of the spinning goroutine, so the runtime crashes from inside a signal handler
// with that goroutine running, and every other M dumps its own stack in turn.
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"godbg.test/parkpoint"
)

const (
	recvWorkers   = 200
	sendWorkers   = 50
	mutexWorkers  = 30
	sleepers      = 20
	selectWorkers = 20
	condWaiters   = 10
	methodWorkers = 10
	genericWaits  = 5
	shallowDepth  = 30
	deepDepth     = 200 // more frames than Go prints: its traceback elides the middle
	procs         = 4
	panicMsg      = "goroutines: the end"
)

// group is one kind of parked goroutine: its ids and where and why it waits.
type group struct {
	IDs        []int64 `json:"ids"`
	Status     string  `json:"status"`
	WaitReason string  `json:"wait_reason"`
	Function   string  `json:"function"` // the innermost main-package frame
	CreatedBy  string  `json:"created_by"`
	Start      string  `json:"start_function"`
}

type truth struct {
	GoVersion string            `json:"go_version"`
	GOARCH    string            `json:"goarch"`
	MainGoid  int64             `json:"main_goid"`
	Groups    map[string]*group `json:"groups"`
	Panic     string            `json:"panic"`
	// Signal mode: the signal sent and the goroutine whose thread got it.
	Signal     string `json:"signal,omitempty"`
	SignalGoid int64  `json:"signal_goid,omitempty"`
}

var (
	// block is never closed or sent to: receivers stay parked on it.
	block  = make(chan int)
	sendCh = make(chan int)
	mu     sync.Mutex
	condMu sync.Mutex
	cond   = sync.NewCond(&condMu)
	ids    = make(chan idMsg)
	spins  int64 // atomic: how often spin went round its loop
	// release starts spin's loop once every goroutine has parked.
	release = make(chan struct{})
	// spinTid is the thread spin runs on.
	spinTid atomic.Int64
	sink    int64
)

type idMsg struct {
	kind string
	id   int64
}

func report(kind string) { ids <- idMsg{kind, parkpoint.Goid()} }

//go:noinline
func recvWorker() {
	report("recv")
	<-block
}

//go:noinline
func sendWorker(v int) {
	report("send")
	sendCh <- v
}

//go:noinline
func mutexWorker() {
	report("mutex")
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func sleeper() {
	report("sleep")
	time.Sleep(time.Hour)
}

//go:noinline
func selectWorker(a, b chan int) {
	report("select")
	select {
	case <-a:
	case b <- 1:
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
func recurse(kind string, n int) int {
	if n == 0 {
		report(kind)
		return <-block
	}
	return recurse(kind, n-1) + 1
}

// inlinedLeaf and inlinedMiddle are small enough to be inlined into inlinedOuter:
// Go's traceback shows them as frames of their own.
func inlinedLeaf() int { return <-block }

func inlinedMiddle() int { return inlinedLeaf() + 1 }

//go:noinline
func inlinedOuter() {
	report("inlined")
	sink += int64(inlinedMiddle())
}

type server struct{ name string }

//go:noinline
func (s *server) serve() {
	report("method")
	<-block
}

//go:noinline
func genericWait[T any](v T) T {
	report("generic")
	<-block
	return v
}

// spawner starts a child so the child's creator is not main.main.
//
//go:noinline
func spawner() {
	go child()
	report("spawner")
	<-block
}

//go:noinline
func child() {
	report("child")
	<-block
}

//go:noinline
func lockedWorker() {
	runtime.LockOSThread()
	report("locked")
	<-block
}

//go:noinline
func noCases() {
	report("nocases")
	select {}
}

// syscallReader blocks in read(2) on a pipe nobody writes to: its goroutine is
// in the syscall state, with an M of its own.
//
//go:noinline
func syscallReader(fd int) {
	report("syscall")
	buf := make([]byte, 1)
	syscall.Read(fd, buf)
}

// spin runs on its own thread until the crash: a running goroutine. Its thread
// id lets main aim the crashing signal at it. It parks once, so main can see it
// settled with the others, and starts spinning when main closes release.
//
// It is go:nosplit so that the runtime can never preempt its loop (a nosplit
// function has no safe point and no stack check): the crash finds it running, on
// its own thread, every time. A preemptible loop is sometimes caught preempted
// (runnable in runtime.asyncPreempt2), and then two runs' cores disagree. Main
// turns the GC off first: no stop-the-world may come once it spins.
//
//go:nosplit
//go:noinline
func spin() {
	runtime.LockOSThread()
	spinTid.Store(int64(syscall.Gettid()))
	report("running")
	<-release
	for {
		atomic.AddInt64(&spins, 1)
	}
}

func main() {
	runtime.GOMAXPROCS(procs)
	debug.SetGCPercent(-1) // no stop-the-world once spin runs: it cannot be preempted
	mu.Lock()
	var pipe [2]int
	if err := syscall.Pipe(pipe[:]); err != nil {
		panic(err)
	}
	t := truth{
		GoVersion: runtime.Version(),
		GOARCH:    runtime.GOARCH,
		MainGoid:  parkpoint.Goid(),
		Panic:     panicMsg,
		Groups:    map[string]*group{},
	}
	add := func(kind, status, reason, fn, createdBy, start string, n int, launch func()) {
		t.Groups[kind] = &group{Status: status, WaitReason: reason, Function: fn, CreatedBy: createdBy, Start: start}
		for i := 0; i < n; i++ {
			launch()
		}
	}
	expected := 0
	launch := func(kind, status, reason, fn, start string, n int, f func()) {
		add(kind, status, reason, fn, "main.main", start, n, f)
		expected += n
	}
	launch("recv", "waiting", "chan receive", "main.recvWorker", "main.recvWorker", recvWorkers, func() { go recvWorker() })
	launch("send", "waiting", "chan send", "main.sendWorker", "main.main.func", sendWorkers, func() { go sendWorker(1) })
	launch("mutex", "waiting", "sync.Mutex.Lock", "main.mutexWorker", "main.mutexWorker", mutexWorkers, func() { go mutexWorker() })
	launch("sleep", "waiting", "sleep", "main.sleeper", "main.sleeper", sleepers, func() { go sleeper() })
	launch("select", "waiting", "select", "main.selectWorker", "main.main.func", selectWorkers,
		func() { go selectWorker(make(chan int), make(chan int)) })
	launch("cond", "waiting", "sync.Cond.Wait", "main.condWaiter", "main.condWaiter", condWaiters, func() { go condWaiter() })
	launch("shallow", "waiting", "chan receive", "main.recurse", "main.main.func", 4, func() { go recurse("shallow", shallowDepth) })
	launch("deep", "waiting", "chan receive", "main.recurse", "main.main.func", 1, func() { go recurse("deep", deepDepth) })
	launch("inlined", "waiting", "chan receive", "main.inlinedLeaf", "main.inlinedOuter", 3, func() { go inlinedOuter() })
	launch("method", "waiting", "chan receive", "main.(*server).serve", "main.main.func", methodWorkers,
		func() { go (&server{"s"}).serve() })
	launch("generic", "waiting", "chan receive", "main.genericWait[...]", "main.main.func", genericWaits,
		func() { go genericWait(7) })
	launch("spawner", "waiting", "chan receive", "main.spawner", "main.spawner", 1, func() { go spawner() })
	add("child", "waiting", "chan receive", "main.child", "main.spawner", "main.child", 0, nil)
	expected++
	launch("locked", "waiting", "chan receive", "main.lockedWorker", "main.lockedWorker", 1, func() { go lockedWorker() })
	launch("nocases", "waiting", "select (no cases)", "main.noCases", "main.noCases", 2, func() { go noCases() })
	launch("syscall", "syscall", "", "main.syscallReader", "main.main.func", 1, func() { go syscallReader(pipe[0]) })
	launch("running", "running", "", "main.spin", "main.spin", 1, func() { go spin() })

	for i := 0; i < expected; i++ {
		m := <-ids
		t.Groups[m.kind].IDs = append(t.Groups[m.kind].IDs, m.id)
	}
	for _, g := range t.Groups {
		sort.Slice(g.IDs, func(i, j int) bool { return g.IDs[i] < g.IDs[j] })
	}
	waitSettled(t.Groups)
	if len(os.Args) > 1 && os.Args[1] == "signal" {
		t.Panic = ""
		t.Signal = "SIGQUIT"
		t.SignalGoid = t.Groups["running"].IDs[0]
		parkpoint.WriteTruth(t)
		readyForCore()
		if err := syscall.Tgkill(syscall.Getpid(), int(spinTid.Load()), syscall.SIGQUIT); err != nil {
			panic(err)
		}
		select {}
	}
	parkpoint.WriteTruth(t)
	readyForCore()
	panic(panicMsg)
}

// readyForCore marks the moment the program's state is final.
//
//go:noinline
func readyForCore() {}

// waitSettled returns once every reported goroutine shows its final state and
// innermost main frame in a full stack dump, so the truth never races with a
// goroutine still on its way. The spinning goroutine waits on release until
// then; once released, its own counter says it reached its loop.
func waitSettled(groups map[string]*group) {
	var wants []parkpoint.Want
	for _, g := range groups {
		for _, id := range g.IDs {
			w := parkpoint.Want{Goid: id, State: g.Status, Function: g.Function}
			if g.WaitReason != "" {
				w.State = g.WaitReason
			}
			if g.Status == "running" {
				w.State = "chan receive" // on release, until main lets it spin
			}
			wants = append(wants, w)
		}
	}
	parkpoint.WaitParked(wants)
	close(release)
	for atomic.LoadInt64(&spins) == 0 {
		runtime.Gosched()
	}
}
