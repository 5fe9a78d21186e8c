// Go peer for the asyncio-cpp benchmarks (goroutines, channels, sync).
//
// Usage: go_bench W1 N [D] | W2g N | W2w N | W3 N | W4 N | W5 TASKS ITERS | W6t N | W6s N
// Prints exactly one line on stdout:
//
//	RESULT impl=<go|go1> workload=<W> n=<N> wall_s=<f> rss_kb=<i> ns_per_op=<f>
//
// impl is "go1" when GOMAXPROCS=1 is in effect, "go" otherwise. For W5,
// n = TASKS*ITERS (one op = one locked increment); for W4 one op is one round
// trip; for W6t one op is one thread-hop round trip; for W6s one op is one
// posted closure. A failed self-check prints on stderr and exits with status 1.
// Standard library only: builds offline.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "self-check failed: "+format+"\n", a...)
	os.Exit(1)
}

// lcgDelayMs is the per-index pseudo-random delay in milliseconds, [0, 1000).
func lcgDelayMs(i int) int {
	x := (uint64(i)*2654435761 + 12345) & 0xFFFFFFFF
	return int(x % 1000)
}

func expectedW2(n int) int {
	f := 0
	for i := 0; i < n; i++ {
		if lcgDelayMs(i) > 400 {
			f++
		}
	}
	return f
}

var errWorker = errors.New("worker failed")

// w2Worker sleeps its delay and fails when delay > 0.4 s.
func w2Worker(i int) (int, error) {
	ms := lcgDelayMs(i)
	time.Sleep(time.Duration(ms) * time.Millisecond)
	if ms > 400 {
		return 0, errWorker
	}
	return i, nil
}

// W1: N goroutines each sleep D; a WaitGroup plays the part of gather.
func w1(n int, d float64) time.Duration {
	dur := time.Duration(d * float64(time.Second))
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(dur)
			wg.Done()
		}()
	}
	wg.Wait()
	return time.Since(t0)
}

// W2g: gather with return_exceptions = every goroutine stores its result or
// error in its own slot; WaitGroup waits for all.
func w2g(n int) time.Duration {
	t0 := time.Now()
	vals := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			vals[i], errs[i] = w2Worker(i)
			wg.Done()
		}(i)
	}
	wg.Wait()
	wall := time.Since(t0)
	fails := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			fails++
		} else if vals[i] != i {
			die("W2g value %d at %d", vals[i], i)
		}
	}
	if fails != expectedW2(n) {
		die("W2g fails=%d", fails)
	}
	return wall
}

// W2w: wait(FIRST_EXCEPTION) = the first error is sent on a cap-1 channel that
// main receives from; then (no cancellation) main waits for all on a WaitGroup.
func w2w(n int) time.Duration {
	t0 := time.Now()
	first := make(chan int, 1)
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			_, errs[i] = w2Worker(i)
			if errs[i] != nil {
				select {
				case first <- i:
				default:
				}
			}
			wg.Done()
		}(i)
	}
	<-first
	wg.Wait()
	wall := time.Since(t0)
	fails := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			fails++
		}
	}
	if fails != expectedW2(n) {
		die("W2w fails=%d", fails)
	}
	return wall
}

// W3: spawn trivial goroutines in batches of 1,000, each writes its index in
// its slot; WaitGroup per batch; sum.
func w3(n int) time.Duration {
	const batch = 1000
	res := make([]int, batch)
	var total int64
	t0 := time.Now()
	for b := 0; b < n; b += batch {
		m := batch
		if n-b < m {
			m = n - b
		}
		var wg sync.WaitGroup
		wg.Add(m)
		for k := 0; k < m; k++ {
			go func(k, i int) {
				res[k] = i
				wg.Done()
			}(k, b+k)
		}
		wg.Wait()
		for k := 0; k < m; k++ {
			total += int64(res[k])
		}
	}
	wall := time.Since(t0)
	if total != int64(n)*int64(n-1)/2 {
		die("W3 sum=%d", total)
	}
	return wall
}

// W4: ping-pong through two channels of capacity 1.
func w4(n int) time.Duration {
	q1 := make(chan int, 1)
	q2 := make(chan int, 1)
	t0 := time.Now()
	done := make(chan struct{})
	go func() {
		for k := 0; k < n; k++ {
			v := <-q1
			q2 <- v + 1
		}
		close(done)
	}()
	for i := 0; i < n; i++ {
		q1 <- i
		if v := <-q2; v != i+1 {
			die("W4 got %d want %d", v, i+1)
		}
	}
	<-done
	return time.Since(t0)
}

