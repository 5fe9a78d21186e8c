// SSLProtocol plugged into the transports and protocols of asyncio/transports.hpp: the
// protocol the transport below sees, the application transport (CPython's
// _SSLProtocolTransport), the application protocol's side, and loop.start_tls().
#include <algorithm>
#include <asyncio/base_events.hpp>
#include <asyncio/detail/sslproto.hpp>
#include <asyncio/detail/stream_transport.hpp>
#include <asyncio/protocols.hpp>
#include <asyncio/transports.hpp>
#include <cstring>

#include "selector_events.hpp"

namespace asyncio::detail {

namespace {

class SSLAppTransport;

// The application protocol as the TLS layer calls it. It keeps the application transport
// alive until the application's connection_lost() has run, then lets go of both the
// transport and the protocol (as the socket transport lets go of its protocol), so that a
// protocol holding its own transport makes no cycle that outlives the connection.
class AppSide final : public TLSApp {
  public:
    explicit AppSide(std::shared_ptr<Protocol> app) { set(std::move(app)); }

    void set(std::shared_ptr<Protocol> app) {
        app_ = std::move(app);
        buffered_ = dynamic_cast<BufferedProtocol*>(app_.get());
        in_place_ = dynamic_cast<ReadsInPlace*>(app_.get());
    }
    const std::shared_ptr<Protocol>& app() const noexcept { return app_; }

    std::shared_ptr<Transport> transport;  // released after connection_lost

    void connection_made() override {
        if (app_) app_->connection_made(*transport);
    }
    void data_received(std::string_view data) override {
        if (app_) app_->data_received(data);
    }
    std::span<char> get_buffer(std::size_t sizehint) override {
        if (buffered_) {
            std::span<char> buf = buffered_->get_buffer(sizehint);
            if (buf.empty()) throw RuntimeError("get_buffer() returned an empty buffer");
            return buf;
        }
        return in_place_ ? in_place_->read_room() : std::span<char>();
    }
    void buffer_updated(std::size_t nbytes) override {
        if (buffered_)
            buffered_->buffer_updated(nbytes);
        else if (in_place_)
            in_place_->room_filled(nbytes);
    }
    bool eof_received() override { return app_ ? app_->eof_received() : false; }
    void connection_lost(std::exception_ptr exc) override {
        auto keep = std::move(transport);
        auto app = std::exchange(app_, nullptr);
        buffered_ = nullptr;
        in_place_ = nullptr;
        if (app) app->connection_lost(exc);
    }
    void pause_writing() override {
        if (app_) app_->pause_writing();
    }
    void resume_writing() override {
        if (app_) app_->resume_writing();
    }
    void detached() override {
        transport.reset();
        app_.reset();
        buffered_ = nullptr;
        in_place_ = nullptr;
    }

  private:
    std::shared_ptr<Protocol> app_;
    BufferedProtocol* buffered_ = nullptr;  // app_ as a BufferedProtocol, if it is one
    ReadsInPlace* in_place_ = nullptr;      // app_ as a ReadsInPlace (a stream reader)
};

// What the application writes to. Python: sslproto._SSLProtocolTransport.
class SSLAppTransport final : public Transport {
  public:
    SSLAppTransport(std::shared_ptr<SSLProtocol> core, std::shared_ptr<AppSide> app)
        : core_(std::move(core)), app_(std::move(app)) {}

    void close() override { core_->app_close(); }
    bool is_closing() const noexcept override { return core_->app_is_closing(); }
    std::any get_extra_info(const std::string& name, std::any default_value = {}) const override {
        return core_->get_extra_info(name, std::move(default_value));
    }
    void set_protocol(std::shared_ptr<BaseProtocol> protocol) override {
        auto p = std::dynamic_pointer_cast<Protocol>(protocol);
        if (!p) throw std::invalid_argument("a TLS transport needs a stream Protocol");
        app_->set(std::move(p));
    }
    std::shared_ptr<BaseProtocol> get_protocol() const override { return app_->app(); }
    EventLoop& get_loop() const noexcept override { return core_->loop(); }
    bool is_reading() const noexcept override { return core_->app_is_reading(); }
    void pause_reading() override { core_->app_pause_reading(); }
    void resume_reading() override { core_->app_resume_reading(); }
    void write(std::string_view data) override { core_->app_write(data); }
    /// TLS cannot half-close. Python: NotImplementedError.
    void write_eof() override { throw RuntimeError("TLS transports do not support write_eof()"); }
    bool can_write_eof() const noexcept override { return false; }
    void abort() override { core_->app_abort(); }
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                 std::optional<std::size_t> low = std::nullopt) override {
        core_->app_set_write_buffer_limits(high, low);
    }
    std::size_t get_write_buffer_size() const noexcept override {
        return core_->app_get_write_buffer_size();
    }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const noexcept override {
        return core_->app_get_write_buffer_limits();
    }

