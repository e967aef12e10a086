//go:build go1.26 || goexperiment.swissmap

package main

import (
	"reflect"
	"unsafe"
)

const mapImpl = "swiss"

// swissMap mirrors the head of internal/runtime/maps.Map (Go 1.24 to 1.27).
type swissMap struct {
	used        uint64
	seed        uintptr
	dirPtr      unsafe.Pointer
	dirLen      int
	globalDepth uint8
}

func stateOfValue(v reflect.Value) state {
	if v.IsNil() {
		return state{Nil: true}
	}
	m := (*swissMap)(v.UnsafePointer())
	return state{DirLen: m.dirLen, GlobalDepth: int(m.globalDepth), Small: m.dirLen == 0}
}
