// TLS: the part of Python's ssl module that asyncio uses, over OpenSSL.
//
// An SSLContext holds the settings shared by many connections (certificates, trusted CAs,
// verification, protocol versions, ciphers, ALPN, SNI). A connection's TLS state is an
// SSLObject made by SSLContext::wrap_bio() over two MemoryBIOs: the bytes received from the
// peer are written into `incoming`, the bytes to send are read out of `outgoing`; the
// SSLObject never touches a socket. This is Python's ssl.MemoryBIO + SSLContext.wrap_bio,
// which asyncio's TLS layer (sslproto) drives over any transport. SSLContext, SSLObject and
// MemoryBIO are shared handles: copies refer to the same object, as Python references do.
//
// OpenSSL stays out of this header: its types live behind the handles.
//
// Thread safety: an SSLContext may be used by connections on several threads once it is
// configured; configuring it (load_*, set_*) while connections are being made is not safe.
// An SSLObject and its BIOs belong to one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asyncio::ssl {

// ---------------------------------------------------------------------------------------
// Errors

/// A TLS error. what() is "[LIBRARY: REASON] text", as Python prints it, e.g.
/// "[SSL: WRONG_VERSION_NUMBER] wrong version number".
/// Python: ssl.SSLError (an OSError there; a std::runtime_error here).
class SSLError : public std::runtime_error {
  public:
    explicit SSLError(const std::string& what) : std::runtime_error(what) {}
    SSLError(std::string library, std::string reason, const std::string& text);

    /// The OpenSSL library that failed ("SSL", "X509", "PEM", ...), "" when none.
    const std::string& library() const noexcept { return library_; }
    /// The mnemonic of the reason ("CERTIFICATE_VERIFY_FAILED"), "" when none.
    const std::string& reason() const noexcept { return reason_; }

  private:
    std::string library_;
    std::string reason_;
};

/// The peer closed the TLS layer cleanly (close_notify) and no more data can be read.
/// Python: ssl.SSLZeroReturnError.
class SSLZeroReturnError : public SSLError {
  public:
    using SSLError::SSLError;
};
/// The operation needs more bytes from the peer in the incoming BIO. Python: ssl.SSLWantReadError.
class SSLWantReadError : public SSLError {
  public:
    using SSLError::SSLError;
};
/// The operation needs the outgoing BIO drained. Python: ssl.SSLWantWriteError.
class SSLWantWriteError : public SSLError {
  public:
    using SSLError::SSLError;
};
/// An I/O error below TLS. Python: ssl.SSLSyscallError.
class SSLSyscallError : public SSLError {
  public:
    using SSLError::SSLError;
};
/// The transport ended without close_notify (a truncated stream): "EOF occurred in violation
/// of protocol". Python: ssl.SSLEOFError.
class SSLEOFError : public SSLError {
  public:
    using SSLError::SSLError;
};

/// The peer's certificate did not verify. what() carries OpenSSL's reason, e.g.
/// "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: hostname mismatch, certificate
/// is not valid for 'example.com'". Python: ssl.SSLCertVerificationError (alias CertificateError).
class SSLCertVerificationError : public SSLError {
  public:
    SSLCertVerificationError(long verify_code, std::string verify_message, const std::string& text);

    /// OpenSSL's X509_V_ERR_* code (e.g. 62 hostname mismatch, 10 expired, 20 unknown issuer).
    long verify_code() const noexcept { return verify_code_; }
    /// The verification message alone ("certificate has expired").
    const std::string& verify_message() const noexcept { return verify_message_; }

  private:
    long verify_code_;
    std::string verify_message_;
};
using CertificateError = SSLCertVerificationError;

// ---------------------------------------------------------------------------------------
// Constants

/// What a default context is for. Python: ssl.Purpose.
enum class Purpose {
    SERVER_AUTH,  ///< a client's context: verify servers
    CLIENT_AUTH,  ///< a server's context: (optionally) verify clients
};

