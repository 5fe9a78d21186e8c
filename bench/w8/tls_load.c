/* tls_load: the W8 load generator, a TLS 1.3 client on OpenSSL (C, epoll, one thread,
 * non-blocking SSL_read / SSL_write).
 *
 *   tls_load run HOST PORT CONNS SIZE SECS [WARMUP_S] [--server-pid PID]
 *       Opens CONNS connections and completes their handshakes first (not measured). Then
 *       each connection runs a closed loop: send one SIZE-byte message, wait for the whole
 *       echo, send the next; WARMUP_S (default 0.5) unmeasured, then SECS measured. Prints:
 *         LOAD conns=<n> size=<b> secs=<f> msgs=<n> msgs_per_s=<f> mib_per_s=<f>
 *              p50_us=<f> p99_us=<f> p999_us=<f> cpu_pct=<f> all_msgs=<n> srv_cpu_us=<f>
 *
 *   tls_load hs HOST PORT CONNS SIZE SECS [WARMUP_S] [--server-pid PID]
 *       Handshake rate: CONNS slots, each in a loop of: new TCP connection, full TLS 1.3
 *       handshake (no session resumption), one SIZE-byte message and its echo, close_notify,
 *       close. Prints:
 *         HS conns=<n> size=<b> secs=<f> handshakes=<n> hs_per_s=<f> p50_us=<f> p99_us=<f>
 *            p999_us=<f> cpu_pct=<f> all_hs=<n> srv_cpu_us=<f>
 *       latency is connect() to the last byte of the echo.
 *
 * Every connection offers TLS 1.3 only, the one cipher suite TLS_AES_128_GCM_SHA256 and
 * the X25519 group, so that every server does the same cryptography; a connection that
 * negotiates anything else is an error. The server's certificate is not verified (its
 * signature over the handshake still is: TLS 1.3's CertificateVerify). cpu_pct is this
 * process's CPU time over the measured window (well below 100 % means it waited for the
 * server). With --server-pid, srv_cpu_us is the server's CPU time (all its threads,
 * /proc/PID/task/x/schedstat) over the measured window divided by the messages (or
 * handshakes) completed in it; -1 without. Each message carries a sequence tag in its
 * first and last 8 bytes, checked on every echo.
 *
 * Loopback only: HOST must be a numeric 127.x.y.z address. Bounded in time: the run stops
 * after WARMUP_S + SECS, the set-up handshakes give up after 30 s. Exit status 1 on any
 * error (refused, reset, closed, wrong echo, not TLS 1.3), with the reason on stderr. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void fail(const char* msg) {
    fprintf(stderr, "tls_load: %s\n", msg);
    exit(1);
}

static void die(const char* what) {
    fprintf(stderr, "tls_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

static void ssl_fail(const char* what) {
    unsigned long e = ERR_get_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    fprintf(stderr, "tls_load: %s: %s\n", what,
            e ? buf : (errno ? strerror(errno) : "unexpected end"));
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

/* CPU time of every thread of `pid` so far, in ns; -1 when it cannot be read. */
static long long proc_cpu_ns(long pid) {
    if (pid <= 0) return -1;
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR* d = opendir(path);
    if (!d) return -1;
    long long total = 0;
    struct dirent* e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p2[160];
        snprintf(p2, sizeof p2, "/proc/%ld/task/%.32s/schedstat", pid, e->d_name);
        FILE* f = fopen(p2, "r");
        if (!f) continue;
        long long ns = 0;
        if (fscanf(f, "%lld", &ns) == 1) total += ns;
        fclose(f);
    }
    closedir(d);
    return total;
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

/* ---------------------------------------------------------------- latency histogram
 * Log-linear buckets: 32 per power of two of nanoseconds (about 2 % resolution). */
#define SUB_BITS 5
#define NBUCKETS (64 << SUB_BITS)
static uint64_t hist[NBUCKETS];
static uint64_t hist_total;

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
    return lo + (double)(1ull << (msb - SUB_BITS)) / 2;
}

static double percentile_us(double p) {
    if (hist_total == 0) return 0;
    uint64_t rank = (uint64_t)(p * (double)hist_total);
    if (rank >= hist_total) rank = hist_total - 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < NBUCKETS; ++b) {
        seen += hist[b];
        if (seen > rank) return bucket_mid_ns(b) / 1000.0;
    }
    return 0;
}

