// SSLContext, MemoryBIO and the error classes of asyncio/ssl.hpp over OpenSSL.
#include "asyncio/ssl.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "ssl_impl.hpp"

namespace asyncio::ssl {

// The header's constants are OpenSSL's values (the header cannot include OpenSSL's).
static_assert(VERIFY_CRL_CHECK_LEAF == X509_V_FLAG_CRL_CHECK);
static_assert(VERIFY_CRL_CHECK_CHAIN == (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL));
static_assert(VERIFY_X509_STRICT == X509_V_FLAG_X509_STRICT);
static_assert(VERIFY_ALLOW_PROXY_CERTS == X509_V_FLAG_ALLOW_PROXY_CERTS);
static_assert(VERIFY_X509_TRUSTED_FIRST == X509_V_FLAG_TRUSTED_FIRST);
static_assert(VERIFY_X509_PARTIAL_CHAIN == X509_V_FLAG_PARTIAL_CHAIN);
static_assert(OP_ALL == SSL_OP_ALL);
static_assert(OP_NO_TICKET == SSL_OP_NO_TICKET);
static_assert(OP_NO_COMPRESSION == SSL_OP_NO_COMPRESSION);
static_assert(OP_ENABLE_MIDDLEBOX_COMPAT == SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
static_assert(OP_CIPHER_SERVER_PREFERENCE == SSL_OP_CIPHER_SERVER_PREFERENCE);
static_assert(OP_NO_RENEGOTIATION == SSL_OP_NO_RENEGOTIATION);
static_assert(OP_NO_SSLv3 == SSL_OP_NO_SSLv3);
static_assert(OP_NO_TLSv1 == SSL_OP_NO_TLSv1);
static_assert(OP_NO_TLSv1_1 == SSL_OP_NO_TLSv1_1);
static_assert(OP_NO_TLSv1_2 == SSL_OP_NO_TLSv1_2);
static_assert(OP_NO_TLSv1_3 == SSL_OP_NO_TLSv1_3);
static_assert(OP_IGNORE_UNEXPECTED_EOF == SSL_OP_IGNORE_UNEXPECTED_EOF);

namespace {

// Python 3.13's defaults (Modules/_ssl.c, PY_SSL_DEFAULT_CIPHER_STRING and the options set
// in _ssl__SSLContext_impl).
constexpr const char* default_ciphers =
    "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM";
constexpr std::uint64_t default_options =
    (SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS) | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION |
    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_ENABLE_MIDDLEBOX_COMPAT;
constexpr unsigned char session_id_context[] = "asyncio-cpp";

std::string format_error(const std::string& library, const std::string& reason,
                         const std::string& text) {
    if (library.empty()) return text;
    if (reason.empty()) return "[" + library + "] " + text;
    return "[" + library + ": " + reason + "] " + text;
}

const char* library_name(int lib) {
    switch (lib) {
        case ERR_LIB_SSL: return "SSL";
        case ERR_LIB_X509: return "X509";
        case ERR_LIB_X509V3: return "X509V3";
        case ERR_LIB_PEM: return "PEM";
        case ERR_LIB_EVP: return "EVP";
        case ERR_LIB_ASN1: return "ASN1";
        case ERR_LIB_SYS: return "SYS";
        case ERR_LIB_BIO: return "BIO";
        case ERR_LIB_PKCS12: return "PKCS12";
        case ERR_LIB_RSA: return "RSA";
        case ERR_LIB_EC: return "EC";
        case ERR_LIB_OSSL_STORE: return "STORE";
        case ERR_LIB_PROV: return "PROV";
        default: return "SSL";
    }
}

// OpenSSL's reason strings are its SSL_R_* mnemonics in lower case with spaces
// ("certificate verify failed" for SSL_R_CERTIFICATE_VERIFY_FAILED): Python's mnemonic back.
std::string mnemonic(const char* text) {
    std::string out;
    for (const char* p = text; *p; ++p) {
        unsigned char c = static_cast<unsigned char>(*p);
        out += std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_';
    }
    return out;
}

void check_readable(const std::string& path, const char* what) {
    if (::access(path.c_str(), R_OK) != 0)
        throw std::system_error(errno, std::generic_category(),
                                std::string(what) + ": cannot read '" + path + "'");
}

}  // namespace

std::exception_ptr last_openssl_error(const char* fallback) {
    unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return std::make_exception_ptr(SSLError(fallback));
    const char* reason = ERR_reason_error_string(code);
    std::string text = reason ? reason : fallback;
    return std::make_exception_ptr(
        SSLError(library_name(ERR_GET_LIB(code)), reason ? mnemonic(reason) : std::string(), text));
}

void raise_openssl_error(const char* fallback) {
    std::rethrow_exception(last_openssl_error(fallback));
}

// ---------------------------------------------------------------------------------------
// Errors

SSLError::SSLError(std::string library, std::string reason, const std::string& text)
    : std::runtime_error(format_error(library, reason, text)),
      library_(std::move(library)),
      reason_(std::move(reason)) {}

SSLCertVerificationError::SSLCertVerificationError(long verify_code, std::string verify_message,
                                                   const std::string& text)
    : SSLError("SSL", "CERTIFICATE_VERIFY_FAILED", text),
      verify_code_(verify_code),
      verify_message_(std::move(verify_message)) {}

std::string Certificate::common_name() const {
    for (const auto& rdn : subject)
        for (const auto& [key, value] : rdn)
            if (key == "commonName") return value;
    return {};
}

// ---------------------------------------------------------------------------------------
// MemoryBIO

MemoryBIO::Impl::Impl() : bio(BIO_new(BIO_s_mem())) {
    if (!bio) throw std::bad_alloc();
    // An empty BIO means "not yet" (retry), not EOF, until write_eof().
    BIO_set_mem_eof_return(bio, -1);
}

MemoryBIO::Impl::~Impl() { BIO_free(bio); }

MemoryBIO::MemoryBIO() : impl_(std::make_shared<Impl>()) {}

std::size_t MemoryBIO::pending() const { return BIO_ctrl_pending(impl_->bio); }

bool MemoryBIO::eof() const { return impl_->eof_written && BIO_ctrl_pending(impl_->bio) == 0; }

std::string MemoryBIO::read(long long n) {
    std::size_t avail = BIO_ctrl_pending(impl_->bio);
    std::size_t len =
        (n < 0 || static_cast<std::size_t>(n) > avail) ? avail : static_cast<std::size_t>(n);
    std::string out(len, '\0');
    std::size_t got = 0;
    if (len > 0 && BIO_read_ex(impl_->bio, out.data(), len, &got) != 1) got = 0;
    out.resize(got);
    return out;
}

std::size_t MemoryBIO::write(std::string_view data) {
    if (impl_->eof_written) throw SSLError("cannot write() after write_eof()");
    std::size_t written = 0;
    if (!data.empty() && BIO_write_ex(impl_->bio, data.data(), data.size(), &written) != 1)
        raise_openssl_error("MemoryBIO.write() failed");
    return written;
}

void MemoryBIO::write_eof() {
    impl_->eof_written = true;
    // From now on an empty BIO reads as a real EOF, not as "retry".
    BIO_clear_retry_flags(impl_->bio);
    BIO_set_mem_eof_return(impl_->bio, 0);
}

// ---------------------------------------------------------------------------------------
// SSLContext

namespace {

int servername_callback(SSL* ssl, int* alert, void* arg) {
    auto* ctx_impl = static_cast<SSLContext::Impl*>(arg);
    auto* obj_impl = static_cast<SSLObject::Impl*>(SSL_get_app_data(ssl));
    if (!ctx_impl || !obj_impl || !ctx_impl->sni_callback) return SSL_TLSEXT_ERR_OK;
    std::optional<std::string> name;
    if (const char* n = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) name = n;
    try {
        SSLObject object(obj_impl->shared_from_this());
        SSLContext context(ctx_impl->shared_from_this());
        std::optional<AlertDescription> result = ctx_impl->sni_callback(object, name, context);
        if (!result) return SSL_TLSEXT_ERR_OK;
        *alert = static_cast<int>(*result);
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    } catch (...) {
        obj_impl->callback_error = std::current_exception();
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
}

int alpn_select_callback(SSL*, const unsigned char** out, unsigned char* outlen,
                         const unsigned char* client, unsigned int client_len, void* arg) {
    auto* impl = static_cast<SSLContext::Impl*>(arg);
    if (impl->alpn.empty()) return SSL_TLSEXT_ERR_NOACK;
    unsigned char* selected = nullptr;
    // The server's order of preference decides (Python: _selectALPN_cb).
    int r = SSL_select_next_proto(&selected, outlen, impl->alpn.data(),
                                  static_cast<unsigned int>(impl->alpn.size()), client, client_len);
    if (r != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

struct PasswordSource {
    const std::optional<std::string>* fixed = nullptr;
    const std::function<std::string()>* ask = nullptr;
    std::exception_ptr error;
};

int password_callback(char* buf, int size, int, void* userdata) {
    auto* src = static_cast<PasswordSource*>(userdata);
    std::string pw;
    try {
        if (src->fixed && *src->fixed)
            pw = **src->fixed;
        else if (src->ask && *src->ask)
            pw = (*src->ask)();
        else
            return -1;  // no password: fail rather than prompt on the terminal
    } catch (...) {
        src->error = std::current_exception();
        return -1;
    }
    if (pw.size() > static_cast<std::size_t>(size)) {
        src->error = std::make_exception_ptr(std::invalid_argument(
            "password cannot be longer than " + std::to_string(size) + " bytes"));
        return -1;
    }
    std::memcpy(buf, pw.data(), pw.size());
    return static_cast<int>(pw.size());
}

void load_chain(SSL_CTX* ctx, const std::string& certfile, const std::string& keyfile,
                PasswordSource& src) {
    check_readable(certfile, "load_cert_chain");
    const std::string& key = keyfile.empty() ? certfile : keyfile;
    if (!keyfile.empty()) check_readable(keyfile, "load_cert_chain");
    pem_password_cb* old_cb = SSL_CTX_get_default_passwd_cb(ctx);
    void* old_data = SSL_CTX_get_default_passwd_cb_userdata(ctx);
    SSL_CTX_set_default_passwd_cb(ctx, password_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, &src);
    struct Restore {
        SSL_CTX* ctx;
        pem_password_cb* cb;
        void* data;
        ~Restore() {
            SSL_CTX_set_default_passwd_cb(ctx, cb);
            SSL_CTX_set_default_passwd_cb_userdata(ctx, data);
        }
    } restore{ctx, old_cb, old_data};
    ERR_clear_error();
    bool ok = SSL_CTX_use_certificate_chain_file(ctx, certfile.c_str()) == 1;
    if (ok) ok = SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) == 1;
    if (src.error) {
        ERR_clear_error();
        std::rethrow_exception(src.error);
    }
    if (!ok) raise_openssl_error("PEM lib");
    if (SSL_CTX_check_private_key(ctx) != 1) raise_openssl_error("key values mismatch");
}

int verify_flags_for(VerifyMode mode) {
    switch (mode) {
        case VerifyMode::CERT_NONE: return SSL_VERIFY_NONE;
        case VerifyMode::CERT_OPTIONAL: return SSL_VERIFY_PEER;
        case VerifyMode::CERT_REQUIRED: return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    throw std::invalid_argument("invalid verify_mode");
}

}  // namespace

SSLContext::Impl::Impl(SSLProtocol p) : protocol(p) {
    ctx = SSL_CTX_new(p == PROTOCOL_TLS_CLIENT ? TLS_client_method() : TLS_server_method());
    if (!ctx) raise_openssl_error("failed to allocate SSL context");
    SSL_CTX_set_options(ctx, default_options);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, default_ciphers) != 1) {
        SSL_CTX_free(ctx);
        raise_openssl_error("No cipher can be selected.");
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_id_context(ctx, session_id_context, sizeof session_id_context - 1);
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_TRUSTED_FIRST);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (p == PROTOCOL_TLS_CLIENT) {
        check_hostname = true;
        SSL_CTX_set_verify(ctx, verify_flags_for(CERT_REQUIRED), nullptr);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    SSL_CTX_set_tlsext_servername_callback(ctx, servername_callback);
    SSL_CTX_set_tlsext_servername_arg(ctx, this);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select_callback, this);
}

SSLContext::Impl::~Impl() { SSL_CTX_free(ctx); }

SSLContext::SSLContext(SSLProtocol protocol) : impl_(std::make_shared<Impl>(protocol)) {}

SSLProtocol SSLContext::protocol() const { return impl_->protocol; }

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile,
                                 std::optional<std::string> password) {
    PasswordSource src;
    src.fixed = &password;
    load_chain(impl_->ctx, certfile, keyfile, src);
}

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile,
                                 std::function<std::string()> password) {
    PasswordSource src;
    src.ask = &password;
    load_chain(impl_->ctx, certfile, keyfile, src);
}

void SSLContext::load_verify_locations(const std::string& cafile, const std::string& capath,
                                       std::string_view cadata) {
    if (cafile.empty() && capath.empty() && cadata.empty())
        throw std::invalid_argument("cafile, capath and cadata cannot be all omitted");
    ERR_clear_error();
    if (!cafile.empty()) {
        check_readable(cafile, "load_verify_locations");
        if (SSL_CTX_load_verify_file(impl_->ctx, cafile.c_str()) != 1)
            raise_openssl_error("cafile holds no certificate");
    }
    if (!capath.empty()) {
        if (SSL_CTX_load_verify_dir(impl_->ctx, capath.c_str()) != 1)
            raise_openssl_error("capath cannot be used");
    }
    if (!cadata.empty()) {
        X509_STORE* store = SSL_CTX_get_cert_store(impl_->ctx);
        BIO* bio = BIO_new_mem_buf(cadata.data(), static_cast<int>(cadata.size()));
        if (!bio) throw std::bad_alloc();
        bool pem = cadata.find("-----BEGIN") != std::string_view::npos;
        int loaded = 0;
        for (;;) {
            X509* cert = pem ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)
                             : d2i_X509_bio(bio, nullptr);
            if (!cert) break;
            int ok = X509_STORE_add_cert(store, cert);
            X509_free(cert);
            if (ok != 1) {
                unsigned long e = ERR_peek_last_error();
                // A CA loaded twice is not an error (Python ignores it too).
                if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
                    ERR_GET_REASON(e) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
                    ERR_clear_error();
                } else {
                    BIO_free(bio);
                    raise_openssl_error("cadata holds an invalid certificate");
                }
            }
            ++loaded;
            if (BIO_ctrl_pending(bio) == 0) break;
        }
        BIO_free(bio);
        if (loaded == 0) {
            ERR_clear_error();
            throw SSLError("SSL", "NO_CERTIFICATE",
                           pem ? "cadata does not contain a certificate"
                               : "not enough data: cadata does not contain a certificate");
        }
        ERR_clear_error();  // the last read ended at the end of the data
    }
}