/// The side a context is made for. Python: ssl.PROTOCOL_TLS_CLIENT / PROTOCOL_TLS_SERVER.
enum class SSLProtocol { PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER };
inline constexpr SSLProtocol PROTOCOL_TLS_CLIENT = SSLProtocol::PROTOCOL_TLS_CLIENT;
inline constexpr SSLProtocol PROTOCOL_TLS_SERVER = SSLProtocol::PROTOCOL_TLS_SERVER;

/// Whether to ask for, and verify, the peer's certificate. Python: ssl.VerifyMode.
enum class VerifyMode { CERT_NONE = 0, CERT_OPTIONAL = 1, CERT_REQUIRED = 2 };
inline constexpr VerifyMode CERT_NONE = VerifyMode::CERT_NONE;
inline constexpr VerifyMode CERT_OPTIONAL = VerifyMode::CERT_OPTIONAL;
inline constexpr VerifyMode CERT_REQUIRED = VerifyMode::CERT_REQUIRED;

/// Protocol versions, with Python's (and the wire's) values. Python: ssl.TLSVersion.
enum class TLSVersion : int {
    MINIMUM_SUPPORTED = -2,
    MAXIMUM_SUPPORTED = -1,
    SSLv3 = 0x0300,
    TLSv1 = 0x0301,
    TLSv1_1 = 0x0302,
    TLSv1_2 = 0x0303,
    TLSv1_3 = 0x0304,
};

/// Certificate verification flags (OpenSSL's X509_V_FLAG_* values). Python: ssl.VerifyFlags.
/// A default context has VERIFY_X509_STRICT | VERIFY_X509_PARTIAL_CHAIN | VERIFY_X509_TRUSTED_FIRST
/// (as in Python 3.13).
inline constexpr unsigned long VERIFY_DEFAULT = 0;
inline constexpr unsigned long VERIFY_CRL_CHECK_LEAF = 0x4;
inline constexpr unsigned long VERIFY_CRL_CHECK_CHAIN = 0x4 | 0x8;
inline constexpr unsigned long VERIFY_X509_STRICT = 0x20;
inline constexpr unsigned long VERIFY_ALLOW_PROXY_CERTS = 0x40;
inline constexpr unsigned long VERIFY_X509_TRUSTED_FIRST = 0x8000;
inline constexpr unsigned long VERIFY_X509_PARTIAL_CHAIN = 0x80000;

/// Context options (OpenSSL's SSL_OP_* values). Python: ssl.Options.
inline constexpr std::uint64_t OP_ALL = 0x80000850;
inline constexpr std::uint64_t OP_NO_TICKET = 0x4000;
inline constexpr std::uint64_t OP_NO_COMPRESSION = 0x20000;
inline constexpr std::uint64_t OP_ENABLE_MIDDLEBOX_COMPAT = 0x100000;
inline constexpr std::uint64_t OP_CIPHER_SERVER_PREFERENCE = 0x400000;
inline constexpr std::uint64_t OP_NO_RENEGOTIATION = 0x40000000;
inline constexpr std::uint64_t OP_NO_SSLv3 = 0x2000000;
inline constexpr std::uint64_t OP_NO_TLSv1 = 0x4000000;
inline constexpr std::uint64_t OP_NO_TLSv1_1 = 0x10000000;
inline constexpr std::uint64_t OP_NO_TLSv1_2 = 0x8000000;
inline constexpr std::uint64_t OP_NO_TLSv1_3 = 0x20000000;
inline constexpr std::uint64_t OP_IGNORE_UNEXPECTED_EOF = 0x80;

/// TLS alerts an SNI callback may answer with. Python: ssl.AlertDescription.
enum class AlertDescription : int {
    ALERT_DESCRIPTION_HANDSHAKE_FAILURE = 40,
    ALERT_DESCRIPTION_ACCESS_DENIED = 49,
    ALERT_DESCRIPTION_INTERNAL_ERROR = 80,
    ALERT_DESCRIPTION_UNRECOGNIZED_NAME = 112,
};

