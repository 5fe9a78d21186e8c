// The I/O poller interface behind the event loop: one small class per backend.
//
// The loop tells the poller which fds it watches for reading and writing, and asks it to wait
// at most a given time; the poller answers with the fds that are ready, in a buffer it owns
// (no allocation per iteration). A readiness backend (epoll) reports "fd is readable"; a
// completion backend (io_uring) would report finished operations through the same Event
// (the fd whose operation completed) and ignore set_interest() for fds it drives itself.
// Backends: epoll (default). Private to the library.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "asyncio/events.hpp"

namespace asyncio::detail {

class Poller {
  public:
    using Event = IoEvent;

    virtual ~Poller() = default;
    /// Watches `fd` for the given directions; both false stops watching it.
    /// Errors: std::system_error from the kernel (EBADF, EPERM for regular files, ...).
    virtual void set_interest(int fd, bool read, bool write) = 0;
    /// Waits at most `timeout_ns` (-1: no limit, 0: do not block) and returns the ready fds,
    /// valid until the next call. An interrupted wait (EINTR) returns no event.
    /// Errors: std::system_error for any other failure of the wait.
    virtual std::span<const Event> poll(std::int64_t timeout_ns) = 0;
    virtual const char* name() const noexcept = 0;
};

std::unique_ptr<Poller> make_epoll_poller();

/// The default backend for this machine.
std::unique_ptr<Poller> make_poller();

}  // namespace asyncio::detail
