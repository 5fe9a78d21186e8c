// The HTTP client's exceptions: aiohttp's client_exceptions, in C++.
//
//   ClientError                       (std::runtime_error)
//   ├── ClientResponseError           status() and message(); raise_for_status()
//   │   ├── TooManyRedirects
//   │   └── ClientHttpProxyError      the proxy refused the CONNECT tunnel (407, 502...)
//   ├── ClientConnectionError
//   │   ├── ClientConnectorError      the connect failed (errno in code())
//   │   │   └── ClientProxyConnectionError   the connect to the proxy failed
//   │   └── ServerDisconnectedError   the server closed before the response was complete
//   ├── RemoteProtocolError           not a valid HTTP response (status line, headers)
//   └── ClientPayloadError            the body is malformed or cut short
//       └── ContentEncodingError      gzip / deflate / br data that does not decode
//
// Timeouts raise asyncio::TimeoutError (its message names the timeout that fired); TLS
// failures raise asyncio::ssl's errors (SSLCertVerificationError...); a bad URL raises
// InvalidURL (url.hpp), a std::invalid_argument as aiohttp's is a ValueError.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace asyncio::http {

/// The base of the client's errors. Python: aiohttp.ClientError / httpx.HTTPError.
class ClientError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A response with an error status (raise_for_status), or the redirect limit.
/// what(): "404, message='Not Found', url='http://...'", as aiohttp prints it.
/// Python: aiohttp.ClientResponseError (httpx.HTTPStatusError).
class ClientResponseError : public ClientError {
  public:
    ClientResponseError(int status, std::string message, std::string url);
    int status() const noexcept { return status_; }
    /// The reason phrase (or what went wrong).
    const std::string& message() const noexcept { return message_; }
    const std::string& url() const noexcept { return url_; }

  private:
    int status_;
    std::string message_;
    std::string url_;
};

/// More redirects than max_redirects. Python: aiohttp.TooManyRedirects.
class TooManyRedirects : public ClientResponseError {
  public:
    using ClientResponseError::ClientResponseError;
};

/// The proxy answered the CONNECT of an https request with a status other than 2xx: status()
/// is the proxy's (407 Proxy Authentication Required, 502 Bad Gateway...), url() the
/// request's. A plain http request through a proxy gets the proxy's answer as its response
/// instead. Python: aiohttp.ClientHttpProxyError (httpx.ProxyError).
class ClientHttpProxyError : public ClientResponseError {
  public:
    using ClientResponseError::ClientResponseError;
};

/// A connection-level failure. Python: aiohttp.ClientConnectionError.
class ClientConnectionError : public ClientError {
  public:
    using ClientError::ClientError;
};

/// The connection could not be made: "Cannot connect to host 127.0.0.1:1 [Connection
/// refused]". code() is the OS error. Python: aiohttp.ClientConnectorError (httpx.ConnectError).
class ClientConnectorError : public ClientConnectionError {
  public:
    ClientConnectorError(std::string host_port, std::error_code code, const std::string& why);
    std::error_code code() const noexcept { return code_; }

  private:
    std::error_code code_;
};

/// The connection to the proxy could not be made: "Cannot connect to host <proxy> ...".
/// Python: aiohttp.ClientProxyConnectionError (httpx.ProxyError).
class ClientProxyConnectionError : public ClientConnectorError {
  public:
    using ClientConnectorError::ClientConnectorError;
};

/// The server closed the connection before the whole response came.
/// Python: aiohttp.ServerDisconnectedError (httpx.RemoteProtocolError).
class ServerDisconnectedError : public ClientConnectionError {
  public:
    using ClientConnectionError::ClientConnectionError;
};

/// The bytes received are not an HTTP response: what() says what the parser refused
/// ("invalid status line ..."). Python: httpx.RemoteProtocolError (aiohttp raises a
/// ClientResponseError with status 400 for the same).
class RemoteProtocolError : public ClientError {
  public:
    using ClientError::ClientError;
};

/// The body is malformed (bad chunk size) or shorter than announced.
/// Python: aiohttp.ClientPayloadError.
class ClientPayloadError : public ClientError {
  public:
    using ClientError::ClientError;
};

/// Compressed data that does not decode. Python: aiohttp.http_exceptions.ContentEncodingError
/// (httpx.DecodingError).
class ContentEncodingError : public ClientPayloadError {
  public:
    using ClientPayloadError::ClientPayloadError;
};

}  // namespace asyncio::http