// ---------------------------------------------------------------------------------------
// Values an SSLObject reports

/// The peer certificate's fields, as Python's getpeercert() dictionary has them.
/// A name is a sequence of relative distinguished names, each a sequence of
/// (attribute, value) pairs with OpenSSL's long attribute names ("commonName").
struct Certificate {
    using Name = std::vector<std::vector<std::pair<std::string, std::string>>>;
    Name subject;
    Name issuer;
    int version = 0;           ///< 3 for an X.509v3 certificate; 0 when not validated
    std::string serialNumber;  ///< upper-case hex
    std::string notBefore;     ///< "Jan  1 00:00:00 2026 GMT"
    std::string notAfter;
    /// ("DNS", "localhost"), ("IP Address", "127.0.0.1"), ...
    std::vector<std::pair<std::string, std::string>> subjectAltName;

    /// The commonName of the subject, "" when there is none (a convenience, not in Python).
    std::string common_name() const;
};

/// The negotiated cipher. Python: the (name, protocol, secret_bits) tuple of cipher().
struct Cipher {
    std::string name;      ///< "TLS_AES_256_GCM_SHA384"
    std::string protocol;  ///< "TLSv1.3"
    int secret_bits = 0;
};

class SSLContext;
class SSLObject;

// ---------------------------------------------------------------------------------------
// MemoryBIO

/// A growable byte buffer that an SSLObject reads from or writes to. Python: ssl.MemoryBIO.
class MemoryBIO {
  public:
    MemoryBIO();

    /// Bytes buffered. Python: pending.
    std::size_t pending() const;
    /// True once write_eof() was called and every byte was read. Python: eof.
    bool eof() const;
    /// Up to `n` buffered bytes (n < 0: all of them); "" when empty. Python: read(n=-1).
    std::string read(long long n = -1);
    /// Appends `data`; returns its size. Python: write(buf).
    /// Errors: SSLError after write_eof() ("cannot write() after write_eof()").
    std::size_t write(std::string_view data);
    /// Marks the end of the stream: the SSLObject sees EOF once the bytes are consumed.
    /// Python: write_eof().
    void write_eof();

    struct Impl;
    const std::shared_ptr<Impl>& impl() const noexcept { return impl_; }

  private:
    std::shared_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------
// SSLContext

/// Called on a server when a client's hello names a server (SNI), before the certificate is
/// chosen. It may switch the connection to another context (`ssl_object.set_context(other)`)
/// to serve another certificate, and returns nothing to go on or an alert to refuse.
/// `server_name` is empty when the client sent none. An exception thrown by the callback
/// aborts the handshake, and do_handshake() rethrows it.
/// Python: SSLContext.sni_callback(ssl_object, server_name, ssl_context).
using SNICallback = std::function<std::optional<AlertDescription>(
    SSLObject& ssl_object, const std::optional<std::string>& server_name, SSLContext& context)>;

/// Options of SSLContext::wrap_bio(). Python: wrap_bio's keyword arguments.
struct WrapOptions {
    bool server_side = false;
    /// The server's name on a client: sent as SNI (unless it is an IP address) and, when the
    /// context checks host names, matched against the certificate.
    std::optional<std::string> server_hostname = std::nullopt;
};

/// Options of create_default_context(). Python: its keyword arguments.
struct DefaultContextOptions {
    std::string cafile = {};
    std::string capath = {};
    std::string cadata = {};
};

/// TLS settings shared by connections. Python: ssl.SSLContext.
///
/// A copyable shared handle. A client context (PROTOCOL_TLS_CLIENT) starts with
/// verify_mode CERT_REQUIRED and check_hostname on; a server context with CERT_NONE and
/// check_hostname off. Both refuse versions below TLS 1.2 and use Python's default ciphers
/// and options. Prefer create_default_context(), which also loads the system's CAs.
/// Errors: SSLError for what OpenSSL refuses; std::invalid_argument for invalid arguments
/// (Python's ValueError / TypeError); std::system_error for a file that cannot be read.
class SSLContext {
  public:
    explicit SSLContext(SSLProtocol protocol = PROTOCOL_TLS_CLIENT);

