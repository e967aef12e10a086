//go:build !go1.26 && !goexperiment.swissmap

package main

import (
	"reflect"
	"unsafe"
)

const mapImpl = "classic"

// hmap mirrors the head of runtime.hmap (runtime/map.go, map_noswiss.go),
// unchanged in its first fields from Go 1.22 to 1.25.
type hmap struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
}

// flagSameSizeGrow is runtime.sameSizeGrow.
const flagSameSizeGrow = 8

func stateOfValue(v reflect.Value) state {
	if v.IsNil() {
		return state{Nil: true}
	}
	h := (*hmap)(v.UnsafePointer())
	return state{
		B:            int(h.B),
		Growing:      h.oldbuckets != nil,
		SameSizeGrow: h.flags&flagSameSizeGrow != 0,
	}
}
