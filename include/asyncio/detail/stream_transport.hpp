// The machinery under StreamReader / StreamWriter: the reader's buffer, and
// StreamReaderProtocol, the protocol that feeds a reader from any Transport and gives writers
// their flow control. Python: streams.StreamReader's fields, StreamReaderProtocol and
// FlowControlMixin. The transports are the loop's (sockets and pipes share one transport
// family), so streams run over whatever implements Transport (TLS, a completion backend).
//
// Ownership: the user's StreamReader / StreamWriter handles own their impls; the impls own
// the transport (shared); the transport owns the protocol; the protocol sees the reader
// through a weak reference (Python: _stream_reader_wr) and the transport through the
// reference connection_made gave it. Everything here runs on the loop's thread.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/transports.hpp"

namespace asyncio::detail {

/// The reader's buffer: bytes with a cheap consume-from-the-front, and room at the end that
/// the transport can read into (uninitialised: a std::string would be zero-filled first).
/// Keeps its capacity when emptied, as the std::string it replaces did.
class ByteBuffer {
  public:
    std::size_t size() const noexcept { return tail_ - head_; }
    bool empty() const noexcept { return tail_ == head_; }
    std::string_view view() const noexcept { return {data_.get() + head_, size()}; }
    void append(std::string_view s);
    /// The free space after the bytes (reading into it needs no copy afterwards).
    std::span<char> room() noexcept { return {data_.get() + tail_, cap_ - tail_}; }
    /// `n` bytes were written at the start of room().
    void commit(std::size_t n) noexcept { tail_ += n; }
    /// Removes and returns the first `n` bytes.
    std::string take(std::size_t n);
    void consume(std::size_t n) noexcept;
    void clear() noexcept { head_ = tail_ = 0; }

  private:
    std::unique_ptr<char[]> data_;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

/// A Protocol that can also take bytes straight into its own buffer (StreamReaderProtocol).
/// The fd transport asks it for room before each read: one copy of every byte fewer than
/// data_received, whose view the protocol must copy (W7's streams echo at 64 KiB: the copy
/// was half of the user-space memmove time). The TLS layer asks too, and decrypts into it.
class ReadsInPlace {
  public:
    /// Where to read next, or an empty span to get data_received instead.
    virtual std::span<char> read_room() = 0;
    /// `nbytes` were read into the start of the last read_room().
    virtual void room_filled(std::size_t nbytes) = 0;

  protected:
    ~ReadsInPlace() = default;
};

/// Which end of which kind of fd make_fd_reader / make_fd_writer wrap.
struct FdTransport {
    enum class Kind { read_pipe, write_pipe, socket };
};

/// The state of a StreamReader. Python: asyncio.StreamReader's fields.
struct StreamReaderImpl {
    explicit StreamReaderImpl(std::size_t limit) : limit(limit) {}
    ~StreamReaderImpl();
    StreamReaderImpl(const StreamReaderImpl&) = delete;
    StreamReaderImpl& operator=(const StreamReaderImpl&) = delete;

    void feed_data(std::string_view data);
    /// `n` bytes were read into buffer.room() (feed_data without the copy).
    void feed_in_place(std::size_t n);
    /// After bytes arrived: wakes the waiter, pauses the transport above 2 × limit.
    void data_arrived();
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
    std::shared_ptr<Transport> transport;  // null for a reader fed by hand
    bool close_transport_on_drop = false;  // a read pipe: nobody else uses its transport
};

class StreamReaderProtocol;

/// What StreamWriter needs (Python: StreamWriter's fields). Closes the transport when the
/// last handle goes (Python: StreamWriter.__del__), after flushing.
struct StreamWriterImpl {
    StreamWriterImpl(std::shared_ptr<Transport> t, std::shared_ptr<StreamReaderProtocol> p,
                     std::shared_ptr<StreamReaderImpl> r = nullptr)
        : transport(std::move(t)), protocol(std::move(p)), reader(std::move(r)) {}
    ~StreamWriterImpl();
    StreamWriterImpl(const StreamWriterImpl&) = delete;
    StreamWriterImpl& operator=(const StreamWriterImpl&) = delete;

    std::shared_ptr<Transport> transport;
    std::shared_ptr<StreamReaderProtocol> protocol;
    std::shared_ptr<StreamReaderImpl> reader;  // the paired reader of a socket, if any
};

/// The protocol of a stream connection. Python: asyncio.StreamReaderProtocol (with
/// FlowControlMixin's drain support).
class StreamReaderProtocol final : public Protocol,
                                   public ReadsInPlace,
                                   public std::enable_shared_from_this<StreamReaderProtocol> {
  public:
    /// Called in connection_made with the new reader and writer (start_server's callback).
    using OnConnected =
        std::function<void(std::shared_ptr<StreamReaderImpl>, std::shared_ptr<StreamWriterImpl>)>;

    StreamReaderProtocol(EventLoop& loop, std::shared_ptr<StreamReaderImpl> reader,
                         OnConnected on_connected = {});

    void connection_made(Transport& transport) override;
    void data_received(std::string_view data) override;
    std::span<char> read_room() override;
    void room_filled(std::size_t nbytes) override;
    bool eof_received() override;
    void connection_lost(std::exception_ptr exc) override;
    void pause_writing() override;
    void resume_writing() override;

    /// drain(): raises ConnectionResetError once the connection is lost, else waits while
    /// writing is paused. Python: FlowControlMixin._drain_helper.
    bool lost() const noexcept { return lost_; }
    bool write_paused() const noexcept { return paused_; }
    Future<void> add_drain_waiter();
    /// Completed when the connection is lost (with its error, if any).
    Future<void> closed_future() const { return closed_; }
    EventLoop& loop() const noexcept { return *loop_; }
    /// Made by start_server (it had a client_connected_cb): the server side for start_tls.
    bool server_side() const noexcept { return server_side_; }

  private:
    EventLoop* loop_;
    std::weak_ptr<StreamReaderImpl> reader_;
    std::shared_ptr<StreamReaderImpl> strong_reader_;  // until connection_made hands it on
    OnConnected on_connected_;
    bool server_side_ = static_cast<bool>(on_connected_);
    bool paused_ = false;
    bool lost_ = false;
    std::vector<Future<void>> drain_waiters_;
    Future<void> closed_;
};

}  // namespace asyncio::detail
