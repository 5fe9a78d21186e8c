// Response compression: Accept-Encoding negotiation and a streaming zlib deflater.
#include "http/compressor.hpp"

#include <asyncio/http/headers.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace asyncio::http::detail {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The q-value of one Accept-Encoding element's parameters (";q=0.5"), 1 when absent.
double q_value(std::string_view params) {
    while (!params.empty()) {
        auto semi = params.find(';');
        std::string_view p = trim(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            std::string v(trim(p.substr(2)));
            char* end = nullptr;
            double q = std::strtod(v.c_str(), &end);
            return end == v.c_str() ? 0.0 : q;
        }
    }
    return 1.0;
}

}  // namespace

web::ContentCoding choose_coding(std::string_view header) noexcept {
    double gzip = -1, deflate = -1, any = -1;  // -1: not named
    while (!header.empty()) {
        auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        auto semi = item.find(';');
        std::string_view name = trim(item.substr(0, semi));
        double q = semi == std::string_view::npos ? 1.0 : q_value(item.substr(semi + 1));
        if (iequals(name, "gzip") || iequals(name, "x-gzip")) {
            gzip = q;
        } else if (iequals(name, "deflate")) {
            deflate = q;
        } else if (name == "*") {
            any = q;
        }
    }
    if (gzip < 0) gzip = any;
    if (deflate < 0) deflate = any;
    if (gzip <= 0 && deflate <= 0) return web::ContentCoding::identity;
    return gzip >= deflate ? web::ContentCoding::gzip : web::ContentCoding::deflate;
}

std::string_view coding_name(web::ContentCoding coding) noexcept {
    switch (coding) {
        case web::ContentCoding::gzip: return "gzip";
        case web::ContentCoding::deflate: return "deflate";
        default: return "identity";
    }
}

struct Compressor::State {
    z_stream z{};
    ~State() { deflateEnd(&z); }
};

Compressor::Compressor(web::ContentCoding coding) {
    auto s = std::make_unique<State>();
    const int bits = coding == web::ContentCoding::gzip ? 16 + MAX_WBITS : MAX_WBITS;
    if (deflateInit2(&s->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        // State's destructor calls deflateEnd, harmless on a stream zlib did not start.
        throw std::runtime_error("response compression: zlib could not start");
    }
    s_ = std::move(s);
}

Compressor::~Compressor() = default;

std::string Compressor::run(std::string_view data, int flush) {
    z_stream& z = s_->z;
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    for (;;) {
        const std::size_t have = out.size();
        const std::size_t room = std::max<std::size_t>(16384, data.size() / 2);
        out.resize(have + room);
        z.next_out = reinterpret_cast<Bytef*>(out.data() + have);
        z.avail_out = static_cast<uInt>(room);
        const int r = deflate(&z, flush);
        out.resize(out.size() - z.avail_out);
        if (r == Z_STREAM_ERROR) throw std::runtime_error("response compression: zlib failed");
        if (flush == Z_FINISH ? r == Z_STREAM_END : z.avail_out != 0) break;
    }
    return out;
}

std::string Compressor::compress(std::string_view data) {
    if (data.empty()) return {};
    return run(data, Z_NO_FLUSH);
}

std::string Compressor::finish() { return run({}, Z_FINISH); }

}  // namespace asyncio::http::detail
