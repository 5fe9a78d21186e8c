// The TLS protocol layer: CPython's sslproto.SSLProtocol, the state machine that runs TLS
// over any transport with an SSLObject and two memory BIOs.
//
//   transport below  --data_received-->  SSLProtocol  --data_received-->  application protocol
//   transport below  <------write-------  SSLProtocol  <------write-------  application transport
//
// It is written against two small interfaces, TLSLower (what it needs of the transport below:
// write, pause/resume reading, close) and TLSApp (the application protocol's callbacks), so
// that the socket transports, a completion-based backend and tests in memory plug in alike.
// Everything here runs on the loop's thread. Python: asyncio.sslproto.
#pragma once

#include <any>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/net_options.hpp"
#include "asyncio/events.hpp"
#include "asyncio/futures.hpp"
#include "asyncio/ssl.hpp"

namespace asyncio::detail {

/// Python: asyncio.sslproto.SSLProtocolState. The transitions allowed are
/// UNWRAPPED -> DO_HANDSHAKE -> WRAPPED -> FLUSHING -> SHUTDOWN, and any state -> UNWRAPPED.
enum class SSLProtocolState { UNWRAPPED, DO_HANDSHAKE, WRAPPED, FLUSHING, SHUTDOWN };
const char* to_string(SSLProtocolState state) noexcept;

/// The application protocol's side: INIT -connection_made-> CON_MADE [-data*-] [-eof-> EOF]
/// -connection_lost-> CON_LOST. Python: asyncio.sslproto.AppProtocolState.
enum class AppProtocolState { STATE_INIT, STATE_CON_MADE, STATE_EOF, STATE_CON_LOST };

/// What the TLS layer needs of the transport below it.
class TLSLower {
  public:
    virtual ~TLSLower() = default;
    virtual void write(std::string_view data) = 0;
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    /// Flushes, then closes; the lower protocol (this layer) gets connection_lost(nullptr).
    virtual void close() = 0;
    /// Closes at once; connection_lost(exc) follows. Python: transport._force_close(exc).
    virtual void force_close(std::exception_ptr exc) = 0;
    /// "peername", "sockname", "socket", ...; an empty std::any when unknown.
    virtual std::any get_extra_info(const std::string& name) const = 0;
};

/// The application protocol's callbacks, as the TLS layer calls them.
class TLSApp {
  public:
    virtual ~TLSApp() = default;
    virtual void connection_made() = 0;
    virtual void data_received(std::string_view data) = 0;
    /// Where to decrypt next: the application's own buffer (a BufferedProtocol's
    /// get_buffer(sizehint), a stream reader's free room), or an empty span to be given the
    /// bytes by data_received() instead. Python: SSLProtocol._app_protocol_get_buffer.
    /// Errors: a BufferedProtocol's empty buffer is RuntimeError (a fatal error of the
    /// connection, as any exception thrown here).
    virtual std::span<char> get_buffer(std::size_t sizehint) {
        (void)sizehint;
        return {};
    }
    /// `nbytes` were decrypted into the start of the last get_buffer(). Python:
    /// _app_protocol_buffer_updated.
    virtual void buffer_updated(std::size_t nbytes) { (void)nbytes; }
    /// The return value is ignored (Python warns: TLS cannot stay half-open).
    virtual bool eof_received() = 0;
    virtual void connection_lost(std::exception_ptr exc) = 0;
    virtual void pause_writing() {}
    virtual void resume_writing() {}
    /// The connection ended before the application was connected (a failed handshake, a
    /// cancellation): no connection_lost follows; drop what was kept for it.
    virtual void detached() {}
};

/// CPython's defaults (asyncio.constants).
inline constexpr double SSL_HANDSHAKE_TIMEOUT = 60.0;
inline constexpr double SSL_SHUTDOWN_TIMEOUT = 30.0;
inline constexpr std::size_t FLOW_CONTROL_HIGH_WATER_SSL_READ = 256 * 1024;
inline constexpr std::size_t FLOW_CONTROL_HIGH_WATER_SSL_WRITE = 512 * 1024;

struct SSLProtocolOptions {
    bool server_side = false;
    std::optional<std::string> server_hostname = std::nullopt;
    /// False for start_tls(): the application protocol is already connected.
    bool call_connection_made = true;
    /// Seconds; must be positive (std::invalid_argument otherwise).
    double ssl_handshake_timeout = SSL_HANDSHAKE_TIMEOUT;
    double ssl_shutdown_timeout = SSL_SHUTDOWN_TIMEOUT;
};

/// Errors: std::invalid_argument unless both timeouts are positive (CPython's ValueError
/// "ssl_handshake_timeout should be a positive number, got 0").
void check_timeouts(const SSLProtocolOptions& options);

/// Python: asyncio.sslproto.SSLProtocol (and _SSLProtocolTransport's methods, which forward
/// here: app_write, app_close, ...).
///
/// Lifetime: the transport below owns this object (it is that transport's protocol); the
/// callbacks it schedules hold it too. It holds the application protocol until
/// connection_lost, and points at the transport below between connection_made and
/// connection_lost.
class SSLProtocol : public std::enable_shared_from_this<SSLProtocol> {
  public:
    /// `waiter` (may be empty) completes when the handshake did, or fails with its error.
    SSLProtocol(EventLoop& loop, std::shared_ptr<TLSApp> app, ssl::SSLContext context,
                Future<void> waiter, SSLProtocolOptions options);
    ~SSLProtocol();
    SSLProtocol(const SSLProtocol&) = delete;
    SSLProtocol& operator=(const SSLProtocol&) = delete;