/* ---------------------------------------------------------------- connections */
enum state { ST_CONNECTING, ST_HANDSHAKE, ST_ECHO };

struct conn {
    int fd;
    SSL* ssl;
    enum state st;
    int registered;  /* in the epoll set */
    uint32_t events; /* the events registered */
    uint32_t sent;   /* bytes of the current message accepted by SSL_write */
    uint32_t got;    /* bytes of its echo received */
    uint64_t seq;    /* sequence number of the current message */
    uint64_t t0;     /* message (run) or connection (hs) start */
    unsigned char* sbuf;
    unsigned char* rbuf;
};

static SSL_CTX* g_ctx;
static struct sockaddr_in g_addr;
static size_t g_size;
static int g_ep;
static int g_hs_mode;
static int g_measuring;
static int g_setup; /* run mode: handshakes only, no message sent yet */
static uint64_t g_t_end;
static uint64_t g_done;     /* messages (run) or handshakes (hs) in the measured window */
static uint64_t g_all_done; /* including the warm-up */

static SSL_CTX* make_ctx(void) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) ssl_fail("SSL_CTX_new");
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
        ssl_fail("TLS 1.3 only");
    if (!SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256"))
        ssl_fail("SSL_CTX_set_ciphersuites");
    if (!SSL_CTX_set1_groups_list(ctx, "X25519")) ssl_fail("SSL_CTX_set1_groups_list");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every handshake is a full one */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1); /* one read() per readable event, not two per record */
    return ctx;
}

static void watch(struct conn* c, uint32_t events) {
    if (c->registered && c->events == events) return;
    struct epoll_event ev;
    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(g_ep, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl");
    c->registered = 1;
    c->events = events;
}

static void stamp(struct conn* c) {
    uint64_t tag = (c->seq << 20) ^ (uint64_t)c->fd;
    memcpy(c->sbuf, &tag, 8);
    memcpy(c->sbuf + g_size - 8, &tag, 8);
}

static void new_ssl(struct conn* c) {
    c->ssl = SSL_new(g_ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) ssl_fail("SSL_new");
    SSL_set_connect_state(c->ssl);
}

static void check_tls13(struct conn* c) {
    if (SSL_version(c->ssl) != TLS1_3_VERSION) fail("the server did not negotiate TLS 1.3");
    const SSL_CIPHER* ci = SSL_get_current_cipher(c->ssl);
    if (!ci || strcmp(SSL_CIPHER_get_name(ci), "TLS_AES_128_GCM_SHA256") != 0)
        fail("the server did not choose TLS_AES_128_GCM_SHA256");
}

/* Handshake mode: a new non-blocking connection in slot c. */
static void open_conn(struct conn* c, uint64_t t) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->registered = 0;
    c->t0 = t;
    c->sent = c->got = 0;
    c->seq++;
    if (connect(c->fd, (const struct sockaddr*)&g_addr, sizeof g_addr) == 0) {
        c->st = ST_HANDSHAKE;
    } else if (errno == EINPROGRESS) {
        c->st = ST_CONNECTING;
    } else {
        die("connect");
    }
    new_ssl(c);
    watch(c, EPOLLOUT);
}

/* Handshake mode: the cycle is done (echo received); close_notify, close, count. */
static void close_conn(struct conn* c) {
    SSL_shutdown(c->ssl); /* sends close_notify; the server's reply is not awaited */
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->registered = 0;
}

/* One received message is complete: check, count, and start the next one (or close). */
static int message_done(struct conn* c) {
    /* The clock is read here, not taken from the epoll batch: on a busy machine this thread
     * may have been descheduled since, and the echo waited for it. */
    uint64_t t = now_ns();
    if (memcmp(c->rbuf, c->sbuf, 8) != 0 ||
        memcmp(c->rbuf + g_size - 8, c->sbuf + g_size - 8, 8) != 0)
        fail("echo does not match the message (sequence tag)");
    if (g_measuring) {
        ++g_done;
        ++hist_total;
        hist[bucket_of(t - c->t0)]++;
    }
    ++g_all_done;
    if (g_hs_mode) {
        close_conn(c);
        if (t < g_t_end) open_conn(c, t);
        return 0;
    }
    c->seq++;
    c->sent = c->got = 0;
    c->t0 = t;
    stamp(c);
    return t < g_t_end;
}

