package main

import "reflect"

// state is what the program itself reads from a map's runtime header, for
// tests of godbg's --stats.
type state struct {
	Nil          bool `json:"nil"`
	B            int  `json:"B"`
	Growing      bool `json:"growing"`
	SameSizeGrow bool `json:"same_size_grow"`
	DirLen       int  `json:"dir_len"`
	GlobalDepth  int  `json:"global_depth"`
	Small        bool `json:"small"`
}

func stateOf[K comparable, V any](m map[K]V) state {
	return stateOfValue(reflect.ValueOf(m))
}
