// Go TLS echo server for the W8 benchmark (crypto/tls, one goroutine per connection).
//
// Usage: go_tls_echo CERT KEY [PORT]
//
// Listens on 127.0.0.1:PORT (default 0: any free port) with the certificate chain CERT and
// private key KEY (PEM files), prints "PORT <n>" on stdout and serves until killed: each
// connection loops Read into a 64 KiB buffer / Write of what came (the handshake runs on the
// first Read). crypto/tls's defaults otherwise (TLS 1.2 and 1.3, one session ticket after a
// TLS 1.3 handshake). Run with GOMAXPROCS=1 for the single-core comparison. Go sets
// TCP_NODELAY on TCP connections by default. Standard library only.
package main

import (
	"crypto/tls"
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

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: go_tls_echo CERT KEY [PORT]")
		os.Exit(2)
	}
	cert, err := tls.LoadX509KeyPair(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	port := 0
	if len(os.Args) > 3 {
		if port, err = strconv.Atoi(os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "bad port", os.Args[3])
			os.Exit(2)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("PORT %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	for {
		c, err := tln.Accept()
		if err != nil {
			// EMFILE and the like: keep serving the connections already open.
			time.Sleep(time.Millisecond)
			continue
		}
		go echo(c)
	}
}
