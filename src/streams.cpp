#include "asyncio/streams.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <system_error>
#include <utility>

#include "asyncio/tasks.hpp"
#include "selector_events.hpp"

namespace asyncio {

namespace detail {

namespace {

void set_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        throw std::system_error(errno, std::system_category(),
                                "cannot make fd " + std::to_string(fd) + " non-blocking");
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ByteBuffer

void ByteBuffer::append(std::string_view s) {
    if (s.empty()) return;
    if (cap_ - tail_ < s.size()) {
        std::size_t live = size();
        if (head_ > 0 && live + s.size() <= cap_) {
            std::memmove(data_.get(), data_.get() + head_, live);  // room enough once compacted
        } else {
            std::size_t cap = std::max(live + s.size(), 2 * cap_);
            std::unique_ptr<char[]> grown(new char[cap]);  // uninitialised, unlike a std::string's
            if (live > 0) std::memcpy(grown.get(), data_.get() + head_, live);
            data_ = std::move(grown);
            cap_ = cap;
        }
        head_ = 0;
        tail_ = live;
    }
    std::memcpy(data_.get() + tail_, s.data(), s.size());
    tail_ += s.size();
}

std::string ByteBuffer::take(std::size_t n) {
    n = std::min(n, size());
    std::string out(data_.get() + head_, n);
    consume(n);
    return out;
}

void ByteBuffer::consume(std::size_t n) noexcept {
    head_ += std::min(n, size());
    if (head_ == tail_) head_ = tail_ = 0;
}

// ---------------------------------------------------------------------------------------
// StreamReaderImpl

StreamReaderImpl::~StreamReaderImpl() {
    // A read pipe whose last reader goes away is closed at once, so that its writer sees
    // EPIPE (the subprocess gets SIGPIPE) instead of filling the pipe.
    if (transport && close_transport_on_drop) {
        if (auto* t = dynamic_cast<FdStreamTransport*>(transport.get()))
            t->close_now();
        else
            transport->close();
    }
}

void StreamReaderImpl::feed_data(std::string_view data) {
    if (eof) throw RuntimeError("feed_data after feed_eof");
    if (data.empty()) return;
    buffer.append(data);
    data_arrived();
}

void StreamReaderImpl::feed_in_place(std::size_t n) {
    if (n == 0) return;
    buffer.commit(n);
    data_arrived();
}

void StreamReaderImpl::data_arrived() {
    wakeup_waiter();
    if (transport && !paused && buffer.size() > 2 * limit) {
        try {
            transport->pause_reading();
            paused = true;
        } catch (...) {
            // The transport may not support pausing (then it keeps reading).
        }
    }
}

void StreamReaderImpl::feed_eof() {
    eof = true;
    wakeup_waiter();
}

void StreamReaderImpl::set_exception(std::exception_ptr e) {
    exception = e;
    Future<void> w = std::exchange(waiter, Future<void>());
    if (w && !w.done()) w.set_exception(e);
}

void StreamReaderImpl::wakeup_waiter() {
    Future<void> w = std::exchange(waiter, Future<void>());
    if (w && !w.done()) w.set_result();
}

void StreamReaderImpl::maybe_resume_transport() {
    if (paused && buffer.size() <= limit) {
        paused = false;
        if (transport) transport->resume_reading();
    }
}

Future<void> StreamReaderImpl::make_waiter(const char* func_name) {
    if (waiter)
        throw RuntimeError(
            std::string(func_name) +
            "() called while another coroutine is already waiting for incoming data");
    if (paused) {
        paused = false;
        if (transport) transport->resume_reading();
    }
    waiter = get_running_loop().create_future<void>();
    return waiter;
}

StreamWriterImpl::~StreamWriterImpl() {
    if (!transport || transport->is_closing()) return;
    if (transport->get_loop().is_closed()) return;
    try {
        transport->close();  // flushes first (CPython: StreamWriter.__del__ closes the transport)
    } catch (...) {
    }
}

// ---------------------------------------------------------------------------------------
// StreamReaderProtocol

StreamReaderProtocol::StreamReaderProtocol(EventLoop& loop,
                                           std::shared_ptr<StreamReaderImpl> reader,
                                           OnConnected on_connected)
    : loop_(&loop), reader_(reader), on_connected_(std::move(on_connected)) {
    if (on_connected_) strong_reader_ = std::move(reader);
    closed_ = loop.create_future<void>();
}

void StreamReaderProtocol::connection_made(Transport& transport) {
    std::shared_ptr<Transport> t(transport.shared_from_this(), &transport);
    if (auto r = reader_.lock()) {
        if (!r->transport) r->transport = t;
    }
    if (on_connected_) {
        auto w = std::make_shared<StreamWriterImpl>(t, shared_from_this(), strong_reader_);
        auto cb = std::move(on_connected_);
        on_connected_ = nullptr;
        cb(std::move(strong_reader_), std::move(w));
    }
}

void StreamReaderProtocol::data_received(std::string_view data) {
    if (auto r = reader_.lock()) r->feed_data(data);
}

// Reading in place pays when the buffer has room for a large read already (it grew to hold
// earlier data): then the bytes land where read() takes them from. A small or full buffer
// gets data_received through the transport's shared buffer instead, so that an idle
// connection's buffer never grows for this.
constexpr std::size_t min_in_place_room = 16 * 1024;

std::span<char> StreamReaderProtocol::read_room() {
    auto r = reader_.lock();
    if (!r || r->eof) return {};
    std::span<char> room = r->buffer.room();
    return room.size() >= min_in_place_room ? room : std::span<char>();
}

void StreamReaderProtocol::room_filled(std::size_t nbytes) {
    if (auto r = reader_.lock()) r->feed_in_place(nbytes);
}

bool StreamReaderProtocol::eof_received() {
    if (auto r = reader_.lock()) r->feed_eof();
    // Keep the transport open: the writer may still write (half-close).
    return true;
}

void StreamReaderProtocol::connection_lost(std::exception_ptr exc) {
    if (auto r = reader_.lock()) {
        if (exc)
            r->set_exception(exc);
        else if (!r->eof)
            r->feed_eof();
    }
    lost_ = true;
    strong_reader_.reset();
    // Every drain() waiting now wakes with the connection's error; later ones raise
    // "Connection lost".
    for (auto& w : drain_waiters_) {
        if (w.done()) continue;
        if (exc)
            w.set_exception(exc);
        else
            w.set_result();
    }
    drain_waiters_.clear();
    paused_ = false;
    if (!closed_.done()) {
        if (exc) {
            closed_.set_exception(exc);
            closed_.state()->mark_retrieved();  // wait_closed() is optional
        } else {
            closed_.set_result();
        }
    }
}

void StreamReaderProtocol::pause_writing() { paused_ = true; }

void StreamReaderProtocol::resume_writing() {
    paused_ = false;
    for (auto& w : drain_waiters_)
        if (!w.done()) w.set_result();
    drain_waiters_.clear();
}

Future<void> StreamReaderProtocol::add_drain_waiter() {
    std::erase_if(drain_waiters_, [](const Future<void>& f) { return f.done(); });
    drain_waiters_.push_back(loop_->create_future<void>());
    return drain_waiters_.back();
}

// ---------------------------------------------------------------------------------------
// Factories

StreamReader make_fd_reader(EventLoop& loop, int fd, FdTransport::Kind kind, std::size_t limit) {
    loop.check_closed();
    set_nonblocking(fd);
    auto r = std::make_shared<StreamReaderImpl>(limit);
    auto p = std::make_shared<StreamReaderProtocol>(loop, r);
    auto t = std::make_shared<FdStreamTransport>(loop, fd,
                                                 kind == FdTransport::Kind::socket
                                                     ? FdStreamTransport::Kind::socket
                                                     : FdStreamTransport::Kind::read_pipe,
                                                 p);
    r->transport = t;
    r->close_transport_on_drop = kind != FdTransport::Kind::socket;
    t->start();
    return StreamReader(std::move(r));
}

StreamWriter make_fd_writer(EventLoop& loop, int fd, FdTransport::Kind kind) {
    loop.check_closed();
    set_nonblocking(fd);
    auto p = std::make_shared<StreamReaderProtocol>(loop, nullptr);
    auto t = std::make_shared<FdStreamTransport>(loop, fd,
                                                 kind == FdTransport::Kind::socket
                                                     ? FdStreamTransport::Kind::socket
                                                     : FdStreamTransport::Kind::write_pipe,
                                                 p);
    t->start();
    return StreamWriter(std::make_shared<StreamWriterImpl>(std::move(t), std::move(p)));
}

std::pair<StreamReader, StreamWriter> make_socket_streams(EventLoop& loop, int fd,
                                                          std::size_t limit) {
    loop.check_closed();
    set_nonblocking(fd);
    auto r = std::make_shared<StreamReaderImpl>(limit);
    auto p = std::make_shared<StreamReaderProtocol>(loop, r);
    auto t = std::make_shared<FdStreamTransport>(loop, fd, FdStreamTransport::Kind::socket, p);
    r->transport = t;
    t->start();
    auto w = std::make_shared<StreamWriterImpl>(t, p, r);
    return {StreamReader(std::move(r)), StreamWriter(std::move(w))};
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// StreamReader

namespace {

using detail::StreamReaderImpl;

/// Waits until data, EOF or an error arrives, in the awaiting coroutine's own frame; the
/// reader's waiter is cleared however the wait ends. Python: StreamReader._wait_for_data.
/// An awaiter rather than a coroutine: with a frame of its own (and readline's over
/// readuntil's) an idle connection waiting in readline cost 385 B more.
class DataWait {
  public:
    DataWait(StreamReaderImpl& s, const char* func_name) : s_(&s), w_(s.make_waiter(func_name)) {}
    bool await_ready() const noexcept { return w_.done(); }
    void await_suspend(std::coroutine_handle<> h) { (w_.operator co_await()).await_suspend(h); }
    void await_resume() {
        if (s_->waiter == w_) s_->waiter = Future<void>();
        (w_.operator co_await()).await_resume();
    }

  private:
    StreamReaderImpl* s_;  // the awaiting coroutine holds the reader
    Future<void> w_;
};

void check_exception(const StreamReaderImpl& s) {
    if (s.exception) std::rethrow_exception(s.exception);
}

Coro<std::string> do_read(std::shared_ptr<StreamReaderImpl> s, long long n) {
    check_exception(*s);
    if (n == 0) co_return std::string();
    if (n < 0) {
        // Everything until EOF, taken in pieces so that a paused transport resumes.
        std::string out;
        for (;;) {
            check_exception(*s);
            if (!s->buffer.empty()) {
                out += s->buffer.take(s->buffer.size());
                s->maybe_resume_transport();
            }
            if (s->eof) break;
            co_await DataWait(*s, "read");
        }
        co_return out;
    }
    if (s->buffer.empty() && !s->eof) co_await DataWait(*s, "read");
    std::string data = s->buffer.take(static_cast<std::size_t>(n));
    s->maybe_resume_transport();
    co_return data;
}

/// One step of readuntil's search. CPython's algorithm: search only the part not searched
/// yet (`offset` keeps the progress), fail once that part passes the limit.
struct SeparatorSearch {
    enum State { found, more, overrun } state;
    std::size_t pos;      // found: the separator's index; overrun: LimitOverrunError.consumed
    const char* message;  // overrun: LimitOverrunError's text
};

SeparatorSearch search_separator(const StreamReaderImpl& s, std::string_view sep,
                                 std::size_t& offset) {
    std::size_t buflen = s.buffer.size();
    if (buflen - offset < sep.size()) return {SeparatorSearch::more, 0, nullptr};
    std::size_t isep = s.buffer.view().find(sep, offset);
    if (isep == std::string_view::npos) {
        offset = buflen + 1 - sep.size();
        if (offset > s.limit)
            return {SeparatorSearch::overrun, offset,
                    "Separator is not found, and chunk exceed the limit"};
        return {SeparatorSearch::more, 0, nullptr};
    }
    if (isep > s.limit)
        return {SeparatorSearch::overrun, isep,
                "Separator is found, but chunk is longer than limit"};
    return {SeparatorSearch::found, isep, nullptr};
}

Coro<std::string> do_readuntil(std::shared_ptr<StreamReaderImpl> s, std::string separator) {
    if (separator.empty())
        throw std::invalid_argument("Separator should be at least one-byte string");
    check_exception(*s);
    std::size_t offset = 0;
    for (;;) {
        SeparatorSearch r = search_separator(*s, separator, offset);
        if (r.state == SeparatorSearch::found) {
            std::string chunk = s->buffer.take(r.pos + separator.size());
            s->maybe_resume_transport();
            co_return chunk;
        }
        if (r.state == SeparatorSearch::overrun) throw LimitOverrunError(r.message, r.pos);
        if (s->eof) throw IncompleteReadError(s->buffer.take(s->buffer.size()), std::nullopt);
        co_await DataWait(*s, "readuntil");
    }
}

/// Python: readline() is readuntil(b"\n") with IncompleteReadError turned into the partial
/// line and LimitOverrunError into ValueError; written out here as one frame.
Coro<std::string> do_readline(std::shared_ptr<StreamReaderImpl> s) {
    check_exception(*s);
    std::size_t offset = 0;
    for (;;) {
        SeparatorSearch r = search_separator(*s, "\n", offset);
        if (r.state == SeparatorSearch::found) {
            std::string line = s->buffer.take(r.pos + 1);
            s->maybe_resume_transport();
            co_return line;
        }
        if (r.state == SeparatorSearch::overrun) {
            // The line is dropped: up to and including its separator if it is buffered, else
            // the whole buffer. Then ValueError.
            std::string_view v = s->buffer.view();
            if (r.pos < v.size() && v[r.pos] == '\n')
                s->buffer.consume(r.pos + 1);
            else
                s->buffer.clear();
            s->maybe_resume_transport();
            throw std::invalid_argument(r.message);
        }
        if (s->eof) co_return s->buffer.take(s->buffer.size());  // the partial line
        co_await DataWait(*s, "readuntil");
    }
}

Coro<std::string> do_readexactly(std::shared_ptr<StreamReaderImpl> s, long long n) {
    if (n < 0) throw std::invalid_argument("readexactly size can not be less than zero");
    check_exception(*s);
    if (n == 0) co_return std::string();
    auto want = static_cast<std::size_t>(n);
    while (s->buffer.size() < want) {
        if (s->eof) {
            std::string partial = s->buffer.take(s->buffer.size());
            throw IncompleteReadError(std::move(partial), want);
        }
        co_await DataWait(*s, "readexactly");
    }
    std::string data = s->buffer.take(want);
    s->maybe_resume_transport();
    co_return data;
}

}  // namespace

StreamReader::StreamReader(StreamReaderOptions options) {
    if (options.limit == 0) throw std::invalid_argument("Limit cannot be <= 0");
    s_ = std::make_shared<detail::StreamReaderImpl>(options.limit);
}

detail::StreamReaderImpl& StreamReader::get() const {
    if (!s_) throw RuntimeError("empty StreamReader (the stream was not opened as a PIPE)");
    return *s_;
}

Coro<std::string> StreamReader::read(long long n) const {
    get();
    return do_read(s_, n);
}
Coro<std::string> StreamReader::readline() const {
    get();
    return do_readline(s_);
}
Coro<std::string> StreamReader::readexactly(long long n) const {
    get();
    return do_readexactly(s_, n);
}
Coro<std::string> StreamReader::readuntil(std::string separator) const {
    get();
    return do_readuntil(s_, std::move(separator));
}
bool StreamReader::at_eof() const { return get().eof && get().buffer.empty(); }
void StreamReader::feed_data(std::string_view data) const { get().feed_data(data); }
void StreamReader::feed_eof() const { get().feed_eof(); }
void StreamReader::set_exception(std::exception_ptr e) const { get().set_exception(std::move(e)); }
std::exception_ptr StreamReader::exception() const { return get().exception; }
std::size_t StreamReader::limit() const { return get().limit; }
std::size_t StreamReader::buffered() const { return get().buffer.size(); }

// ---------------------------------------------------------------------------------------
// StreamWriter

namespace {

using detail::StreamWriterImpl;

Coro<void> do_drain(std::shared_ptr<StreamWriterImpl> w) {
    // Python: StreamWriter.drain.
    if (w->reader && w->reader->exception) std::rethrow_exception(w->reader->exception);
    if (w->transport->is_closing()) co_await sleep(0);  // let a pending connection_lost run
    auto& p = *w->protocol;
    if (p.lost()) throw OSError(ECONNRESET, "Connection lost");
    if (!p.write_paused()) co_return;
    Future<void> f = p.add_drain_waiter();
    co_await f;
}

Coro<void> do_wait_closed(std::shared_ptr<StreamWriterImpl> w) {
    Future<void> closed = w->protocol->closed_future();
    if (!closed.done()) {
        // Each waiter awaits its own future, so that cancelling one leaves the others be.
        Future<void> mine = w->protocol->loop().create_future<void>();
        closed.add_done_callback([mine](Future<void>& c) {
            if (mine.done()) return;
            if (c.cancelled())
                mine.cancel();
            else if (auto e = c.exception())
                mine.set_exception(e);
            else
                mine.set_result();
        });
        co_await mine;
        co_return;
    }
    closed.result();
}

}  // namespace

detail::StreamWriterImpl& StreamWriter::get() const {
    if (!s_) throw RuntimeError("empty StreamWriter (the stream was not opened as a PIPE)");
    return *s_;
}

void StreamWriter::write(std::string_view data) const {
    auto& w = get();
    // Python drops data written to a closing transport; here it is an error (footguns.md),
    // except after the peer went away, where drain() reports it.
    if (w.transport->is_closing() && !w.protocol->lost())
        throw RuntimeError("write() on a closing transport");
    w.transport->write(data);
}
void StreamWriter::writelines(const std::vector<std::string>& lines) const {
    for (const auto& l : lines) write(l);
}
Coro<void> StreamWriter::drain() const {
    get();
    return do_drain(s_);
}
void StreamWriter::close() const { get().transport->close(); }
Coro<void> StreamWriter::wait_closed() const {
    get();
    return do_wait_closed(s_);
}
bool StreamWriter::is_closing() const { return get().transport->is_closing(); }
bool StreamWriter::can_write_eof() const { return get().transport->can_write_eof(); }
void StreamWriter::write_eof() const { get().transport->write_eof(); }
std::any StreamWriter::get_extra_info(const std::string& name, std::any default_value) const {
    return get().transport->get_extra_info(name, std::move(default_value));
}
std::size_t StreamWriter::get_write_buffer_size() const {
    return get().transport->get_write_buffer_size();
}
void StreamWriter::set_write_buffer_limits(std::optional<std::size_t> high,
                                           std::optional<std::size_t> low) const {
    get().transport->set_write_buffer_limits(high, low);
}

}  // namespace asyncio

// ---------------------------------------------------------------------------------------
// Connections and servers. Python: streams.open_connection, start_server,
// open_unix_connection, start_unix_server.

namespace asyncio {

std::shared_ptr<Transport> StreamWriter::transport() const { return get().transport; }

namespace {

ConnectionOptions connection_options(OpenConnectionOptions& o) {
    ConnectionOptions c;
    c.family = o.family;
    c.proto = o.proto;
    c.flags = o.flags;
    c.sock = std::move(o.sock);
    c.local_addr = std::move(o.local_addr);
    c.happy_eyeballs_delay = o.happy_eyeballs_delay;
    c.interleave = o.interleave;
    c.all_errors = o.all_errors;
    c.ssl = std::move(o.ssl);
    c.server_hostname = std::move(o.server_hostname);
    c.ssl_handshake_timeout = o.ssl_handshake_timeout;
    c.ssl_shutdown_timeout = o.ssl_shutdown_timeout;
    return c;
}

/// The protocol factory of a stream server: each connection gets a reader and a writer,
/// handed to `cb` in a new task. Python: start_server's factory and
/// StreamReaderProtocol.connection_made with client_connected_cb.
ProtocolFactory server_factory(EventLoop& loop, ClientConnectedCallback cb, std::size_t limit) {
    auto shared_cb = std::make_shared<ClientConnectedCallback>(std::move(cb));
    return [&loop, shared_cb, limit]() -> std::shared_ptr<Protocol> {
        auto r = std::make_shared<detail::StreamReaderImpl>(limit);
        auto on_connected = [&loop, shared_cb](std::shared_ptr<detail::StreamReaderImpl> reader,
                                               std::shared_ptr<detail::StreamWriterImpl> writer) {
            std::weak_ptr<Transport> wt = writer->transport;
            Task<void> task = loop.create_task(
                (*shared_cb)(StreamReader(std::move(reader)), StreamWriter(std::move(writer))));
            task.add_done_callback([wt, &loop](const Task<void>& t) {
                if (t.cancelled()) return;
                if (std::exception_ptr e = t.exception()) {
                    // Python 3.12+: the handler's error is reported and the connection closed.
                    ExceptionContext ctx;
                    ctx.message = "Unhandled exception in client_connected_cb";
                    ctx.exception = e;
                    loop.call_exception_handler(ctx);
                    if (auto tr = wt.lock()) tr->close();
                }
            });
        };
        return std::make_shared<detail::StreamReaderProtocol>(loop, std::move(r), on_connected);
    };
}

Coro<std::pair<StreamReader, StreamWriter>> finish_open(
    std::shared_ptr<detail::StreamReaderImpl> r,
    std::pair<std::shared_ptr<Transport>, std::shared_ptr<detail::StreamReaderProtocol>> tp) {
    auto w = std::make_shared<detail::StreamWriterImpl>(tp.first, tp.second, r);
    co_return std::pair<StreamReader, StreamWriter>(StreamReader(std::move(r)),
                                                    StreamWriter(std::move(w)));
}

}  // namespace

Coro<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port,
                                                            OpenConnectionOptions options) {
    EventLoop& loop = get_running_loop();
    if (options.limit == 0) throw std::invalid_argument("Limit cannot be <= 0");
    auto r = std::make_shared<detail::StreamReaderImpl>(options.limit);
    ConnectionOptions copts = connection_options(options);
    auto op = loop.create_connection(
        [&loop, r] { return std::make_shared<detail::StreamReaderProtocol>(loop, r); },
        std::move(host), port, std::move(copts));
    auto tp = co_await op;
    auto fin = finish_open(std::move(r), std::move(tp));
    co_return co_await fin;
}

Coro<std::pair<StreamReader, StreamWriter>> open_connection(OpenConnectionOptions options) {
    return open_connection(std::string(), 0, std::move(options));
}

Coro<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path,
                                                                 OpenConnectionOptions options) {
    EventLoop& loop = get_running_loop();
    if (options.limit == 0) throw std::invalid_argument("Limit cannot be <= 0");
    auto r = std::make_shared<detail::StreamReaderImpl>(options.limit);
    ConnectionOptions copts = connection_options(options);
    auto op = loop.create_unix_connection(
        [&loop, r] { return std::make_shared<detail::StreamReaderProtocol>(loop, r); },
        std::move(path), std::move(copts));
    auto tp = co_await op;
    auto fin = finish_open(std::move(r), std::move(tp));
    co_return co_await fin;
}

Coro<Server> start_server(ClientConnectedCallback client_connected_cb,
                          std::vector<std::string> hosts, int port, StartServerOptions options) {
    EventLoop& loop = get_running_loop();
    if (options.limit == 0) throw std::invalid_argument("Limit cannot be <= 0");
    ServerOptions s;
    s.family = options.family;
    s.flags = options.flags;
    s.sock = std::move(options.sock);
    s.backlog = options.backlog;
    s.reuse_address = options.reuse_address;
    s.reuse_port = options.reuse_port;
    s.keep_alive = options.keep_alive;
    s.start_serving = options.start_serving;
    s.ssl = std::move(options.ssl);
    s.ssl_handshake_timeout = options.ssl_handshake_timeout;
    s.ssl_shutdown_timeout = options.ssl_shutdown_timeout;
    auto op =
        loop.create_server(server_factory(loop, std::move(client_connected_cb), options.limit),
                           std::move(hosts), port, std::move(s));
    co_return co_await op;
}

Coro<Server> start_server(ClientConnectedCallback client_connected_cb, std::string host, int port,
                          StartServerOptions options) {
    std::vector<std::string> hosts;
    if (!host.empty() || !options.sock) hosts.push_back(std::move(host));
    return start_server(std::move(client_connected_cb), std::move(hosts), port, std::move(options));
}

Coro<Server> start_server(ClientConnectedCallback client_connected_cb, StartServerOptions options) {
    return start_server(std::move(client_connected_cb), std::vector<std::string>{}, 0,
                        std::move(options));
}

Coro<Server> start_unix_server(ClientConnectedCallback client_connected_cb, std::string path,
                               StartUnixServerOptions options) {
    EventLoop& loop = get_running_loop();
    if (options.limit == 0) throw std::invalid_argument("Limit cannot be <= 0");
    UnixServerOptions s;
    s.sock = std::move(options.sock);
    s.backlog = options.backlog;
    s.start_serving = options.start_serving;
    s.cleanup_socket = options.cleanup_socket;
    s.ssl = std::move(options.ssl);
    s.ssl_handshake_timeout = options.ssl_handshake_timeout;
    s.ssl_shutdown_timeout = options.ssl_shutdown_timeout;
    auto op =
        loop.create_unix_server(server_factory(loop, std::move(client_connected_cb), options.limit),
                                std::move(path), std::move(s));
    co_return co_await op;
}

}  // namespace asyncio