/* Advances c as far as it can go without blocking. */
static void drive(struct conn* c) {
    for (;;) {
        if (c->st == ST_CONNECTING) {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) die("getsockopt");
            if (err) {
                errno = err;
                die("connect");
            }
            c->st = ST_HANDSHAKE;
        }
        if (c->st == ST_HANDSHAKE) {
            ERR_clear_error();
            int r = SSL_do_handshake(c->ssl);
            if (r != 1) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ) return watch(c, EPOLLIN);
                if (e == SSL_ERROR_WANT_WRITE) return watch(c, EPOLLOUT);
                ssl_fail("handshake");
            }
            check_tls13(c);
            c->st = ST_ECHO;
            stamp(c);
            if (g_setup) return watch(c, 0); /* parked until every connection is ready */
        }
        /* ST_ECHO: push what is left of the message, then take what came back. */
        uint32_t want = EPOLLIN;
        while (c->sent < g_size) {
            ERR_clear_error();
            int n = SSL_write(c->ssl, c->sbuf + c->sent, (int)(g_size - c->sent));
            if (n > 0) {
                c->sent += (uint32_t)n;
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE) {
                want |= EPOLLOUT;
                break;
            }
            if (e == SSL_ERROR_WANT_READ) break;
            ssl_fail("SSL_write");
        }
        for (;;) {
            ERR_clear_error();
            int n = SSL_read(c->ssl, c->rbuf + c->got, (int)(g_size - c->got));
            if (n > 0) {
                c->got += (uint32_t)n;
                if (c->got > c->sent) fail("received more than was sent");
                if (c->got == g_size) break;
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_READ) break;
            if (e == SSL_ERROR_WANT_WRITE) {
                want |= EPOLLOUT;
                break;
            }
            if (e == SSL_ERROR_ZERO_RETURN) fail("the server closed a connection (close_notify)");
            ssl_fail("SSL_read");
        }
        if (c->got < g_size) return watch(c, want);
        if (!message_done(c)) return; /* closed (hs), or the run is over */
    }
}

