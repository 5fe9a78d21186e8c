// ClientSession: building and sending requests, reading the response head, redirects,
// the retry of an idempotent request on a stale pooled connection.
#include "asyncio/http/client.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <system_error>

#include "asyncio/http/exceptions.hpp"
#include "http/client_impl.hpp"

namespace asyncio::http {

struct ClientSession::State {
    ClientSessionOptions options;
    TCPConnector connector;
    std::optional<URL> base;
    std::optional<ssl::SSLContext> default_ssl;  // made on the first https request
    bool closed = false;

    explicit State(ClientSessionOptions o) : options(std::move(o)), connector(options.connector) {
        if (options.base_url) base = URL(*options.base_url);
    }
};

namespace {

using detail::Deadlines;
using detail::HttpParser;
using detail::MessageEnd;
using detail::MessageHead;
using detail::ParserEvent;

constexpr std::string_view user_agent = "asyncio-cpp/0.1";

bool is_token_char(unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

void check_method(const std::string& method) {
    if (method.empty() || !std::all_of(method.begin(), method.end(), [](char c) {
            return is_token_char(static_cast<unsigned char>(c));
        }))
        throw std::invalid_argument("invalid HTTP method '" + method + "'");
}

void check_header(const std::string& name, const std::string& value) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
            return is_token_char(static_cast<unsigned char>(c));
        }))
        throw std::invalid_argument("invalid header name '" + name + "'");
    for (char c : value)
        if (c == '\r' || c == '\n' || c == '\0')
            throw std::invalid_argument("the value of header '" + name +
                                        "' contains a CR, LF or NUL character");
}

bool idempotent(const std::string& m) {
    return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" ||
           m == "DELETE";
}

bool is_redirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// The request's bytes: request line, header fields, body. `proxied`: the request goes to an
/// HTTP proxy, its target in absolute form, with `proxy_authorization` when set.
std::string serialize(const std::string& method, const URL& url, const CIMultiDict& headers,
                      const std::optional<std::string>& body, bool proxied,
                      const std::optional<std::string>& proxy_authorization) {
    std::string out;
    out.reserve(256 + (body ? body->size() : 0));
    out += method;
    out += ' ';
    if (proxied) {
        out += url.scheme();
        out += "://";
        out += url.host_port();
    }
    out += url.raw_path_qs();
    out += " HTTP/1.1\r\n";
    for (const auto& [name, value] : headers) {
        check_header(name, value);
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (proxied && proxy_authorization && !headers.contains("Proxy-Authorization")) {
        out += "Proxy-Authorization: ";
        out += *proxy_authorization;
        out += "\r\n";
    }
    out += "\r\n";
    if (body) out += *body;
    return out;
}

/// Reads until the head of the final response (1xx interim responses skipped).
Coro<MessageHead> read_head(detail::Connection& c, const Deadlines& d, const std::string& what) {
    bool in_interim = false;
    bool eof = false;
    for (;;) {
        std::optional<ParserEvent> ev;
        try {
            ev = c.parser.next();
        } catch (const HttpProcessingError& e) {
            if (eof && c.parser.state() != HttpParser::State::failed)
                throw ServerDisconnectedError(what + ": server disconnected");
            throw RemoteProtocolError(what + ": " + e.what());
        }
        if (ev) {
            if (auto* h = std::get_if<MessageHead>(&*ev)) {
                if (h->status >= 100 && h->status < 200 && h->status != 101) {
                    in_interim = true;
                    continue;
                }
                co_return std::move(*h);
            }
            if (std::holds_alternative<MessageEnd>(*ev) && in_interim) in_interim = false;
            continue;
        }
        if (eof) throw ServerDisconnectedError(what + ": server disconnected before the response");
        std::string data = co_await detail::read_some(c, d, what);
        if (data.empty()) {
            eof = true;
            c.parser.feed_eof();
        } else {
            c.parser.feed(data);
        }
    }
}

std::string trim_copy(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

/// An environment variable of the proxy settings: the lower-case name wins (set but empty, it
/// unsets), then the upper-case one. Python: urllib.request.getproxies_environment().
std::optional<std::string> proxy_env(const std::string& lower_name) {
    if (const char* v = std::getenv(lower_name.c_str()))
        return *v ? std::optional<std::string>(v) : std::nullopt;
    std::string upper = lower_name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // CGI puts a request's "Proxy:" header in HTTP_PROXY ("httpoxy"): not trusted there.
    if (upper == "HTTP_PROXY" && std::getenv("REQUEST_METHOD")) return std::nullopt;
    if (const char* v = std::getenv(upper.c_str()); v && *v) return std::string(v);
    return std::nullopt;
}

/// `host` is listed in no_proxy ("*", or comma-separated names: a name matches itself and
/// its subdomains; a leading dot is ignored; "name:port" entries match host:port).
/// Python: urllib.request.proxy_bypass_environment().
bool bypasses_proxy(std::string host, int port) {
    auto no_proxy = proxy_env("no_proxy");
    if (!no_proxy) return false;
    std::string list = trim_copy(*no_proxy);
    if (list == "*") return true;
    for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string host_port = host + ":" + std::to_string(port);
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        std::string name = trim_copy(list.substr(start, comma - start));
        start = comma + 1;
        while (!name.empty() && name.front() == '.') name.erase(0, 1);
        if (name.empty()) continue;
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == host || name == host_port) return true;
        const std::string dotted = "." + name;
        if (host.ends_with(dotted) || host_port.ends_with(dotted)) return true;
    }
    return false;
}

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                              reinterpret_cast<const unsigned char*>(in.data()),
                              static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

}  // namespace

