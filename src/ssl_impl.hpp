// The OpenSSL side of asyncio/ssl.hpp: what the handles point to, and the non-throwing
// operations that the TLS protocol layer (sslproto) calls on its hot path. Private to src/.
#pragma once

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncio/ssl.hpp"

namespace asyncio::ssl {

struct MemoryBIO::Impl {
    BIO* bio = nullptr;  // owned (one reference); an SSLObject's SSL holds another
    bool eof_written = false;

    Impl();
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
};

struct SSLContext::Impl : std::enable_shared_from_this<SSLContext::Impl> {
    SSL_CTX* ctx = nullptr;  // owned
    SSLProtocol protocol;
    bool check_hostname = false;
    std::vector<unsigned char> alpn;  // wire format: length-prefixed names
    SNICallback sni_callback;

    explicit Impl(SSLProtocol p);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
};

/// What an SSL operation came to, without throwing: OK, or an SSL_ERROR_* code.
enum class Outcome { OK, WANT_READ, WANT_WRITE, CLOSED, FAILED };

struct SSLObject::Impl : std::enable_shared_from_this<SSLObject::Impl> {
    SSL* ssl = nullptr;           // owned
    SSLContext original_context;  // holds the SNI callback's context alive
    SSLContext context;           // the current one (an SNI callback may switch it)
    MemoryBIO incoming;
    MemoryBIO outgoing;
    bool server_side = false;
    std::optional<std::string> server_hostname;
    std::exception_ptr callback_error;  // thrown by the SNI callback, rethrown by the handshake

    // The failure of the last operation that returned FAILED (or CLOSED from write).
    int last_ssl_error = 0;
    int last_ret = 0;

    Impl(SSLContext ctx, MemoryBIO in, MemoryBIO out, bool server, std::optional<std::string> host);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    /// One step of the handshake.
    Outcome handshake();
    /// Decrypts into `buffer`; `n` is the count. CLOSED: close_notify received (n = 0).
    Outcome read(char* buffer, std::size_t len, std::size_t& n);
    /// Encrypts all of `data` into the outgoing BIO (memory BIOs never refuse bytes).
    Outcome write(std::string_view data, std::size_t& n);
    /// Sends close_notify and looks for the peer's: OK once both went.
    Outcome shutdown();
    /// The exception for the last FAILED/CLOSED outcome (clears OpenSSL's error queue).
    std::exception_ptr error();
    [[noreturn]] void raise(Outcome outcome);

    bool handshake_done() const { return SSL_is_init_finished(ssl) != 0; }
};

/// The exception for OpenSSL's last queued error (clears the queue). `fallback` is the text
/// when the queue is empty.
std::exception_ptr last_openssl_error(const char* fallback);
[[noreturn]] void raise_openssl_error(const char* fallback);

}  // namespace asyncio::ssl
