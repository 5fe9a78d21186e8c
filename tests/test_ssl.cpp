// asyncio::ssl: SSLContext settings and two SSLObjects pumped against each other in memory,
// with certificates made by the openssl command line (tests/support/test_certs.hpp).
// Ported in our own words from CPython's Lib/test/test_ssl.py (names in comments).
#include <gtest/gtest.h>

#include <algorithm>
#include <asyncio/ssl.hpp>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "test_certs.hpp"

namespace ssl = asyncio::ssl;
using asyncio::testing::test_certs;

namespace {

ssl::SSLContext client_context() {
    return ssl::create_default_context(ssl::Purpose::SERVER_AUTH,
                                       {.cafile = test_certs()("ca.pem")});
}

ssl::SSLContext server_context(const std::string& cert = "server") {
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    ctx.load_cert_chain(test_certs()(cert + ".pem"), test_certs()(cert + ".key"));
    return ctx;
}

// Two TLS endpoints joined by their BIOs; pump() moves what each wrote to the other.
struct Link {
    ssl::MemoryBIO c_in, c_out, s_in, s_out;
    ssl::SSLObject client;
    ssl::SSLObject server;

    Link(const ssl::SSLContext& cctx, const ssl::SSLContext& sctx,
         std::optional<std::string> hostname = "localhost")
        : client(cctx.wrap_bio(c_in, c_out, {.server_hostname = std::move(hostname)})),
          server(sctx.wrap_bio(s_in, s_out, {.server_side = true})) {}

    /// Moves the bytes in flight; true if any moved.
    bool pump() {
        std::string a = c_out.read();
        std::string b = s_out.read();
        if (!a.empty()) s_in.write(a);
        if (!b.empty()) c_in.write(b);
        return !a.empty() || !b.empty();
    }

    /// Steps both handshakes until both are done (a bounded number of rounds); an error on
    /// either side propagates.
    void handshake() {
        bool c_done = false, s_done = false;
        for (int round = 0; round < 20 && !(c_done && s_done); ++round) {
            if (!c_done) c_done = step(client);
            pump();
            if (!s_done) s_done = step(server);
            pump();
        }
        ASSERT_TRUE(c_done && s_done) << "handshake did not finish in 20 rounds";
    }

    static bool step(ssl::SSLObject& obj) {
        try {
            obj.do_handshake();
            return true;
        } catch (const ssl::SSLWantReadError&) {
            return false;
        }
    }

    /// Reads what `obj` can decrypt now ("" if nothing yet).
    static std::string drain(ssl::SSLObject& obj) {
        std::string out;
        for (int i = 0; i < 10000; ++i) {
            try {
                std::string chunk = obj.read(16384);
                if (chunk.empty()) break;  // close_notify
                out += chunk;
            } catch (const ssl::SSLWantReadError&) {
                break;
            }
        }
        return out;
    }
};

template <class E, class F>
E expect_throw(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e;
    }
    ADD_FAILURE() << "expected an exception";
    throw std::logic_error("no exception");
}

}  // namespace

// ---------------------------------------------------------------------------------------
// MemoryBIO (CPython: MemoryBIOTests)

// CPython: MemoryBIOTests.test_read_write, test_pending
TEST(MemoryBIO, BuffersBytesInOrderAndReadsPartially) {
    ssl::MemoryBIO bio;
    EXPECT_EQ(bio.pending(), 0u);
    EXPECT_EQ(bio.read(), "");
    EXPECT_EQ(bio.write("foo"), 3u);
    EXPECT_EQ(bio.write("bar"), 3u);
    EXPECT_EQ(bio.pending(), 6u);
    EXPECT_EQ(bio.read(2), "fo");
    EXPECT_EQ(bio.read(), "obar");
    EXPECT_EQ(bio.read(), "");
}

// CPython: MemoryBIOTests.test_eof
TEST(MemoryBIO, EofOnlyAfterWriteEofAndTheLastByteRead) {
    ssl::MemoryBIO bio;
    EXPECT_FALSE(bio.eof());
    bio.write("x");
    bio.write_eof();
    EXPECT_FALSE(bio.eof());
    EXPECT_EQ(bio.read(), "x");
    EXPECT_TRUE(bio.eof());
    EXPECT_THROW(bio.write("y"), ssl::SSLError);
}

