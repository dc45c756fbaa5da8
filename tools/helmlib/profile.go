package main

// A CPU profile of the library's Go code, for benchmarks: with GOTK_HELM_CPUPROFILE=FILE in the environment the
// library profiles itself from the moment it is loaded for GOTK_HELM_CPUPROFILE_SECONDS (default 60), then writes
// FILE (read it with `go tool pprof -top FILE`). Off unless asked for.

import (
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

func init() {
	path := os.Getenv("GOTK_HELM_CPUPROFILE")
	if path == "" {
		return
	}
	seconds, err := strconv.Atoi(os.Getenv("GOTK_HELM_CPUPROFILE_SECONDS"))
	if err != nil || seconds <= 0 {
		seconds = 60
	}
	f, err := os.Create(path)
	if err != nil {
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return
	}
	go func() {
		time.Sleep(time.Duration(seconds) * time.Second)
		pprof.StopCPUProfile()
		_ = f.Close()
	}()
}
