// The machinery under StreamReader / StreamWriter: a transport over one non-blocking file
// descriptor (a pipe end or a socket) driven by the loop's add_reader / add_writer, and the
// reader's buffer. CPython splits this into _UnixReadPipeTransport / _UnixWritePipeTransport /
// _SelectorSocketTransport, StreamReaderProtocol and FlowControlMixin; here one FdTransport
// plays transport and protocol, so that pipes (subprocesses) and sockets (networking) share it.
//
// Ownership: the user's StreamReader / StreamWriter handles own their impls; each impl owns
// the transport (shared); the transport points back at them without owning (they detach in
// their destructors). While the loop watches the fd, the registered callback owns the
// transport too, so a close() that still has bytes to flush completes after the last handle
// is gone. Everything here runs on the loop's thread.
#pragma once

#include <any>
#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"

namespace asyncio::detail {

class FdTransport;

/// Bytes with a cheap consume-from-the-front (the reader's and the writer's buffers).
class ByteBuffer {
public:
    std::size_t size() const noexcept { return data_.size() - head_; }
    bool empty() const noexcept { return size() == 0; }
    std::string_view view() const noexcept { return std::string_view(data_).substr(head_); }
    void append(std::string_view s) { data_.append(s); }
    /// Removes and returns the first `n` bytes.
    std::string take(std::size_t n);
    void consume(std::size_t n);
    void clear() noexcept {
        data_.clear();
        head_ = 0;
    }

private:
    std::string data_;
    std::size_t head_ = 0;
};

/// The state of a StreamReader. Python: asyncio.StreamReader's fields.
struct StreamReaderImpl {
    explicit StreamReaderImpl(std::size_t limit) : limit(limit) {}
    ~StreamReaderImpl();
    StreamReaderImpl(const StreamReaderImpl&) = delete;
    StreamReaderImpl& operator=(const StreamReaderImpl&) = delete;

    void feed_data(std::string_view data);
    void feed_eof();
    void set_exception(std::exception_ptr e);
    void wakeup_waiter();
    void maybe_resume_transport();
    /// Suspends until data, EOF or an error arrives (Python: _wait_for_data).
    Future<void> make_waiter(const char* func_name);

    std::size_t limit;
    ByteBuffer buffer;
    bool eof = false;
    bool paused = false;
    std::exception_ptr exception;
    Future<void> waiter;
    std::shared_ptr<FdTransport> transport;  // null for a reader fed by hand
};

/// What StreamWriter needs besides the transport (Python: StreamWriter's fields).
struct StreamWriterImpl {
    explicit StreamWriterImpl(std::shared_ptr<FdTransport> t,
                              std::shared_ptr<StreamReaderImpl> r = nullptr)
        : transport(std::move(t)), reader(std::move(r)) {}
    ~StreamWriterImpl();
    StreamWriterImpl(const StreamWriterImpl&) = delete;
    StreamWriterImpl& operator=(const StreamWriterImpl&) = delete;

    std::shared_ptr<FdTransport> transport;
    std::shared_ptr<StreamReaderImpl> reader;  // the paired reader of a socket, if any
};

/// A transport over one non-blocking fd. Reads feed `reader_`; writes are buffered with
/// high/low water marks (writers await drain() while above the high mark).
/// Invariant: fd_ >= 0 until connection_lost(); then closed_ is set and the fd is closed.
class FdTransport : public std::enable_shared_from_this<FdTransport> {
public:
    enum class Kind { read_pipe, write_pipe, socket };

    FdTransport(EventLoop& loop, int fd, Kind kind);
    ~FdTransport();
    FdTransport(const FdTransport&) = delete;
    FdTransport& operator=(const FdTransport&) = delete;

    /// Starts reading into `r` (read pipes and sockets).
    void attach_reader(StreamReaderImpl* r);
    void attach_writer() noexcept { has_writer_ = true; }
    void detach_reader() noexcept;
    void detach_writer() noexcept;
    void pause_reading();
    void resume_reading();

    /// Buffers `data` and writes what the fd accepts now. Errors: RuntimeError after close()
    /// or write_eof(); data written after the peer went away is dropped (drain() reports).
    void write(std::string_view data);
    std::size_t get_write_buffer_size() const noexcept { return wbuf_.size(); }
    void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low);
    bool is_closing() const noexcept { return closing_; }
    /// Flushes what is buffered, then closes the fd. Idempotent.
    void close();
    /// Closes at once, dropping buffered data.
    void abort();
    bool can_write_eof() const noexcept { return kind_ != Kind::read_pipe; }
    void write_eof();
    std::any get_extra_info(const std::string& name, std::any default_value) const;
    void set_extra_info(const std::string& name, std::any value) { extra_[name] = std::move(value); }

    /// drain(): raises the connection's error, else waits while writing is paused.
    /// Python: FlowControlMixin._drain_helper.
    bool drain_ready() const noexcept { return !write_paused_; }
    Future<void> add_drain_waiter();
    void check_connection_lost() const;
    /// Completed when the transport has closed (with its error, if any).
    Future<void> closed_future();
    EventLoop& loop() const noexcept { return *loop_; }
    int fd() const noexcept { return fd_; }

private:
    void on_readable();
    void on_writable();
    void flush_some();
    void fatal_error(int err, const char* what);
    void connection_lost(std::exception_ptr exc);
    void maybe_pause_writing();
    void maybe_resume_writing();
    void start_writer();
    void stop_reading() noexcept;

    EventLoop* loop_;
    int fd_;
    Kind kind_;
    StreamReaderImpl* reader_ = nullptr;
    bool has_writer_ = false;
    bool reading_ = false;
    bool writer_registered_ = false;
    bool closing_ = false;
    bool eof_written_ = false;
    bool eof_pending_ = false;  // write_eof() waits for the buffer to drain
    bool closed_ = false;
    bool write_paused_ = false;
    std::exception_ptr lost_exc_;
    bool lost_ = false;
    ByteBuffer wbuf_;
    std::size_t high_water_ = 64 * 1024;
    std::size_t low_water_ = 16 * 1024;
    std::vector<Future<void>> drain_waiters_;
    Future<void> closed_fut_;
    std::map<std::string, std::any> extra_;
};

}  // namespace asyncio::detail
