// SSLProtocol: CPython's sslproto.SSLProtocol state machine, in our own words. Each method
// keeps the name of the Python method it ports (_do_handshake -> do_handshake, ...).
#include "asyncio/detail/sslproto.hpp"

#include <cerrno>
#include <cstdio>
#include <span>
#include <system_error>

#include "ssl_impl.hpp"

namespace asyncio::detail {

namespace {

// Decrypted bytes go through one buffer per thread (Python: max_size, 256 KiB) instead of
// one per connection: a thousand idle connections then hold no read buffer. A nested read
// (an application that closes from inside data_received) gets a buffer of its own.
constexpr std::size_t max_read_size = 256 * 1024;
struct ReadScratch {
    std::unique_ptr<char[]> data;
    bool busy = false;
};
thread_local ReadScratch read_scratch;

/// The thread's read buffer while free, else (a nested read) one of its own; taken on the
/// first get() only, so that a read that goes to the application's buffer takes none.
class ScratchLease {
  public:
    ScratchLease() = default;
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
    ~ScratchLease() {
        if (leased_) read_scratch.busy = false;
    }
    std::span<char> get() {
        if (buf_) return {buf_, max_read_size};
        if (read_scratch.busy) {
            own_.reset(new char[max_read_size]);
            buf_ = own_.get();
        } else {
            if (!read_scratch.data) read_scratch.data.reset(new char[max_read_size]);
            buf_ = read_scratch.data.get();
            read_scratch.busy = leased_ = true;
        }
        return {buf_, max_read_size};
    }