// ---------------------------------------------------------------------------------------
// SSLContext settings (CPython: ContextTests)

// CPython: test_create_default_context
TEST(SSLContext, DefaultClientContextVerifiesAndChecksHostnameFromTls12) {
    auto ctx = ssl::create_default_context();
    EXPECT_EQ(ctx.protocol(), ssl::PROTOCOL_TLS_CLIENT);
    EXPECT_TRUE(ctx.check_hostname());
    EXPECT_EQ(ctx.verify_mode(), ssl::CERT_REQUIRED);
    EXPECT_EQ(ctx.minimum_version(), ssl::TLSVersion::TLSv1_2);
    EXPECT_EQ(ctx.maximum_version(), ssl::TLSVersion::MAXIMUM_SUPPORTED);
    // Python 3.13's values, read from ssl.create_default_context() there.
    EXPECT_EQ(ctx.verify_flags(), ssl::VERIFY_X509_STRICT | ssl::VERIFY_X509_TRUSTED_FIRST |
                                      ssl::VERIFY_X509_PARTIAL_CHAIN);
    EXPECT_EQ(ctx.options(), 0x82520050u);
}

TEST(SSLContext, DefaultServerContextAsksForNoClientCertificate) {
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    EXPECT_EQ(ctx.protocol(), ssl::PROTOCOL_TLS_SERVER);
    EXPECT_FALSE(ctx.check_hostname());
    EXPECT_EQ(ctx.verify_mode(), ssl::CERT_NONE);
    EXPECT_EQ(ctx.minimum_version(), ssl::TLSVersion::TLSv1_2);
}

// CPython: test_check_hostname, test_verify_mode_protocol
TEST(SSLContext, CheckHostnameAndVerifyModeKeepEachOtherConsistent) {
    ssl::SSLContext ctx(ssl::PROTOCOL_TLS_CLIENT);
    auto e = expect_throw<std::invalid_argument>([&] { ctx.set_verify_mode(ssl::CERT_NONE); });
    EXPECT_STREQ(e.what(), "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
    ctx.set_check_hostname(false);
    ctx.set_verify_mode(ssl::CERT_NONE);
    EXPECT_EQ(ctx.verify_mode(), ssl::CERT_NONE);
    ctx.set_verify_mode(ssl::CERT_OPTIONAL);
    EXPECT_EQ(ctx.verify_mode(), ssl::CERT_OPTIONAL);
    ctx.set_verify_mode(ssl::CERT_NONE);
    ctx.set_check_hostname(true);  // turns verification back on
    EXPECT_EQ(ctx.verify_mode(), ssl::CERT_REQUIRED);
}

// CPython: test_min_max_version
TEST(SSLContext, MinimumAndMaximumVersionsRoundTripAndRefuseSslv3) {
    auto ctx = ssl::create_default_context();
    ctx.set_minimum_version(ssl::TLSVersion::TLSv1_3);
    EXPECT_EQ(ctx.minimum_version(), ssl::TLSVersion::TLSv1_3);
    ctx.set_maximum_version(ssl::TLSVersion::TLSv1_3);
    EXPECT_EQ(ctx.maximum_version(), ssl::TLSVersion::TLSv1_3);
    ctx.set_minimum_version(ssl::TLSVersion::MINIMUM_SUPPORTED);
    EXPECT_EQ(ctx.minimum_version(), ssl::TLSVersion::MINIMUM_SUPPORTED);
    EXPECT_THROW(ctx.set_minimum_version(ssl::TLSVersion::SSLv3), std::invalid_argument);
}

// CPython: test_set_ciphers
TEST(SSLContext, SetCiphersRefusesAListThatMatchesNothing) {
    auto ctx = ssl::create_default_context();
    ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256");
    auto names = ctx.get_ciphers();
    EXPECT_NE(std::find(names.begin(), names.end(), "ECDHE-ECDSA-AES128-GCM-SHA256"), names.end());
    auto e = expect_throw<ssl::SSLError>([&] { ctx.set_ciphers("no-such-cipher"); });
    EXPECT_NE(std::string(e.what()).find("No cipher can be selected."), std::string::npos);
}

TEST(SSLContext, OptionsCanBeAddedAndRemoved) {
    auto ctx = ssl::create_default_context();
    ctx.set_options(ctx.options() | ssl::OP_NO_TICKET);
    EXPECT_TRUE(ctx.options() & ssl::OP_NO_TICKET);
    ctx.set_options(ctx.options() & ~ssl::OP_NO_TICKET);
    EXPECT_FALSE(ctx.options() & ssl::OP_NO_TICKET);
}

TEST(SSLContext, IsASharedHandle) {
    auto a = ssl::create_default_context();
    ssl::SSLContext b = a;
    b.set_check_hostname(false);
    EXPECT_FALSE(a.check_hostname());
    EXPECT_TRUE(a == b);
}

// CPython: test_load_cert_chain
TEST(SSLContext, LoadCertChainReportsAMissingFileWithItsErrno) {
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    auto e =
        expect_throw<std::system_error>([&] { ctx.load_cert_chain(test_certs()("missing.pem")); });
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("missing.pem"), std::string::npos);
}