/* ---------------------------------------------------------------- both modes */
static int main_mode(int hs, int argc, char** argv) {
    if (argc < 7)
        fail("usage: tls_load run|hs HOST PORT CONNS SIZE SECS [WARMUP_S] [--server-pid PID]");
    g_hs_mode = hs;
    g_addr = parse_addr(argv[2], argv[3]);
    int nconns = atoi(argv[4]);
    long size = atol(argv[5]);
    double secs = atof(argv[6]);
    double warm = 0.5;
    long server_pid = 0;
    for (int i = 7; i < argc; ++i) {
        if (strcmp(argv[i], "--server-pid") == 0 && i + 1 < argc)
            server_pid = atol(argv[++i]);
        else
            warm = atof(argv[i]);
    }
    if (nconns < 1 || nconns > 10000) fail("CONNS must be in [1, 10000]");
    if (size < 16 || size > (16 << 20)) fail("SIZE must be in [16, 16 MiB]");
    if (!(secs > 0 && secs <= 600) || !(warm >= 0 && warm <= 60))
        fail("SECS in (0, 600], WARMUP_S in [0, 60]");
    g_size = (size_t)size;
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN); /* OpenSSL write()s: a server gone is an error, not a signal */
    g_ctx = make_ctx();
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) die("epoll_create1");

    struct conn* conns = calloc((size_t)nconns, sizeof *conns);
    if (!conns) die("calloc");
    for (int i = 0; i < nconns; ++i) {
        struct conn* c = &conns[i];
        c->fd = -1;
        c->sbuf = malloc(g_size);
        c->rbuf = malloc(g_size);
        if (!c->sbuf || !c->rbuf) die("malloc");
        for (size_t k = 0; k < g_size; ++k)
            c->sbuf[k] = (unsigned char)('a' + (k + (size_t)i) % 26);
    }

    enum { MAXEV = 512 };
    struct epoll_event evs[MAXEV];
    uint64_t t = now_ns();
    if (!hs) {
        /* Run mode: every connection's handshake first, outside the measurement. */
        g_t_end = UINT64_MAX;
        g_setup = 1;
        for (int i = 0; i < nconns; ++i) open_conn(&conns[i], t);
        uint64_t deadline = t + 30ull * 1000000000u;
        int ready = 0;
        while (ready < nconns) {
            if (now_ns() > deadline) fail("the set-up handshakes did not complete within 30 s");
            int n = epoll_wait(g_ep, evs, MAXEV, 100);
            if (n < 0 && errno != EINTR) die("epoll_wait");
            for (int k = 0; k < n; ++k) {
                struct conn* c = evs[k].data.ptr;
                if (c->st == ST_ECHO) continue;
                drive(c);
                if (c->st == ST_ECHO) ++ready;
            }
        }
        g_setup = 0;
        t = now_ns();
        for (int i = 0; i < nconns; ++i) conns[i].t0 = t;
    }

    uint64_t t_start = t;
    uint64_t t_meas = t_start + (uint64_t)(warm * 1e9);
    g_t_end = t_meas + (uint64_t)(secs * 1e9);
    double cpu0 = 0;
    long long srv0 = -1;
    if (hs)
        for (int i = 0; i < nconns; ++i) open_conn(&conns[i], t_start);
    else
        for (int i = 0; i < nconns; ++i) drive(&conns[i]);

    while (t < g_t_end) {
        int n = epoll_wait(g_ep, evs, MAXEV, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        t = now_ns();
        if (!g_measuring && t >= t_meas) {
            g_measuring = 1;
            cpu0 = cpu_s();
            srv0 = proc_cpu_ns(server_pid);
            t_meas = t;
        }
        for (int k = 0; k < n; ++k) drive(evs[k].data.ptr);
    }
    long long srv1 = proc_cpu_ns(server_pid);
    double wall = (double)(t - t_meas) / 1e9;
    double cpu = cpu_s() - cpu0;
    if (!g_measuring || wall <= 0) fail("measurement window never started");
    double srv_us =
        (srv0 >= 0 && srv1 >= srv0 && g_done) ? (double)(srv1 - srv0) / 1e3 / (double)g_done : -1;
    if (hs)
        printf(
            "HS conns=%d size=%ld secs=%.3f handshakes=%llu hs_per_s=%.1f p50_us=%.1f p99_us=%.1f "
            "p999_us=%.1f cpu_pct=%.1f all_hs=%llu srv_cpu_us=%.2f\n",
            nconns, size, wall, (unsigned long long)g_done, (double)g_done / wall,
            percentile_us(0.50), percentile_us(0.99), percentile_us(0.999), 100.0 * cpu / wall,
            (unsigned long long)g_all_done, srv_us);
    else
        printf(
            "LOAD conns=%d size=%ld secs=%.3f msgs=%llu msgs_per_s=%.1f mib_per_s=%.2f p50_us=%.1f "
            "p99_us=%.1f p999_us=%.1f cpu_pct=%.1f all_msgs=%llu srv_cpu_us=%.2f\n",
            nconns, size, wall, (unsigned long long)g_done, (double)g_done / wall,
            (double)g_done * (double)size / wall / 1048576.0, percentile_us(0.50),
            percentile_us(0.99), percentile_us(0.999), 100.0 * cpu / wall,
            (unsigned long long)g_all_done, srv_us);
    fflush(stdout);
    for (int i = 0; i < nconns; ++i) {
        if (conns[i].ssl) SSL_free(conns[i].ssl);
        if (conns[i].fd >= 0) close(conns[i].fd);
        free(conns[i].sbuf);
        free(conns[i].rbuf);
    }
    free(conns);
    SSL_CTX_free(g_ctx);
    close(g_ep);
    return 0;
}

int main(int argc, char** argv) {
    if (argc >= 2 && strcmp(argv[1], "run") == 0) return main_mode(0, argc, argv);
    if (argc >= 2 && strcmp(argv[1], "hs") == 0) return main_mode(1, argc, argv);
    fail("usage: tls_load run|hs HOST PORT CONNS SIZE SECS [WARMUP_S] [--server-pid PID]");
    return 2;
}