    SSLProtocol protocol() const;

    /// Loads this side's certificate chain (PEM, leaf first) and private key (from `certfile`
    /// when `keyfile` is empty). `password` decrypts an encrypted key; without one an
    /// encrypted key is an SSLError (never a terminal prompt). Python: load_cert_chain().
    /// Errors: std::system_error (ENOENT...) when a file cannot be read; SSLError for a bad
    /// PEM, a wrong password or a key that does not match the certificate.
    void load_cert_chain(const std::string& certfile, const std::string& keyfile = {},
                         std::optional<std::string> password = std::nullopt);
    /// The same, with the password asked of a callable when needed.
    void load_cert_chain(const std::string& certfile, const std::string& keyfile,
                         std::function<std::string()> password);
    /// Adds trusted CA certificates from a PEM file, a hashed directory, and/or PEM text (or
    /// DER bytes) in `cadata`. Python: load_verify_locations(cafile, capath, cadata).
    /// Errors: std::invalid_argument when all three are empty; std::system_error when cafile
    /// cannot be read; SSLError when nothing valid is found in it.
    void load_verify_locations(const std::string& cafile = {}, const std::string& capath = {},
                               std::string_view cadata = {});
    /// Trusts the system's CA store (SSL_CERT_FILE / SSL_CERT_DIR honoured).
    /// Python: load_default_certs(purpose).
    void load_default_certs(Purpose purpose = Purpose::SERVER_AUTH);
    /// Python: set_default_verify_paths().
    void set_default_verify_paths();
    /// The protocols offered (client) or accepted in this order of preference (server) by
    /// ALPN, e.g. {"h2", "http/1.1"}. Python: set_alpn_protocols(protocols).
    /// Errors: std::invalid_argument for an empty name or one longer than 255 bytes.
    void set_alpn_protocols(const std::vector<std::string>& protocols);
    /// OpenSSL cipher list for TLS 1.2 and below (TLS 1.3 suites are not affected, as in
    /// Python). Errors: SSLError("No cipher can be selected.") when nothing matches.
    void set_ciphers(const std::string& ciphers);
    /// The enabled cipher names, in order. Python: [c["name"] for c in get_ciphers()].
    std::vector<std::string> get_ciphers() const;

    /// Whether a client matches the server's certificate against server_hostname.
    /// Turning it on with verify_mode CERT_NONE sets CERT_REQUIRED (as Python does).
    bool check_hostname() const;
    void set_check_hostname(bool value);
    /// Errors: std::invalid_argument for CERT_NONE while check_hostname is on
    /// ("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.").
    VerifyMode verify_mode() const;
    void set_verify_mode(VerifyMode mode);
    unsigned long verify_flags() const;
    void set_verify_flags(unsigned long flags);
    /// Python: minimum_version / maximum_version. Errors: std::invalid_argument for SSLv3.
    TLSVersion minimum_version() const;
    void set_minimum_version(TLSVersion version);
    TLSVersion maximum_version() const;
    void set_maximum_version(TLSVersion version);
    std::uint64_t options() const;
    /// Sets the options to exactly `options` (Python: `ctx.options = ...`; `|=` to add).
    void set_options(std::uint64_t options);

    /// Installs (or with nullptr removes) the server's SNI callback. Python: sni_callback.
    void set_sni_callback(SNICallback callback);

    /// A TLS connection over two memory BIOs. Python: wrap_bio(incoming, outgoing,
    /// server_side, server_hostname). Errors: std::invalid_argument for a server_hostname on
    /// the server side ("server_hostname can only be specified in client mode"), for
    /// check_hostname without a server_hostname ("check_hostname requires server_hostname"),
    /// and for an empty name or one that starts with a dot or holds a NUL.
    SSLObject wrap_bio(MemoryBIO incoming, MemoryBIO outgoing, WrapOptions options = {}) const;

