/* echo_load: the W7 load generator and idle-connection client (C, epoll, one thread).
 *
 *   echo_load run HOST PORT CONNS SIZE SECS [WARMUP_S] [--verify]
 *       CONNS connections, each in a closed loop: send one SIZE-byte message, wait for
 *       the whole echo, send the next. Runs WARMUP_S (default 0.5) unmeasured, then
 *       SECS measured, then stops. Prints one line:
 *         LOAD conns=<n> size=<b> secs=<f> msgs=<n> msgs_per_s=<f> mib_per_s=<f>
 *              p50_us=<f> p99_us=<f> p999_us=<f> cpu_pct=<f> all_msgs=<n>
 *       mib_per_s counts echoed payload in one direction (msgs * SIZE / 2^20 per second);
 *       latency is send-of-first-byte to receipt-of-last-byte of a message; cpu_pct is
 *       this process's user+system CPU time over the measured window (below ~95 % the
 *       generator was waiting for the server, not the other way round); all_msgs counts
 *       the warm-up's messages too (to divide a server's CPU time over the whole run by).
 *       Each message carries a sequence number in its first and last 8 bytes, checked
 *       on every echo; --verify compares every byte.
 *
 *   echo_load hold HOST PORT N [SERVER_PID]
 *       Opens N connections and keeps them open, idle. With SERVER_PID, connects in
 *       batches and waits for the server's /proc/PID/fd count to follow, so that its
 *       accept backlog never overflows. Prints "CONNECTED <n>". Then reads commands on
 *       stdin: "check" sends "ping\n" on every connection and waits for "ping\n" back on
 *       each (prints "CHECKED ok=<n> failed=<m>"); "close" or end of input closes them
 *       all and exits.
 *
 * Loopback only: HOST must be a numeric 127.x.y.z address. Bounded in time: a run stops
 * after WARMUP_S + SECS; every wait in hold mode gives up after 120 s. Exit status 1 on
 * any error (refused, reset, wrong echo), with the reason on stderr. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char* what) {
    fprintf(stderr, "echo_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

static void fail(const char* msg) {
    fprintf(stderr, "echo_load: %s\n", msg);
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static struct sockaddr_in parse_addr(const char* host, const char* port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(port));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) fail("HOST must be a numeric IPv4 address");
    if ((ntohl(a.sin_addr.s_addr) >> 24) != 127)
        fail("HOST must be a loopback address (127.x.y.z)");
    return a;
}

static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl");
}

/* Blocking connect, then non-blocking with TCP_NODELAY. */
static int connect_one(const struct sockaddr_in* a) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr*)a, sizeof *a) < 0) die("connect");
    set_nonblocking(fd);
    return fd;
}

/* ---------------------------------------------------------------- latency histogram
 * Log-linear buckets: 32 per power of two of nanoseconds (about 2 % resolution). */
#define SUB_BITS 5
#define NBUCKETS (64 << SUB_BITS)
static uint64_t hist[NBUCKETS];

static unsigned bucket_of(uint64_t ns) {
    if (ns < (1u << SUB_BITS)) return (unsigned)ns;
    unsigned msb = 63 - (unsigned)__builtin_clzll(ns);
    unsigned sub = (unsigned)(ns >> (msb - SUB_BITS)) & ((1u << SUB_BITS) - 1);
    return ((msb - SUB_BITS + 1) << SUB_BITS) + sub;
}

static double bucket_mid_ns(unsigned b) {
    if (b < (1u << SUB_BITS)) return b;
    unsigned msb = (b >> SUB_BITS) + SUB_BITS - 1;
    unsigned sub = b & ((1u << SUB_BITS) - 1);
    double lo = (double)(((uint64_t)(sub | (1u << SUB_BITS))) << (msb - SUB_BITS));
    double width = (double)(1ull << (msb - SUB_BITS));
    return lo + width / 2;
}

static double percentile_us(uint64_t total, double p) {
    if (total == 0) return 0;
    uint64_t rank = (uint64_t)(p * (double)total);
    if (rank >= total) rank = total - 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < NBUCKETS; ++b) {
        seen += hist[b];
        if (seen > rank) return bucket_mid_ns(b) / 1000.0;
    }
    return 0;
}

/* ---------------------------------------------------------------- run mode */
struct conn {
    int fd;
    int want_out;  /* EPOLLOUT registered: the message is partly sent */
    uint32_t sent; /* bytes of the current message sent */
    uint32_t got;  /* bytes of its echo received */
    uint64_t seq;  /* sequence number of the current message */
    uint64_t t0;   /* when its first byte was sent */
    unsigned char* sbuf;
    unsigned char* rbuf;
};

