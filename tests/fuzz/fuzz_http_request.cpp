// libFuzzer target: the server's request-parsing path (make fuzz).
//
// The input is split into pieces at points chosen by its first byte and fed to HttpParser
// piece by piece, as a connection would deliver it; every request head's target then goes
// through the server's path and query decoding. The same input fed whole must give the same
// events and reject it too (a parser that depends on how bytes are split is a
// request-smuggling hazard). Crashes, leaks and UB are the sanitizers' to find.
#include <asyncio/http/detail/http_parser.hpp>
#include <asyncio/http/exceptions.hpp>

#include "http/url_util.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace asyncio::http;
using namespace asyncio::http::detail;

namespace {

// A flat description of the events and the error, to compare two runs.
std::string run(std::string_view data, std::size_t step, bool limits) {
    ParserLimits lim;
    if (limits)
        lim = {.max_line_size = 64,
               .max_field_size = 64,
               .max_headers = 8,
               .max_head_size = 256,
               .max_body_size = 128};
    HttpParser p(MessageType::request, lim);
    std::string trace;
    auto drain = [&] {
        try {
            while (auto ev = p.next()) {
                if (auto* h = std::get_if<MessageHead>(&*ev)) {
                    trace += "H" + h->method + " " + h->target + "|";
                    for (const auto& [k, v] : h->headers) trace += k + ":" + v + "|";
                    auto q = h->target.find('?');
                    std::string path = unquote(std::string_view(h->target).substr(0, q), false);
                    if (q != std::string::npos) {
                        MultiDict query = parse_query(std::string_view(h->target).substr(q + 1));
                        (void)query.size();
                    }
                    (void)path;
                } else if (auto* b = std::get_if<BodyChunk>(&*ev)) {
                    trace += "B" + b->data;  // pieces may be merged differently: compare bytes
                } else {
                    trace += std::get<MessageEnd>(*ev).keep_alive ? "|E1|" : "|E0|";
                }
            }
        } catch (const HttpProcessingError& e) {
            // Which error is found first may depend on the split (a limit crossed in a
            // piece before llhttp sees a bad byte further on): both must reject, though.
            (void)e;
            trace += "!";
            return false;
        }
        return true;
    };
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t n = std::min(step, data.size() - pos);
        p.feed(data.substr(pos, n));
        pos += n;
        if (!drain()) return trace;
    }
    p.feed_eof();
    drain();
    return trace;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t step = 1 + bytes[0] % 17;
    const bool limits = bytes[1] & 1;
    std::string_view data(reinterpret_cast<const char*>(bytes) + 2, size - 2);
    std::string split = run(data, step, limits);
    std::string whole = run(data, data.size() + 1, limits);
    // Body bytes may arrive in different pieces: strip the piece markers before comparing.
    auto strip = [](std::string t) {
        std::erase(t, 'B');
        return t;
    };
    if (strip(split) != strip(whole)) {
        auto show = [](const std::string& t) {
            std::string out;
            for (unsigned char c : t) {
                char buf[8];
                std::snprintf(buf, sizeof buf, (c >= 0x20 && c < 0x7f) ? "%c" : "\\x%02x", c);
                out += buf;
            }
            return out;
        };
        std::fprintf(stderr, "split/whole mismatch (step %zu):\n  split %s\n  whole %s\n", step,
                     show(split).c_str(), show(whole).c_str());
        std::abort();
    }
    return 0;
}