  private:
    std::shared_ptr<SSLProtocol> core_;
    std::shared_ptr<AppSide> app_;
};

// The protocol of the transport below; the TLS layer's view of that transport.
class LowerSide final : public Protocol, public TLSLower {
  public:
    explicit LowerSide(std::shared_ptr<SSLProtocol> core) : core_(std::move(core)) {}

    // Protocol
    void connection_made(Transport& transport) override {
        lower_ = &transport;
        core_->connection_made(this);
    }
    void data_received(std::string_view data) override { core_->data_received(data); }
    bool eof_received() override { return core_->eof_received(); }
    void connection_lost(std::exception_ptr exc) override {
        lower_ = nullptr;
        core_->connection_lost(exc ? exc : std::exchange(pending_exc_, nullptr));
    }
    void pause_writing() override { core_->pause_writing(); }
    void resume_writing() override { core_->resume_writing(); }

    // TLSLower
    void write(std::string_view data) override {
        if (lower_) lower_->write(data);
    }
    void pause_reading() override {
        if (lower_) lower_->pause_reading();
    }
    void resume_reading() override {
        if (lower_) lower_->resume_reading();
    }
    void close() override {
        if (lower_) lower_->close();
    }
    void force_close(std::exception_ptr exc) override {
        // The transport's abort() reports no error; the one that ended the connection is
        // handed to connection_lost here (CPython: transport._force_close(exc)).
        if (!lower_) return;
        pending_exc_ = exc;
        lower_->abort();
    }
    std::any get_extra_info(const std::string& name) const override {
        return lower_ ? lower_->get_extra_info(name) : std::any();
    }

  private:
    std::shared_ptr<SSLProtocol> core_;
    Transport* lower_ = nullptr;
    std::exception_ptr pending_exc_;
};

}  // namespace

TLSWrap wrap_tls(EventLoop& loop, std::shared_ptr<Protocol> app, ssl::SSLContext context,
                 Future<void> waiter, SSLProtocolOptions options) {
    if (!app) throw std::invalid_argument("the protocol factory returned no protocol");
    auto app_side = std::make_shared<AppSide>(std::move(app));
    auto core = std::make_shared<SSLProtocol>(loop, app_side, std::move(context), std::move(waiter),
                                              std::move(options));
    auto transport = std::make_shared<SSLAppTransport>(core, app_side);
    app_side->transport = transport;
    return TLSWrap{std::make_shared<LowerSide>(core), std::move(transport)};
}

Coro<std::shared_ptr<Transport>> start_tls(EventLoop& loop, std::shared_ptr<Transport> transport,
                                           std::shared_ptr<Protocol> protocol,
                                           ssl::SSLContext context, SSLProtocolOptions options) {
    if (!transport) throw std::invalid_argument("start_tls() needs a transport");
    Future<void> waiter = loop.create_future<void>();
    options.call_connection_made = false;
    TLSWrap w = wrap_tls(loop, std::move(protocol), std::move(context), waiter, std::move(options));
    // Python: loop.start_tls — swap the protocol while reading is paused, then start.
    transport->pause_reading();
    transport->set_protocol(w.lower_protocol);
    Handle conmade = loop.call_soon(
        [lower = w.lower_protocol, transport] { lower->connection_made(*transport); });
    Handle resume = loop.call_soon([transport] { transport->resume_reading(); });
    try {
        co_await waiter;
    } catch (...) {
        transport->close();
        conmade.cancel();
        resume.cancel();
        throw;
    }
    co_return w.app_transport;
}

}  // namespace asyncio::detail