void SSLContext::load_default_certs(Purpose) { set_default_verify_paths(); }

void SSLContext::set_default_verify_paths() {
    ERR_clear_error();
    if (SSL_CTX_set_default_verify_paths(impl_->ctx) != 1)
        raise_openssl_error("cannot load the default CA store");
}

void SSLContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
    std::vector<unsigned char> wire;
    for (const auto& p : protocols) {
        if (p.empty() || p.size() > 255)
            throw std::invalid_argument("ALPN protocol names must be 1 to 255 bytes long: '" + p +
                                        "'");
        wire.push_back(static_cast<unsigned char>(p.size()));
        wire.insert(wire.end(), p.begin(), p.end());
    }
    // Note: SSL_CTX_set_alpn_protos returns 0 on success.
    if (SSL_CTX_set_alpn_protos(impl_->ctx, wire.empty() ? nullptr : wire.data(),
                                static_cast<unsigned int>(wire.size())) != 0)
        raise_openssl_error("failed to set ALPN protocols");
    impl_->alpn = std::move(wire);
}

void SSLContext::set_ciphers(const std::string& ciphers) {
    ERR_clear_error();
    if (SSL_CTX_set_cipher_list(impl_->ctx, ciphers.c_str()) != 1) {
        ERR_clear_error();
        throw SSLError("SSL", "", "No cipher can be selected.");
    }
}

