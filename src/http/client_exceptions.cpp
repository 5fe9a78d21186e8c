// The HTTP client's exceptions.
#include "asyncio/http/client_exceptions.hpp"

namespace asyncio::http {

ClientResponseError::ClientResponseError(int status, std::string message, std::string url)
    : ClientError(std::to_string(status) + ", message='" + message + "', url='" + url + "'"),
      status_(status),
      message_(std::move(message)),
      url_(std::move(url)) {}

ClientConnectorError::ClientConnectorError(std::string host_port, std::error_code code,
                                           const std::string& why)
    : ClientConnectionError("Cannot connect to host " + host_port + " [" + why + "]"),
      code_(code) {}

}  // namespace asyncio::http
