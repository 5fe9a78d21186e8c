#include <asyncio/asyncio.hpp>
#include <asyncio/http/detail/http_parser.hpp>

#include <cstdio>
#include <string>

asyncio::Coro<int> answer() {
    co_await asyncio::sleep(0.001);
    co_return 42;
}

int main() {
    int v = asyncio::run(answer());
    // asyncio::http links too (llhttp built from node-llhttp, exported with it).
    asyncio::http::detail::HttpParser parser(asyncio::http::detail::MessageType::request);
    parser.feed("GET / HTTP/1.1\r\nX-Answer: 42\r\n\r\n");
    auto ev = parser.next();
    if (!ev) return 1;
    v = std::stoi(std::get<asyncio::http::detail::MessageHead>(*ev).headers.getone("x-answer"));
    std::printf("consumer got %d\n", v);
    return v == 42 ? 0 : 1;
}
