// Test support: certificates made at test time by the openssl command line, once per test
// process, in a temporary directory removed at exit.
//
//   ca.pem / ca.key              a test CA
//   server.pem / server.key      localhost, 127.0.0.1 and ::1, signed by the CA
//   other.pem / other.key        other.test only, signed by the CA
//   expired.pem / expired.key    localhost, expired yesterday
//   client.pem / client.key      a client certificate (CN client), signed by the CA
//   server_enc.key               server.key encrypted with the password "secret"
//   server_combined.pem          server.pem followed by server.key
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace asyncio::testing {

class TestCerts {
  public:
    TestCerts() {
        char templ[] = "/tmp/asyncio-certs-XXXXXX";
        if (!::mkdtemp(templ)) throw std::runtime_error("mkdtemp failed");
        dir_ = templ;
        const std::string script = R"SH(
set -e
cd "$1"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 3650 -subj "/CN=asyncio-cpp test CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf() { # name subject days san eku
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=%s\n' "$5" "$4" > "$1.ext"
  openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "$2"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
    -days "$3" -out "$1.pem" -extfile "$1.ext"
}
leaf server /CN=localhost 365 "DNS:localhost,IP:127.0.0.1,IP:::1" serverAuth
leaf other /CN=other.test 365 "DNS:other.test" serverAuth
leaf expired /CN=localhost -1 "DNS:localhost,IP:127.0.0.1" serverAuth
leaf client /CN=client 365 "DNS:client" clientAuth
openssl pkey -in server.key -aes256 -passout pass:secret -out server_enc.key
cat server.pem server.key > server_combined.pem
)SH";
        std::string script_path = dir_ + "/make_certs.sh";
        std::ofstream(script_path) << script;
        std::string cmd =
            "bash '" + script_path + "' '" + dir_ + "' >'" + dir_ + "/openssl.log' 2>&1";
        if (std::system(cmd.c_str()) != 0) {
            std::ifstream log(dir_ + "/openssl.log");
            std::stringstream text;
            text << log.rdbuf();
            throw std::runtime_error("making test certificates failed:\n" + text.str());
        }
    }
    ~TestCerts() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    TestCerts(const TestCerts&) = delete;
    TestCerts& operator=(const TestCerts&) = delete;

    const std::string& dir() const { return dir_; }
    std::string operator()(const std::string& name) const { return dir_ + "/" + name; }
    /// The text of a file in the directory.
    std::string read(const std::string& name) const {
        std::ifstream f((*this)(name));
        std::stringstream text;
        text << f.rdbuf();
        return text.str();
    }

  private:
    std::string dir_;
};

/// The process's certificates (made on first use).
inline const TestCerts& test_certs() {
    static TestCerts certs;
    return certs;
}

}  // namespace asyncio::testing