std::string BasicAuth::encode() const {
    if (login.find(':') != std::string::npos)
        throw std::invalid_argument("BasicAuth: a ':' is not allowed in the login");
    return "Basic " + base64(login + ":" + password);
}

ClientSession::ClientSession(ClientSessionOptions options)
    : s_(std::make_unique<State>(std::move(options))) {}

ClientSession::~ClientSession() {
    if (!s_ || s_->closed) return;
    s_->closed = true;
    auto& st = *s_->connector.state();
    st.closed = true;
    for (auto& [key, conns] : st.idle)
        for (auto& c : conns) c->abort();
    st.idle.clear();
    for (detail::Connection* c : st.leased) c->abort();
    for (auto& w : st.waiters)
        if (!w.ready.done()) w.ready.set_exception(RuntimeError("Session is closed"));
    st.waiters.clear();
}

bool ClientSession::closed() const noexcept { return s_->closed; }
TCPConnector& ClientSession::connector() noexcept { return s_->connector; }
const ClientSessionOptions& ClientSession::session_options() const noexcept { return s_->options; }

Coro<void> ClientSession::close() {
    if (s_->closed) co_return;
    s_->closed = true;
    co_await s_->connector.close();
}

Coro<ClientResponse> ClientSession::get(std::string url, RequestOptions o) {
    return request("GET", std::move(url), std::move(o));
}
Coro<ClientResponse> ClientSession::post(std::string url, RequestOptions o) {
    return request("POST", std::move(url), std::move(o));
}
Coro<ClientResponse> ClientSession::put(std::string url, RequestOptions o) {
    return request("PUT", std::move(url), std::move(o));
}
Coro<ClientResponse> ClientSession::patch(std::string url, RequestOptions o) {
    return request("PATCH", std::move(url), std::move(o));
}
Coro<ClientResponse> ClientSession::delete_(std::string url, RequestOptions o) {
    return request("DELETE", std::move(url), std::move(o));
}
Coro<ClientResponse> ClientSession::head(std::string url, RequestOptions o) {
    return request("HEAD", std::move(url), std::move(o));
}
Coro<ClientResponse> ClientSession::options(std::string url, RequestOptions o) {
    return request("OPTIONS", std::move(url), std::move(o));
}

Coro<ClientResponse> ClientSession::request(std::string method, std::string url, RequestOptions o) {
    // A coroutine, so that a bad URL is raised where the request is awaited.
    URL parsed = s_->base ? s_->base->join(url) : URL(url);
    co_return co_await request(std::move(method), std::move(parsed), std::move(o));
}

namespace {

/// One request on one connection (with the one retry), up to the response's head.
struct Exchange {
    ClientSession::State& session;
    std::string method;
    URL url;
    CIMultiDict headers;
    std::optional<std::string> body;
    std::optional<ssl::SSLContext> ssl;
    std::optional<std::string> server_hostname;
    ClientTimeout timeout;
    Deadlines deadlines;
    std::optional<std::string> proxy;     // the request's proxy= (else the session's)
    std::optional<BasicAuth> proxy_auth;  // the request's proxy_auth= (else the session's)
};

/// The proxy a hop goes through: its URL (http only) and Proxy-Authorization value.
struct ProxyChoice {
    URL url;
    std::optional<std::string> authorization;
};

std::optional<ProxyChoice> choose_proxy(const Exchange& x) {
    std::optional<std::string> text = x.proxy ? x.proxy : x.session.options.proxy;
    bool from_env = false;
    if (!text && x.session.options.trust_env) {
        if (bypasses_proxy(x.url.host(), *x.url.port())) return std::nullopt;
        text = proxy_env(x.url.scheme() + "_proxy");
        from_env = true;
    }
    if (!text) return std::nullopt;
    std::string t = *text;
    if (from_env && t.find("://") == std::string::npos) t = "http://" + t;  // "host:port"
    URL url(t);
    if (url.scheme() != "http" || !url.is_absolute()) {
        // An https:// proxy would need TLS inside TLS; the environment's is skipped.
        if (from_env) return std::nullopt;
        throw InvalidURL(*text, "only http:// proxies are supported");
    }
    ProxyChoice c{url, std::nullopt};
    std::optional<BasicAuth> auth = x.proxy_auth ? x.proxy_auth : x.session.options.proxy_auth;
    if (!auth && !url.user().empty()) auth = BasicAuth{url.user(), url.password()};
    if (auth) c.authorization = auth->encode();
    return c;
}

}  // namespace

