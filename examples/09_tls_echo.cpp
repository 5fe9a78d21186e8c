// A TLS echo server and client (Python: asyncio.start_server / open_connection with ssl=).
// The certificates are made on the fly with the openssl command line: a CA, and a certificate
// for "localhost" signed by it. The server serves it; the client trusts the CA and checks the
// name, as ssl.create_default_context() does. The Python reference is
// examples/expected/09_tls_echo.py.
#include <unistd.h>

#include <asyncio/asyncio.hpp>
#include <filesystem>
#include <iostream>

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

asyncio::Coro<void> handle_echo(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    std::string protocol = std::any_cast<ssl::Cipher>(writer.get_extra_info("cipher")).protocol;
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        std::cout << "server: echoing " << strip(line) << " over " << protocol << std::endl;
        writer.write(line);
        co_await writer.drain();
    }
    std::cout << "server: the client closed the connection" << std::endl;
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<void> amain() {
    char templ[] = "/tmp/asyncio-tls-demo-XXXXXX";
    std::string dir = ::mkdtemp(templ);
    co_await make_certificates(dir);

    ssl::SSLContext server_ctx = ssl::create_default_context(ssl::Purpose::CLIENT_AUTH);
    server_ctx.load_cert_chain(dir + "/server.pem", dir + "/server.key");
    asyncio::StartServerOptions sopts{.ssl = server_ctx};
    asyncio::Server server =
        co_await asyncio::start_server(handle_echo, "127.0.0.1", 0, std::move(sopts));
    int port = server.sockets()[0].getsockname().port();

    ssl::SSLContext client_ctx = ssl::create_default_context();  // verify + check the name
    client_ctx.load_verify_locations(dir + "/ca.pem");
    asyncio::OpenConnectionOptions copts{.ssl = client_ctx, .server_hostname = "localhost"};
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port, std::move(copts));
    auto cert = std::any_cast<ssl::Certificate>(writer.get_extra_info("peercert"));
    std::cout << "client: the server's certificate is for " << cert.common_name() << std::endl;
    for (std::string message : {"hello over TLS\n", "second line\n"}) {
        writer.write(message);
        co_await writer.drain();
        std::cout << "client: got back " << strip(co_await reader.readline()) << std::endl;
    }
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    std::filesystem::remove_all(dir);
}

int main() { asyncio::run(amain()); }
