// ClientSession: the HTTP/1.1 client, aiohttp's ClientSession in C++.
//
//   asyncio::http::ClientSession session;
//   auto resp = co_await session.get("http://127.0.0.1:8080/path");
//   int code = resp.status;                  // resp.status_code too
//   std::string body = co_await resp.text();
//   auto posted = co_await session.post(url, {.json = nlohmann::json{{"a", 1}}});
//   co_await session.close();
//
// A session owns a pool of keep-alive connections (TCPConnector), default headers, timeouts
// and TLS settings. Each request picks a pooled connection of its (scheme, host, port), sends
// the request, and returns once the response's head has arrived; redirects are followed
// (301/302/303 turn a POST into a GET without body, 307/308 keep both; Authorization is
// dropped when the origin changes). HTTPS verifies the server's certificate and name by
// default (ssl::create_default_context()). An idempotent request on a pooled connection the
// server had closed meanwhile is sent again once on a new connection.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "asyncio/coro.hpp"
#include "asyncio/http/client_exceptions.hpp"
#include "asyncio/http/client_reqrep.hpp"
#include "asyncio/http/connector.hpp"
#include "asyncio/http/headers.hpp"
#include "asyncio/http/url.hpp"
#include "asyncio/ssl.hpp"

namespace asyncio::http {

/// Time limits of a request, in seconds (nullopt: none). Python: aiohttp.ClientTimeout.
struct ClientTimeout {
    /// The whole request: connecting, redirects, and reading the body to the end.
    std::optional<double> total = 300.0;
    /// Getting a connection: waiting for the pool, then connecting (and the TLS handshake).
    std::optional<double> connect = std::nullopt;
    /// Each read of the socket: the longest silence of the server.
    std::optional<double> sock_read = std::nullopt;
    /// The connect (and TLS handshake) of a new connection alone.
    std::optional<double> sock_connect = std::nullopt;
};

/// Credentials for HTTP Basic authentication. Python: aiohttp.BasicAuth(login, password).
struct BasicAuth {
    std::string login;
    std::string password = "";
    /// The header value: "Basic " + base64(login ":" password). Python: BasicAuth.encode().
    std::string encode() const;
};

/// The keyword arguments of a request. Python: session.request(method, url, **kwargs).
/// At most one of data, form and json.
struct RequestOptions {
    /// Headers added to (and replacing same-named) session headers.
    CIMultiDict headers{};
    /// Query parameters appended to the URL's (encoded). Python: params=.
    Params params{};
    /// The body as bytes (Content-Type application/octet-stream unless given). Python: data=b"...".
    std::optional<std::string> data = std::nullopt;
    /// The body as an HTML form (application/x-www-form-urlencoded). Python: data={...}.
    std::optional<Params> form = std::nullopt;
    /// The body as JSON (application/json). Python: json=.
    std::optional<nlohmann::json> json = std::nullopt;
    /// Follow redirects (default: yes). Python: allow_redirects= (httpx: follow_redirects=).
    std::optional<bool> allow_redirects = std::nullopt;
    /// How many redirects are followed before TooManyRedirects.
    int max_redirects = 10;
    /// Raise ClientResponseError for a status ≥ 400 (default: the session's setting).
    std::optional<bool> raise_for_status = std::nullopt;
    /// Replaces the session's timeouts for this request.
    std::optional<ClientTimeout> timeout = std::nullopt;
    /// The TLS context of an https request (default: the session's).
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    /// The name sent in SNI and checked against the certificate (default: the URL's host).
    std::optional<std::string> server_hostname = std::nullopt;
    /// The HTTP proxy of this request, "http://[user:password@]host:port" (default: the
    /// session's, then the environment's when trust_env). An http URL is sent to the proxy in
    /// absolute form; an https URL goes through a CONNECT tunnel, TLS to the server inside it.
    /// Python: proxy=.
    std::optional<std::string> proxy = std::nullopt;
    /// Sent to the proxy as Proxy-Authorization (default: the session's, then the proxy URL's
    /// user and password). Python: proxy_auth=.
    std::optional<BasicAuth> proxy_auth = std::nullopt;
};

/// The keyword arguments of a session. Python: aiohttp.ClientSession(...).
struct ClientSessionOptions {
    /// Relative request URLs are joined to it. Python: base_url=.
    std::optional<std::string> base_url = std::nullopt;
    /// Sent with every request (a request's own headers replace same-named ones).
    CIMultiDict headers{};
    ClientTimeout timeout{};
    bool raise_for_status = false;
    /// Decode gzip / deflate / br bodies (and send Accept-Encoding). Python: auto_decompress=.
    bool auto_decompress = true;
    /// The TLS context of https requests (default: ssl::create_default_context(), made on
    /// the first https request).
    std::optional<ssl::SSLContext> ssl = std::nullopt;
    /// The pool's bounds. Python: connector=aiohttp.TCPConnector(limit=..., ...).
    TCPConnectorOptions connector{};
    /// The HTTP proxy of every request that names none. Python: proxy=.
    std::optional<std::string> proxy = std::nullopt;
    /// Proxy credentials of every request that gives none. Python: proxy_auth=.
    std::optional<BasicAuth> proxy_auth = std::nullopt;
    /// Take the proxy of a request that names none (and whose session names none) from the
    /// environment: http_proxy / https_proxy by the URL's scheme, no_proxy for the hosts that
    /// bypass it (lower-case names win over upper-case; HTTP_PROXY is ignored when
    /// REQUEST_METHOD is set, as CGI puts the client's Proxy header there). Python: trust_env=
    /// (which also reads ~/.netrc; this does not).
    bool trust_env = false;
};

/// An HTTP client session. Not copyable or movable (its requests refer to it); close it with
/// `co_await session.close()`, or use it through async_with(session, body).
///
/// Cancellation: cancelling a request closes its connection (a response half-received
/// cannot be reused); a response already returned keeps its connection until its body is
/// read or it is released. Thread safety: one loop's thread.
/// Errors: InvalidURL; ClientConnectorError; ServerDisconnectedError; RemoteProtocolError
/// (a response that is not HTTP); TooManyRedirects; ClientResponseError (raise_for_status);
/// TimeoutError (its message names the ClientTimeout field that fired); asyncio::ssl errors
/// (SSLCertVerificationError...); RuntimeError("Session is closed").
/// Python: aiohttp.ClientSession (httpx.AsyncClient).
class ClientSession {
  public:
    explicit ClientSession(ClientSessionOptions options = {});
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;
    /// An open session is closed without waiting (its connections aborted).
    ~ClientSession();

