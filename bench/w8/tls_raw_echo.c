/* tls_raw_echo: the W8 baseline, a TLS echo server on OpenSSL in a raw epoll loop (C, one
 * thread).
 *
 *   tls_raw_echo CERT KEY [PORT]   listens on 127.0.0.1:PORT (default 0: any free port),
 *                                  prints "PORT <n>" on stdout, then serves TLS with the
 *                                  certificate chain CERT and private key KEY (PEM files),
 *                                  echoing every byte on every connection until killed.
 *
 * OpenSSL's defaults for a server (TLS_server_method: TLS 1.2 and 1.3, its cipher suites
 * and groups, two session tickets after each TLS 1.3 handshake), as the other servers keep
 * theirs. Level-triggered epoll; a connection first runs SSL_accept until the handshake is
 * done, then on each readable event SSL_read()s into a 64 KiB buffer and SSL_write()s what
 * came, until SSL_read wants more bytes. A write the socket cannot take keeps the rest in a
 * per-connection buffer, stops reading that connection and waits for EPOLLOUT (memory per
 * connection stays bounded). Read-ahead is on: one read() takes what the socket holds instead
 * of a header, then a body, per record, as the memory-BIO servers (CPython's, ours) read the
 * socket in big chunks. close_notify from the client is answered with ours, then the
 * connection is closed; any error closes it. TCP_NODELAY on every accepted socket, as
 * CPython's transports do. It is the floor the other servers are measured against, and the
 * proof that the load generator is not the bottleneck. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
    SSL* ssl;
    int handshaking;
    size_t off, len; /* the unsent rest of an echo in pend[off, len) */
    char* pend;
};

static struct conn** conns; /* indexed by fd */
static size_t conns_cap;
static int ep;

static void die(const char* what) {
    fprintf(stderr, "tls_raw_echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void ssl_die(const char* what) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    fprintf(stderr, "tls_raw_echo: %s: %s\n", what, buf);
    exit(1);
}

static void drop(int fd) {
    struct conn* c = conns[fd];
    if (c) {
        SSL_free(c->ssl);
        free(c->pend);
        free(c);
        conns[fd] = NULL;
    }
    ERR_clear_error();
    close(fd); /* also removes it from the epoll set */
}

static void watch(int fd, unsigned events, int op) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

/* Writes data[0, len) with partial writes; returns the bytes taken, or -1 on an error. Stops
 * early when the socket is full. */
static long write_some(SSL* ssl, const char* data, size_t len) {
    size_t done = 0;
    while (done < len) {
        ERR_clear_error();
        int n = SSL_write(ssl, data + done, (int)(len - done));
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        int e = SSL_get_error(ssl, n);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) break;
        return -1;
    }
    return (long)done;
}

/* Handles a readiness event on a connection. */
static void serve(int fd, struct conn* c) {
    static char buf[65536];
    if (c->handshaking) {
        ERR_clear_error();
        int r = SSL_accept(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                watch(fd, EPOLLIN, EPOLL_CTL_MOD);
            else if (e == SSL_ERROR_WANT_WRITE)
                watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
            else
                drop(fd);
            return;
        }
        c->handshaking = 0;
        watch(fd, EPOLLIN, EPOLL_CTL_MOD);
    }
    if (c->pend) { /* waiting for EPOLLOUT */
        long n = write_some(c->ssl, c->pend + c->off, c->len - c->off);
        if (n < 0) return drop(fd);
        c->off += (size_t)n;
        if (c->off < c->len) return;
        free(c->pend);
        c->pend = NULL;
        watch(fd, EPOLLIN, EPOLL_CTL_MOD);
    }
    /* Echo until SSL_read wants more bytes. No bound on the rounds: with read-ahead, records
     * OpenSSL already holds would not be reported by epoll again. */
    for (;;) {
        ERR_clear_error();
        int got = SSL_read(c->ssl, buf, (int)sizeof buf);
        if (got <= 0) {
            int e = SSL_get_error(c->ssl, got);
            if (e == SSL_ERROR_WANT_READ) return;
            if (e == SSL_ERROR_ZERO_RETURN) SSL_shutdown(c->ssl); /* answer close_notify */
            return drop(fd);
        }
        long sent = write_some(c->ssl, buf, (size_t)got);
        if (sent < 0) return drop(fd);
        if ((size_t)sent < (size_t)got) {
            c->len = (size_t)got - (size_t)sent;
            c->off = 0;
            c->pend = malloc(c->len);
            if (!c->pend) die("malloc");
            memcpy(c->pend, buf + sent, c->len);
            watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
            return;
        }
    }
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tls_raw_echo CERT KEY [PORT]\n");
        return 2;
    }
    int port = argc > 3 ? atoi(argv[3]) : 0;
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) ssl_die("SSL_CTX_new");
    if (SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1) ssl_die(argv[1]);
    if (SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1) ssl_die(argv[2]);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    signal(SIGPIPE, SIG_IGN); /* OpenSSL write()s: a peer gone is an error, not a signal */

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    conns_cap = rl.rlim_cur > 0 && rl.rlim_cur < (1u << 20) ? (size_t)rl.rlim_cur : (1u << 20);
    conns = calloc(conns_cap, sizeof *conns);
    if (!conns) die("calloc");

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ls < 0) die("socket");
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr*)&a, sizeof a) < 0) die("bind");
    if (listen(ls, 4096) < 0) die("listen");
    socklen_t alen = sizeof a;
    if (getsockname(ls, (struct sockaddr*)&a, &alen) < 0) die("getsockname");
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    watch(ls, EPOLLIN, EPOLL_CTL_ADD);
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);

    struct epoll_event evs[512];
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            int fd = evs[i].data.fd;
            if (fd != ls) {
                if (conns[fd]) serve(fd, conns[fd]);
                continue;
            }
            for (;;) {
                int s = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (s < 0) break; /* EAGAIN, or EMFILE & co: try again on the next event */
                struct conn* c = calloc(1, sizeof *c);
                if ((size_t)s >= conns_cap || !c || !(c->ssl = SSL_new(ctx)) ||
                    !SSL_set_fd(c->ssl, s)) {
                    if (c) SSL_free(c->ssl);
                    free(c);
                    ERR_clear_error();
                    close(s);
                    continue;
                }
                setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                SSL_set_accept_state(c->ssl);
                c->handshaking = 1;
                conns[s] = c;
                watch(s, EPOLLIN, EPOLL_CTL_ADD);
            }
        }
    }
}