static size_t g_size;
static int g_ep;

static void stamp(struct conn* c) {
    /* Sequence number (with the connection's fd mixed in) in the first and last 8 bytes. */
    uint64_t tag = (c->seq << 20) ^ (uint64_t)c->fd;
    memcpy(c->sbuf, &tag, 8);
    memcpy(c->sbuf + g_size - 8, &tag, 8);
}

static void set_out(struct conn* c, int on) {
    if (c->want_out == on) return;
    struct epoll_event ev;
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
    ev.data.ptr = c;
    if (epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
    c->want_out = on;
}

static void push(struct conn* c) {
    while (c->sent < g_size) {
        ssize_t n = send(c->fd, c->sbuf + c->sent, g_size - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_out(c, 1);
                return;
            }
            if (errno == EINTR) continue;
            die("send");
        }
        c->sent += (uint32_t)n;
    }
    set_out(c, 0);
}

static void start_message(struct conn* c, uint64_t t) {
    c->seq++;
    c->sent = c->got = 0;
    c->t0 = t;
    stamp(c);
    push(c);
}

static int run_mode(int argc, char** argv) {
    if (argc < 7) fail("usage: echo_load run HOST PORT CONNS SIZE SECS [WARMUP_S] [--verify]");
    struct sockaddr_in addr = parse_addr(argv[2], argv[3]);
    int nconns = atoi(argv[4]);
    long size = atol(argv[5]);
    double secs = atof(argv[6]);
    double warm = 0.5;
    int verify = 0;
    for (int i = 7; i < argc; ++i) {
        if (strcmp(argv[i], "--verify") == 0)
            verify = 1;
        else
            warm = atof(argv[i]);
    }
    if (nconns < 1 || nconns > 10000) fail("CONNS must be in [1, 10000]");
    if (size < 16 || size > (16 << 20)) fail("SIZE must be in [16, 16 MiB]");
    if (!(secs > 0 && secs <= 600) || !(warm >= 0 && warm <= 60))
        fail("SECS in (0, 600], WARMUP_S in [0, 60]");
    g_size = (size_t)size;
    raise_fd_limit();

    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) die("epoll_create1");
    struct conn* conns = calloc((size_t)nconns, sizeof *conns);
    if (!conns) die("calloc");
    for (int i = 0; i < nconns; ++i) {
        struct conn* c = &conns[i];
        c->fd = connect_one(&addr);
        c->sbuf = malloc(g_size);
        c->rbuf = malloc(g_size);
        if (!c->sbuf || !c->rbuf) die("malloc");
        for (size_t k = 0; k < g_size; ++k)
            c->sbuf[k] = (unsigned char)('a' + (k + (size_t)i) % 26);
        struct epoll_event ev;
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
    }

    uint64_t t_start = now_ns();
    uint64_t t_meas = t_start + (uint64_t)(warm * 1e9);
    uint64_t t_end = t_meas + (uint64_t)(secs * 1e9);
    uint64_t msgs = 0, total = 0, all_msgs = 0;
    double cpu0 = 0;
    int measuring = 0;
    for (int i = 0; i < nconns; ++i) start_message(&conns[i], t_start);

    enum { MAXEV = 512 };
    struct epoll_event evs[MAXEV];
    uint64_t t = t_start;
    while (t < t_end) {
        int n = epoll_wait(g_ep, evs, MAXEV, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        t = now_ns();
        if (!measuring && t >= t_meas) {
            measuring = 1;
            cpu0 = cpu_s();
            t_meas = t;
        }
        for (int k = 0; k < n; ++k) {
            struct conn* c = evs[k].data.ptr;
            if ((evs[k].events & EPOLLOUT) && c->sent < g_size) push(c);
            if (!(evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
            ssize_t r = recv(c->fd, c->rbuf + c->got, g_size - c->got, 0);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
                die("recv");
            }
            if (r == 0) fail("server closed a connection");
            c->got += (uint32_t)r;
            if (c->got > c->sent) fail("received more than was sent");
            if (c->got < g_size) continue;
            if (memcmp(c->rbuf, c->sbuf, 8) != 0 ||
                memcmp(c->rbuf + g_size - 8, c->sbuf + g_size - 8, 8) != 0)
                fail("echo does not match the message (sequence tag)");
            if (verify && memcmp(c->rbuf, c->sbuf, g_size) != 0)
                fail("echo does not match the message");
            if (measuring) {
                ++msgs;
                ++total;
                hist[bucket_of(t - c->t0)]++;
            }
            ++all_msgs;
            if (t < t_end) start_message(c, t);
        }
    }
    double wall = (double)(t - t_meas) / 1e9;
    double cpu = cpu_s() - cpu0;
    if (!measuring || wall <= 0) fail("measurement window never started");
    printf(
        "LOAD conns=%d size=%ld secs=%.3f msgs=%llu msgs_per_s=%.1f mib_per_s=%.2f "
        "p50_us=%.1f p99_us=%.1f p999_us=%.1f cpu_pct=%.1f all_msgs=%llu\n",
        nconns, size, wall, (unsigned long long)msgs, (double)msgs / wall,
        (double)msgs * (double)size / wall / 1048576.0, percentile_us(total, 0.50),
        percentile_us(total, 0.99), percentile_us(total, 0.999), 100.0 * cpu / wall,
        (unsigned long long)all_msgs);
    fflush(stdout);
    for (int i = 0; i < nconns; ++i) close(conns[i].fd);
    return 0;
}

/* ---------------------------------------------------------------- hold mode */
static long count_fds(long pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", pid);
    DIR* d = opendir(path);
    if (!d) return -1;
    long n = 0;
    struct dirent* e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int hold_mode(int argc, char** argv) {
    if (argc < 5) fail("usage: echo_load hold HOST PORT N [SERVER_PID]");
    struct sockaddr_in addr = parse_addr(argv[2], argv[3]);
    int n = atoi(argv[4]);
    long pid = argc > 5 ? atol(argv[5]) : 0;
    if (n < 1 || n > 100000) fail("N must be in [1, 100000]");
    raise_fd_limit();
    int* fds = malloc(sizeof(int) * (size_t)n);
    if (!fds) die("malloc");
    long base = pid ? count_fds(pid) : -1;
    if (pid && base < 0) fail("cannot read /proc/SERVER_PID/fd");
    const int batch = 200;
    for (int i = 0; i < n; ++i) {
        fds[i] = connect_one(&addr);
        if (pid && ((i + 1) % batch == 0 || i + 1 == n)) {
            /* Let the server's accepts catch up to within one batch. */
            long want = base + (i + 1) - (i + 1 == n ? 0 : batch);
            uint64_t deadline = now_ns() + 120ull * 1000000000u;
            while (count_fds(pid) < want) {
                if (now_ns() > deadline) fail("server did not accept the connections within 120 s");
                sleep_ms(2);
            }
        }
    }
    printf("CONNECTED %d\n", n);
    fflush(stdout);

    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "close", 5) == 0) break;
        if (strncmp(line, "check", 5) != 0) continue;
        int ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) die("epoll_create1");
        unsigned char* got = calloc((size_t)n, 1);
        if (!got) die("calloc");
        int ok = 0, failed = 0, pending = n;
        for (int i = 0; i < n; ++i) {
            if (send(fds[i], "ping\n", 5, MSG_NOSIGNAL) != 5) {
                ++failed;
                --pending;
                got[i] = 255;
                continue;
            }
            struct epoll_event ev;
            ev.events = EPOLLIN;
            ev.data.u32 = (uint32_t)i;
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) die("epoll_ctl");
        }
        char buf[64];
        uint64_t deadline = now_ns() + 120ull * 1000000000u;
        struct epoll_event evs[256];
        while (pending > 0 && now_ns() < deadline) {
            int k = epoll_wait(ep, evs, 256, 1000);
            for (int j = 0; j < k; ++j) {
                uint32_t i = evs[j].data.u32;
                ssize_t r = recv(fds[i], buf, sizeof buf, 0);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (r <= 0) {
                    ++failed;
                } else {
                    got[i] = (unsigned char)(got[i] + r);
                    if (got[i] < 5) continue;
                    if (got[i] == 5 && memcmp(buf + r - 1, "\n", 1) == 0)
                        ++ok;
                    else
                        ++failed;
                }
                --pending;
                epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
            }
        }
        failed += pending;
        close(ep);
        free(got);
        printf("CHECKED ok=%d failed=%d\n", ok, failed);
        fflush(stdout);
    }
    for (int i = 0; i < n; ++i) close(fds[i]);
    free(fds);
    return 0;
}

int main(int argc, char** argv) {
    if (argc >= 2 && strcmp(argv[1], "run") == 0) return run_mode(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "hold") == 0) return hold_mode(argc, argv);
    fail(
        "usage: echo_load run HOST PORT CONNS SIZE SECS [WARMUP_S] [--verify]\n"
        "       echo_load hold HOST PORT N [SERVER_PID]");
    return 2;
}