    bool operator==(const SSLContext& other) const noexcept { return impl_ == other.impl_; }

    struct Impl;
    explicit SSLContext(std::shared_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
    const std::shared_ptr<Impl>& impl() const noexcept { return impl_; }

  private:
    std::shared_ptr<Impl> impl_;
};

/// A context with the recommended settings for `purpose`: SERVER_AUTH (a client's context)
/// verifies the server's certificate against the system's CAs and its host name; CLIENT_AUTH
/// (a server's context) does not ask clients for a certificate. TLS 1.2 minimum.
/// When a cafile, capath or cadata is given, those CAs are loaded instead of the system's.
/// Python: ssl.create_default_context(purpose, cafile=, capath=, cadata=).
SSLContext create_default_context(Purpose purpose = Purpose::SERVER_AUTH,
                                  const DefaultContextOptions& options = {});

// ---------------------------------------------------------------------------------------
// SSLObject

/// One TLS connection's state over two MemoryBIOs. Python: ssl.SSLObject.
///
/// Every operation consumes bytes from the incoming BIO and produces bytes into the outgoing
/// one; when it cannot finish it throws SSLWantReadError (feed the incoming BIO and call it
/// again), after having put into the outgoing BIO what must be sent. A shared handle.
class SSLObject {
  public:
    /// The context, which an SNI callback may switch. Python: context.
    SSLContext context() const;
    void set_context(const SSLContext& context);
    bool server_side() const;
    /// Python: server_hostname (None on a server, or a client without one).
    const std::optional<std::string>& server_hostname() const;

    /// Runs the handshake as far as the bytes at hand allow. Python: do_handshake().
    /// Errors: SSLWantReadError (not finished yet), SSLCertVerificationError, SSLError,
    /// SSLEOFError (the incoming BIO ended first).
    void do_handshake();
    /// Up to `len` bytes of application data. Returns "" once the peer sent close_notify.
    /// Python: read(len=1024). Errors: SSLWantReadError (nothing decrypted yet), SSLEOFError
    /// (the stream ended without close_notify), SSLError.
    std::string read(std::size_t len = 1024);
    /// Decrypts up to `len` bytes into `buffer`; the count (0: close_notify received).
    /// Python: read(len, buffer).
    std::size_t read_into(char* buffer, std::size_t len);
    /// Encrypts all of `data` into the outgoing BIO; returns its size. Python: write(data).
    /// Errors: SSLWantReadError during a renegotiation, SSLZeroReturnError after close,
    /// SSLError.
    std::size_t write(std::string_view data);
    /// Sends close_notify, then waits for the peer's: SSLWantReadError until it arrived.
    /// Python: unwrap().
    void unwrap();
    /// Decrypted bytes ready to be read without more input. Python: pending().
    std::size_t pending() const;

    /// The peer's certificate. Empty (nullopt) when the peer sent none; a default (empty)
    /// Certificate when it was not verified (verify_mode CERT_NONE), as Python's {}.
    /// Python: getpeercert(). Errors: std::invalid_argument before the handshake
    /// ("handshake not done yet", Python's ValueError).
    std::optional<Certificate> getpeercert() const;
    /// The peer's certificate in DER form. Python: getpeercert(binary_form=True).
    std::optional<std::string> getpeercert_binary() const;
    /// Python: cipher(); nullopt before the handshake.
    std::optional<Cipher> cipher() const;
    /// Python: compression(); nullopt (OpenSSL 3 builds have no TLS compression).
    std::optional<std::string> compression() const;
    /// The protocol ALPN chose, nullopt when none. Python: selected_alpn_protocol().
    std::optional<std::string> selected_alpn_protocol() const;
    /// "TLSv1.3", ...; nullopt before the handshake. Python: version().
    std::optional<std::string> version() const;

    struct Impl;
    explicit SSLObject(std::shared_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
    const std::shared_ptr<Impl>& impl() const noexcept { return impl_; }

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace asyncio::ssl