// The send of one hop: takes a connection, writes the request, reads the head. A request
// that fails on a pooled connection before any byte of the response came back is sent once
// more on a new connection when its method is idempotent (the server may have closed the
// idle connection just as we wrote to it).
static Coro<ClientResponse> send_one(Exchange& x) {
    const std::string what = x.method + " " + x.url.human_repr();
    if (x.url.scheme() != "http" && x.url.scheme() != "https")
        throw InvalidURL(x.url.human_repr(),
                         "the scheme '" + x.url.scheme() + "' is not http or https");
    detail::ConnectionKey key{x.url.scheme(), x.url.host(), *x.url.port(), nullptr, {}, {}};
    detail::ConnectParams params{x.url.host(), *x.url.port(), std::nullopt, x.server_hostname,
                                 x.timeout.sock_connect};
    const std::optional<ProxyChoice> proxy = choose_proxy(x);
    if (proxy) {
        params.proxy_host = proxy->url.host();
        params.proxy_port = *proxy->url.port();
        params.proxy_authorization = proxy->authorization;
        params.url = x.url.human_repr();
        key.proxy = proxy->url.host_port() + "|" + proxy->authorization.value_or("");
    }
    if (x.url.scheme() == "https") {
        if (x.ssl) {
            params.ssl = x.ssl;
        } else if (x.session.options.ssl) {
            params.ssl = x.session.options.ssl;
        } else {
            if (!x.session.default_ssl) x.session.default_ssl = ssl::create_default_context();
            params.ssl = x.session.default_ssl;
        }
        key.ssl = params.ssl->impl().get();
        key.server_hostname = x.server_hostname.value_or(x.url.host());
    }
    // Through a proxy, an http request goes to it whole; an https one inside the tunnel.
    const bool absolute_form = proxy && x.url.scheme() == "http";
    const std::string request_bytes = serialize(x.method, x.url, x.headers, x.body, absolute_form,
                                                proxy ? proxy->authorization : std::nullopt);
    const bool reuse = !x.session.options.connector.force_close;
    for (int attempt = 0;; ++attempt) {
        Deadlines connect_limits = x.deadlines;
        detail::Lease lease = co_await detail::timed(
            detail::acquire(x.session.connector.state(), key, params, attempt > 0), connect_limits,
            x.timeout.connect, "connect", what);
        detail::Connection& c = *lease.get();
        ++c.uses;
        const std::uint64_t fed_before = c.parser.bytes_fed();
        if (x.method == "HEAD") c.parser.expect_no_body();
        std::exception_ptr failure;
        bool disconnected = false;
        MessageHead head;
        try {
            c.writer.write(request_bytes);
            // The socket usually takes a request at once: drain only what it did not take.
            if (c.writer.get_write_buffer_size() > 0)
                co_await detail::timed(c.writer.drain(), x.deadlines, x.timeout.sock_read,
                                       "sock_read", what);
            head = co_await read_head(c, x.deadlines, what);
        } catch (const ServerDisconnectedError&) {
            failure = std::current_exception();
            disconnected = true;
        } catch (const std::system_error& e) {
            failure = std::make_exception_ptr(ServerDisconnectedError(
                what + ": server disconnected (" + e.code().message() + ")"));
            disconnected = true;
        }
        if (failure) {
            const bool retry = disconnected && attempt == 0 && lease.reused() &&
                               idempotent(x.method) && c.parser.bytes_fed() == fed_before;
            lease.release(false);
            if (retry) continue;
            std::rethrow_exception(failure);
        }
        auto body = std::make_shared<detail::ResponseBody>();
        body->what = what;
        body->deadlines = x.deadlines;
        body->reuse = reuse && head.keep_alive;
        const int status = head.status;
        const bool no_body = x.method == "HEAD" || status == 204 || status == 304;
        if (x.session.options.auto_decompress && !no_body) {
            if (auto enc = head.headers.get("Content-Encoding")) {
                try {
                    auto e = detail::parse_content_encoding(*enc);
                    if (e != detail::Encoding::identity)
                        body->decoder = std::make_unique<detail::Decompressor>(e);
                } catch (const ContentEncodingError&) {
                    // An unknown coding: the body is handed out as received.
                }
            }
        }
        body->lease = std::move(lease);
        ClientResponse resp(body);
        resp.status = status;
        resp.status_code = status;
        resp.reason = std::move(head.reason);
        resp.version_major = head.version_major;
        resp.version_minor = head.version_minor;
        resp.headers = std::move(head.headers);
        resp.url = x.url;
        resp.method = x.method;
        body->pump();  // a body that came with the head completes now
        co_return resp;
    }
}

