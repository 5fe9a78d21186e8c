// Private helpers shared by the networking sources (never installed).
#pragma once

#include <cerrno>
#include <optional>
#include <string>

#include <sys/types.h>

#include "asyncio/coro.hpp"
#include "asyncio/events.hpp"
#include "asyncio/sockets.hpp"

namespace asyncio::detail {

/// Waits once for `fd` to be readable (or writable); the registration is gone when it returns,
/// throws or is cancelled.
Coro<void> wait_fd(EventLoop& loop, int fd, bool write);
/// EAGAIN / EWOULDBLOCK / EINTR: try again when ready.
inline bool would_block(int err) noexcept {
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}
/// std::invalid_argument for a blocking socket, EBADF for a closed one.
void check_nonblocking(const Socket& sock, const char* op);
/// The address when `host` is numeric (no lookup needed). Python: base_events._ipaddr_info.
std::optional<SockAddr> ipaddr_info(const std::string& host, int port, int family);
/// Reads up to `want` bytes of `file_fd` at `off` into `buf` (read() for a pipe), retrying on
/// EINTR, and advances `off`; returns the count, 0 at the end of the file. The read half of
/// the sendfile fallbacks. Errors: std::system_error named "<what> (read)".
std::size_t read_file_block(int file_fd, std::string& buf, std::size_t want, off_t& off,
                            const char* what);

}  // namespace asyncio::detail

#include <any>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "asyncio/detail/stream_transport.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/transports.hpp"

namespace asyncio::detail {

class ServerCore;

/// A socket address of at most 28 bytes (sockaddr_in6: every IP address, an unnamed Unix
/// socket) kept inline; a transport keeps its peername and sockname this way. A SockAddr is
/// 132 bytes: the two of them in a std::map<std::string, std::any> with "socket" cost 576 B
/// per connection, these 58.
class SmallAddr {
  public:
    /// Reads the fd's peer (or own) address; false when it failed or does not fit.
    bool load(int fd, bool peer) noexcept;
    bool empty() const noexcept { return len_ == 0; }
    SockAddr get() const noexcept;

  private:
    std::array<char, 28> bytes_{};
    std::uint8_t len_ = 0;
};

/// Bytes with a cheap consume-from-the-front (write buffers).
class WriteBuffer {
  public:
    std::size_t size() const noexcept { return data_.size() - head_; }
    bool empty() const noexcept { return head_ == data_.size(); }
    std::string_view view() const noexcept { return std::string_view(data_).substr(head_); }
    void append(std::string_view s) { data_.append(s); }
    void consume(std::size_t n) noexcept {
        head_ += n;
        if (head_ >= data_.size()) {
            data_.clear();
            head_ = 0;
        } else if (head_ > 65536 && head_ * 2 > data_.size()) {
            data_.erase(0, head_);
            head_ = 0;
        }
    }
    void clear() noexcept {
        data_.clear();
        data_.shrink_to_fit();
        head_ = 0;
    }

  private:
    std::string data_;
    std::size_t head_ = 0;
};

/// The stream transport over one non-blocking fd: a connected socket, or a pipe end.
/// Python: selector_events._SelectorSocketTransport, unix_events._UnixReadPipeTransport and
/// _UnixWritePipeTransport (one class here: the kind says which calls apply).
///
/// Ownership: the loop's registrations (reader, writer, scheduled callbacks) own the transport
/// while they exist; when none does and the connection is not lost yet (reading paused, or
/// half-closed waiting for the protocol), the transport owns itself, so that the protocol's
/// Transport& stays valid until connection_lost(). The transport owns the protocol.
/// Invariant: fd_ >= 0 until connection_lost() has been delivered.
class FdStreamTransport final : public Transport {
  public:
    enum class Kind { socket, read_pipe, write_pipe };

    FdStreamTransport(EventLoop& loop, int fd, Kind kind, std::shared_ptr<BaseProtocol> protocol,
                      std::shared_ptr<ServerCore> server = nullptr);
    ~FdStreamTransport() override;

    /// Schedules connection_made, then the first read, then completes `waiter` (if any):
    /// CPython's order (_SelectorSocketTransport.__init__).
    void start(Future<void> waiter = Future<void>());

