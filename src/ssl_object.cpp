// SSLObject: one TLS connection over two memory BIOs (Python's ssl.SSLObject).
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstring>

#include "asyncio/ssl.hpp"
#include "ssl_impl.hpp"

namespace asyncio::ssl {

namespace {

bool is_ip_address(const std::string& host) {
    unsigned char buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string asn1_string(const ASN1_STRING* s) {
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, s);
    if (len < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

std::string asn1_time(const ASN1_TIME* t) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (!bio) throw std::bad_alloc();
    ASN1_TIME_print(bio, t);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(len > 0 ? len : 0));
    BIO_free(bio);
    return out;
}

Certificate::Name decode_name(const X509_NAME* name) {
    Certificate::Name out;
    int last_set = -1;
    for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
        const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
        int set = X509_NAME_ENTRY_set(entry);
        if (out.empty() || set != last_set) out.emplace_back();
        last_set = set;
        const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(entry);
        int nid = OBJ_obj2nid(obj);
        std::string key;
        if (nid != NID_undef) {
            key = OBJ_nid2ln(nid);
        } else {
            char buf[128];
            OBJ_obj2txt(buf, sizeof buf, obj, 1);
            key = buf;
        }
        out.back().emplace_back(std::move(key), asn1_string(X509_NAME_ENTRY_get_data(entry)));
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> decode_alt_names(X509* cert) {
    std::vector<std::pair<std::string, std::string>> out;
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (!names) return out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
        switch (g->type) {
            case GEN_DNS: out.emplace_back("DNS", asn1_string(g->d.dNSName)); break;
            case GEN_EMAIL: out.emplace_back("email", asn1_string(g->d.rfc822Name)); break;
            case GEN_URI:
                out.emplace_back("URI", asn1_string(g->d.uniformResourceIdentifier));
                break;
            case GEN_IPADD: {
                const ASN1_OCTET_STRING* ip = g->d.iPAddress;
                char text[INET6_ADDRSTRLEN] = "<invalid>";
                if (ip->length == 4)
                    inet_ntop(AF_INET, ip->data, text, sizeof text);
                else if (ip->length == 16)
                    inet_ntop(AF_INET6, ip->data, text, sizeof text);
                out.emplace_back("IP Address", text);
                break;
            }
            default: out.emplace_back("othername", "<unsupported>"); break;
        }
    }
    GENERAL_NAMES_free(names);
    return out;
}

Certificate decode_certificate(X509* cert) {
    Certificate c;
    c.subject = decode_name(X509_get_subject_name(cert));
    c.issuer = decode_name(X509_get_issuer_name(cert));
    c.version = static_cast<int>(X509_get_version(cert)) + 1;
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
        if (char* hex = BN_bn2hex(bn)) {
            c.serialNumber = hex;
            OPENSSL_free(hex);
        }
        BN_free(bn);
    }
    c.notBefore = asn1_time(X509_get0_notBefore(cert));
    c.notAfter = asn1_time(X509_get0_notAfter(cert));
    c.subjectAltName = decode_alt_names(cert);
    return c;
}

struct PeerCert {
    X509* cert;
    explicit PeerCert(SSL* ssl) : cert(SSL_get1_peer_certificate(ssl)) {}
    ~PeerCert() { X509_free(cert); }
};

}  // namespace

// ---------------------------------------------------------------------------------------
// SSLObject::Impl: OpenSSL calls, outcomes, errors

SSLObject::Impl::Impl(SSLContext ctx, MemoryBIO in, MemoryBIO out, bool server,
                      std::optional<std::string> host)
    : original_context(ctx),
      context(std::move(ctx)),
      incoming(std::move(in)),
      outgoing(std::move(out)),
      server_side(server),
      server_hostname(std::move(host)) {
    ERR_clear_error();
    ssl = SSL_new(context.impl()->ctx);
    if (!ssl) raise_openssl_error("failed to allocate SSL");
    SSL_set_app_data(ssl, this);
    // SSL_set_bio takes one reference to each BIO; the MemoryBIO handles keep theirs.
    BIO_up_ref(incoming.impl()->bio);
    BIO_up_ref(outgoing.impl()->bio);
    SSL_set_bio(ssl, incoming.impl()->bio, outgoing.impl()->bio);
    SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
    if (server_hostname) {
        const std::string& h = *server_hostname;
        bool ip = is_ip_address(h);
        // SNI carries names only (RFC 6066); Python sends none for an IP address either.
        if (!ip && SSL_set_tlsext_host_name(ssl, h.c_str()) != 1) {
            SSL_free(ssl);
            raise_openssl_error("failed to set the server name");
        }
        if (context.check_hostname()) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
            int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, h.c_str())
                        : X509_VERIFY_PARAM_set1_host(param, h.c_str(), h.size());
            if (ok != 1) {
                SSL_free(ssl);
                raise_openssl_error("failed to set the host name to verify");
            }
        }
    }
    if (server_side)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
}

