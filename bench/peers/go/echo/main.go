// Go echo server for the W7 benchmark (net package, one goroutine per connection).
//
// Usage: go_echo echo|lines [PORT]
//
// Listens on 127.0.0.1:PORT (default 0: any free port), prints "PORT <n>" on stdout
// and serves until killed. Run with GOMAXPROCS=1 for the single-core comparison.
//
//	echo   each connection loops Read into a 64 KiB buffer / Write of what came
//	lines  each connection loops bufio.Reader.ReadString('\n') / Write (the idle
//	       connections of the memory measurement wait in ReadString)
//
// Go sets TCP_NODELAY on TCP connections by default. Standard library only.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 65536)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func lines(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if len(line) > 0 {
			if _, werr := c.Write([]byte(line)); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "echo" && os.Args[1] != "lines") {
		fmt.Fprintln(os.Stderr, "usage: go_echo echo|lines [PORT]")
		os.Exit(2)
	}
	port := 0
	if len(os.Args) > 2 {
		var err error
		if port, err = strconv.Atoi(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bad port", os.Args[2])
			os.Exit(2)
		}
	}
	handle := echo
	if os.Args[1] == "lines" {
		handle = lines
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("PORT %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	for {
		c, err := ln.Accept()
		if err != nil {
			// EMFILE and the like: keep serving the connections already open.
			time.Sleep(time.Millisecond)
			continue
		}
		go handle(c)
	}
}