  private:
    char* buf_ = nullptr;
    std::unique_ptr<char[]> own_;
    bool leased_ = false;
};

// Encrypted bytes leave the outgoing BIO through one buffer per thread too: the transport
// below sends them at once or copies what the socket did not take, so nothing needs them
// after write() returns. A std::string per flush cost an allocation and a zero fill (64 KiB
// per 64 KiB echo) besides the copy.
constexpr std::size_t flush_chunk = 256 * 1024;
thread_local std::unique_ptr<char[]> flush_scratch;
thread_local bool flush_busy = false;

// Python: sslproto.add_flowcontrol_defaults.
std::pair<std::size_t, std::size_t> flowcontrol_defaults(std::optional<std::size_t> high,
                                                         std::optional<std::size_t> low,
                                                         std::size_t default_high) {
    std::size_t hi = high ? *high : (low ? 4 * *low : default_high);
    std::size_t lo = low ? *low : hi / 4;
    if (hi < lo)
        throw std::invalid_argument("high (" + std::to_string(hi) + ") must be >= low (" +
                                    std::to_string(lo) + ") must be >= 0");
    return {hi, lo};
}

// Python reports through the exception handler only what is not an OSError (SSLError is one
// there) and not a cancellation: a peer that fails a handshake is not a program error.
bool is_connection_error(const std::exception_ptr& exc) {
    if (!exc) return true;
    try {
        std::rethrow_exception(exc);
    } catch (const std::system_error&) {
        return true;
    } catch (const ssl::SSLError&) {
        return true;
    } catch (const TimeoutError&) {
        return true;
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

bool is_certificate_error(const std::exception_ptr& exc) {
    try {
        std::rethrow_exception(exc);
    } catch (const ssl::SSLCertVerificationError&) {
        return true;
    } catch (...) {
        return false;
    }
}

void report(EventLoop& loop, const char* message, std::exception_ptr exc) {
    ExceptionContext context;
    context.message = message;
    context.exception = std::move(exc);
    loop.call_exception_handler(context);
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", s);
    return buf;
}

}  // namespace

const char* to_string(SSLProtocolState state) noexcept {
    switch (state) {
        case SSLProtocolState::UNWRAPPED: return "UNWRAPPED";
        case SSLProtocolState::DO_HANDSHAKE: return "DO_HANDSHAKE";
        case SSLProtocolState::WRAPPED: return "WRAPPED";
        case SSLProtocolState::FLUSHING: return "FLUSHING";
        case SSLProtocolState::SHUTDOWN: return "SHUTDOWN";
    }
    return "?";
}

void check_timeouts(const SSLProtocolOptions& options) {
    if (!(options.ssl_handshake_timeout > 0))
        throw std::invalid_argument("ssl_handshake_timeout should be a positive number, got " +
                                    seconds_text(options.ssl_handshake_timeout));
    if (!(options.ssl_shutdown_timeout > 0))
        throw std::invalid_argument("ssl_shutdown_timeout should be a positive number, got " +
                                    seconds_text(options.ssl_shutdown_timeout));
}

SSLProtocol::SSLProtocol(EventLoop& loop, std::shared_ptr<TLSApp> app, ssl::SSLContext context,
                         Future<void> waiter, SSLProtocolOptions options)
    : loop_(loop),
      app_(std::move(app)),
      context_(std::move(context)),
      waiter_(std::move(waiter)),
      server_side_((check_timeouts(options), options.server_side)),
      server_hostname_(options.server_side || !options.server_hostname ||
                               options.server_hostname->empty()
                           ? std::nullopt
                           : std::move(options.server_hostname)),
      handshake_timeout_(options.ssl_handshake_timeout),
      shutdown_timeout_(options.ssl_shutdown_timeout),
      sslobj_(
          context_.wrap_bio(incoming_, outgoing_,
                            {.server_side = server_side_, .server_hostname = server_hostname_})),
      app_state_(options.call_connection_made ? AppProtocolState::STATE_INIT
                                              : AppProtocolState::STATE_CON_MADE) {
    app_set_read_buffer_limits(std::nullopt);
    app_set_write_buffer_limits(std::nullopt);
}

SSLProtocol::~SSLProtocol() {
    handshake_timer_.cancel();
    shutdown_timer_.cancel();
}

void SSLProtocol::set_state(SSLProtocolState next) {
    using S = SSLProtocolState;
    bool allowed = next == S::UNWRAPPED || (state_ == S::UNWRAPPED && next == S::DO_HANDSHAKE) ||
                   (state_ == S::DO_HANDSHAKE && next == S::WRAPPED) ||
                   (state_ == S::WRAPPED && next == S::FLUSHING) ||
                   (state_ == S::FLUSHING && next == S::SHUTDOWN);
    if (!allowed)
        throw RuntimeError(std::string("cannot switch state from ") + to_string(state_) + " to " +
                           to_string(next));
    state_ = next;
}

void SSLProtocol::wakeup_waiter(std::exception_ptr exc) {
    if (!waiter_) return;
    Future<void> w = std::move(waiter_);
    waiter_ = Future<void>();
    if (w.done()) return;  // cancelled by the caller
    if (exc)
        w.set_exception(exc);
    else
        w.set_result();
}

// --- the protocol of the transport below ---------------------------------------------------

void SSLProtocol::connection_made(TLSLower* lower) {
    lower_ = lower;
    start_handshake();
}

void SSLProtocol::connection_lost(std::exception_ptr exc) {
    write_backlog_.clear();
    write_buffer_size_ = 0;
    (void)outgoing_.read();
    ++conn_lost_;
    app_closed_ = true;
    bool told = false;
    if (state_ != SSLProtocolState::DO_HANDSHAKE) {
        if (app_ && (app_state_ == AppProtocolState::STATE_CON_MADE ||
                     app_state_ == AppProtocolState::STATE_EOF)) {
            app_state_ = AppProtocolState::STATE_CON_LOST;
            loop_.call_soon([app = app_, exc] { app->connection_lost(exc); });
            told = true;
        }
    }
    if (app_ && !told) app_->detached();
    set_state(SSLProtocolState::UNWRAPPED);
    lower_ = nullptr;
    app_ = nullptr;
    wakeup_waiter(exc);
    shutdown_timer_.cancel();
    shutdown_timer_ = TimerHandle();
    handshake_timer_.cancel();
    handshake_timer_ = TimerHandle();
}

void SSLProtocol::data_received(std::string_view data) {
    incoming_.write(data);
    switch (state_) {
        case SSLProtocolState::DO_HANDSHAKE: do_handshake(); break;
        case SSLProtocolState::WRAPPED: do_read(); break;
        case SSLProtocolState::FLUSHING: do_flush(); break;
        case SSLProtocolState::SHUTDOWN: do_shutdown(); break;
        case SSLProtocolState::UNWRAPPED: break;
    }
}

bool SSLProtocol::eof_received() {
    eof_received_ = true;
    try {
        switch (state_) {
            case SSLProtocolState::DO_HANDSHAKE:
                on_handshake_complete(std::make_exception_ptr(
                    std::system_error(ECONNRESET, std::generic_category(),
                                      "the peer closed the connection during the TLS handshake")));
                break;
            case SSLProtocolState::WRAPPED:
                set_state(SSLProtocolState::FLUSHING);
                if (app_reading_paused_) return true;
                do_flush();
                break;
            case SSLProtocolState::FLUSHING:
                do_write();
                set_state(SSLProtocolState::SHUTDOWN);
                do_shutdown();
                break;
            case SSLProtocolState::SHUTDOWN: do_shutdown(); break;
            case SSLProtocolState::UNWRAPPED: break;
        }
    } catch (...) {
        if (lower_) lower_->close();
        throw;
    }
    return false;
}

void SSLProtocol::pause_writing() { ssl_writing_paused_ = true; }

void SSLProtocol::resume_writing() {
    ssl_writing_paused_ = false;
    process_outgoing();
}

// --- handshake -------------------------------------------------------------------------------

void SSLProtocol::start_handshake() {
    set_state(SSLProtocolState::DO_HANDSHAKE);
    std::weak_ptr<SSLProtocol> weak = weak_from_this();
    handshake_timer_ = loop_.call_later(handshake_timeout_, [weak] {
        if (auto self = weak.lock()) self->check_handshake_timeout();
    });
    do_handshake();
}

void SSLProtocol::check_handshake_timeout() {
    if (state_ != SSLProtocolState::DO_HANDSHAKE) return;
    // CPython raises ConnectionAbortedError with this message; asyncio-cpp a TimeoutError.
    fatal_error(std::make_exception_ptr(TimeoutError("SSL handshake is taking longer than " +
                                                     seconds_text(handshake_timeout_) +
                                                     " seconds: aborting the connection")));
}

void SSLProtocol::do_handshake() {
    auto& impl = *sslobj_.impl();
    ssl::Outcome o = impl.handshake();
    if (o == ssl::Outcome::WANT_READ || o == ssl::Outcome::WANT_WRITE) {
        process_outgoing();
    } else if (o == ssl::Outcome::OK) {
        on_handshake_complete(nullptr);
    } else {
        // The alert that tells the peer why goes out first.
        process_outgoing();
        on_handshake_complete(impl.error());
    }
}

void SSLProtocol::on_handshake_complete(std::exception_ptr exc) {
    handshake_timer_.cancel();
    handshake_timer_ = TimerHandle();
    if (!exc) {
        try {
            set_state(SSLProtocolState::WRAPPED);
            peercert_ = sslobj_.getpeercert();
        } catch (...) {
            exc = std::current_exception();
        }
    }
    if (exc) {
        set_state(SSLProtocolState::UNWRAPPED);
        fatal_error(exc, is_certificate_error(exc)
                             ? "SSL handshake failed on verifying the certificate"
                             : "SSL handshake failed");
        wakeup_waiter(exc);
        return;
    }
    handshake_done_ = true;
    auto keep = shared_from_this();  // the application may close from connection_made
    if (app_state_ == AppProtocolState::STATE_INIT) {
        app_state_ = AppProtocolState::STATE_CON_MADE;
        app_->connection_made();
    }
    wakeup_waiter();
    do_read();
}

// --- shutdown --------------------------------------------------------------------------------

void SSLProtocol::app_close() {
    if (app_closed_) return;
    app_closed_ = true;
    start_shutdown();
}

void SSLProtocol::app_abort() {
    app_closed_ = true;
    abort(nullptr);
}

void SSLProtocol::start_shutdown() {
    if (state_ == SSLProtocolState::FLUSHING || state_ == SSLProtocolState::SHUTDOWN ||
        state_ == SSLProtocolState::UNWRAPPED)
        return;
    app_closed_ = true;
    if (state_ == SSLProtocolState::DO_HANDSHAKE) {
        abort(nullptr);
        return;
    }
    set_state(SSLProtocolState::FLUSHING);
    std::weak_ptr<SSLProtocol> weak = weak_from_this();
    shutdown_timer_ = loop_.call_later(shutdown_timeout_, [weak] {
        if (auto self = weak.lock()) self->check_shutdown_timeout();
    });
    do_flush();
}

void SSLProtocol::check_shutdown_timeout() {
    if (state_ != SSLProtocolState::FLUSHING && state_ != SSLProtocolState::SHUTDOWN) return;
    if (lower_)
        lower_->force_close(std::make_exception_ptr(TimeoutError("SSL shutdown timed out")));
}

void SSLProtocol::do_flush() {
    do_read();
    if (state_ != SSLProtocolState::FLUSHING) return;  // aborted meanwhile
    set_state(SSLProtocolState::SHUTDOWN);
    do_shutdown();
}

void SSLProtocol::do_shutdown() {
    auto& impl = *sslobj_.impl();
    if (!eof_received_) {
        ssl::Outcome o = impl.shutdown();
        if (o == ssl::Outcome::WANT_READ || o == ssl::Outcome::WANT_WRITE) {
            process_outgoing();
            return;
        }
        if (o != ssl::Outcome::OK) {
            on_shutdown_complete(impl.error());
            return;
        }
    }
    process_outgoing();
    call_eof_received();
    on_shutdown_complete(nullptr);
}

void SSLProtocol::on_shutdown_complete(std::exception_ptr exc) {
    shutdown_timer_.cancel();
    shutdown_timer_ = TimerHandle();
    if (exc) {
        fatal_error(exc);
        return;
    }
    loop_.call_soon([self = shared_from_this()] {
        if (self->lower_) self->lower_->close();
    });
}

void SSLProtocol::abort(std::exception_ptr exc) {
    set_state(SSLProtocolState::UNWRAPPED);
    if (lower_) lower_->force_close(exc);
}

// --- outgoing --------------------------------------------------------------------------------

void SSLProtocol::app_write(std::string_view data) {
    if (data.empty()) return;
    if (state_ == SSLProtocolState::FLUSHING || state_ == SSLProtocolState::SHUTDOWN ||
        state_ == SSLProtocolState::UNWRAPPED) {
        ++conn_lost_;  // Python logs "SSL connection is closed" from the 5th such write
        return;
    }
    try {
        if (state_ == SSLProtocolState::WRAPPED && write_backlog_.empty()) {
            // The common case: encrypt now, without queueing a copy.
            std::size_t n = 0;
            ssl::Outcome o = sslobj_.impl()->write(data, n);
            if (o == ssl::Outcome::OK && n == data.size()) {
                process_outgoing();
                return;
            }
            if (o != ssl::Outcome::OK && o != ssl::Outcome::WANT_READ &&
                o != ssl::Outcome::WANT_WRITE)
                std::rethrow_exception(sslobj_.impl()->error());
            data.remove_prefix(n);
        }
        write_backlog_.emplace_back(data);
        write_buffer_size_ += data.size();
        if (state_ == SSLProtocolState::WRAPPED)
            do_write();
        else
            control_app_writing();
    } catch (...) {
        fatal_error(std::current_exception(), "Fatal error on SSL protocol");
    }
}

void SSLProtocol::do_write() {
    auto& impl = *sslobj_.impl();
    while (!write_backlog_.empty()) {
        std::string& data = write_backlog_.front();
        std::size_t n = 0;
        ssl::Outcome o = impl.write(data, n);
        if (o == ssl::Outcome::WANT_READ || o == ssl::Outcome::WANT_WRITE) break;
        if (o != ssl::Outcome::OK) std::rethrow_exception(impl.error());
        write_buffer_size_ -= n;
        if (n < data.size()) {
            data.erase(0, n);
        } else {
            write_backlog_.pop_front();
        }
    }
    process_outgoing();
}

void SSLProtocol::process_outgoing() {
    if (!ssl_writing_paused_ && lower_ && outgoing_.pending() > 0) {
        if (flush_busy) {
            // Re-entered from the write below (an error path): the plain way.
            std::string data = outgoing_.read();
            if (!data.empty()) lower_->write(data);
        } else {
            if (!flush_scratch) flush_scratch.reset(new char[flush_chunk]);
            flush_busy = true;
            struct Release {
                ~Release() { flush_busy = false; }
            } release;
            BIO* bio = outgoing_.impl()->bio;
            while (lower_) {
                std::size_t got = 0;
                if (BIO_read_ex(bio, flush_scratch.get(), flush_chunk, &got) != 1 || got == 0)
                    break;
                lower_->write(std::string_view(flush_scratch.get(), got));
            }
        }
    }
    control_app_writing();
}

// --- incoming --------------------------------------------------------------------------------

void SSLProtocol::do_read() {
    if (state_ != SSLProtocolState::WRAPPED && state_ != SSLProtocolState::FLUSHING) return;
    auto keep = shared_from_this();
    try {
        if (!app_reading_paused_) {
            do_read_app();
            if (!write_backlog_.empty())
                do_write();
            else
                process_outgoing();
        }
        control_ssl_reading();
    } catch (...) {
        fatal_error(std::current_exception(), "Fatal error on SSL protocol");
    }
}

// Decrypts what is there into the application: straight into its buffer when it has one
// (Python: _do_read__buffered, SSL_read into the BufferedProtocol's get_buffer()), else into
// the thread's buffer shown to data_received (_do_read__copied), deciding afresh for each
// chunk. Stops early when the application paused reading or closed from inside a callback.
void SSLProtocol::do_read_app() {
    auto& impl = *sslobj_.impl();
    ScratchLease scratch;
    bool close_notify = false;
    while ((state_ == SSLProtocolState::WRAPPED || state_ == SSLProtocolState::FLUSHING) && app_) {
        // Nothing to decrypt without ciphertext waiting or bytes OpenSSL holds (a record's
        // rest): no read, and no application buffer asked for.
        if (incoming_.pending() == 0 && !SSL_has_pending(impl.ssl)) break;
        // What the next read may yield: the ciphertext waiting (an upper bound on its
        // plaintext) plus what OpenSSL holds decrypted already.
        std::size_t hint = incoming_.pending() + static_cast<std::size_t>(SSL_pending(impl.ssl));
        std::span<char> room = app_->get_buffer(hint);
        bool in_place = !room.empty();
        if (!in_place) room = scratch.get();
        std::size_t filled = 0;
        bool more = true;
        while (filled < room.size()) {
            if (filled > 0 && incoming_.pending() == 0 && !SSL_has_pending(impl.ssl)) {
                more = false;  // all decrypted: spare the read that would say WANT_READ
                break;
            }
            std::size_t n = 0;
            ssl::Outcome o = impl.read(room.data() + filled, room.size() - filled, n);
            if (o == ssl::Outcome::OK) {
                filled += n;
                continue;
            }
            more = false;
            if (o == ssl::Outcome::CLOSED)
                close_notify = true;
            else if (o == ssl::Outcome::FAILED)
                std::rethrow_exception(impl.error());
            break;
        }
        if (filled > 0) {
            if (in_place)
                app_->buffer_updated(filled);
            else
                app_->data_received(std::string_view(room.data(), filled));
        }
        if (!more || app_reading_paused_) break;
    }
    if (close_notify) {
        call_eof_received();
        start_shutdown();
    }
}

void SSLProtocol::call_eof_received() {
    if (app_state_ != AppProtocolState::STATE_CON_MADE || !app_) return;
    app_state_ = AppProtocolState::STATE_EOF;
    try {
        (void)app_->eof_received();  // keeping the connection half-open has no effect
    } catch (...) {
        fatal_error(std::current_exception(), "Error calling eof_received()");
    }
}

// --- flow control ----------------------------------------------------------------------------

std::size_t SSLProtocol::app_get_write_buffer_size() const {
    return outgoing_.pending() + write_buffer_size_;
}

void SSLProtocol::app_set_write_buffer_limits(std::optional<std::size_t> high,
                                              std::optional<std::size_t> low) {
    auto [hi, lo] = flowcontrol_defaults(high, low, FLOW_CONTROL_HIGH_WATER_SSL_WRITE);
    outgoing_high_water_ = hi;
    outgoing_low_water_ = lo;
    if (lower_) control_app_writing();
}

void SSLProtocol::control_app_writing() {
    std::size_t size = app_get_write_buffer_size();
    if (size >= outgoing_high_water_ && !app_writing_paused_) {
        app_writing_paused_ = true;
        try {
            if (app_) app_->pause_writing();
        } catch (...) {
            report(loop_, "protocol.pause_writing() failed", std::current_exception());
        }
    } else if (size <= outgoing_low_water_ && app_writing_paused_) {
        app_writing_paused_ = false;
        try {
            if (app_) app_->resume_writing();
        } catch (...) {
            report(loop_, "protocol.resume_writing() failed", std::current_exception());
        }
    }
}

void SSLProtocol::app_resume_reading() {
    if (!app_reading_paused_) return;
    app_reading_paused_ = false;
    loop_.call_soon([self = shared_from_this()] {
        switch (self->state_) {
            case SSLProtocolState::WRAPPED: self->do_read(); break;
            case SSLProtocolState::FLUSHING: self->do_flush(); break;
            case SSLProtocolState::SHUTDOWN: self->do_shutdown(); break;
            default: break;
        }
    });
}

void SSLProtocol::app_set_read_buffer_limits(std::optional<std::size_t> high,
                                             std::optional<std::size_t> low) {
    auto [hi, lo] = flowcontrol_defaults(high, low, FLOW_CONTROL_HIGH_WATER_SSL_READ);
    incoming_high_water_ = hi;
    incoming_low_water_ = lo;
    if (lower_) control_ssl_reading();
}

std::size_t SSLProtocol::app_get_read_buffer_size() const { return incoming_.pending(); }

void SSLProtocol::control_ssl_reading() {
    if (!lower_) return;
    std::size_t size = app_get_read_buffer_size();
    if (size >= incoming_high_water_ && !ssl_reading_paused_) {
        ssl_reading_paused_ = true;
        lower_->pause_reading();
    } else if (size <= incoming_low_water_ && ssl_reading_paused_) {
        ssl_reading_paused_ = false;
        lower_->resume_reading();
    }
}

// --- errors and extra info -------------------------------------------------------------------

void SSLProtocol::fatal_error(std::exception_ptr exc, const char* message) {
    if (lower_) lower_->force_close(exc);
    if (!is_connection_error(exc)) report(loop_, message, exc);
}

std::any SSLProtocol::get_extra_info(const std::string& name, std::any default_value) const {
    if (name == "sslcontext") return context_;
    if (handshake_done_) {
        if (name == "ssl_object") return sslobj_;
        if (name == "peercert") return peercert_ ? std::any(*peercert_) : std::any();
        if (name == "cipher") {
            auto c = sslobj_.cipher();
            return c ? std::any(*c) : std::any();
        }
        if (name == "compression") {
            auto c = sslobj_.compression();
            return c ? std::any(*c) : std::any();
        }
        if (name == "selected_alpn_protocol") {
            auto p = sslobj_.selected_alpn_protocol();
            return p ? std::any(*p) : std::any();
        }
    }
    if (lower_) {
        std::any v = lower_->get_extra_info(name);
        if (v.has_value()) return v;
    }
    return default_value;
}

}  // namespace asyncio::detail
