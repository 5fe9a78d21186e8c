#include "asyncio/streams.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <system_error>

#include "asyncio/tasks.hpp"

namespace asyncio {

namespace detail {

namespace {

/// Writing to a pipe whose reader is gone raises SIGPIPE, which kills the process by
/// default; like CPython (which ignores it at startup), the first writer transport ignores
/// it, so that the write fails with EPIPE instead. Subprocesses get the default back.
void ignore_sigpipe_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction old {};
        if (::sigaction(SIGPIPE, nullptr, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
            old.sa_handler == SIG_DFL)
            ::signal(SIGPIPE, SIG_IGN);
    });
}

void set_nonblocking(int fd) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        throw std::system_error(errno, std::system_category(),
                                "cannot make fd " + std::to_string(fd) + " non-blocking");
}

std::exception_ptr os_error(int err, const std::string& what) {
    return std::make_exception_ptr(std::system_error(err, std::generic_category(), what));
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ByteBuffer

std::string ByteBuffer::take(std::size_t n) {
    n = std::min(n, size());
    std::string out(data_, head_, n);
    consume(n);
    return out;
}

void ByteBuffer::consume(std::size_t n) {
    head_ += std::min(n, size());
    if (head_ == data_.size()) {
        data_.clear();
        head_ = 0;
    } else if (head_ > 4096 && head_ * 2 > data_.size()) {
        data_.erase(0, head_);
        head_ = 0;
    }
}

// ---------------------------------------------------------------------------------------
// StreamReaderImpl

StreamReaderImpl::~StreamReaderImpl() {
    if (transport) transport->detach_reader();
}

void StreamReaderImpl::feed_data(std::string_view data) {
    if (eof) throw RuntimeError("feed_data after feed_eof");
    if (data.empty()) return;
    buffer.append(data);
    wakeup_waiter();
    if (transport && !paused && buffer.size() > 2 * limit) {
        transport->pause_reading();
        paused = true;
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
        throw RuntimeError(std::string(func_name) +
                           "() called while another coroutine is already waiting for incoming data");
    if (paused) {
        paused = false;
        if (transport) transport->resume_reading();
    }
    waiter = get_running_loop().create_future<void>();
    return waiter;
}

StreamWriterImpl::~StreamWriterImpl() {
    if (transport) transport->detach_writer();
}

// ---------------------------------------------------------------------------------------
// FdTransport

FdTransport::FdTransport(EventLoop& loop, int fd, Kind kind) : loop_(&loop), fd_(fd), kind_(kind) {
    loop.check_closed();
    set_nonblocking(fd);
    if (kind != Kind::read_pipe) ignore_sigpipe_once();
    extra_[kind == Kind::socket ? "socket" : "pipe"] = fd;
    closed_fut_ = loop.create_future<void>();
    loop_->add_ref();
}

FdTransport::~FdTransport() {
    // Only reached when nothing is registered with the loop any more (registrations own the
    // transport), or while the loop is being closed: just close the fd.
    if (fd_ >= 0) ::close(fd_);
    drain_waiters_.clear();
    closed_fut_ = {};
    loop_->release();
}

void FdTransport::attach_reader(StreamReaderImpl* r) {
    reader_ = r;
    resume_reading();
}

void FdTransport::detach_reader() noexcept {
    reader_ = nullptr;
    stop_reading();
    if (kind_ == Kind::read_pipe || !has_writer_) {
        if (loop_->is_closed()) return;
        try {
            if (kind_ == Kind::read_pipe)
                abort();
            else
                close();
        } catch (...) {
        }
    }
}

void FdTransport::detach_writer() noexcept {
    has_writer_ = false;
    if (closing_ || loop_->is_closed()) return;
    try {
        close();  // flushes first (CPython: StreamWriter.__del__ closes the transport)
    } catch (...) {
    }
}

void FdTransport::stop_reading() noexcept {
    if (!reading_) return;
    reading_ = false;
    if (!loop_->is_closed()) {
        try {
            loop_->remove_reader(fd_);
        } catch (...) {
        }
    }
}

void FdTransport::pause_reading() { stop_reading(); }

void FdTransport::resume_reading() {
    if (closed_ || closing_ || reading_ || !reader_ || kind_ == Kind::write_pipe) return;
    reading_ = true;
    loop_->add_reader(fd_, [self = shared_from_this()] { self->on_readable(); });
}

void FdTransport::on_readable() {
    if (closed_ || !reading_) return;
    static thread_local std::unique_ptr<char[]> buf(new char[256 * 1024]);
    ssize_t n = ::read(fd_, buf.get(), 256 * 1024);
    if (n > 0) {
        if (reader_) reader_->feed_data(std::string_view(buf.get(), static_cast<std::size_t>(n)));
        return;
    }
    if (n == 0) {
        stop_reading();
        if (kind_ == Kind::read_pipe || eof_written_ || !has_writer_) {
            closing_ = true;
            connection_lost(nullptr);  // feeds EOF
        } else if (reader_ && !reader_->eof) {
            reader_->feed_eof();  // half-closed socket: the write side stays open
        }
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    fatal_error(errno, "read");
}

void FdTransport::write(std::string_view data) {
    if (kind_ == Kind::read_pipe) throw RuntimeError("write() on a read pipe transport");
    if (eof_written_ || eof_pending_) throw RuntimeError("Cannot call write() after write_eof()");
    if (lost_) return;  // the peer went away: drain() reports it (CPython drops it too)
    if (closing_) throw RuntimeError("write() on a closing transport");
    if (data.empty()) return;
    if (wbuf_.empty()) {
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                fatal_error(errno, "write");
                return;
            }
            n = 0;
        }
        if (static_cast<std::size_t>(n) == data.size()) return;
        data.remove_prefix(static_cast<std::size_t>(n));
        start_writer();
    }
    wbuf_.append(data);
    maybe_pause_writing();
}

void FdTransport::start_writer() {
    if (writer_registered_) return;
    writer_registered_ = true;
    loop_->add_writer(fd_, [self = shared_from_this()] { self->on_writable(); });
}

void FdTransport::on_writable() {
    if (closed_) return;
    flush_some();
}

void FdTransport::flush_some() {
    std::string_view v = wbuf_.view();
    if (!v.empty()) {
        ssize_t n = ::write(fd_, v.data(), v.size());
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            fatal_error(errno, "write");
            return;
        }
        wbuf_.consume(static_cast<std::size_t>(n));
    }
    maybe_resume_writing();
    if (!wbuf_.empty()) return;
    writer_registered_ = false;
    loop_->remove_writer(fd_);
    if (closing_) {
        connection_lost(nullptr);
    } else if (eof_pending_) {
        eof_pending_ = false;
        write_eof();
    }
}