SSLObject::Impl::~Impl() { SSL_free(ssl); }

namespace {

// SSL_get_error() reads the thread's error queue, so it must be empty before an operation.
// Emptying an empty queue with ERR_clear_error() costs OpenSSL 3 a walk over its 16 slots
// (about 850 instructions, 3 to 4 times per echoed message: 7 % of W8's 1 KiB echo under
// callgrind); looking first costs a fraction of that.
inline void clear_error_queue() {
    if (ERR_peek_error() != 0) ERR_clear_error();
}

Outcome outcome_of(SSL* ssl, int ret, SSLObject::Impl& self) {
    int err = SSL_get_error(ssl, ret);
    self.last_ssl_error = err;
    self.last_ret = ret;
    switch (err) {
        case SSL_ERROR_WANT_READ: return Outcome::WANT_READ;
        case SSL_ERROR_WANT_WRITE: return Outcome::WANT_WRITE;
        case SSL_ERROR_ZERO_RETURN: return Outcome::CLOSED;
        default: return Outcome::FAILED;
    }
}

}  // namespace

Outcome SSLObject::Impl::handshake() {
    clear_error_queue();
    int ret = SSL_do_handshake(ssl);
    if (ret == 1) return Outcome::OK;
    return outcome_of(ssl, ret, *this);
}

Outcome SSLObject::Impl::read(char* buffer, std::size_t len, std::size_t& n) {
    clear_error_queue();
    n = 0;
    if (SSL_read_ex(ssl, buffer, len, &n) == 1) return Outcome::OK;
    Outcome o = outcome_of(ssl, 0, *this);
    // The peer's close_notify: a clean end of data (Python returns b"" here, as long as we
    // did not send ours first).
    if (o == Outcome::CLOSED && SSL_get_shutdown(ssl) == SSL_RECEIVED_SHUTDOWN) n = 0;
    return o;
}

Outcome SSLObject::Impl::write(std::string_view data, std::size_t& n) {
    clear_error_queue();
    n = 0;
    if (data.empty()) return Outcome::OK;
    if (SSL_write_ex(ssl, data.data(), data.size(), &n) == 1) return Outcome::OK;
    return outcome_of(ssl, 0, *this);
}

Outcome SSLObject::Impl::shutdown() {
    // As Python's SSLObject.unwrap(): the first SSL_shutdown() sends close_notify (returns 0),
    // the second looks for the peer's and wants to read until it arrives.
    int zeros = 0;
    for (;;) {
        ERR_clear_error();
        int ret = SSL_shutdown(ssl);
        if (ret > 0) return Outcome::OK;
        if (ret == 0) {
            if (++zeros > 1) return Outcome::OK;
            continue;
        }
        return outcome_of(ssl, ret, *this);
    }
}

std::exception_ptr SSLObject::Impl::error() {
    if (callback_error) {
        std::exception_ptr e = callback_error;
        callback_error = nullptr;
        ERR_clear_error();
        return e;
    }
    switch (last_ssl_error) {
        case SSL_ERROR_WANT_READ:
            return std::make_exception_ptr(
                SSLWantReadError("The operation did not complete (read)"));
        case SSL_ERROR_WANT_WRITE:
            return std::make_exception_ptr(
                SSLWantWriteError("The operation did not complete (write)"));
        case SSL_ERROR_ZERO_RETURN:
            ERR_clear_error();
            return std::make_exception_ptr(
                SSLZeroReturnError("TLS/SSL connection has been closed (EOF)"));
        case SSL_ERROR_SYSCALL:
            if (ERR_peek_last_error() == 0) {
                // Memory BIOs make no system calls: this is the incoming BIO's EOF.
                return std::make_exception_ptr(
                    SSLEOFError("EOF occurred in violation of protocol"));
            }
            return last_openssl_error("Some I/O error occurred");
        default: break;
    }
    unsigned long code = ERR_peek_last_error();
    if (ERR_GET_LIB(code) == ERR_LIB_SSL) {
        int reason = ERR_GET_REASON(code);
        if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
            ERR_clear_error();
            long vcode = SSL_get_verify_result(ssl);
            std::string vmsg = X509_verify_cert_error_string(vcode);
            if (server_hostname && vcode == X509_V_ERR_HOSTNAME_MISMATCH)
                vmsg += ", certificate is not valid for '" + *server_hostname + "'";
            else if (server_hostname && vcode == X509_V_ERR_IP_ADDRESS_MISMATCH)
                vmsg += ", certificate is not valid for '" + *server_hostname + "'";
            return std::make_exception_ptr(SSLCertVerificationError(
                vcode, vmsg,
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: " + vmsg));
        }
        if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            return std::make_exception_ptr(SSLEOFError("SSL", "UNEXPECTED_EOF_WHILE_READING",
                                                       "EOF occurred in violation of protocol"));
        }
    }
    return last_openssl_error("A failure in the SSL library occurred");
}