namespace asyncio::detail {

std::optional<TLSParams> tls_params(const ConnectionOptions& options, const std::string& host,
                                    bool unix_socket) {
    if (!options.ssl) {
        if (options.server_hostname)
            throw std::invalid_argument("server_hostname is only meaningful with ssl");
        if (options.ssl_handshake_timeout)
            throw std::invalid_argument("ssl_handshake_timeout is only meaningful with ssl");
        if (options.ssl_shutdown_timeout)
            throw std::invalid_argument("ssl_shutdown_timeout is only meaningful with ssl");
        return std::nullopt;
    }
    SSLProtocolOptions o;
    if (options.server_hostname) {
        o.server_hostname = *options.server_hostname;
    } else if (unix_socket) {
        throw std::invalid_argument("you have to pass server_hostname when using ssl");
    } else if (host.empty()) {
        throw std::invalid_argument("You must set server_hostname when using ssl without a host");
    } else {
        o.server_hostname = host;
    }
    if (o.server_hostname && o.server_hostname->empty()) o.server_hostname.reset();
    o.ssl_handshake_timeout = options.ssl_handshake_timeout.value_or(SSL_HANDSHAKE_TIMEOUT);
    o.ssl_shutdown_timeout = options.ssl_shutdown_timeout.value_or(SSL_SHUTDOWN_TIMEOUT);
    check_timeouts(o);
    return TLSParams{*options.ssl, std::move(o)};
}

std::optional<TLSParams> tls_params(const std::optional<ssl::SSLContext>& context,
                                    std::optional<double> handshake_timeout,
                                    std::optional<double> shutdown_timeout) {
    if (!context) {
        if (handshake_timeout)
            throw std::invalid_argument("ssl_handshake_timeout is only meaningful with ssl");
        if (shutdown_timeout)
            throw std::invalid_argument("ssl_shutdown_timeout is only meaningful with ssl");
        return std::nullopt;
    }
    if (context->protocol() != ssl::PROTOCOL_TLS_SERVER)
        throw std::invalid_argument(
            "a server needs a server context (PROTOCOL_TLS_SERVER, "
            "create_default_context(Purpose::CLIENT_AUTH))");
    SSLProtocolOptions o;
    o.server_side = true;
    o.ssl_handshake_timeout = handshake_timeout.value_or(SSL_HANDSHAKE_TIMEOUT);
    o.ssl_shutdown_timeout = shutdown_timeout.value_or(SSL_SHUTDOWN_TIMEOUT);
    check_timeouts(o);
    return TLSParams{*context, std::move(o)};
}

Coro<std::pair<std::shared_ptr<Transport>, std::shared_ptr<Protocol>>> make_tls_connection(
    EventLoop& loop, int fd, std::shared_ptr<Protocol> protocol, TLSParams tls) {
    Future<void> waiter = loop.create_future<void>();
    TLSWrap w = wrap_tls(loop, protocol, std::move(tls.context), waiter, std::move(tls.options));
    auto t = std::make_shared<FdStreamTransport>(loop, fd, FdStreamTransport::Kind::socket,
                                                 w.lower_protocol);
    t->start();
    try {
        co_await waiter;
    } catch (...) {
        t->close();
        throw;
    }
    co_return std::pair<std::shared_ptr<Transport>, std::shared_ptr<Protocol>>(w.app_transport,
                                                                               protocol);
}

}  // namespace asyncio::detail

namespace asyncio {

Coro<std::shared_ptr<Transport>> EventLoop::start_tls(std::shared_ptr<Transport> transport,
                                                      std::shared_ptr<Protocol> protocol,
                                                      ssl::SSLContext sslcontext,
                                                      StartTlsOptions options) {
    check_debug_thread();
    detail::SSLProtocolOptions o;
    o.server_side = options.server_side;
    o.server_hostname = std::move(options.server_hostname);
    o.ssl_handshake_timeout = options.ssl_handshake_timeout;
    o.ssl_shutdown_timeout = options.ssl_shutdown_timeout;
    o.call_connection_made = false;
    detail::check_timeouts(o);
    return detail::start_tls(*this, std::move(transport), std::move(protocol),
                             std::move(sslcontext), std::move(o));
}

Coro<std::shared_ptr<Transport>> EventLoop::start_tls(Transport& transport,
                                                      std::shared_ptr<Protocol> protocol,
                                                      ssl::SSLContext sslcontext,
                                                      StartTlsOptions options) {
    std::shared_ptr<Transport> t(transport.shared_from_this(), &transport);
    return start_tls(std::move(t), std::move(protocol), std::move(sslcontext), std::move(options));
}

}  // namespace asyncio

// StreamWriter.start_tls, here to keep the streams sources free of TLS.
#include <asyncio/streams.hpp>

namespace asyncio {

Coro<void> StreamWriter::start_tls(ssl::SSLContext sslcontext, StartTlsOptions options) const {
    if (!s_) throw RuntimeError("start_tls() on an empty StreamWriter");
    std::shared_ptr<detail::StreamWriterImpl> impl = s_;
    co_await drain();
    options.server_side = impl->protocol && impl->protocol->server_side();
    EventLoop& loop = get_running_loop();
    auto op =
        loop.start_tls(impl->transport, impl->protocol, std::move(sslcontext), std::move(options));
    std::shared_ptr<Transport> t = co_await op;
    // Python: StreamReaderProtocol._replace_transport.
    impl->transport = t;
    if (impl->reader) impl->reader->transport = t;
}

}  // namespace asyncio
