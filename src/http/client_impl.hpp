// The client's private parts shared by client.cpp and client_reqrep.cpp: the state of a
// response body and the timed read of a connection.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "asyncio/events.hpp"
#include "asyncio/exceptions.hpp"
#include "asyncio/http/detail/client_connection.hpp"
#include "asyncio/http/detail/decompress.hpp"
#include "asyncio/timeouts.hpp"

namespace asyncio::http::detail {

/// The time limits in force for one request and its body.
struct Deadlines {
    std::optional<double> total_at;   // loop time when the total timeout fires
    std::optional<double> total;      // its length (for messages)
    std::optional<double> sock_read;  // seconds of silence allowed per read
};

/// `op` under the earlier of the total deadline and `per_op` seconds from now; a TimeoutError
/// says which one fired, for `what` ("GET http://...").
template <class T>
Coro<T> timed(Coro<T> op, const Deadlines& d, std::optional<double> per_op, const char* per_op_name,
              const std::string& what) {
    std::optional<double> when = d.total_at;
    bool per_op_first = false;
    if (per_op) {
        double at = get_running_loop().time() + *per_op;
        if (!when || at < *when) {
            when = at;
            per_op_first = true;
        }
    }
    if (!when) co_return co_await std::move(op);
    try {
        co_return co_await asyncio::timeout_at(when, std::move(op));
    } catch (const TimeoutError&) {
        if (per_op_first)
            throw TimeoutError(what + ": timed out after " + format_seconds(*per_op) +
                               " (ClientTimeout " + per_op_name + ")");
        throw TimeoutError(what + ": timed out after " + format_seconds(d.total.value_or(0)) +
                           " (ClientTimeout total)");
    }
}

/// The next bytes of a connection ("" at EOF), under the read timeouts.
Coro<std::string> read_some(Connection& c, const Deadlines& d, const std::string& what);

/// A response's body as it is read.
///
/// Invariant: while `eof` is false and `lease` holds the connection, the connection's parser
/// is inside this response's body; `buffer` holds decoded bytes not yet handed out.
struct ResponseBody {
    Lease lease;
    std::unique_ptr<Decompressor> decoder;
    std::string buffer;
    std::size_t buffer_pos = 0;         // bytes of `buffer` already handed out
    bool eof = false;                   // the body was read to its end
    bool eof_fed = false;               // the server closed; the parser was told
    bool reuse = true;                  // we asked for keep-alive
    std::optional<std::string> cached;  // read()'s result
    std::exception_ptr error;           // a failure; every later read raises it
    Deadlines deadlines;
    std::string what;  // "GET http://..." for messages

    std::size_t available() const noexcept { return buffer.size() - buffer_pos; }
    /// Takes up to `n` buffered bytes.
    std::string take(std::size_t n);
    /// Handles the events the parser already holds, without reading. Never throws: an error
    /// is kept for the first read.
    void pump();
    /// Reads until more decoded bytes are buffered or the body ends (false then).
    Coro<bool> fill();

  private:
    /// One parser event for this body; false when none is queued.
    bool handle_next_event();
    [[noreturn]] void fail(std::exception_ptr e);
};

}  // namespace asyncio::http::detail