// W5: TASKS goroutines increment a shared counter ITERS times each under one
// sync.Mutex, yielding (runtime.Gosched) inside the critical section.
func w5(tasks, iters int) time.Duration {
	var mu sync.Mutex
	counter := 0
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(tasks)
	for t := 0; t < tasks; t++ {
		go func() {
			for k := 0; k < iters; k++ {
				mu.Lock()
				v := counter
				runtime.Gosched()
				counter = v + 1
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	if counter != tasks*iters {
		die("W5 counter=%d", counter)
	}
	return wall
}

// W6t: Go has no event loop and no to_thread(): a goroutine may already run
// on any OS thread. The nearest equivalent of "hand a call to a worker, get
// the result back" is a round trip to a worker goroutine: send i over an
// unbuffered channel, the worker computes i+1 and sends it back over another.
func w6t(n int) time.Duration {
	req := make(chan int)
	resp := make(chan int)
	go func() {
		for v := range req {
			resp <- v + 1
		}
	}()
	req <- 0 // start the worker before timing
	<-resp
	var total int64
	t0 := time.Now()
	for i := 0; i < n; i++ {
		req <- i
		total += int64(<-resp)
	}
	wall := time.Since(t0)
	close(req)
	if total != int64(n)*int64(n+1)/2 {
		die("W6t sum=%d", total)
	}
	return wall
}

// W6s: the nearest equivalent of call_soon_threadsafe: another goroutine
// sends N closures over a buffered channel (cap 1024) and the main goroutine,
// playing the loop, receives and runs them; each adds one to a counter and
// the last one ends the loop. Timed from before starting the poster.
func w6s(n int) time.Duration {
	ch := make(chan func(), 1024)
	counter := 0
	running := true
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- func() {
				counter++
				if counter == n {
					running = false
				}
			}
		}
	}()
	for running {
		(<-ch)()
	}
	wall := time.Since(t0)
	if counter != n {
		die("W6s counter=%d", counter)
	}
	return wall
}

func argInt(args []string, k int, def int) int {
	if k < len(args) {
		v, err := strconv.Atoi(args[k])
		if err != nil {
			die("bad integer %q", args[k])
		}
		return v
	}
	if def < 0 {
		fmt.Fprintln(os.Stderr, "usage: go_bench W1 N [D] | W2g N | W2w N | W3 N | W4 N | W5 TASKS ITERS | W6t N | W6s N")
		os.Exit(2)
	}
	return def
}

func main() {
	if len(os.Args) < 2 {
		argInt(nil, 0, -1)
	}
	w := os.Args[1]
	args := os.Args[2:]
	impl := "go"
	if runtime.GOMAXPROCS(0) == 1 {
		impl = "go1"
	}
	var n int
	var wall time.Duration
	switch w {
	case "W1":
		n = argInt(args, 0, -1)
		d := 1.0
		if len(args) > 1 {
			var err error
			if d, err = strconv.ParseFloat(args[1], 64); err != nil {
				die("bad float %q", args[1])
			}
		}
		wall = w1(n, d)
	case "W2g":
		n = argInt(args, 0, 100000)
		wall = w2g(n)
	case "W2w":
		n = argInt(args, 0, 100000)
		wall = w2w(n)
	case "W3":
		n = argInt(args, 0, -1)
		wall = w3(n)
	case "W4":
		n = argInt(args, 0, -1)
		wall = w4(n)
	case "W5":
		tasks := argInt(args, 0, 1000)
		iters := argInt(args, 1, 100)
		n = tasks * iters
		wall = w5(tasks, iters)
	case "W6t":
		n = argInt(args, 0, 100000)
		wall = w6t(n)
	case "W6s":
		n = argInt(args, 0, 1000000)
		wall = w6s(n)
	default:
		fmt.Fprintf(os.Stderr, "unknown workload %s\n", w)
		os.Exit(2)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := wall.Seconds()
	fmt.Printf("RESULT impl=%s workload=%s n=%d wall_s=%.6f rss_kb=%d ns_per_op=%.1f\n",
		impl, w, n, s, ru.Maxrss, s*1e9/float64(n))
}