    // --- the protocol of the transport below ---
    void connection_made(TLSLower* lower);
    void data_received(std::string_view data);
    bool eof_received();
    void connection_lost(std::exception_ptr exc);
    void pause_writing();
    void resume_writing();

    // --- the application transport ---
    void app_write(std::string_view data);
    /// Python: _SSLProtocolTransport.close(): flush, close_notify, then close below.
    void app_close();
    /// Python: abort(): close below at once.
    void app_abort();
    bool app_is_closing() const noexcept { return app_closed_; }
    void app_pause_reading() noexcept { app_reading_paused_ = true; }
    void app_resume_reading();
    bool app_is_reading() const noexcept { return !app_reading_paused_; }
    std::size_t app_get_write_buffer_size() const;
    void app_set_write_buffer_limits(std::optional<std::size_t> high,
                                     std::optional<std::size_t> low = std::nullopt);
    std::pair<std::size_t, std::size_t> app_get_write_buffer_limits() const {
        return {outgoing_low_water_, outgoing_high_water_};
    }
    void app_set_read_buffer_limits(std::optional<std::size_t> high,
                                    std::optional<std::size_t> low = std::nullopt);
    std::size_t app_get_read_buffer_size() const;
    /// "sslcontext", then after the handshake "ssl_object", "peercert", "cipher",
    /// "compression", "selected_alpn_protocol"; the rest from the transport below.
    std::any get_extra_info(const std::string& name, std::any default_value = {}) const;
    /// Replaces the application protocol. Python: transport.set_protocol().
    void set_app(std::shared_ptr<TLSApp> app) { app_ = std::move(app); }
    const std::shared_ptr<TLSApp>& app() const noexcept { return app_; }

    SSLProtocolState state() const noexcept { return state_; }
    const ssl::SSLObject& ssl_object() const noexcept { return sslobj_; }
    EventLoop& loop() const noexcept { return loop_; }

  private:
    void set_state(SSLProtocolState next);
    void wakeup_waiter(std::exception_ptr exc = nullptr);
    void start_handshake();
    void check_handshake_timeout();
    void do_handshake();
    void on_handshake_complete(std::exception_ptr exc);
    void start_shutdown();
    void check_shutdown_timeout();
    void do_flush();
    void do_shutdown();
    void on_shutdown_complete(std::exception_ptr exc);
    void abort(std::exception_ptr exc);
    void do_write();
    void process_outgoing();
    void do_read();
    void do_read_app();
    void call_eof_received();
    void control_app_writing();
    void control_ssl_reading();
    void fatal_error(std::exception_ptr exc, const char* message = "Fatal error on transport");