    // BaseTransport
    void close() override;
    bool is_closing() const noexcept override { return closing_; }
    std::any get_extra_info(const std::string& name, std::any default_value = {}) const override;
    void set_protocol(std::shared_ptr<BaseProtocol> protocol) override;
    std::shared_ptr<BaseProtocol> get_protocol() const override { return protocol_; }
    EventLoop& get_loop() const noexcept override { return *loop_; }
    // ReadTransport
    bool is_reading() const noexcept override {
        return !paused_ && !closing_ && kind_ != Kind::write_pipe;
    }
    void pause_reading() override;
    void resume_reading() override;
    // WriteTransport
    void write(std::string_view data) override;
    using WriteTransport::writelines;
    void writelines(std::span<const std::string_view> pieces) override;
    void write_eof() override;
    bool can_write_eof() const noexcept override { return kind_ != Kind::read_pipe; }
    void abort() override;
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                 std::optional<std::size_t> low = std::nullopt) override;
    std::size_t get_write_buffer_size() const noexcept override { return wbuf_.size(); }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
        return {low_, high_};
    }

    int fd() const noexcept { return fd_; }
    bool is_socket() const noexcept { return kind_ == Kind::socket; }
    /// Closes now: connection_lost runs before this returns (a dropped read pipe).
    void close_now();
    std::shared_ptr<FdStreamTransport> shared_from_this() {
        return std::shared_ptr<FdStreamTransport>(BaseTransport::shared_from_this(), this);
    }
    /// The connection is lost (connection_lost delivered or scheduled).
    bool lost() const noexcept { return conn_lost_ > 0; }
    /// Stops writing at once (sendfile takes over the socket) / resumes.
    Coro<void> wait_write_buffer_empty();

  private:
    void check_writable() const;
    void on_readable();
    void on_writable();
    void read_eof();
    void fatal_error(std::exception_ptr exc, const char* message);
    void force_close(std::exception_ptr exc);
    void call_connection_lost(std::exception_ptr exc);
    void maybe_pause_protocol();
    void maybe_resume_protocol();
    void add_reader();
    void remove_reader();
    void add_writer();
    void remove_writer();
    void update_keepalive();

    EventLoop* loop_;
    int fd_;
    Kind kind_;
    std::shared_ptr<BaseProtocol> protocol_;
    Protocol* stream_protocol_ = nullptr;   // protocol_ as a Protocol
    BufferedProtocol* buffered_ = nullptr;  // protocol_ as a BufferedProtocol, if it is one
    ReadsInPlace* in_place_ = nullptr;      // protocol_ as a ReadsInPlace (stream readers)
    std::shared_ptr<ServerCore> server_;
    std::shared_ptr<FdStreamTransport> self_;  // see the class comment
    WriteBuffer wbuf_;
    std::size_t high_ = 64 * 1024;
    std::size_t low_ = 16 * 1024;
    int conn_lost_ = 0;  // Python's _conn_lost: > 0 once lost; counts writes after that
    bool closing_ = false;
    bool paused_ = false;  // pause_reading() in force
    bool eof_ = false;     // write_eof() called
    bool reader_registered_ = false;
    bool writer_registered_ = false;
    bool protocol_paused_ = false;  // pause_writing() called, resume_writing() not yet
    bool protocol_connected_ = false;
    // get_extra_info: "socket" / "pipe" is fd_; a socket's "peername" and "sockname" are read
    // when it is made (CPython does too: the peer's address is gone once it resets the
    // connection) unless they do not fit a SmallAddr (a Unix path), then asked of the kernel
    // on demand while the fd is open.
    SmallAddr peername_;
    SmallAddr sockname_;
    std::vector<Future<void>> empty_waiters_;
};

/// A server's count of its live connections (base_events.cpp). Python: Server._attach/_detach.
void server_attach(ServerCore& server, FdStreamTransport* t);
void server_detach(ServerCore& server, FdStreamTransport* t) noexcept;

/// Reports a protocol or transport error the way CPython's _fatal_error does: OS errors of a
/// vanished peer (ECONNRESET, EPIPE, ECONNABORTED) are not reported, others go to the loop's
/// exception handler with `message`.
void report_fatal_error(EventLoop& loop, std::exception_ptr exc, const char* message,
                        const std::string& details);

/// An std::exception_ptr holding std::system_error(err) with Python's text.
std::exception_ptr os_error_ptr(int err, const std::string& context);

/// Ignores SIGPIPE once per process if it is at its default (CPython ignores it at start).
void ignore_sigpipe_once();

}  // namespace asyncio::detail