    /// Sends `method` to `url` and gives the response once its head has arrived.
    /// Python: await session.request(method, url, **kwargs).
    Coro<ClientResponse> request(std::string method, std::string url, RequestOptions options = {});
    Coro<ClientResponse> request(std::string method, URL url, RequestOptions options = {});
    Coro<ClientResponse> get(std::string url, RequestOptions options = {});
    Coro<ClientResponse> post(std::string url, RequestOptions options = {});
    Coro<ClientResponse> put(std::string url, RequestOptions options = {});
    Coro<ClientResponse> patch(std::string url, RequestOptions options = {});
    /// DELETE (delete is a C++ keyword). Python: session.delete(url).
    Coro<ClientResponse> delete_(std::string url, RequestOptions options = {});
    /// HEAD; redirects are not followed unless asked (as aiohttp).
    Coro<ClientResponse> head(std::string url, RequestOptions options = {});
    Coro<ClientResponse> options(std::string url, RequestOptions options = {});

    /// Closes every connection and waits for them. Python: await session.close().
    Coro<void> close();
    bool closed() const noexcept;

    /// async_with(session, body): the body gets the session, which is closed after it.
    ClientSession& aenter() noexcept { return *this; }
    Coro<void> aexit(std::exception_ptr) { return close(); }

    TCPConnector& connector() noexcept;
    const ClientSessionOptions& session_options() const noexcept;

    struct State;

  private:
    std::unique_ptr<State> s_;
};

}  // namespace asyncio::http