    EventLoop& loop_;
    std::shared_ptr<TLSApp> app_;
    ssl::SSLContext context_;
    Future<void> waiter_;  // empty once woken
    bool server_side_;
    std::optional<std::string> server_hostname_;
    double handshake_timeout_;
    double shutdown_timeout_;

    ssl::MemoryBIO incoming_;
    ssl::MemoryBIO outgoing_;
    ssl::SSLObject sslobj_;
    TLSLower* lower_ = nullptr;  // between connection_made and connection_lost

    // Invariant: state_ is DO_HANDSHAKE exactly while handshake_timer_ is armed; FLUSHING or
    // SHUTDOWN while shutdown_timer_ is (when close() started the shutdown).
    SSLProtocolState state_ = SSLProtocolState::UNWRAPPED;
    AppProtocolState app_state_;
    int conn_lost_ = 0;
    bool app_closed_ = false;  // Python: _SSLProtocolTransport._closed
    bool eof_received_ = false;
    TimerHandle handshake_timer_;
    TimerHandle shutdown_timer_;

    // Application data written before the handshake finished.
    std::deque<std::string> write_backlog_;
    std::size_t write_buffer_size_ = 0;

    // Flow control (Python's names).
    bool ssl_writing_paused_ = false;  // the transport below is full
    bool app_reading_paused_ = false;
    bool ssl_reading_paused_ = false;
    bool app_writing_paused_ = false;
    std::size_t incoming_high_water_ = 0;
    std::size_t incoming_low_water_ = 0;
    std::size_t outgoing_high_water_ = 0;
    std::size_t outgoing_low_water_ = 0;

    // Set after the handshake (get_extra_info).
    std::optional<ssl::Certificate> peercert_;
    bool handshake_done_ = false;
};

}  // namespace asyncio::detail
namespace asyncio {
class Protocol;
class Transport;
}  // namespace asyncio

namespace asyncio::detail {

/// A connection's TLS layer, ready to be plugged: give `lower_protocol` to the transport
/// below as its protocol; hand `app_transport` to the application (its protocol receives
/// it in connection_made once the handshake is done).
struct TLSWrap {
    std::shared_ptr<Protocol> lower_protocol;
    std::shared_ptr<Transport> app_transport;
};

/// Wraps the application protocol `app` in TLS. `waiter` (may be empty) completes with the
/// handshake. Python: sslproto.SSLProtocol(loop, app_protocol, sslcontext, waiter, ...).
TLSWrap wrap_tls(EventLoop& loop, std::shared_ptr<Protocol> app, ssl::SSLContext context,
                 Future<void> waiter, SSLProtocolOptions options);

/// Upgrades `transport` (whose protocol is `protocol`) to TLS and returns the new transport
/// once the handshake is done. Python: loop.start_tls().
Coro<std::shared_ptr<Transport>> start_tls(EventLoop& loop, std::shared_ptr<Transport> transport,
                                           std::shared_ptr<Protocol> protocol,
                                           ssl::SSLContext context, SSLProtocolOptions options);

/// TLS settings of one connection or server, checked.
struct TLSParams {
    ssl::SSLContext context;
    SSLProtocolOptions options;
};

/// The TLS settings of create_connection (`unix_socket`: create_unix_connection), or nullopt
/// without ssl. Server names default to `host`. Errors: std::invalid_argument as CPython's
/// ValueErrors ("server_hostname is only meaningful with ssl", "You must set server_hostname
/// when using ssl without a host", "ssl_handshake_timeout is only meaningful with ssl", ...).
std::optional<TLSParams> tls_params(const ConnectionOptions& options, const std::string& host,
                                    bool unix_socket);
/// The same for servers (create_server, create_unix_server).
std::optional<TLSParams> tls_params(const std::optional<ssl::SSLContext>& context,
                                    std::optional<double> handshake_timeout,
                                    std::optional<double> shutdown_timeout);

/// Makes the socket transport of a client connection over `fd` (now owned) with TLS, and
/// waits for the handshake. Python: _create_connection_transport with ssl.
Coro<std::pair<std::shared_ptr<Transport>, std::shared_ptr<Protocol>>> make_tls_connection(
    EventLoop& loop, int fd, std::shared_ptr<Protocol> protocol, TLSParams tls);

}  // namespace asyncio::detail
