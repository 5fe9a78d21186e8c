// Streams: StreamReader and StreamWriter, the byte-stream API of pipes (subprocesses) and
// sockets.
//
// A StreamReader buffers what its transport reads and hands it out by read(n), readline(),
// readexactly(n) and readuntil(sep); when more than 2 × limit bytes are buffered the
// transport stops reading until the buffer is down to the limit. A StreamWriter buffers
// what write() is given and writes it as the fd accepts it; drain() waits while the buffer is
// above its high-water mark. Bytes are std::string (Python's bytes). Both are shared handles
// (copies refer to the same stream), used on the loop's thread only.
#pragma once

#include <any>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncio/base_events.hpp"
#include "asyncio/coro.hpp"
#include "asyncio/detail/stream_transport.hpp"
#include "asyncio/events.hpp"

namespace asyncio {

/// The reader's default buffer limit (64 KiB). Python: asyncio.streams._DEFAULT_LIMIT.
inline constexpr std::size_t default_stream_limit = 64 * 1024;

/// Options of a StreamReader made by hand.
struct StreamReaderOptions {
    /// The buffer limit: readline()/readuntil() refuse longer lines, and the transport
    /// pauses above 2 × limit buffered bytes. Errors: std::invalid_argument when 0.
    std::size_t limit = default_stream_limit;
};

/// Reads bytes from a transport. Python: asyncio.StreamReader.
///
/// `StreamReader reader;` makes one fed by hand with feed_data()/feed_eof() (tests,
/// protocols). Pipes and sockets make theirs. A handle may also be empty (a subprocess
/// stream that is not a PIPE): `if (proc.stdout_)`; using an empty one throws RuntimeError.
/// Cancellation: cancelling a read leaves the buffered bytes in place; nothing is lost.
/// Errors: RuntimeError when two coroutines wait for data at once; the error the transport
/// hit (set_exception) is rethrown by every later read.
class StreamReader {
  public:
    explicit StreamReader(StreamReaderOptions options = {});
    /// An empty handle (no stream).
    explicit StreamReader(std::nullptr_t) noexcept {}
    explicit StreamReader(std::shared_ptr<detail::StreamReaderImpl> impl) noexcept
        : s_(std::move(impl)) {}

    /// Up to `n` bytes (n < 0: everything until EOF). At EOF: "". Waits only when the
    /// buffer is empty. Python: read(n=-1).
    Coro<std::string> read(long long n = -1) const;
    /// One line, "\n" included; at EOF the partial line (maybe ""). Python: readline().
    /// Errors: std::invalid_argument when the line exceeds the limit (the line is dropped).
    Coro<std::string> readline() const;
    /// Exactly `n` bytes. Python: readexactly(n).
    /// Errors: IncompleteReadError (with the partial bytes, the buffer emptied) at EOF first;
    /// std::invalid_argument for n < 0 (the buffer untouched).
    Coro<std::string> readexactly(long long n) const;
    /// The bytes up to and including `separator`. Python: readuntil(separator=b'\n').
    /// Errors: LimitOverrunError when the limit is reached first (the data stays buffered);
    /// IncompleteReadError(partial, expected = none) at EOF first; std::invalid_argument for
    /// an empty separator.
    Coro<std::string> readuntil(std::string separator = "\n") const;

    /// EOF was fed and the buffer is empty. Python: at_eof().
    bool at_eof() const;
    /// Adds bytes (transport side). Errors: RuntimeError after feed_eof().
    void feed_data(std::string_view data) const;
    void feed_eof() const;
    /// Makes every waiting and later read raise `e`. Python: set_exception(exc).
    void set_exception(std::exception_ptr e) const;
    std::exception_ptr exception() const;
    std::size_t limit() const;
    /// Bytes buffered now.
    std::size_t buffered() const;

    explicit operator bool() const noexcept { return static_cast<bool>(s_); }
    const std::shared_ptr<detail::StreamReaderImpl>& impl() const noexcept { return s_; }

  private:
    detail::StreamReaderImpl& get() const;
    std::shared_ptr<detail::StreamReaderImpl> s_;
};

/// Writes bytes to a transport. Python: asyncio.StreamWriter.
///
/// write() never blocks: it buffers what the fd does not take at once. Call drain() after
/// writing to let the buffer empty below its high-water mark (flow control). close()
/// flushes then closes; wait_closed() waits for that. May be empty, like StreamReader.
/// Dropping the last handle of an open writer closes it (after flushing).
/// Cancellation: cancelling drain() leaves the data buffered; it is still written.
/// Errors: write() after close() or write_eof() throws RuntimeError; drain() raises the
/// connection's error (ConnectionResetError as std::system_error ECONNRESET when the peer
/// went away, EPIPE for a pipe whose reader closed).
class StreamWriter {
  public:
    StreamWriter() noexcept = default;  // empty
    explicit StreamWriter(std::shared_ptr<detail::StreamWriterImpl> impl) noexcept
        : s_(std::move(impl)) {}