Coro<ClientResponse> ClientSession::request(std::string method, URL url, RequestOptions o) {
    if (s_->closed) throw RuntimeError("Session is closed");
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    check_method(method);
    if (!url.is_absolute()) throw InvalidURL(url.str(), "no host");
    url = url.update_query(o.params);
    const ClientTimeout timeout = o.timeout.value_or(s_->options.timeout);

    Exchange x{*s_,     method, url,     {},          std::nullopt, o.ssl, o.server_hostname,
               timeout, {},     o.proxy, o.proxy_auth};
    if (timeout.total) {
        x.deadlines.total = timeout.total;
        x.deadlines.total_at = get_running_loop().time() + *timeout.total;
    }
    x.deadlines.sock_read = timeout.sock_read;

    // Headers: ours, then the session's, then the request's (each replacing same names).
    CIMultiDict headers;
    headers.add("Host", url.host_port());
    headers.add("User-Agent", std::string(user_agent));
    headers.add("Accept", "*/*");
    if (s_->options.auto_decompress)
        headers.add("Accept-Encoding", std::string(detail::accept_encoding()));
    auto overlay = [&](const CIMultiDict& extra) {
        for (auto name : extra.keys()) {
            std::string n(name);
            headers.popall(n);
            for (auto v : extra.getall(n)) headers.add(n, std::string(v));
        }
    };
    overlay(s_->options.headers);
    overlay(o.headers);
    if (s_->options.connector.force_close && !headers.contains("Connection"))
        headers.add("Connection", "close");

    int bodies = (o.data ? 1 : 0) + (o.form ? 1 : 0) + (o.json ? 1 : 0);
    if (bodies > 1)
        throw std::invalid_argument("request(): give at most one of data, form and json");
    std::optional<std::string> body;
    if (o.json) {
        body = o.json->dump();
        if (!headers.contains("Content-Type")) headers.add("Content-Type", "application/json");
    } else if (o.form) {
        body = urlencode(*o.form);
        if (!headers.contains("Content-Type"))
            headers.add("Content-Type", "application/x-www-form-urlencoded");
    } else if (o.data) {
        body = std::move(*o.data);
        if (!headers.contains("Content-Type"))
            headers.add("Content-Type", "application/octet-stream");
    }
    headers.popall("Transfer-Encoding");
    if (body)
        headers.set("Content-Length", std::to_string(body->size()));
    else if (method == "POST" || method == "PUT" || method == "PATCH")
        headers.set("Content-Length", "0");
    else
        headers.popall("Content-Length");
    x.headers = std::move(headers);
    x.body = std::move(body);

    const bool allow_redirects = o.allow_redirects.value_or(method != "HEAD");
    std::vector<ClientResponse> history;
    for (;;) {
        ClientResponse resp = co_await send_one(x);
        auto location = resp.headers.get("Location");
        if (!allow_redirects || !is_redirect(resp.status) || !location) {
            resp.history = std::move(history);
            if (o.raise_for_status.value_or(s_->options.raise_for_status) && resp.status >= 400) {
                resp.release();
                resp.raise_for_status();
            }
            co_return resp;
        }
        if (static_cast<int>(history.size()) >= o.max_redirects) {
            resp.close();
            throw TooManyRedirects(resp.status,
                                   "Too many redirects (" + std::to_string(o.max_redirects) + ")",
                                   resp.url.human_repr());
        }
        URL next = x.url.join(*location);
        if (next.scheme() != "http" && next.scheme() != "https")
            throw InvalidURL(std::string(*location),
                             "a redirect to a scheme that is not http or https");
        // The redirect's own body: read when short (the connection can then be reused).
        if (!resp.at_eof()) {
            auto len = resp.content_length();
            if (len && *len <= 65536) co_await resp.read();
        }
        resp.release();
        const int st = resp.status;
        if ((st == 303 && x.method != "HEAD") || ((st == 301 || st == 302) && x.method == "POST")) {
            x.method = "GET";
            x.body.reset();
            x.headers.popall("Content-Length");
            x.headers.popall("Content-Type");
        }
        if (next.origin() != x.url.origin()) {
            x.headers.popall("Authorization");
            x.headers.popall("Cookie");
            x.server_hostname.reset();
        }
        x.headers.set("Host", next.host_port());
        x.url = next.with_fragment("");
        history.push_back(std::move(resp));
    }
}

}  // namespace asyncio::http
