// STARTTLS: a connection starts in plaintext, then both ends upgrade it to TLS with
// StreamWriter::start_tls (Python 3.11+: writer.start_tls). Mail and database protocols
// (SMTP, IMAP, PostgreSQL) work this way. The certificate is made on the fly by openssl.
// The Python reference is examples/expected/10_tls_start_tls.py.
#include <unistd.h>

#include <asyncio/asyncio.hpp>
#include <filesystem>
#include <iostream>

#include "support/bytes_repr.hpp"

namespace ssl = asyncio::ssl;

const char* const make_certificates_script =
    "set -e; ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
    "openssl req -x509 $ec -keyout ca.key -out ca.pem -days 1 -subj '/CN=demo CA' "
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign; "
    "openssl req $ec -keyout server.key -out server.csr -subj /CN=localhost; "
    "printf 'subjectAltName=DNS:localhost\\nkeyUsage=critical,digitalSignature\\n"
    "extendedKeyUsage=serverAuth\\nauthorityKeyIdentifier=keyid\\n' > ext.cnf; "
    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 1 -days 1 "
    "-out server.pem -extfile ext.cnf";

ssl::SSLContext server_ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
ssl::SSLContext client_ctx = ssl::create_default_context();

// Makes ca.pem, server.pem and server.key in `dir`.
asyncio::Coro<void> make_certificates(std::string dir) {
    asyncio::SubprocessOptions opts{
        .stdout_ = asyncio::DEVNULL, .stderr_ = asyncio::DEVNULL, .cwd = dir};
    auto proc = co_await asyncio::create_subprocess_shell(make_certificates_script, opts);
    if (co_await proc.wait() != 0)
        throw std::runtime_error("openssl failed to make the certificates");
}

std::string strip(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

std::string tls_version(const asyncio::StreamWriter& writer) {
    return std::any_cast<ssl::Cipher>(writer.get_extra_info("cipher")).protocol;
}

asyncio::Coro<void> serve(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    std::string hello = co_await reader.readline();
    std::cout << "server: plaintext " << strip(hello) << std::endl;
    if (hello != "STARTTLS\n") co_return;
    writer.write("READY\n");
    co_await writer.drain();
    co_await writer.start_tls(server_ctx);
    std::string secret = co_await reader.readline();
    std::cout << "server: over " << tls_version(writer) << " " << strip(secret) << std::endl;
    writer.write("got it\n");
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<void> amain() {
    char templ[] = "/tmp/asyncio-starttls-demo-XXXXXX";
    std::string dir = ::mkdtemp(templ);
    co_await make_certificates(dir);
    server_ctx.load_cert_chain(dir + "/server.pem", dir + "/server.key");
    client_ctx.load_verify_locations(dir + "/ca.pem");

    asyncio::Server server = co_await asyncio::start_server(serve, "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    writer.write("STARTTLS\n");
    std::cout << "client: server says " << strip(co_await reader.readline()) << std::endl;
    asyncio::StartTlsOptions tls{.server_hostname = "localhost"};
    co_await writer.start_tls(client_ctx, tls);
    std::cout << "client: upgraded to " << tls_version(writer) << std::endl;
    writer.write("the secret\n");
    std::cout << "client: server says " << strip(co_await reader.readline()) << std::endl;
    std::cout << "client: then " << example::bytes_repr(co_await reader.read()) << std::endl;
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    std::filesystem::remove_all(dir);
}

int main() { asyncio::run(amain()); }
