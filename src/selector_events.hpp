// Private helpers shared by the networking sources (never installed).
#pragma once

#include <optional>
#include <string>

#include "asyncio/coro.hpp"
#include "asyncio/events.hpp"
#include "asyncio/sockets.hpp"

namespace asyncio::detail {

/// Waits once for `fd` to be readable (or writable); the registration is gone when it returns,
/// throws or is cancelled.
Coro<void> wait_fd(EventLoop& loop, int fd, bool write);
/// std::invalid_argument for a blocking socket, EBADF for a closed one.
void check_nonblocking(const Socket& sock, const char* op);
/// The address when `host` is numeric (no lookup needed). Python: base_events._ipaddr_info.
std::optional<SockAddr> ipaddr_info(const std::string& host, int port, int family);

}  // namespace asyncio::detail
