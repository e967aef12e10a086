// Command maps holds maps of every shape godbg must decode as globals, writes
// their contents (the truth, as godbg's JSON renders them) to $GODBG_TRUTH,
// then panics so that GOTRACEBACK=crash leaves a core.
//
// Map internals the tests check (growth in progress, directory size) are
// read by the program itself through unsafe mirrors of the runtime headers:
// see state_classic.go and state_swiss.go.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
)

type Point struct{ X, Y int }

type Pair struct {
	Name string
	N    int32
	F    float64
	OK   bool
}

// BigKey and BigVal are larger than 128 bytes: the runtime stores them
// behind pointers (indirect key and elem).
type BigKey struct {
	ID  int64
	Pad [18]int64
}

type BigVal struct {
	Name string
	Data [16]int64
}

const (
	hugeCount = 50_000
	// growTrigger is the insert that starts a doubling grow of a classic map
	// from B=6: count > 6.5 * 2^6 (runtime overLoadFactor).
	growTrigger = 417
	churnKeep   = 48
)

var (
	intInt      map[int]int
	strInt      map[string]int
	structKV    map[Point]Pair
	bigKV       map[BigKey]BigVal
	nilMap      map[string]int
	emptyMap    = map[string]int{}
	cleared     map[int]int
	emptied     map[int]int
	small       map[int]string
	full8       map[int8]uint16
	halfDeleted map[int]int
	growing     map[int]int
	sameSize    map[int]int
	huge        map[int]int
	hinted      map[string]int
	ifaceVals   map[string]any
	nested      map[string]map[string]int
	ptrVals     map[int]*Point
	floatKeys   map[float64]bool
	arrKeys     map[[3]int16]string
	boolKeys    map[bool]string
	uintKeys    map[uint64]int8
)

// points are the targets of ptrVals and of the pointers inside ifaceVals.
var points []*Point

func build() {
	intInt = map[int]int{}
	for i := 0; i < 1000; i++ {
		intInt[i*i-500] = -i
	}
	strInt = map[string]int{}
	for i := 0; i < 300; i++ {
		strInt[fmt.Sprintf("key-%04d-%s", i, string(rune('a'+i%26)))] = i * 3
	}
	strInt[""] = -1
	strInt["ünïcode ✓"] = 42
	structKV = map[Point]Pair{}
	for i := 0; i < 200; i++ {
		structKV[Point{i, -i * 2}] = Pair{fmt.Sprint("p", i), int32(i), float64(i) / 4, i%3 == 0}
	}
	bigKV = map[BigKey]BigVal{}
	for i := 0; i < 40; i++ {
		k := BigKey{ID: int64(i)}
		k.Pad[17] = int64(i * 11)
		v := BigVal{Name: fmt.Sprint("big", i)}
		v.Data[0], v.Data[15] = int64(i), int64(-i)
		bigKV[k] = v
	}
	cleared = map[int]int{}
	for i := 0; i < 100; i++ {
		cleared[i] = i
	}
	clear(cleared)
	emptied = map[int]int{}
	for i := 0; i < 100; i++ {
		emptied[i] = i
	}
	for i := 0; i < 100; i++ {
		delete(emptied, i)
	}
	small = map[int]string{1: "one", 2: "two", 3: "three", -4: "minus four", 5: ""}
	full8 = map[int8]uint16{}
	for i := int8(0); i < 8; i++ {
		full8[i-4] = uint16(i) * 9000
	}
	halfDeleted = map[int]int{}
	for i := 0; i < 4000; i++ {
		halfDeleted[i] = i * 10
	}
	for i := 0; i < 4000; i += 2 {
		delete(halfDeleted, i)
	}
	growing = makeGrowing()
	sameSize = makeSameSize()
	huge = make(map[int]int)
	for i := 0; i < hugeCount; i++ {
		huge[i*2654435761%1000003] = i
	}
	hinted = make(map[string]int, 5000)
	hinted["only"] = 1
	hinted["two"] = 2
	for i := 0; i < 10; i++ {
		points = append(points, &Point{i, i * i})
	}
	ifaceVals = map[string]any{
		"int":     7,
		"string":  "seven",
		"float":   7.5,
		"bool":    true,
		"struct":  Point{7, 8},
		"pointer": points[7],
		"nil":     nil,
		"int64":   int64(-77),
		"pair":    Pair{"p", 1, 0.5, true},
	}
	nested = map[string]map[string]int{}
	for i := 0; i < 5; i++ {
		inner := map[string]int{}
		for j := 0; j <= i; j++ {
			inner[fmt.Sprint("in", j)] = i*10 + j
		}
		nested[fmt.Sprint("out", i)] = inner
	}
	ptrVals = map[int]*Point{0: nil}
	for i, p := range points {
		ptrVals[i+1] = p
	}
	floatKeys = map[float64]bool{0.5: true, -1.25: false, 1e300: true, 3: false}
	arrKeys = map[[3]int16]string{{1, 2, 3}: "a", {-1, 0, 32767}: "b"}
	boolKeys = map[bool]string{true: "yes", false: "no"}
	uintKeys = map[uint64]int8{1<<64 - 1: -128, 0: 127, 1 << 63: 1}
}