    void write(std::string_view data) const;
    void writelines(const std::vector<std::string>& lines) const;
    /// Waits until the write buffer is at or below the low-water mark (returns at once when
    /// writing is not paused). Python: drain().
    Coro<void> drain() const;
    /// Flushes the buffer, then closes the fd. Python: close().
    void close() const;
    /// Waits until the transport has closed; raises its error, if it failed.
    Coro<void> wait_closed() const;
    bool is_closing() const;
    bool can_write_eof() const;
    /// Flushes, then closes the write side (a pipe closes; a socket shuts down SHUT_WR).
    void write_eof() const;
    /// Transport information ("pipe" / "socket": the fd as int; sockets add "peername"...),
    /// else `default_value`. Python: get_extra_info(name, default=None).
    std::any get_extra_info(const std::string& name, std::any default_value = {}) const;
    std::size_t get_write_buffer_size() const;
    /// Python: transport.set_write_buffer_limits(high, low) (default 64 KiB / 16 KiB).
    void set_write_buffer_limits(std::optional<std::size_t> high,
                                 std::optional<std::size_t> low = std::nullopt) const;
    /// The transport under the writer. Python: writer.transport.
    std::shared_ptr<Transport> transport() const;
    /// Upgrades the connection to TLS (STARTTLS): drains, then runs the handshake; the
    /// reader and writer then go through TLS. The side is the stream's (a start_server
    /// connection is the server). Python: writer.start_tls(sslcontext, *, server_hostname,
    /// ssl_handshake_timeout, ssl_shutdown_timeout). Errors: the handshake's (the connection
    /// is closed).
    Coro<void> start_tls(ssl::SSLContext sslcontext, StartTlsOptions options = {}) const;

    explicit operator bool() const noexcept { return static_cast<bool>(s_); }
    const std::shared_ptr<detail::StreamWriterImpl>& impl() const noexcept { return s_; }

  private:
    detail::StreamWriterImpl& get() const;
    std::shared_ptr<detail::StreamWriterImpl> s_;
};

/// The callback of start_server: runs as a new task per connection; an exception it raises is
/// reported to the loop's exception handler and closes the connection (Python 3.12+).
using ClientConnectedCallback = std::function<Coro<void>(StreamReader, StreamWriter)>;

/// Keyword arguments of open_connection / open_unix_connection: the reader's limit, then
/// those of loop.create_connection.
struct OpenConnectionOptions {
    std::size_t limit = default_stream_limit;
    int family = AF_UNSPEC;
    int proto = 0;
    int flags = 0;
    std::optional<Socket> sock{};
    std::optional<HostPort> local_addr{};
    std::optional<double> happy_eyeballs_delay{};
    int interleave = 0;
    bool all_errors = false;
    /// TLS (see loop.create_connection).
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    std::optional<std::string> server_hostname = std::nullopt;
    std::optional<double> ssl_handshake_timeout = std::nullopt;
    std::optional<double> ssl_shutdown_timeout = std::nullopt;
};

/// Keyword arguments of start_server: the readers' limit, then those of loop.create_server.
struct StartServerOptions {
    std::size_t limit = default_stream_limit;
    int family = AF_UNSPEC;
    int flags = 0x0001;  // AI_PASSIVE
    std::optional<Socket> sock{};
    int backlog = 100;
    std::optional<bool> reuse_address{};
    bool reuse_port = false;
    bool keep_alive = false;
    bool start_serving = true;
    /// TLS (see loop.create_server).
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    std::optional<double> ssl_handshake_timeout = std::nullopt;
    std::optional<double> ssl_shutdown_timeout = std::nullopt;
};

/// Keyword arguments of start_unix_server.
struct StartUnixServerOptions {
    std::size_t limit = default_stream_limit;
    std::optional<Socket> sock{};
    int backlog = 100;
    bool start_serving = true;
    bool cleanup_socket = true;
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    std::optional<double> ssl_handshake_timeout = std::nullopt;
    std::optional<double> ssl_shutdown_timeout = std::nullopt;
};

/// Connects to host:port and returns the stream pair. Python: asyncio.open_connection.
/// Errors: as loop.create_connection (std::system_error ECONNREFUSED, GaiError...).
/// Cancellation: a cancelled connect leaves no socket behind.
Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port,
                                                            OpenConnectionOptions options = {});
/// Python: asyncio.open_connection(sock=sock).
Coro<std::pair<StreamReader, StreamWriter>> open_connection(OpenConnectionOptions options);
/// Python: asyncio.open_unix_connection(path).
Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(
    std::string path, OpenConnectionOptions options = {});
/// Serves host:port: `client_connected_cb(reader, writer)` runs as a task per connection.
/// Python: asyncio.start_server.
Coro<Server> start_server(ClientConnectedCallback client_connected_cb, std::string host, int port,
                          StartServerOptions options = {});
Coro<Server> start_server(ClientConnectedCallback client_connected_cb,
                          std::vector<std::string> hosts, int port,
                          StartServerOptions options = {});
/// Python: asyncio.start_server(cb, sock=sock).
Coro<Server> start_server(ClientConnectedCallback client_connected_cb, StartServerOptions options);
/// Python: asyncio.start_unix_server(cb, path).
Coro<Server> start_unix_server(ClientConnectedCallback client_connected_cb, std::string path,
                               StartUnixServerOptions options = {});

namespace detail {
/// A reader over `fd` (made non-blocking; owned and closed by the transport).
StreamReader make_fd_reader(EventLoop& loop, int fd, FdTransport::Kind kind, std::size_t limit);
/// A writer over `fd` (made non-blocking; owned and closed by the transport).
StreamWriter make_fd_writer(EventLoop& loop, int fd, FdTransport::Kind kind);
/// A connected socket: reader and writer over one transport (networking).
std::pair<StreamReader, StreamWriter> make_socket_streams(EventLoop& loop, int fd,
                                                          std::size_t limit);
}  // namespace detail

}  // namespace asyncio
