/* raw_echo: the W7 baseline, a minimal echo server on raw epoll (C, one thread).
 *
 *   raw_echo [PORT]      listens on 127.0.0.1:PORT (default 0: any free port), prints
 *                        "PORT <n>" on stdout, then echoes every byte on every connection
 *                        until killed.
 *
 * Level-triggered epoll; per readable event one recv() into a 64 KiB buffer and one
 * send() of what came. A short send keeps the rest in a per-connection buffer, stops
 * reading that connection and waits for EPOLLOUT (so memory per connection stays
 * bounded). TCP_NODELAY on every accepted socket, as CPython's transports do. It is the
 * floor the other servers are measured against, and the proof that the load generator
 * is not the bottleneck (the generator must drive it faster than every other server). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct pending {
    size_t off, len;
    char data[];
};

static struct pending** pend; /* indexed by fd; NULL when nothing is waiting to be sent */
static size_t pend_cap;
static int ep;

static void die(const char* what) {
    fprintf(stderr, "raw_echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void drop(int fd) {
    if ((size_t)fd < pend_cap) {
        free(pend[fd]);
        pend[fd] = NULL;
    }
    close(fd); /* also removes it from the epoll set */
}

static void watch(int fd, unsigned events, int op) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(ep, op, fd, &ev) < 0) die("epoll_ctl");
}

/* Sends p's rest; returns 1 when all is sent, 0 when the socket is full, -1 on error. */
static int flush(int fd, struct pending* p) {
    while (p->off < p->len) {
        ssize_t n = send(fd, p->data + p->off, p->len - p->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        }
        p->off += (size_t)n;
    }
    return 1;
}

int main(int argc, char** argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    pend_cap = rl.rlim_cur > 0 && rl.rlim_cur < (1u << 20) ? (size_t)rl.rlim_cur : (1u << 20);
    pend = calloc(pend_cap, sizeof *pend);
    if (!pend) die("calloc");

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

    static char buf[65536];
    struct epoll_event evs[512];
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                for (;;) {
                    int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break; /* EAGAIN, or EMFILE & co: try again on the next event */
                    if ((size_t)c >= pend_cap) {
                        close(c);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    watch(c, EPOLLIN, EPOLL_CTL_ADD);
                }
                continue;
            }
            struct pending* p = pend[fd];
            if (p) { /* waiting for EPOLLOUT */
                int r = flush(fd, p);
                if (r < 0) {
                    drop(fd);
                } else if (r == 1) {
                    free(p);
                    pend[fd] = NULL;
                    watch(fd, EPOLLIN, EPOLL_CTL_MOD);
                }
                continue;
            }
            ssize_t got = recv(fd, buf, sizeof buf, 0);
            if (got < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
                drop(fd);
                continue;
            }
            if (got == 0) {
                drop(fd);
                continue;
            }
            ssize_t sent = send(fd, buf, (size_t)got, MSG_NOSIGNAL);
            if (sent < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    drop(fd);
                    continue;
                }
                sent = 0;
            }
            if (sent < got) {
                p = malloc(sizeof *p + (size_t)(got - sent));
                if (!p) die("malloc");
                p->off = 0;
                p->len = (size_t)(got - sent);
                memcpy(p->data, buf + sent, p->len);
                pend[fd] = p;
                watch(fd, EPOLLOUT, EPOLL_CTL_MOD);
            }
        }
    }
}