void SSLObject::Impl::raise(Outcome) { std::rethrow_exception(error()); }

// ---------------------------------------------------------------------------------------
// SSLObject

SSLContext SSLObject::context() const { return impl_->context; }

void SSLObject::set_context(const SSLContext& context) {
    if (!SSL_set_SSL_CTX(impl_->ssl, context.impl()->ctx))
        raise_openssl_error("failed to switch the SSL context");
    impl_->context = context;
}

bool SSLObject::server_side() const { return impl_->server_side; }

const std::optional<std::string>& SSLObject::server_hostname() const {
    return impl_->server_hostname;
}

void SSLObject::do_handshake() {
    Outcome o = impl_->handshake();
    if (o != Outcome::OK) impl_->raise(o);
}

std::string SSLObject::read(std::size_t len) {
    std::string out(len, '\0');
    out.resize(read_into(out.data(), len));
    return out;
}

std::size_t SSLObject::read_into(char* buffer, std::size_t len) {
    if (len == 0) return 0;
    std::size_t n = 0;
    Outcome o = impl_->read(buffer, len, n);
    if (o == Outcome::OK) return n;
    if (o == Outcome::CLOSED && SSL_get_shutdown(impl_->ssl) == SSL_RECEIVED_SHUTDOWN) {
        ERR_clear_error();
        return 0;
    }
    impl_->raise(o);
}

std::size_t SSLObject::write(std::string_view data) {
    std::size_t n = 0;
    Outcome o = impl_->write(data, n);
    if (o != Outcome::OK) impl_->raise(o);
    return n;
}

void SSLObject::unwrap() {
    Outcome o = impl_->shutdown();
    if (o != Outcome::OK) impl_->raise(o);
}

std::size_t SSLObject::pending() const { return static_cast<std::size_t>(SSL_pending(impl_->ssl)); }

std::optional<Certificate> SSLObject::getpeercert() const {
    if (!impl_->handshake_done()) throw std::invalid_argument("handshake not done yet");
    PeerCert peer(impl_->ssl);
    if (!peer.cert) return std::nullopt;
    // Not verified: Python returns an empty dictionary.
    if (!(SSL_get_verify_mode(impl_->ssl) & SSL_VERIFY_PEER)) return Certificate{};
    return decode_certificate(peer.cert);
}

std::optional<std::string> SSLObject::getpeercert_binary() const {
    if (!impl_->handshake_done()) throw std::invalid_argument("handshake not done yet");
    PeerCert peer(impl_->ssl);
    if (!peer.cert) return std::nullopt;
    int len = i2d_X509(peer.cert, nullptr);
    if (len < 0) raise_openssl_error("cannot encode the certificate");
    std::string out(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    i2d_X509(peer.cert, &p);
    return out;
}

std::optional<Cipher> SSLObject::cipher() const {
    const SSL_CIPHER* c = SSL_get_current_cipher(impl_->ssl);
    if (!c) return std::nullopt;
    return Cipher{SSL_CIPHER_get_name(c), SSL_CIPHER_get_version(c),
                  SSL_CIPHER_get_bits(c, nullptr)};
}

std::optional<std::string> SSLObject::compression() const {
    const COMP_METHOD* m = SSL_get_current_compression(impl_->ssl);
    if (!m) return std::nullopt;
    const char* name = OBJ_nid2sn(COMP_get_type(m));
    if (!name) return std::nullopt;
    return std::string(name);
}

std::optional<std::string> SSLObject::selected_alpn_protocol() const {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(impl_->ssl, &data, &len);
    if (!data || len == 0) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(data), len);
}

std::optional<std::string> SSLObject::version() const {
    if (!impl_->handshake_done()) return std::nullopt;
    return std::string(SSL_get_version(impl_->ssl));
}

}  // namespace asyncio::ssl