TEST(SSLContext, LoadCertChainAcceptsCertAndKeyInOneFile) {
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    ctx.load_cert_chain(test_certs()("server_combined.pem"));
}

TEST(SSLContext, LoadCertChainRefusesAKeyThatDoesNotMatch) {
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    EXPECT_THROW(ctx.load_cert_chain(test_certs()("server.pem"), test_certs()("other.key")),
                 ssl::SSLError);
}

TEST(SSLContext, LoadCertChainRefusesNotAPemFile) {
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    EXPECT_THROW(ctx.load_cert_chain(test_certs()("server.ext")), ssl::SSLError);
}

// CPython: test_load_cert_chain (password=, password=callable, wrong password)
TEST(SSLContext, LoadCertChainDecryptsAnEncryptedKeyWithThePassword) {
    auto ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    const auto cert = test_certs()("server.pem");
    const auto key = test_certs()("server_enc.key");
    EXPECT_THROW(ctx.load_cert_chain(cert, key), ssl::SSLError);  // no prompt, an error
    EXPECT_THROW(ctx.load_cert_chain(cert, key, std::string("wrong")), ssl::SSLError);
    ctx.load_cert_chain(cert, key, std::string("secret"));
    int asked = 0;
    ctx.load_cert_chain(cert, key, std::function<std::string()>([&] {
                            ++asked;
                            return std::string("secret");
                        }));
    EXPECT_EQ(asked, 1);
    auto e = expect_throw<std::runtime_error>([&] {
        ctx.load_cert_chain(cert, key, std::function<std::string()>([]() -> std::string {
                                throw std::runtime_error("no keyring");
                            }));
    });
    EXPECT_STREQ(e.what(), "no keyring");
}

// CPython: test_load_verify_locations, test_load_verify_cadata
TEST(SSLContext, LoadVerifyLocationsNeedsAtLeastOneSource) {
    auto ctx = ssl::create_default_context();
    EXPECT_THROW(ctx.load_verify_locations(), std::invalid_argument);
    auto e = expect_throw<std::system_error>(
        [&] { ctx.load_verify_locations(test_certs()("missing.pem")); });
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_THROW(ctx.load_verify_locations({}, {}, "not a certificate"), ssl::SSLError);
    EXPECT_THROW(ctx.load_verify_locations(test_certs()("server.ext")), ssl::SSLError);
}

TEST(SSLContext, AlpnNamesMustBeOneTo255Bytes) {
    auto ctx = ssl::create_default_context();
    EXPECT_THROW(ctx.set_alpn_protocols({"h2", ""}), std::invalid_argument);
    EXPECT_THROW(ctx.set_alpn_protocols({std::string(256, 'x')}), std::invalid_argument);
    ctx.set_alpn_protocols({"h2", "http/1.1"});
}

// CPython: test_bio_handshake (server_hostname checks), test_check_hostname
TEST(SSLContext, WrapBioChecksItsArguments) {
    ssl::MemoryBIO in, out;
    auto cctx = client_context();
    auto e = expect_throw<std::invalid_argument>([&] { cctx.wrap_bio(in, out); });
    EXPECT_STREQ(e.what(), "check_hostname requires server_hostname");
    EXPECT_THROW(cctx.wrap_bio(in, out, {.server_hostname = ""}), std::invalid_argument);
    EXPECT_THROW(cctx.wrap_bio(in, out, {.server_hostname = ".example"}), std::invalid_argument);
    auto sctx = server_context();
    EXPECT_THROW(sctx.wrap_bio(in, out, {.server_side = true, .server_hostname = "localhost"}),
                 std::invalid_argument);
    EXPECT_THROW(sctx.wrap_bio(in, out), std::invalid_argument);  // a server context as client
}

