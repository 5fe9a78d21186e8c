// W9's Go peer: net/http, GET /13 and /64k, keep-alive. Prints "PORT <n>" once listening.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

func main() {
	addr := "127.0.0.1:0"
	if len(os.Args) > 1 {
		addr = "127.0.0.1:" + os.Args[1]
	}
	small := []byte("Hello, world!")
	big := []byte(strings.Repeat("x", 64*1024))
	mux := http.NewServeMux()
	mux.HandleFunc("/13", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(small)
	})
	mux.HandleFunc("/64k", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(big)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		panic(err)
	}
	fmt.Printf("PORT %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	http.Serve(ln, mux)
}
