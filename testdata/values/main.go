// Command values is the test program for godbg's DWARF reader and value decoder.
//
// Its globals are initialised statically, so their values sit in the binary's data
// sections and a test can decode them straight from the file. Run, it prints the truth
// as JSON: sizes and field offsets as the compiler laid them out (unsafe.Sizeof,
// unsafe.Offsetof), its constants, and the values of its globals.
package main

import (
	"encoding/json"
	"os"
	"unsafe"
)

type Inner struct {
	A int8
	B int64
}

type Base struct {
	ID   int32
	Kind uint16
}

type Color uint8

const (
	Red Color = iota
	Green
	Blue
)

const Answer = 42

type Code int

func (c Code) Error() string { return "code" }

type Node struct {
	Val  int
	Next *Node
}

type Ints []int

type Lookup map[string]*Node

type T struct {
	Base
	Name  string
	In    Inner
	Arr   [3]uint16
	Pairs [2]Inner
	Sl    []int
	P     *Inner
	E     any
	Err   error
	M     map[string]int
	C     chan int
	F     func()
	U     unsafe.Pointer
	Cx    complex128
	Flag  bool
	F32   float32
	F64   float64
	I16   int16
	U32   uint32
	Col   Color
	Named Ints
	Lk    Lookup
	Bytes []byte
	Strs  []string
	Anon  struct{ X, Y int }
	Tail  uint8
}

var (
	gT = T{
		Base:  Base{ID: 7, Kind: 3},
		Name:  "hi",
		In:    Inner{A: -3, B: 1 << 40},
		Arr:   [3]uint16{1, 2, 65535},
		Pairs: [2]Inner{{A: 1, B: 2}, {A: 3, B: 4}},
		Sl:    []int{10, 20, 30},
		Cx:    complex(1, -2.5),
		Flag:  true,
		F32:   1.1,
		F64:   -0.25,
		I16:   -300,
		U32:   4000000000,
		Col:   Blue,
		Named: Ints{4, 5},
		Bytes: []byte("ab"),
		Strs:  []string{"x", "yz"},
		Anon:  struct{ X, Y int }{X: 5, Y: 6},
		Tail:  9,
	}
	gInt           = 42
	gStr           = "hello, 世界"
	gSl            = []int{1, 2, 3}
	gP             = &Inner{A: 1, B: 2}
	gE       any   = 5
	gEStr    any   = "boxed"
	gErr     error = Code(7)
	gColor         = Green
	gNode          = &Node{Val: 1, Next: &Node{Val: 2}}
	cache          = map[string]int{"a": 1}
	gNilE    any
	gNilMap  map[string]int
	gEmptySl = []int{}
)

type layout struct {
	Size    uintptr            `json:"size"`
	Offsets map[string]uintptr `json:"offsets"`
}

func main() {
	var t T
	var n Node
	truth := map[string]any{
		"layouts": map[string]layout{
			"main.T": {unsafe.Sizeof(t), map[string]uintptr{
				"Base": unsafe.Offsetof(t.Base), "Name": unsafe.Offsetof(t.Name),
				"In": unsafe.Offsetof(t.In), "In.B": unsafe.Offsetof(t.In) + unsafe.Offsetof(t.In.B),
				"Arr": unsafe.Offsetof(t.Arr), "Pairs": unsafe.Offsetof(t.Pairs), "Sl": unsafe.Offsetof(t.Sl),
				"P": unsafe.Offsetof(t.P), "E": unsafe.Offsetof(t.E), "Err": unsafe.Offsetof(t.Err),
				"M": unsafe.Offsetof(t.M), "C": unsafe.Offsetof(t.C), "F": unsafe.Offsetof(t.F),
				"U": unsafe.Offsetof(t.U), "Cx": unsafe.Offsetof(t.Cx), "Flag": unsafe.Offsetof(t.Flag),
				"F32": unsafe.Offsetof(t.F32), "F64": unsafe.Offsetof(t.F64), "I16": unsafe.Offsetof(t.I16),
				"U32": unsafe.Offsetof(t.U32), "Col": unsafe.Offsetof(t.Col), "Named": unsafe.Offsetof(t.Named),
				"Lk": unsafe.Offsetof(t.Lk), "Bytes": unsafe.Offsetof(t.Bytes), "Strs": unsafe.Offsetof(t.Strs),
				"Anon": unsafe.Offsetof(t.Anon), "Anon.Y": unsafe.Offsetof(t.Anon) + unsafe.Offsetof(t.Anon.Y),
				"Tail": unsafe.Offsetof(t.Tail),
				// promoted from the embedded Base
				"ID": unsafe.Offsetof(t.ID), "Kind": unsafe.Offsetof(t.Kind),
			}},
			"main.Inner": {unsafe.Sizeof(t.In), map[string]uintptr{"A": unsafe.Offsetof(t.In.A), "B": unsafe.Offsetof(t.In.B)}},
			"main.Base":  {unsafe.Sizeof(t.Base), map[string]uintptr{"ID": unsafe.Offsetof(t.Base.ID), "Kind": unsafe.Offsetof(t.Base.Kind)}},
			"main.Node":  {unsafe.Sizeof(n), map[string]uintptr{"Val": unsafe.Offsetof(n.Val), "Next": unsafe.Offsetof(n.Next)}},
		},
		"constants": map[string]int64{"main.Answer": Answer, "main.Red": int64(Red), "main.Green": int64(Green), "main.Blue": int64(Blue)},
		"values": map[string]any{
			"main.gInt": gInt, "main.gStr": gStr, "main.gSl": gSl, "main.gColor": gColor,
			"main.gT.Name": gT.Name, "main.gT.In.B": gT.In.B, "main.gT.Arr": gT.Arr, "main.gT.Sl": gT.Sl,
			"main.gT.I16": gT.I16, "main.gT.U32": gT.U32, "main.gT.F64": gT.F64, "main.gT.Strs": gT.Strs,
			"main.gT.ID": gT.ID, "main.gT.Tail": gT.Tail, "main.gNode.Val": gNode.Val, "main.gP.B": gP.B,
			"main.gE": gE, "main.gEStr": gEStr, "main.gErr": int(gErr.(Code)),
		},
		"lens":          map[string]int{"main.cache": len(cache), "main.gNilMap": len(gNilMap), "main.gEmptySl": len(gEmptySl)},
		"nil_interface": gNilE == nil,
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(truth); err != nil {
		panic(err)
	}
}