std::vector<std::string> SSLContext::get_ciphers() const {
    std::vector<std::string> out;
    SSL* ssl = SSL_new(impl_->ctx);
    if (!ssl) raise_openssl_error("failed to allocate SSL");
    if (STACK_OF(SSL_CIPHER)* list = SSL_get1_supported_ciphers(ssl)) {
        for (int i = 0; i < sk_SSL_CIPHER_num(list); ++i)
            out.emplace_back(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, i)));
        sk_SSL_CIPHER_free(list);
    }
    SSL_free(ssl);
    return out;
}

bool SSLContext::check_hostname() const { return impl_->check_hostname; }

void SSLContext::set_check_hostname(bool value) {
    if (value && verify_mode() == CERT_NONE) set_verify_mode(CERT_REQUIRED);
    impl_->check_hostname = value;
}

VerifyMode SSLContext::verify_mode() const {
    int mode = SSL_CTX_get_verify_mode(impl_->ctx);
    if (!(mode & SSL_VERIFY_PEER)) return CERT_NONE;
    return (mode & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) ? CERT_REQUIRED : CERT_OPTIONAL;
}

void SSLContext::set_verify_mode(VerifyMode mode) {
    if (mode == CERT_NONE && impl_->check_hostname)
        throw std::invalid_argument(
            "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
    SSL_CTX_set_verify(impl_->ctx, verify_flags_for(mode), nullptr);
}

unsigned long SSLContext::verify_flags() const {
    return X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(impl_->ctx));
}

