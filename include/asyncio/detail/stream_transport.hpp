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
#include <string>
#include <string_view>
#include <vector>

#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/protocols.hpp"
#include "asyncio/transports.hpp"

namespace asyncio::detail {

/// Bytes with a cheap consume-from-the-front (the reader's buffer).
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
                                   public std::enable_shared_from_this<StreamReaderProtocol> {
public:
    /// Called in connection_made with the new reader and writer (start_server's callback).
    using OnConnected =
        std::function<void(std::shared_ptr<StreamReaderImpl>, std::shared_ptr<StreamWriterImpl>)>;

    StreamReaderProtocol(EventLoop& loop, std::shared_ptr<StreamReaderImpl> reader,
                         OnConnected on_connected = {});

    void connection_made(Transport& transport) override;
    void data_received(std::string_view data) override;
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