// ---------------------------------------------------------------------------------------
// Two SSLObjects in memory (CPython: SSLObjectTests, test_bio_handshake, ThreadedTests)

// CPython: test_bio_handshake, test_bio_read_write_data
TEST(SSLObject, HandshakeThenDataBothWays) {
    Link link(client_context(), server_context());
    EXPECT_FALSE(link.client.version().has_value());
    link.handshake();
    EXPECT_EQ(link.client.version(), "TLSv1.3");
    EXPECT_EQ(link.server.version(), "TLSv1.3");
    auto cipher = link.client.cipher();
    ASSERT_TRUE(cipher.has_value());
    EXPECT_EQ(cipher->protocol, "TLSv1.3");
    EXPECT_GE(cipher->secret_bits, 128);
    EXPECT_EQ(link.client.compression(), std::nullopt);
    EXPECT_EQ(link.client.server_hostname(), "localhost");
    EXPECT_FALSE(link.server.server_hostname().has_value());
    EXPECT_TRUE(link.server.server_side());

    auto cert = link.client.getpeercert();
    ASSERT_TRUE(cert.has_value());
    EXPECT_EQ(cert->common_name(), "localhost");
    EXPECT_EQ(cert->version, 3);
    ASSERT_EQ(cert->issuer.size(), 1u);
    EXPECT_EQ(cert->issuer[0][0].second, "asyncio-cpp test CA");
    EXPECT_NE(std::find(cert->subjectAltName.begin(), cert->subjectAltName.end(),
                        std::pair<std::string, std::string>("DNS", "localhost")),
              cert->subjectAltName.end());
    EXPECT_NE(std::find(cert->subjectAltName.begin(), cert->subjectAltName.end(),
                        std::pair<std::string, std::string>("IP Address", "127.0.0.1")),
              cert->subjectAltName.end());
    EXPECT_NE(cert->notAfter.find("GMT"), std::string::npos);
    EXPECT_FALSE(cert->serialNumber.empty());
    auto der = link.client.getpeercert_binary();
    ASSERT_TRUE(der.has_value());
    EXPECT_EQ(static_cast<unsigned char>((*der)[0]), 0x30);  // a DER SEQUENCE
    EXPECT_EQ(link.server.getpeercert(), std::nullopt);      // no client certificate

    EXPECT_EQ(link.client.write("hello"), 5u);
    link.pump();
    EXPECT_EQ(Link::drain(link.server), "hello");
    link.server.write("world");
    link.pump();
    EXPECT_EQ(Link::drain(link.client), "world");
}

TEST(SSLObject, ReadBeforeDataArrivesWantsToRead) {
    Link link(client_context(), server_context());
    link.handshake();
    EXPECT_THROW(link.server.read(), ssl::SSLWantReadError);
    EXPECT_THROW(link.client.read(), ssl::SSLWantReadError);
}

TEST(SSLObject, GetpeercertBeforeTheHandshakeIsAnError) {
    Link link(client_context(), server_context());
    EXPECT_THROW(link.client.getpeercert(), std::invalid_argument);
}