void SSLContext::set_verify_flags(unsigned long flags) {
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(impl_->ctx);
    unsigned long current = X509_VERIFY_PARAM_get_flags(param);
    X509_VERIFY_PARAM_clear_flags(param, current & ~flags);
    X509_VERIFY_PARAM_set_flags(param, flags & ~current);
}

namespace {

TLSVersion from_wire(long v, TLSVersion none) { return v == 0 ? none : static_cast<TLSVersion>(v); }

int to_wire(TLSVersion v, const char* which) {
    switch (v) {
        case TLSVersion::MINIMUM_SUPPORTED:
        case TLSVersion::MAXIMUM_SUPPORTED: return 0;
        case TLSVersion::TLSv1:
        case TLSVersion::TLSv1_1:
        case TLSVersion::TLSv1_2:
        case TLSVersion::TLSv1_3: return static_cast<int>(v);
        case TLSVersion::SSLv3: break;
    }
    throw std::invalid_argument(std::string("Unsupported TLS/SSL version for ") + which + ": 0x" +
                                [&] {
                                    char buf[16];
                                    std::snprintf(buf, sizeof buf, "%x", static_cast<int>(v));
                                    return std::string(buf);
                                }());
}

}  // namespace

TLSVersion SSLContext::minimum_version() const {
    return from_wire(SSL_CTX_get_min_proto_version(impl_->ctx), TLSVersion::MINIMUM_SUPPORTED);
}