void FdTransport::maybe_pause_writing() {
    if (!write_paused_ && wbuf_.size() > high_water_) write_paused_ = true;
}

void FdTransport::maybe_resume_writing() {
    if (write_paused_ && wbuf_.size() <= low_water_) {
        write_paused_ = false;
        for (auto& w : drain_waiters_)
            if (!w.done()) w.set_result();
        drain_waiters_.clear();
    }
}

void FdTransport::set_write_buffer_limits(std::optional<std::size_t> high,
                                          std::optional<std::size_t> low) {
    std::size_t h = high ? *high : (low ? 4 * *low : 64 * 1024);
    std::size_t l = low ? *low : h / 4;
    if (l > h)
        throw std::invalid_argument("high (" + std::to_string(h) + ") must be >= low (" +
                                    std::to_string(l) + ")");
    high_water_ = h;
    low_water_ = l;
    maybe_pause_writing();
    maybe_resume_writing();
}

void FdTransport::close() {
    if (closing_) return;
    closing_ = true;
    stop_reading();
    if (wbuf_.empty()) connection_lost(nullptr);
    // else: on_writable() closes once the buffer is flushed
}

void FdTransport::abort() {
    closing_ = true;
    wbuf_.clear();
    connection_lost(nullptr);
}

void FdTransport::write_eof() {
    if (kind_ == Kind::read_pipe) throw RuntimeError("write_eof() on a read pipe transport");
    if (closing_ || eof_written_) return;
    if (!wbuf_.empty()) {
        eof_pending_ = true;
        return;
    }
    eof_written_ = true;
    if (kind_ == Kind::write_pipe) {
        closing_ = true;
        connection_lost(nullptr);
    } else {
        ::shutdown(fd_, SHUT_WR);
        if (reader_ == nullptr || reader_->eof) {
            closing_ = true;
            connection_lost(nullptr);
        }
    }
}

std::any FdTransport::get_extra_info(const std::string& name, std::any default_value) const {
    auto it = extra_.find(name);
    return it == extra_.end() ? default_value : it->second;
}

void FdTransport::fatal_error(int err, const char* what) {
    closing_ = true;
    wbuf_.clear();
    connection_lost(os_error(err, std::string(what) + " on fd " + std::to_string(fd_)));
}

void FdTransport::connection_lost(std::exception_ptr exc) {
    if (closed_) return;
    closed_ = true;
    closing_ = true;
    lost_ = true;
    lost_exc_ = exc;
    auto keep = shared_from_this();  // callbacks below may drop the last handle
    stop_reading();
    if (writer_registered_) {
        writer_registered_ = false;
        loop_->remove_writer(fd_);
    }
    ::close(fd_);
    fd_ = -1;
    wbuf_.clear();
    if (reader_) {
        if (exc)
            reader_->set_exception(exc);
        else if (!reader_->eof)
            reader_->feed_eof();
    }
    // Waiters of drain() wake up (with the error); the next drain() raises "Connection lost".
    for (auto& w : drain_waiters_) {
        if (w.done()) continue;
        if (exc)
            w.set_exception(exc);
        else
            w.set_result();
    }
    drain_waiters_.clear();
    write_paused_ = false;
    if (!closed_fut_.done()) {
        if (exc) {
            closed_fut_.set_exception(exc);
            closed_fut_.state()->mark_retrieved();  // wait_closed() is optional
        } else {
            closed_fut_.set_result();
        }
    }
}