TEST(SSLObject, AMegabyteCrossesIntact) {
    Link link(client_context(), server_context());
    link.handshake();
    std::string data(1 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
    link.client.write(data);
    link.pump();
    std::string got = Link::drain(link.server);
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
}

TEST(SSLObject, AnIpAddressIsMatchedAgainstTheIpSubjectAltName) {
    Link link(client_context(), server_context(), "127.0.0.1");
    link.handshake();
    EXPECT_EQ(link.client.getpeercert()->common_name(), "localhost");
}

// CPython: test_check_hostname (the "hostname mismatch" case)
TEST(SSLObject, HostnameMismatchIsACertificateVerificationError) {
    Link link(client_context(), server_context("other"));
    auto e = expect_throw<ssl::SSLCertVerificationError>([&] { link.handshake(); });
    EXPECT_EQ(e.verify_code(), 62);  // X509_V_ERR_HOSTNAME_MISMATCH
    EXPECT_EQ(e.reason(), "CERTIFICATE_VERIFY_FAILED");
    EXPECT_NE(std::string(e.what()).find("certificate verify failed: hostname mismatch"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("'localhost'"), std::string::npos) << e.what();
}

TEST(SSLObject, ACertificateVerificationErrorIsAnSSLErrorAndAStdException) {
    Link link(client_context(), server_context("other"));
    try {
        link.handshake();
        ADD_FAILURE() << "expected an error";
    } catch (const ssl::SSLError& e) {
        const std::exception& base = e;
        EXPECT_NE(std::string(base.what()).find("[SSL: CERTIFICATE_VERIFY_FAILED]"),
                  std::string::npos);
    }
}

TEST(SSLObject, AnOtherNameIsAcceptedWhenHostnameCheckingIsOff) {
    auto cctx = client_context();
    cctx.set_check_hostname(false);
    Link link(cctx, server_context("other"), std::nullopt);
    link.handshake();
    EXPECT_EQ(link.client.getpeercert()->common_name(), "other.test");
}

TEST(SSLObject, AnUnknownCaIsACertificateVerificationError) {
    auto cctx = ssl::create_default_context();  // the system CAs, not the test CA
    Link link(cctx, server_context());
    auto e = expect_throw<ssl::SSLCertVerificationError>([&] { link.handshake(); });
    EXPECT_EQ(e.verify_code(), 20);  // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    EXPECT_NE(std::string(e.what()).find("unable to get local issuer certificate"),
              std::string::npos)
        << e.what();
}

TEST(SSLObject, AnExpiredCertificateIsACertificateVerificationError) {
    Link link(client_context(), server_context("expired"));
    auto e = expect_throw<ssl::SSLCertVerificationError>([&] { link.handshake(); });
    EXPECT_EQ(e.verify_code(), 10);  // X509_V_ERR_CERT_HAS_EXPIRED
    EXPECT_EQ(e.verify_message(), "certificate has expired");
}

TEST(SSLObject, CertNoneAcceptsAnyCertificateAndReportsItUnverified) {
    auto cctx = ssl::create_default_context();
    cctx.set_check_hostname(false);
    cctx.set_verify_mode(ssl::CERT_NONE);
    Link link(cctx, server_context("expired"), std::nullopt);
    link.handshake();
    auto cert = link.client.getpeercert();
    ASSERT_TRUE(cert.has_value());
    EXPECT_EQ(cert->version, 0);  // Python: {}
    EXPECT_TRUE(cert->subject.empty());
    EXPECT_TRUE(link.client.getpeercert_binary().has_value());
}

TEST(SSLContext, CadataInPemTrustsTheCa) {
    auto cctx = ssl::create_default_context(ssl::Purpose::SERVER_AUTH,
                                            {.cadata = test_certs().read("ca.pem")});
    Link link(cctx, server_context());
    link.handshake();
}

// CPython: ThreadedTests.test_getpeercert (client certificates), test_verify_strict
TEST(SSLObject, AClientCertificateIsVerifiedAndSeenByTheServer) {
    auto sctx = server_context();
    sctx.set_verify_mode(ssl::CERT_REQUIRED);
    sctx.load_verify_locations(test_certs()("ca.pem"));
    auto cctx = client_context();
    cctx.load_cert_chain(test_certs()("client.pem"), test_certs()("client.key"));
    Link link(cctx, sctx);
    link.handshake();
    auto cert = link.server.getpeercert();
    ASSERT_TRUE(cert.has_value());
    EXPECT_EQ(cert->common_name(), "client");
}

TEST(SSLObject, AMissingRequiredClientCertificateFailsBothSides) {
    auto sctx = server_context();
    sctx.set_verify_mode(ssl::CERT_REQUIRED);
    sctx.load_verify_locations(test_certs()("ca.pem"));
    Link link(client_context(), sctx);
    // TLS 1.3: the client finishes first; the server refuses, and its alert reaches the
    // client's next read.
    auto e = expect_throw<ssl::SSLError>([&] { link.handshake(); });
    EXPECT_EQ(e.reason(), "PEER_DID_NOT_RETURN_A_CERTIFICATE") << e.what();
    link.pump();
    auto c = expect_throw<ssl::SSLError>([&] { link.client.read(); });
    EXPECT_EQ(c.reason(), "TLSV13_ALERT_CERTIFICATE_REQUIRED") << c.what();
}

// CPython: ThreadedTests.test_alpn_protocols
TEST(SSLObject, AlpnChoosesTheServersPreferredCommonProtocol) {
    auto cctx = client_context();
    cctx.set_alpn_protocols({"http/1.1", "h2"});
    auto sctx = server_context();
    sctx.set_alpn_protocols({"h2", "http/1.1"});
    Link link(cctx, sctx);
    link.handshake();
    EXPECT_EQ(link.client.selected_alpn_protocol(), "h2");
    EXPECT_EQ(link.server.selected_alpn_protocol(), "h2");
}

TEST(SSLObject, AlpnWithNothingInCommonSelectsNone) {
    auto cctx = client_context();
    cctx.set_alpn_protocols({"spdy/2"});
    auto sctx = server_context();
    sctx.set_alpn_protocols({"h2"});
    Link link(cctx, sctx);
    link.handshake();
    EXPECT_EQ(link.client.selected_alpn_protocol(), std::nullopt);
    EXPECT_EQ(link.server.selected_alpn_protocol(), std::nullopt);
}

// CPython: ThreadedTests.test_sni_callback
TEST(SSLObject, SniCallbackSeesTheNameAndCanSwitchTheCertificate) {
    auto localhost_ctx = server_context("server");
    auto sctx = server_context("other");
    std::optional<std::string> seen;
    int calls = 0;
    sctx.set_sni_callback([&](ssl::SSLObject& obj, const std::optional<std::string>& name,
                              ssl::SSLContext& ctx) -> std::optional<ssl::AlertDescription> {
        ++calls;
        seen = name;
        EXPECT_TRUE(obj.server_side());
        EXPECT_TRUE(ctx == sctx);
        if (name == "localhost") obj.set_context(localhost_ctx);
        return std::nullopt;
    });
    Link link(client_context(), sctx);
    link.handshake();  // verifies "localhost": the switched-to certificate was served
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(seen, "localhost");
    EXPECT_TRUE(link.server.context() == localhost_ctx);
}

TEST(SSLObject, SniCallbackSeesNoNameForAnIpAddress) {
    auto sctx = server_context();
    std::optional<std::string> seen = "unset";
    sctx.set_sni_callback([&](ssl::SSLObject&, const std::optional<std::string>& name,
                              ssl::SSLContext&) -> std::optional<ssl::AlertDescription> {
        seen = name;
        return std::nullopt;
    });
    Link link(client_context(), sctx, "127.0.0.1");
    link.handshake();
    EXPECT_EQ(seen, std::nullopt);
}

// CPython: test_sni_callback_alert
TEST(SSLObject, SniCallbackAlertRefusesTheHandshake) {
    auto sctx = server_context();
    sctx.set_sni_callback([](ssl::SSLObject&, const std::optional<std::string>&,
                             ssl::SSLContext&) -> std::optional<ssl::AlertDescription> {
        return ssl::AlertDescription::ALERT_DESCRIPTION_ACCESS_DENIED;
    });
    Link link(client_context(), sctx);
    EXPECT_THROW(link.handshake(), ssl::SSLError);
    link.pump();
    auto e = expect_throw<ssl::SSLError>([&] { link.client.do_handshake(); });
    EXPECT_EQ(e.reason(), "TLSV1_ALERT_ACCESS_DENIED") << e.what();
}

// CPython: test_sni_callback_raising (Python reports it as unraisable; here the handshake
// rethrows it)
TEST(SSLObject, SniCallbackExceptionComesOutOfTheServerHandshake) {
    auto sctx = server_context();
    sctx.set_sni_callback([](ssl::SSLObject&, const std::optional<std::string>&,
                             ssl::SSLContext&) -> std::optional<ssl::AlertDescription> {
        throw std::runtime_error("callback failed");
    });
    Link link(client_context(), sctx);
    auto e = expect_throw<std::runtime_error>([&] { link.handshake(); });
    EXPECT_STREQ(e.what(), "callback failed");
}

TEST(SSLContext, SniCallbackIsForServersOnly) {
    auto cctx = client_context();
    EXPECT_THROW(cctx.set_sni_callback([](ssl::SSLObject&, const std::optional<std::string>&,
                                          ssl::SSLContext&) { return std::nullopt; }),
                 std::invalid_argument);
}

TEST(SSLObject, Tls12IsNegotiatedWhenTheServerStopsThere) {
    auto sctx = server_context();
    sctx.set_maximum_version(ssl::TLSVersion::TLSv1_2);
    Link link(client_context(), sctx);
    link.handshake();
    EXPECT_EQ(link.client.version(), "TLSv1.2");
    EXPECT_EQ(link.client.cipher()->protocol, "TLSv1.2");
}

TEST(SSLObject, NoCommonVersionFailsTheHandshake) {
    auto sctx = server_context();
    sctx.set_maximum_version(ssl::TLSVersion::TLSv1_2);
    auto cctx = client_context();
    cctx.set_minimum_version(ssl::TLSVersion::TLSv1_3);
    Link link(cctx, sctx);
    EXPECT_THROW(link.handshake(), ssl::SSLError);
}

// CPython: SSLObjectTests.test_unwrap, test_bio_read_write_data (close_notify)
TEST(SSLObject, CloseNotifyFromTheClientThenFromTheServer) {
    Link link(client_context(), server_context());
    link.handshake();
    link.client.write("last words");
    EXPECT_THROW(link.client.unwrap(), ssl::SSLWantReadError);  // sent ours, waits for theirs
    link.pump();
    EXPECT_EQ(Link::drain(link.server), "last words");  // then "" at close_notify
    EXPECT_EQ(link.server.read(), "");                  // stays at the clean end
    link.server.unwrap();                               // ours answers theirs: done
    link.pump();
    link.client.unwrap();  // now complete
    EXPECT_THROW(link.client.write("more"), ssl::SSLError);
}

TEST(SSLObject, CloseNotifyFromTheServerThenFromTheClient) {
    Link link(client_context(), server_context());
    link.handshake();
    EXPECT_THROW(link.server.unwrap(), ssl::SSLWantReadError);
    link.pump();
    EXPECT_EQ(Link::drain(link.client), "");
    link.client.unwrap();
    link.pump();
    link.server.unwrap();
}

// A peer that vanishes without close_notify: a truncated stream.
TEST(SSLObject, EofWithoutCloseNotifyIsAnEOFError) {
    Link link(client_context(), server_context());
    link.handshake();
    link.server.write("partial");
    link.pump();
    link.c_in.write_eof();
    EXPECT_EQ(link.client.read(), "partial");
    auto e = expect_throw<ssl::SSLEOFError>([&] { link.client.read(); });
    EXPECT_NE(std::string(e.what()).find("EOF occurred in violation of protocol"),
              std::string::npos)
        << e.what();
}

TEST(SSLObject, EofDuringTheHandshakeIsAnEOFError) {
    Link link(client_context(), server_context());
    EXPECT_THROW(link.client.do_handshake(), ssl::SSLWantReadError);
    link.c_in.write_eof();
    EXPECT_THROW(link.client.do_handshake(), ssl::SSLEOFError);
}

TEST(SSLObject, GarbageFromThePeerIsAnSSLError) {
    Link link(client_context(), server_context());
    link.s_in.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    auto e = expect_throw<ssl::SSLError>([&] { link.server.do_handshake(); });
    EXPECT_FALSE(e.reason().empty()) << e.what();
}

TEST(SSLObject, ManyObjectsFromOneContextAreIndependent) {
    auto cctx = client_context();
    auto sctx = server_context();
    std::vector<std::unique_ptr<Link>> links;
    for (int i = 0; i < 20; ++i) {
        links.push_back(std::make_unique<Link>(cctx, sctx));
        links.back()->handshake();
    }
    for (int i = 0; i < 20; ++i) links[i]->client.write("n" + std::to_string(i));
    for (int i = 0; i < 20; ++i) {
        links[i]->pump();
        EXPECT_EQ(Link::drain(links[i]->server), "n" + std::to_string(i));
    }
}