void SSLContext::set_minimum_version(TLSVersion version) {
    if (SSL_CTX_set_min_proto_version(impl_->ctx, to_wire(version, "minimum_version")) != 1)
        raise_openssl_error("Unsupported protocol version");
}

TLSVersion SSLContext::maximum_version() const {
    return from_wire(SSL_CTX_get_max_proto_version(impl_->ctx), TLSVersion::MAXIMUM_SUPPORTED);
}

void SSLContext::set_maximum_version(TLSVersion version) {
    if (SSL_CTX_set_max_proto_version(impl_->ctx, to_wire(version, "maximum_version")) != 1)
        raise_openssl_error("Unsupported protocol version");
}

std::uint64_t SSLContext::options() const { return SSL_CTX_get_options(impl_->ctx); }

void SSLContext::set_options(std::uint64_t options) {
    std::uint64_t current = SSL_CTX_get_options(impl_->ctx);
    SSL_CTX_clear_options(impl_->ctx, current & ~options);
    SSL_CTX_set_options(impl_->ctx, options & ~current);
}

void SSLContext::set_sni_callback(SNICallback callback) {
    if (callback && impl_->protocol == PROTOCOL_TLS_CLIENT)
        throw std::invalid_argument("sni_callback cannot be set on a client context");
    impl_->sni_callback = std::move(callback);
}

SSLObject SSLContext::wrap_bio(MemoryBIO incoming, MemoryBIO outgoing, WrapOptions options) const {
    if (options.server_side && options.server_hostname)
        throw std::invalid_argument("server_hostname can only be specified in client mode");
    if (options.server_side && impl_->protocol == PROTOCOL_TLS_CLIENT)
        throw std::invalid_argument(
            "Cannot create a server socket with a PROTOCOL_TLS_CLIENT context");
    if (!options.server_side && impl_->protocol == PROTOCOL_TLS_SERVER)
        throw std::invalid_argument(
            "Cannot create a client socket with a PROTOCOL_TLS_SERVER context");
    if (!options.server_side && impl_->check_hostname && !options.server_hostname)
        throw std::invalid_argument("check_hostname requires server_hostname");
    if (options.server_hostname) {
        const std::string& h = *options.server_hostname;
        if (h.empty() || h.front() == '.' || h.find('\0') != std::string::npos)
            throw std::invalid_argument(
                "server_hostname cannot be an empty string, start with a "
                "leading dot or contain a NUL byte: '" +
                h + "'");
    }
    return SSLObject(std::make_shared<SSLObject::Impl>(*this, std::move(incoming),
                                                       std::move(outgoing), options.server_side,
                                                       std::move(options.server_hostname)));
}

SSLContext create_default_context(Purpose purpose, const DefaultContextOptions& options) {
    SSLContext ctx(purpose == Purpose::SERVER_AUTH ? PROTOCOL_TLS_CLIENT : PROTOCOL_TLS_SERVER);
    // Python 3.13: strict X.509 checks and partial chains (a trusted intermediate suffices).
    ctx.set_verify_flags(ctx.verify_flags() | VERIFY_X509_STRICT | VERIFY_X509_PARTIAL_CHAIN);
    if (!options.cafile.empty() || !options.capath.empty() || !options.cadata.empty())
        ctx.load_verify_locations(options.cafile, options.capath, options.cadata);
    else if (ctx.verify_mode() != CERT_NONE)
        ctx.load_default_certs(purpose);
    return ctx;
}

}  // namespace asyncio::ssl
