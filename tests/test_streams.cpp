// StreamReader / StreamWriter: the reader's rules on a hand-fed reader (virtual time), and
// both ends over real pipes (flow control, EOF, errors, closing).
#include <asyncio/streams.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "asyncio_test.hpp"

using asyncio::testing::loop;

namespace {

struct Pipe {
    asyncio::StreamReader reader{nullptr};
    asyncio::StreamWriter writer;
};

Pipe make_pipe(std::size_t limit = asyncio::default_stream_limit) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    Pipe p;
    p.reader = asyncio::detail::make_fd_reader(loop(), fds[0],
                                               asyncio::detail::FdTransport::Kind::read_pipe, limit);
    p.writer = asyncio::detail::make_fd_writer(loop(), fds[1],
                                               asyncio::detail::FdTransport::Kind::write_pipe);
    return p;
}

template <class E, class F>
asyncio::Coro<bool> raises(F make_coro) {
    bool ok = false;
    try {
        co_await make_coro();
    } catch (const E&) {
        ok = true;
    }
    co_return ok;
}

}  // namespace

// parity #103 — test_streams::StreamTests::test_readexactly_eof.
ASYNCIO_TEST(StreamReader, ReadexactlyAtEofRaisesIncompleteReadErrorWithThePartialBytes) {
    asyncio::StreamReader stream;
    std::string data(18, 'x');
    loop().call_soon([stream, data] {
        stream.feed_data(data);
        stream.feed_eof();
    });
    bool raised = false;
    try {
        co_await stream.readexactly(36);
    } catch (const asyncio::IncompleteReadError& e) {
        raised = true;
        EXPECT_EQ(e.partial, data);
        EXPECT_EQ(e.expected, std::optional<std::size_t>(36));
        EXPECT_EQ(std::string(e.what()), "18 bytes read on a total of 36 expected bytes");
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(stream.buffered(), 0u);
}

// parity #103 — test_streams::StreamTests::test_readexactly_zero_or_less.
ASYNCIO_TEST(StreamReader, ReadexactlyZeroGivesEmptyAndNegativeRaisesValueError) {
    asyncio::StreamReader stream;
    stream.feed_data("data");
    EXPECT_EQ(co_await stream.readexactly(0), "");
    EXPECT_EQ(stream.buffered(), 4u);
    EXPECT_TRUE(co_await raises<std::invalid_argument>([&] { return stream.readexactly(-1); }));
    EXPECT_EQ(stream.buffered(), 4u);  // untouched
    EXPECT_EQ(co_await stream.readexactly(4), "data");
}

// parity #104 — test_streams::StreamTests::test_readuntil_limit_found_sep.
ASYNCIO_TEST(StreamReader, ReaduntilOverTheLimitRaisesLimitOverrunAndKeepsTheData) {
    asyncio::StreamReader stream({.limit = 3});
    stream.feed_data("some dataAA");
    std::string msg;
    try {
        co_await stream.readuntil("AAA");
    } catch (const asyncio::LimitOverrunError& e) {
        msg = e.what();
    }
    EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
    EXPECT_EQ(stream.buffered(), 11u);
    stream.feed_data("A");
    msg.clear();
    try {
        co_await stream.readuntil("AAA");
    } catch (const asyncio::LimitOverrunError& e) {
        msg = e.what();
        EXPECT_EQ(e.consumed, 9u);
    }
    EXPECT_NE(msg.find("is found"), std::string::npos) << msg;
    EXPECT_EQ(stream.buffered(), 12u);
}

// parity #104 — test_streams::StreamTests::test_readline_limit.
ASYNCIO_TEST(StreamReader, ReadlineOverTheLimitRaisesValueErrorAndDropsTheLine) {
    {
        asyncio::StreamReader stream({.limit = 7});
        loop().call_soon([stream] {
            stream.feed_data("chunk1");
            stream.feed_data("chunk2");
            stream.feed_data("chunk3\n");
            stream.feed_eof();
        });
        EXPECT_TRUE(co_await raises<std::invalid_argument>([&] { return stream.readline(); }));
        EXPECT_EQ(stream.buffered(), 0u);
    }
    {
        asyncio::StreamReader stream({.limit = 7});
        loop().call_soon([stream] {
            stream.feed_data("chunk1");
            stream.feed_data("chunk2\n");
            stream.feed_data("chunk3\n");
            stream.feed_eof();
        });
        EXPECT_TRUE(co_await raises<std::invalid_argument>([&] { return stream.readline(); }));
        EXPECT_EQ(co_await stream.read(), "chunk3\n");
    }
    {
        // the limit is strict
        asyncio::StreamReader stream({.limit = 7});
        stream.feed_data("1234567\n");
        EXPECT_EQ(co_await stream.readline(), "1234567\n");
        EXPECT_EQ(stream.buffered(), 0u);
        stream.feed_data("12345678\n");
        EXPECT_TRUE(co_await raises<std::invalid_argument>([&] { return stream.readline(); }));
        EXPECT_EQ(stream.buffered(), 0u);
        stream.feed_data("12345678");
        EXPECT_TRUE(co_await raises<std::invalid_argument>([&] { return stream.readline(); }));
        EXPECT_EQ(stream.buffered(), 0u);
    }
}

// parity #104 — test_streams::StreamTests::test_readuntil_eof.
ASYNCIO_TEST(StreamReader, ReaduntilAtEofRaisesIncompleteReadErrorWithoutExpected) {
    asyncio::StreamReader stream;
    stream.feed_data("some dataAA");
    stream.feed_eof();
    bool raised = false;
    try {
        co_await stream.readuntil("AAA");
    } catch (const asyncio::IncompleteReadError& e) {
        raised = true;
        EXPECT_EQ(e.partial, "some dataAA");
        EXPECT_FALSE(e.expected.has_value());
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(stream.buffered(), 0u);
    EXPECT_TRUE(stream.at_eof());
}

ASYNCIO_TEST(StreamReader, ReadWaitsForDataAndReadAllWaitsForEof) {
    asyncio::StreamReader stream;
    loop().call_later(1.0, [stream] { stream.feed_data("line1\nline2\n"); });
    loop().call_later(2.0, [stream] {
        stream.feed_data("rest");
        stream.feed_eof();
    });
    EXPECT_EQ(co_await stream.read(3), "lin");
    EXPECT_EQ(loop().time(), 1.0);
    EXPECT_EQ(co_await stream.readline(), "e1\n");
    EXPECT_EQ(co_await stream.readuntil("2\n"), "line2\n");
    EXPECT_EQ(co_await stream.read(), "rest");
    EXPECT_EQ(loop().time(), 2.0);
    EXPECT_EQ(co_await stream.read(), "");
    EXPECT_EQ(co_await stream.readline(), "");
    EXPECT_TRUE(stream.at_eof());
}

ASYNCIO_TEST(StreamReader, AnExceptionIsRaisedByWaitingAndLaterReads) {
    asyncio::StreamReader stream;
    loop().call_later(1.0, [stream] { stream.set_exception(std::make_exception_ptr(std::runtime_error("boom"))); });
    EXPECT_TRUE(co_await raises<std::runtime_error>([&] { return stream.read(5); }));
    EXPECT_TRUE(co_await raises<std::runtime_error>([&] { return stream.readline(); }));
    EXPECT_NE(stream.exception(), nullptr);
}

ASYNCIO_TEST(StreamReader, TwoConcurrentReadersRaiseRuntimeError) {
    asyncio::StreamReader stream;
    auto first = asyncio::create_task(stream.read(1));
    co_await asyncio::sleep(0);
    EXPECT_TRUE(co_await raises<asyncio::RuntimeError>([&] { return stream.read(1); }));
    stream.feed_data("x");
    EXPECT_EQ(co_await first, "x");
}

ASYNCIO_TEST(StreamReader, CancellingAReadLosesNoData) {
    asyncio::StreamReader stream;
    auto t = asyncio::create_task(stream.readexactly(4));
    co_await asyncio::sleep(0);
    stream.feed_data("ab");
    t.cancel();
    bool cancelled = false;
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
        cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    stream.feed_data("cd");
    EXPECT_EQ(co_await stream.readexactly(4), "abcd");
}

TEST(StreamReader, LimitMustBePositiveAndEmptyHandlesSayWhy) {
    EXPECT_THROW(asyncio::StreamReader({.limit = 0}), std::invalid_argument);
    asyncio::StreamReader empty(nullptr);
    EXPECT_FALSE(empty);
    EXPECT_THROW((void)empty.at_eof(), asyncio::RuntimeError);
    asyncio::StreamWriter w;
    EXPECT_THROW(w.write("x"), asyncio::RuntimeError);
}

ASYNCIO_TEST_REALTIME(PipeStreams, AMegabyteGoesThroughAPipeWithFlowControl) {
    auto p = make_pipe();
    std::string data(1 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
    auto reader = asyncio::create_task(p.reader.read());
    for (std::size_t off = 0; off < data.size(); off += 100000) {
        p.writer.write(std::string_view(data).substr(off, 100000));
        co_await p.writer.drain();
        EXPECT_LE(p.writer.get_write_buffer_size(), 64u * 1024 + 100000);
    }
    p.writer.close();
    co_await p.writer.wait_closed();
    std::string got = co_await reader;
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
}

ASYNCIO_TEST_REALTIME(PipeStreams, DrainWaitsWhileNobodyReadsAndResumesBelowTheLowMark) {
    auto p = make_pipe();
    p.writer.set_write_buffer_limits(1024, 256);
    std::string big(1 << 20, 'z');  // more than the pipe holds
    p.writer.write(big);
    EXPECT_GT(p.writer.get_write_buffer_size(), 1024u);
    auto drain = asyncio::create_task(p.writer.drain());
    co_await asyncio::sleep(0.02);
    EXPECT_FALSE(drain.done());  // paused: nobody reads
    std::string got = co_await p.reader.readexactly(static_cast<long long>(big.size()));
    co_await drain;
    EXPECT_EQ(got.size(), big.size());
    EXPECT_EQ(p.writer.get_write_buffer_size(), 0u);
    p.writer.close();
    EXPECT_EQ(co_await p.reader.read(), "");
}

ASYNCIO_TEST_REALTIME(PipeStreams, AReaderOverTwiceItsLimitPausesAndResumes) {
    auto p = make_pipe(1024);
    std::string data(64 * 1024, 'q');
    p.writer.write(data);
    co_await asyncio::sleep(0.02);
    EXPECT_LE(p.reader.buffered(), 2u * 1024 + 256 * 1024);  // stopped reading
    std::string got;
    while (got.size() < data.size()) got += co_await p.reader.read(4096);
    EXPECT_EQ(got, data);
    p.writer.close();
    co_await p.writer.wait_closed();
    EXPECT_EQ(co_await p.reader.read(), "");
}

ASYNCIO_TEST_REALTIME(PipeStreams, WriteEofClosesThePipeAndTheReaderSeesEof) {
    auto p = make_pipe();
    EXPECT_TRUE(p.writer.can_write_eof());
    EXPECT_TRUE(p.writer.get_extra_info("pipe").has_value());
    EXPECT_FALSE(p.writer.get_extra_info("peername").has_value());
    p.writer.write("last words\n");
    p.writer.write_eof();
    EXPECT_THROW(p.writer.write("more"), asyncio::RuntimeError);
    EXPECT_EQ(co_await p.reader.readline(), "last words\n");
    EXPECT_EQ(co_await p.reader.readline(), "");
    EXPECT_TRUE(p.writer.is_closing());
    co_await p.writer.wait_closed();
}

ASYNCIO_TEST_REALTIME(PipeStreams, WritingToAPipeWhoseReaderClosedFailsInDrain) {
    auto p = make_pipe();
    p.reader = asyncio::StreamReader(nullptr);  // the last reader handle: its fd closes
    p.writer.write("x");
    bool raised = false;
    try {
        co_await p.writer.drain();
    } catch (const std::system_error&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_TRUE(p.writer.is_closing());
    bool closed_with_error = false;
    try {
        co_await p.writer.wait_closed();
    } catch (const std::system_error& e) {
        closed_with_error = e.code().value() == EPIPE;
    }
    EXPECT_TRUE(closed_with_error);
}

ASYNCIO_TEST_REALTIME(PipeStreams, DroppingTheWriterFlushesThenClosesThePipe) {
    auto p = make_pipe();
    std::string data(300 * 1024, 'w');  // more than the pipe buffer: must be flushed later
    p.writer.write(data);
    p.writer = asyncio::StreamWriter();
    std::string got = co_await p.reader.read();
    EXPECT_EQ(got.size(), data.size());
}
