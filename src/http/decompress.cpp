// Content-Encoding decoders over zlib and libbrotli.
#include "asyncio/http/detail/decompress.hpp"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>

#include "asyncio/http/client_exceptions.hpp"

namespace asyncio::http::detail {

namespace {

const char* name_of(Encoding e) {
    switch (e) {
        case Encoding::gzip: return "gzip";
        case Encoding::deflate: return "deflate";
        case Encoding::br: return "br";
        default: return "identity";
    }
}

[[noreturn]] void fail(Encoding e, const std::string& why) {
    throw ContentEncodingError(std::string("cannot decode the ") + name_of(e) + " body: " + why);
}

}  // namespace

struct Decompressor::State {
    z_stream z{};
    bool z_init = false;
    bool raw_retry_possible = true;  // deflate: no output yet, a raw stream may be retried
    bool ended = false;              // the compressed stream reached its end
    bool started = false;            // bytes were fed
    std::string fed;                 // deflate: input so far, kept until the first output
    BrotliDecoderState* br = nullptr;

    ~State() {
        if (z_init) inflateEnd(&z);
        if (br) BrotliDecoderDestroyInstance(br);
    }
};

Encoding parse_content_encoding(std::string_view value) {
    std::string v;
    for (char c : value)
        if (c != ' ' && c != '\t')
            v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (v.empty() || v == "identity") return Encoding::identity;
    if (v == "gzip" || v == "x-gzip") return Encoding::gzip;
    if (v == "deflate") return Encoding::deflate;
    if (v == "br") return Encoding::br;
    throw ContentEncodingError("unsupported Content-Encoding '" + std::string(value) + "'");
}

std::string_view accept_encoding() noexcept { return "gzip, deflate, br"; }

Decompressor::Decompressor(Encoding encoding) : encoding_(encoding), s_(std::make_unique<State>()) {
    if (encoding == Encoding::gzip || encoding == Encoding::deflate) {
        int bits = encoding == Encoding::gzip ? 16 + MAX_WBITS : MAX_WBITS;
        if (inflateInit2(&s_->z, bits) != Z_OK) fail(encoding, "zlib could not start");
        s_->z_init = true;
    } else if (encoding == Encoding::br) {
        s_->br = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
        if (!s_->br) fail(encoding, "brotli could not start");
    }
}

Decompressor::~Decompressor() = default;

std::string Decompressor::feed(std::string_view data) {
    if (encoding_ == Encoding::identity) return std::string(data);
    if (data.empty()) return {};
    s_->started = true;
    std::string out;
    if (encoding_ == Encoding::br) {
        const auto* in = reinterpret_cast<const uint8_t*>(data.data());
        std::size_t avail_in = data.size();
        for (;;) {
            uint8_t buf[16384];
            uint8_t* next_out = buf;
            std::size_t avail_out = sizeof buf;
            auto r = BrotliDecoderDecompressStream(s_->br, &avail_in, &in, &avail_out, &next_out,
                                                   nullptr);
            out.append(reinterpret_cast<char*>(buf), sizeof buf - avail_out);
            if (r == BROTLI_DECODER_RESULT_ERROR)
                fail(encoding_, std::string("invalid brotli data (") +
                                    BrotliDecoderErrorString(BrotliDecoderGetErrorCode(s_->br)) +
                                    ")");
            if (r == BROTLI_DECODER_RESULT_SUCCESS) {
                s_->ended = true;
                if (avail_in > 0) fail(encoding_, "data after the end of the compressed stream");
                return out;
            }
            if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) return out;
            // NEEDS_MORE_OUTPUT: loop with a fresh buffer.
        }
    }
    if (s_->ended) {
        if (encoding_ == Encoding::gzip) {
            // Another gzip member follows (RFC 1952 allows concatenation, as gzip -d does).
            inflateReset(&s_->z);
            s_->ended = false;
        } else {
            fail(encoding_, "data after the end of the compressed stream");
        }
    }
    if (encoding_ == Encoding::deflate && s_->raw_retry_possible) s_->fed.append(data);
    z_stream& z = s_->z;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    while (z.avail_in > 0 && !s_->ended) {
        char buf[16384];
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        int r = inflate(&z, Z_NO_FLUSH);
        if (r == Z_DATA_ERROR && encoding_ == Encoding::deflate && s_->raw_retry_possible) {
            // Some servers send "deflate" as a raw deflate stream without the zlib wrapper;
            // browsers and aiohttp accept it: start again in raw mode with what came so far.
            s_->raw_retry_possible = false;
            inflateEnd(&z);
            s_->z_init = false;
            z = z_stream{};
            if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail(encoding_, "zlib could not start");
            s_->z_init = true;
            std::string again = std::move(s_->fed);
            return feed(again);
        }
        if (r == Z_NEED_DICT) fail(encoding_, "a preset dictionary is required");
        if (r == Z_DATA_ERROR || r == Z_STREAM_ERROR || r == Z_MEM_ERROR)
            fail(encoding_, z.msg ? z.msg : "corrupt data");
        std::size_t produced = sizeof buf - z.avail_out;
        out.append(buf, produced);
        if (produced > 0 && s_->raw_retry_possible) {
            s_->raw_retry_possible = false;
            s_->fed.clear();
            s_->fed.shrink_to_fit();
        }
        if (r == Z_STREAM_END) {
            s_->ended = true;
            if (z.avail_in > 0) {
                std::string_view rest(reinterpret_cast<const char*>(z.next_in), z.avail_in);
                if (encoding_ == Encoding::gzip) {
                    std::string more = feed(rest);
                    out += more;
                    return out;
                }
                fail(encoding_, "data after the end of the compressed stream");
            }
        } else if (r == Z_BUF_ERROR && z.avail_in == 0) {
            break;
        }
    }
    return out;
}

void Decompressor::finish() {
    if (encoding_ == Encoding::identity) return;
    if (!s_->started) return;  // an empty body (HEAD, 204) decodes to nothing
    if (!s_->ended) fail(encoding_, "the body ended in the middle of the compressed stream");
}

std::string compress(std::string_view data, Encoding encoding) {
    z_stream z{};
    int bits = encoding == Encoding::gzip ? 16 + MAX_WBITS : MAX_WBITS;
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fail(encoding, "zlib could not start");
    std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int r = deflate(&z, Z_FINISH);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    if (r != Z_STREAM_END) fail(encoding, "compression failed");
    return out;
}

}  // namespace asyncio::http::detail
