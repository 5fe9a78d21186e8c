// The I/O poller interface behind the event loop: one small class per backend.
//
// The loop tells the poller which fds it watches for reading and writing, and asks it to wait
// for readiness at most a given time. Backends: epoll (default). Private to the library.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace asyncio::detail {

class Poller {
public:
    struct Event {
        int fd;
        bool readable;
        bool writable;
    };

    virtual ~Poller() = default;
    /// Watches `fd` for the given directions; both false stops watching it.
    /// Errors: std::system_error from the kernel (EBADF, EPERM for regular files, ...).
    virtual void set_interest(int fd, bool read, bool write) = 0;
    /// Waits at most `timeout_ns` (-1: no limit, 0: do not block) and appends ready fds to
    /// `out`. An interrupted wait (EINTR) returns no event; it is never reported as an error.
    virtual void poll(std::int64_t timeout_ns, std::vector<Event>& out) = 0;
    virtual const char* name() const noexcept = 0;
};

std::unique_ptr<Poller> make_epoll_poller();

/// The default backend for this machine.
std::unique_ptr<Poller> make_poller();

}  // namespace asyncio::detail
