// W9 client side, Go net/http: N GETs over C keep-alive connections (one goroutine per
// connection). argv: url requests connections. Prints "RESULT wall_s=<s> n=<N>".
// Run with GOMAXPROCS=1 (one core, like the others).
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	url := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	c, _ := strconv.Atoi(os.Args[3])
	tr := &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := 0; i < c; i++ {
		count := n / c
		if i < n%c {
			count++
		}
		wg.Add(1)
		go func(count int) {
			defer wg.Done()
			for j := 0; j < count; j++ {
				resp, err := client.Get(url)
				if err != nil {
					panic(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					panic(resp.Status)
				}
			}
		}(count)
	}
	wg.Wait()
	fmt.Printf("RESULT wall_s=%.6f n=%d\n", time.Since(t0).Seconds(), n)
}
