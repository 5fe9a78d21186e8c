// Seed 001's concurrent fetch, the C++ way: ten pages fetched at once by `gather` over
// `session.get(url)`, each printed with its status and length.
//
// The pages come from CPython's http.server, which the example starts itself on a free port
// of 127.0.0.1 over a temporary directory of ten files. aiohttp's `resp.status` and httpx's
// `resp.status_code` both compile here (the same number): the trap seed 001 notes (an
// AttributeError when the habits of one library meet the other) does not exist.
// The Python reference: examples/expected/11_http_concurrent_fetch.py (aiohttp).
#include <asyncio/asyncio.hpp>
#include <asyncio/http/client.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace http = asyncio::http;

// One page: its status and the length of its text.
asyncio::Coro<std::pair<int, std::size_t>> fetch(http::ClientSession& session, std::string url) {
    auto resp = co_await session.get(url);
    std::string body = co_await resp.text();
    co_return std::pair{resp.status_code, body.size()};
}

// Starts `python3 -m http.server 0` over `dir`; gives the process and its port.
asyncio::Coro<std::pair<asyncio::Process, int>> start_server(std::string dir) {
    asyncio::SubprocessOptions opts{.stdout_ = asyncio::PIPE,
                                    .stderr_ = asyncio::DEVNULL};  // no access log
    auto proc = co_await asyncio::create_subprocess_exec(
        opts, "python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir);
    // "Serving HTTP on 127.0.0.1 port 46655 (http://127.0.0.1:46655/) ..."
    std::string line = co_await asyncio::wait_for(proc.stdout_.readline(), 30.0);
    auto at = line.find(" port ");
    if (at == std::string::npos) throw std::runtime_error("http.server did not start: " + line);
    co_return std::pair{proc, std::stoi(line.substr(at + 6))};
}

asyncio::Coro<void> main_() {
    char templ[] = "/tmp/asyncio-fetch-demo-XXXXXX";
    if (!::mkdtemp(templ)) throw std::runtime_error("mkdtemp failed");
    std::string dir = templ;
    for (int i = 0; i < 10; ++i)
        std::ofstream(dir + "/page" + std::to_string(i) + ".html")
            << std::string(100 * (i + 1), 'x');
    auto [server, port] = co_await start_server(dir);

    http::ClientSession session;
    std::vector<std::string> urls;
    std::vector<asyncio::Coro<std::pair<int, std::size_t>>> fetches;
    for (int i = 0; i < 10; ++i) {
        urls.push_back("http://127.0.0.1:" + std::to_string(port) + "/page" + std::to_string(i) +
                       ".html");
        fetches.push_back(fetch(session, urls.back()));
    }
    auto results = co_await asyncio::gather(std::move(fetches));
    for (std::size_t i = 0; i < urls.size(); ++i)
        std::printf("%s: status %d, %zu bytes\n", urls[i].substr(urls[i].rfind('/') + 1).c_str(),
                    results[i].first, results[i].second);
    std::printf("fetched %zu pages over %zu connections\n", results.size(),
                session.connector().connections_made());
    co_await session.close();

    server.terminate();
    co_await server.wait();
    std::filesystem::remove_all(dir);
}

int main() { asyncio::run(main_()); }
