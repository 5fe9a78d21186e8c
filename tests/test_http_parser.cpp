// asyncio::http::detail::HttpParser: llhttp's framing as events, the limits, and bad input
// turned into aiohttp-named exceptions with clear messages.
#include <asyncio/http/detail/http_parser.hpp>
#include <asyncio/http/exceptions.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace asyncio::http;
using detail::BodyChunk;
using detail::HttpParser;
using detail::MessageEnd;
using detail::MessageHead;
using detail::MessageType;
using detail::ParserEvent;
using detail::ParserLimits;

namespace {

// Everything the parser produced so far, flattened: heads, body bytes per message, ends.
struct Parsed {
    std::vector<MessageHead> heads;
    std::vector<std::string> bodies;
    std::vector<bool> ends;  // keep_alive of each MessageEnd
};

Parsed drain(HttpParser& p, Parsed out = {}) {
    while (auto ev = p.next()) {
        if (auto* h = std::get_if<MessageHead>(&*ev)) {
            out.heads.push_back(std::move(*h));
            out.bodies.emplace_back();
        } else if (auto* b = std::get_if<BodyChunk>(&*ev)) {
            out.bodies.back() += b->data;
        } else {
            out.ends.push_back(std::get<MessageEnd>(*ev).keep_alive);
        }
    }
    return out;
}

Parsed parse(MessageType type, std::string_view data, ParserLimits limits = {}) {
    HttpParser p(type, limits);
    p.feed(data);
    return drain(p);
}

// The exception next() throws (after the events before it), as E, with its message.
template <class E>
E error_of(MessageType type, std::string_view data, ParserLimits limits = {}) {
    HttpParser p(type, limits);
    p.feed(data);
    try {
        drain(p);
    } catch (const E& e) {
        EXPECT_EQ(p.state(), HttpParser::State::failed);
        return e;
    }
    ADD_FAILURE() << "no exception for: " << data;
    return E("none");
}

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST(HttpParser, ParsesARequestHeadWithHeadersInOrder) {
    auto r =
        parse(MessageType::request,
              "GET /a/b?x=1 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
    ASSERT_EQ(r.heads.size(), 1u);
    const auto& h = r.heads[0];
    EXPECT_EQ(h.method, "GET");
    EXPECT_EQ(h.target, "/a/b?x=1");
    EXPECT_EQ(h.version_major, 1);
    EXPECT_EQ(h.version_minor, 1);
    EXPECT_TRUE(h.keep_alive);
    EXPECT_FALSE(h.chunked);
    EXPECT_FALSE(h.content_length.has_value());
    EXPECT_EQ(h.headers,
              (CIMultiDict{{"Host", "example"}, {"Accept", "*/*"}, {"X-A", "1"}, {"x-a", "2"}}));
    EXPECT_EQ(r.bodies[0], "");
    EXPECT_EQ(r.ends, std::vector<bool>{true});
}

TEST(HttpParser, GivesTheSameResultFedOneByteAtATime) {
    std::string req =
        "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    HttpParser p(MessageType::request);
    EXPECT_EQ(p.state(), HttpParser::State::idle);
    Parsed r;
    for (char c : req) {
        p.feed(std::string_view(&c, 1));
        r = drain(p, std::move(r));
    }
    ASSERT_EQ(r.heads.size(), 1u);
    EXPECT_EQ(r.heads[0].method, "POST");
    EXPECT_EQ(r.heads[0].headers.getone("host"), "h");
    EXPECT_TRUE(r.heads[0].chunked);
    EXPECT_EQ(r.bodies[0], "hello world");
    EXPECT_EQ(r.ends.size(), 1u);
    EXPECT_EQ(p.bytes_fed(), req.size());
    EXPECT_EQ(p.state(), HttpParser::State::idle);
}

TEST(HttpParser, StateFollowsHeadThenBodyThenIdle) {
    HttpParser p(MessageType::request);
    p.feed("PUT / HTTP/1.1\r\nContent-");
    EXPECT_EQ(p.state(), HttpParser::State::head);
    p.feed("Length: 4\r\n\r\nab");
    EXPECT_EQ(p.state(), HttpParser::State::body);
    EXPECT_EQ(p.queued_bytes(), 2u);
    p.feed("cd");
    EXPECT_EQ(p.state(), HttpParser::State::idle);
    auto r = drain(p);
    EXPECT_EQ(r.heads[0].content_length, 4u);
    EXPECT_EQ(r.bodies[0], "abcd");
    EXPECT_EQ(p.queued_bytes(), 0u);
}

TEST(HttpParser, PipelinedRequestsComeOutInOrder) {
    auto r = parse(MessageType::request,
                   "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /3 "
                   "HTTP/1.1\r\n\r\n");
    ASSERT_EQ(r.heads.size(), 3u);
    EXPECT_EQ(r.heads[0].target, "/1");
    EXPECT_EQ(r.heads[1].target, "/2");
    EXPECT_EQ(r.bodies[1], "xyz");
    EXPECT_EQ(r.heads[2].target, "/3");
    EXPECT_EQ(r.ends.size(), 3u);
}

TEST(HttpParser, Http10AndConnectionCloseAreNotKeepAlive) {
    auto a = parse(MessageType::request, "GET / HTTP/1.0\r\n\r\n");
    EXPECT_FALSE(a.heads.at(0).keep_alive);
    EXPECT_EQ(a.ends, std::vector<bool>{false});
    auto b = parse(MessageType::request, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_TRUE(b.heads.at(0).keep_alive);
    auto c = parse(MessageType::request, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_FALSE(c.heads.at(0).keep_alive);
    EXPECT_EQ(c.heads.at(0).version_minor, 1);
}

TEST(HttpParser, AWellFormedRequestBeforeAMalformedOneIsStillDelivered) {
    HttpParser p(MessageType::request);
    p.feed("GET /ok HTTP/1.1\r\n\r\nBROKEN\x01 / HTTP/1.1\r\n\r\n");
    auto first = p.next();
    ASSERT_TRUE(first && std::holds_alternative<MessageHead>(*first));
    EXPECT_EQ(std::get<MessageHead>(*first).target, "/ok");
    ASSERT_TRUE(p.next());  // its MessageEnd
    EXPECT_THROW(p.next(), BadStatusLine);
    EXPECT_THROW(p.next(), BadStatusLine);  // and again: the parser stays failed
    p.feed("GET / HTTP/1.1\r\n\r\n");
    EXPECT_THROW(p.next(), BadStatusLine);
}

TEST(HttpParser, MalformedStartLinesAreBadStatusLine) {
    auto e = error_of<BadStatusLine>(MessageType::request, "G\x01T / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(e.status(), 400);
    EXPECT_TRUE(contains(e.what(), "Bad HTTP request: invalid method")) << e.what();
    EXPECT_TRUE(contains(e.what(), "at byte 1")) << e.what();
    auto v = error_of<BadStatusLine>(MessageType::request, "GET / HTTP/9.x\r\n\r\n");
    EXPECT_TRUE(contains(v.what(), "HTTP version")) << v.what();
    auto s = error_of<BadStatusLine>(MessageType::response, "HTTP/1.1 2x0 OK\r\n\r\n");
    EXPECT_TRUE(contains(s.what(), "Bad HTTP response: invalid status code")) << s.what();
}

TEST(HttpParser, AnInvalidHeaderNameIsInvalidHeader) {
    auto e =
        error_of<InvalidHeader>(MessageType::request, "GET / HTTP/1.1\r\nBad\x01Name: x\r\n\r\n");
    EXPECT_EQ(e.status(), 400);
    EXPECT_TRUE(contains(e.what(), "invalid header field")) << e.what();
    // A space inside or before the colon (a smuggling vector) is refused too.
    auto s = error_of<InvalidHeader>(MessageType::request, "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n");
    EXPECT_TRUE(contains(s.what(), "invalid header field name 'Bad Name'")) << s.what();
    error_of<InvalidHeader>(MessageType::request, "GET / HTTP/1.1\r\nHost : x\r\n\r\n");
}

TEST(HttpParser, ContentLengthWithTransferEncodingIsRejectedAsSmuggling) {
    auto e = error_of<ContentLengthError>(
        MessageType::request,
        "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(e.status(), 400);
    EXPECT_TRUE(contains(e.what(), "Content-Length together with Transfer-Encoding")) << e.what();
}

TEST(HttpParser, ConflictingContentLengthsAreRejected) {
    auto e = error_of<ContentLengthError>(
        MessageType::request,
        "POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd");
    EXPECT_TRUE(contains(e.what(), "Content-Length")) << e.what();
    error_of<ContentLengthError>(MessageType::request,
                                 "POST / HTTP/1.1\r\nContent-Length: 4x\r\n\r\nabcd");
}

TEST(HttpParser, AnInvalidChunkSizeIsTransferEncodingError) {
    auto e = error_of<TransferEncodingError>(
        MessageType::request,
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    EXPECT_TRUE(contains(e.what(), "invalid chunk size")) << e.what();
    EXPECT_TRUE(contains(e.what(), "near \"zz\\r\\nhello")) << e.what();
    // A chunk size that overflows 64 bits.
    error_of<TransferEncodingError>(
        MessageType::request,
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nx\r\n0\r\n\r\n");
}

TEST(HttpParser, ChunkedThatIsNotTheLastEncodingIsRejected) {
    auto e = error_of<TransferEncodingError>(
        MessageType::request,
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n");
    EXPECT_TRUE(contains(e.what(), "Transfer-Encoding")) << e.what();
}

TEST(HttpParser, ALongRequestTargetIs414) {
    std::string req = "GET /" + std::string(200, 'a') + " HTTP/1.1\r\n\r\n";
    auto e = error_of<LineTooLong>(MessageType::request, req, {.max_line_size = 100});
    EXPECT_EQ(e.status(), 414);
    EXPECT_TRUE(contains(e.what(), "request target longer than 100 bytes")) << e.what();
}

TEST(HttpParser, HeaderFieldsOverTheLimitsAre431) {
    std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(300, 'v') + "\r\n\r\n";
    auto e = error_of<LineTooLong>(MessageType::request, big, {.max_field_size = 256});
    EXPECT_EQ(e.status(), 431);
    EXPECT_TRUE(contains(e.what(), "value of header 'X-Big' longer than 256 bytes")) << e.what();

    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 10; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    auto m = error_of<LineTooLong>(MessageType::request, many + "\r\n", {.max_headers = 5});
    EXPECT_TRUE(contains(m.what(), "more than 5 header fields")) << m.what();

    auto t = error_of<LineTooLong>(MessageType::request, many + "\r\n", {.max_head_size = 64});
    EXPECT_EQ(t.status(), 431);
    EXPECT_TRUE(contains(t.what(), "header fields larger than 64 bytes")) << t.what();
}

TEST(HttpParser, ABodyOverTheLimitIs413ByContentLengthOrByChunks) {
    auto e = error_of<PayloadTooLarge>(MessageType::request,
                                       "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n",
                                       {.max_body_size = 10});
    EXPECT_EQ(e.status(), 413);
    EXPECT_TRUE(contains(e.what(), "Content-Length 11 is over the body limit of 10 bytes"))
        << e.what();
    auto c = error_of<PayloadTooLarge>(
        MessageType::request,
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n",
        {.max_body_size = 10});
    EXPECT_EQ(c.status(), 413);
    auto ok = parse(MessageType::request, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789",
                    {.max_body_size = 10});
    EXPECT_EQ(ok.bodies.at(0), "0123456789");
}

TEST(HttpParser, ParsesAResponseWithContentLength) {
    auto r = parse(
        MessageType::response,
        "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nnope!");
    ASSERT_EQ(r.heads.size(), 1u);
    EXPECT_EQ(r.heads[0].status, 404);
    EXPECT_EQ(r.heads[0].reason, "Not Found");
    EXPECT_TRUE(r.heads[0].method.empty());
    EXPECT_EQ(r.bodies[0], "nope!");
    EXPECT_EQ(r.ends.size(), 1u);
}

TEST(HttpParser, AResponseWithoutLengthEndsAtEof) {
    HttpParser p(MessageType::response);
    p.feed("HTTP/1.1 200 OK\r\n\r\nall of ");
    p.feed("it");
    auto r = drain(p);
    EXPECT_TRUE(r.ends.empty());
    p.feed_eof();
    r = drain(p, std::move(r));
    EXPECT_EQ(r.bodies.at(0), "all of it");
    EXPECT_EQ(r.ends, std::vector<bool>{false});
}

TEST(HttpParser, AResponseCutShortIsAPayloadErrorAtEof) {
    HttpParser p(MessageType::response);
    p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    drain(p);
    p.feed_eof();
    try {
        p.next();
        FAIL() << "no exception";
    } catch (const PayloadEncodingError& e) {
        EXPECT_TRUE(contains(e.what(), "connection closed before the message was complete"))
            << e.what();
    }
}

TEST(HttpParser, EofBetweenMessagesIsClean) {
    HttpParser p(MessageType::request);
    p.feed("GET / HTTP/1.1\r\n\r\n");
    p.feed_eof();
    auto r = drain(p);
    EXPECT_EQ(r.ends.size(), 1u);
}

TEST(HttpParser, AResponseToHeadHasNoBodyWhateverItsLength) {
    HttpParser p(MessageType::response);
    p.expect_no_body();
    p.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
    auto r = drain(p);
    ASSERT_EQ(r.heads.size(), 2u);
    EXPECT_EQ(r.heads[0].content_length, 1000u);
    EXPECT_EQ(r.bodies[0], "");
    EXPECT_EQ(r.heads[1].status, 204);
    EXPECT_EQ(r.ends.size(), 2u);
}

TEST(HttpParser, AnUpgradeLeavesTheFollowingBytesUnparsed) {
    HttpParser p(MessageType::request);
    p.feed("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
    auto r = drain(p);
    ASSERT_EQ(r.heads.size(), 1u);
    EXPECT_TRUE(r.heads[0].upgrade);
    EXPECT_EQ(p.state(), HttpParser::State::upgraded);
    p.feed("more");
    EXPECT_EQ(p.take_upgrade_data(), "\x81\x05hellomore");
}

TEST(HttpParser, AMovedParserKeepsParsing) {
    HttpParser a(MessageType::request);
    a.feed("GET /x HTTP/1.1\r\nHo");
    HttpParser b = std::move(a);
    b.feed("st: y\r\n\r\n");
    auto r = drain(b);
    ASSERT_EQ(r.heads.size(), 1u);
    EXPECT_EQ(r.heads[0].headers.getone("Host"), "y");
}