Future<void> FdTransport::add_drain_waiter() {
    std::erase_if(drain_waiters_, [](const Future<void>& f) { return f.done(); });
    drain_waiters_.push_back(loop_->create_future<void>());
    return drain_waiters_.back();
}

void FdTransport::check_connection_lost() const {
    if (!lost_) return;
    throw std::system_error(ECONNRESET, std::generic_category(), "Connection lost");
}

Future<void> FdTransport::closed_future() { return closed_fut_; }

// ---------------------------------------------------------------------------------------
// Factories

StreamReader make_fd_reader(EventLoop& loop, int fd, FdTransport::Kind kind, std::size_t limit) {
    auto t = std::make_shared<FdTransport>(loop, fd, kind);
    auto r = std::make_shared<StreamReaderImpl>(limit);
    r->transport = t;
    t->attach_reader(r.get());
    return StreamReader(std::move(r));
}

StreamWriter make_fd_writer(EventLoop& loop, int fd, FdTransport::Kind kind) {
    auto t = std::make_shared<FdTransport>(loop, fd, kind);
    t->attach_writer();
    return StreamWriter(std::make_shared<StreamWriterImpl>(std::move(t)));
}

std::pair<StreamReader, StreamWriter> make_socket_streams(EventLoop& loop, int fd,
                                                          std::size_t limit) {
    auto t = std::make_shared<FdTransport>(loop, fd, FdTransport::Kind::socket);
    auto r = std::make_shared<StreamReaderImpl>(limit);
    r->transport = t;
    t->attach_writer();
    t->attach_reader(r.get());
    auto w = std::make_shared<StreamWriterImpl>(t, r);
    return {StreamReader(std::move(r)), StreamWriter(std::move(w))};
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// StreamReader

namespace {

using detail::StreamReaderImpl;

Coro<void> wait_for_data(std::shared_ptr<StreamReaderImpl> s, const char* func_name) {
    Future<void> w = s->make_waiter(func_name);
    std::exception_ptr err;
    try {
        co_await w;
    } catch (...) {
        err = std::current_exception();
    }
    if (s->waiter == w) s->waiter = Future<void>();
    if (err) std::rethrow_exception(err);
}

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
            co_await wait_for_data(s, "read");
        }
        co_return out;
    }
    if (s->buffer.empty() && !s->eof) co_await wait_for_data(s, "read");
    std::string data = s->buffer.take(static_cast<std::size_t>(n));
    s->maybe_resume_transport();
    co_return data;
}

Coro<std::string> do_readuntil(std::shared_ptr<StreamReaderImpl> s, std::string separator) {
    std::size_t seplen = separator.size();
    if (seplen == 0) throw std::invalid_argument("Separator should be at least one-byte string");
    check_exception(*s);
    // CPython's algorithm: search only the part not yet searched; fail once that part
    // passes the limit.
    std::size_t offset = 0;
    std::size_t isep;
    for (;;) {
        std::size_t buflen = s->buffer.size();
        if (buflen - offset >= seplen) {
            isep = s->buffer.view().find(separator, offset);
            if (isep != std::string_view::npos) break;
            offset = buflen + 1 - seplen;
            if (offset > s->limit)
                throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
        }
        if (s->eof) {
            std::string chunk = s->buffer.take(s->buffer.size());
            throw IncompleteReadError(std::move(chunk), std::nullopt);
        }
        co_await wait_for_data(s, "readuntil");
    }
    if (isep > s->limit)
        throw LimitOverrunError("Separator is found, but chunk is longer than limit", isep);
    std::string chunk = s->buffer.take(isep + seplen);
    s->maybe_resume_transport();
    co_return chunk;
}

Coro<std::string> do_readline(std::shared_ptr<StreamReaderImpl> s) {
    std::string message;
    try {
        co_return co_await do_readuntil(s, "\n");
    } catch (IncompleteReadError& e) {
        co_return std::move(e.partial);
    } catch (const LimitOverrunError& e) {
        // The line is dropped: up to and including its separator if it is buffered, else
        // the whole buffer. Then ValueError.
        std::string_view v = s->buffer.view();
        if (e.consumed < v.size() && v[e.consumed] == '\n')
            s->buffer.consume(e.consumed + 1);
        else
            s->buffer.clear();
        s->maybe_resume_transport();
        message = e.what();
    }
    throw std::invalid_argument(message);
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
        co_await wait_for_data(s, "readexactly");
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
    if (w->reader && w->reader->exception) std::rethrow_exception(w->reader->exception);
    auto& t = *w->transport;
    if (t.is_closing()) co_await sleep(0);  // let a pending connection loss happen first
    t.check_connection_lost();
    if (t.drain_ready()) co_return;
    co_await t.add_drain_waiter();
}

Coro<void> do_wait_closed(std::shared_ptr<StreamWriterImpl> w) {
    Future<void> closed = w->transport->closed_future();
    if (!closed.done()) {
        // Each waiter awaits its own future, so that cancelling one leaves the others be.
        Future<void> mine = w->transport->loop().create_future<void>();
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

void StreamWriter::write(std::string_view data) const { get().transport->write(data); }
void StreamWriter::writelines(const std::vector<std::string>& lines) const {
    for (const auto& l : lines) get().transport->write(l);
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
