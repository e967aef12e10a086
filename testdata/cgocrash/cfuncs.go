package main

/*
#include <stddef.h>
#include <unistd.h>

// The C side of the crash: c_crash -> c_descend (CRASH_DEPTH times) -> c_deref,
// which reads through a NULL pointer. noinline and the work after each call keep
// every function a frame of its own at -O2 (no inlining, no sibling calls), so a
// debugger's backtrace of the faulting thread lists them all.
#define CRASH_DEPTH 3

static volatile int sink;

__attribute__((noinline)) int c_deref(volatile int *p) {
	return *p + 1;
}

__attribute__((noinline)) int c_descend(volatile int *p, int depth) {
	int r = depth > 1 ? c_descend(p, depth - 1) : c_deref(p);
	sink += r;
	return r + depth;
}

__attribute__((noinline)) int c_crash(void) {
	int r = c_descend(NULL, CRASH_DEPTH);
	sink += r;
	return r;
}

// c_block parks its goroutine's thread inside C for good.
__attribute__((noinline)) void c_block(void) {
	for (;;) {
		sleep(3600);
	}
}
*/
import "C"

// cCrashFrames is the faulting thread's C call chain, innermost first, as a
// debugger lists it (c_descend once per level of CRASH_DEPTH).
var cCrashFrames = []string{"c_deref", "c_descend", "c_descend", "c_descend", "c_crash"}

func crashInC() { C.c_crash() }

func blockInC() { C.c_block() }