// makeGrowing stops right after the insert that starts a doubling grow, so
// oldbuckets is set and all but at most two old buckets are unevacuated.
func makeGrowing() map[int]int {
	for attempt := 0; attempt < 100; attempt++ {
		m := make(map[int]int)
		for i := 0; i < growTrigger; i++ {
			m[i*7+attempt] = i
		}
		if st := stateOf(m); mapImpl == "swiss" || (st.Growing && !st.SameSizeGrow) {
			return m
		}
	}
	panic("maps: no doubling grow in progress after 100 attempts")
}

// makeSameSize churns a map of constant size until too many overflow buckets
// start a same-size grow (classic maps), and stops there.
func makeSameSize() map[int]int {
	m := make(map[int]int, churnKeep)
	next := 0
	for ; next < churnKeep; next++ {
		m[next] = next
	}
	for oldest := 0; oldest < 5_000_000; oldest++ {
		delete(m, oldest)
		m[next] = next
		next++
		st := stateOf(m)
		if mapImpl == "swiss" && oldest >= 2000 {
			return m
		}
		if st.Growing && st.SameSizeGrow {
			return m
		}
	}
	panic("maps: no same-size grow after churning")
}

// followDepth is how deep godbg follows pointers in map values (print's default --depth).
const followDepth = 2

// render turns a Go value into what godbg's JSON shows for it.
func render(v reflect.Value) any { return renderAt(v, 0) }

func renderAt(v reflect.Value, hops int) any {
	render := func(v reflect.Value) any { return renderAt(v, hops) }
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	case reflect.Struct:
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			out[v.Type().Field(i).Name] = render(v.Field(i))
		}
		return out
	case reflect.Array, reflect.Slice:
		out := []any{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, render(v.Index(i)))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if hops >= followDepth {
			return fmt.Sprintf("%#x", v.Pointer())
		}
		return map[string]any{"ptr": fmt.Sprintf("%#x", v.Pointer()), "value": renderAt(v.Elem(), hops+1)}
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return map[string]any{"type": v.Elem().Type().String(), "value": render(v.Elem())}
	case reflect.Map:
		return map[string]any{"map": fmt.Sprintf("%#x", v.Pointer()), "count": v.Len()}
	}
	panic("maps: cannot render " + v.Kind().String())
}

type mapTruth struct {
	Type    string  `json:"type"`
	Count   int     `json:"count"`
	Entries [][]any `json:"entries"`
	State   state   `json:"state"`
}

func truthOf(m any) mapTruth {
	v := reflect.ValueOf(m)
	t := mapTruth{Type: v.Type().String(), Count: v.Len(), Entries: [][]any{}, State: stateOfValue(v)}
	iter := v.MapRange()
	for iter.Next() {
		t.Entries = append(t.Entries, []any{render(iter.Key()), render(iter.Value())})
	}
	return t
}

func writeTruth() {
	path := os.Getenv("GODBG_TRUTH")
	if path == "" {
		return
	}
	all := map[string]any{
		"go_version": runtime.Version(),
		"map_impl":   mapImpl,
		"maps": map[string]mapTruth{
			"intInt": truthOf(intInt), "strInt": truthOf(strInt), "structKV": truthOf(structKV),
			"bigKV": truthOf(bigKV), "nilMap": truthOf(nilMap), "emptyMap": truthOf(emptyMap),
			"cleared": truthOf(cleared), "emptied": truthOf(emptied), "small": truthOf(small),
			"full8": truthOf(full8), "halfDeleted": truthOf(halfDeleted), "growing": truthOf(growing),
			"sameSize": truthOf(sameSize), "huge": truthOf(huge), "hinted": truthOf(hinted),
			"ifaceVals": truthOf(ifaceVals), "nested": truthOf(nested), "ptrVals": truthOf(ptrVals),
			"floatKeys": truthOf(floatKeys), "arrKeys": truthOf(arrKeys), "boolKeys": truthOf(boolKeys),
			"uintKeys": truthOf(uintKeys),
		},
	}
	data, err := json.Marshal(all)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		panic(err)
	}
}

// readyForCore marks the moment the maps are final: only the panic is left.
//
//go:noinline
func readyForCore() {}

func main() {
	build()
	writeTruth()
	readyForCore()
	runtime.KeepAlive(points)
	panic("maps: the end")
}
