// StreamReader / StreamWriter: the reader's rules on a hand-fed reader (virtual time), and
// both ends over real pipes (flow control, EOF, errors, closing).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <asyncio/streams.hpp>

#include <string>

#include "asyncio_test.hpp"
#include "cancel_harness.hpp"

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
    p.reader = asyncio::detail::make_fd_reader(
        loop(), fds[0], asyncio::detail::FdTransport::Kind::read_pipe, limit);
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
    loop().call_later(1.0, [stream] {
        stream.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    });
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

// --- parity N (105-107) on hand-fed readers ---

// parity #105 — StreamTests::test_readuntil_multi_chunks / _multi_chunks_1
ASYNCIO_TEST(StreamReader, ReaduntilFindsASeparatorSplitAcrossFeeds) {
    asyncio::StreamReader stream;
    stream.feed_data("aaa\r");
    stream.feed_data("\nbbb");
    EXPECT_EQ(co_await stream.readuntil("\r\n"), "aaa\r\n");
    EXPECT_EQ(stream.buffered(), 3u);
    auto t = asyncio::create_task(stream.readuntil("!!"));
    co_await asyncio::sleep(0);
    stream.feed_data("c!");
    co_await asyncio::sleep(0);
    stream.feed_data("!d");
    EXPECT_EQ(co_await t, "bbbc!!");
    EXPECT_EQ(stream.buffered(), 1u);
}

// parity #106 — StreamTests::test_read_zero / test_read_eof / test_at_eof
ASYNCIO_TEST(StreamReader, ReadZeroReturnsAtOnceAndAtEofNeedsEofAndAnEmptyBuffer) {
    asyncio::StreamReader stream;
    EXPECT_EQ(co_await stream.read(0), "");  // no wait although nothing is buffered
    stream.feed_data("data");
    EXPECT_FALSE(stream.at_eof());
    stream.feed_eof();
    EXPECT_FALSE(stream.at_eof());  // EOF fed, but the buffer is not empty
    EXPECT_EQ(co_await stream.read(-1), "data");
    EXPECT_TRUE(stream.at_eof());
}

// parity #107 — StreamTests::test_exception_waiter / test_exception_cancel
ASYNCIO_TEST(StreamReader, AWaitingReaderGetsTheExceptionAndACancelledReadLeavesItUsable) {
    asyncio::StreamReader stream;
    auto t = asyncio::create_task(stream.read());
    co_await asyncio::sleep(0);
    stream.set_exception(std::make_exception_ptr(std::invalid_argument("boom")));
    EXPECT_THROW(co_await t, std::invalid_argument);

    asyncio::StreamReader s2;
    auto r = asyncio::create_task(s2.read(2));
    co_await asyncio::sleep(0);
    r.cancel();
    EXPECT_THROW(co_await r, asyncio::CancelledError);
    s2.feed_data("ok");
    EXPECT_EQ(co_await s2.read(2), "ok");
}

// --- streams over sockets ---

namespace {

asyncio::Coro<void> echo_handler(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

}  // namespace

ASYNCIO_TEST_REALTIME(SocketStreams, OpenConnectionAndStartServerEchoLines) {
    asyncio::Server server = co_await asyncio::start_server(echo_handler, "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    writer.write("ping\n");
    co_await writer.drain();
    EXPECT_EQ(co_await reader.readline(), "ping\n");
    auto peer = std::any_cast<asyncio::SockAddr>(writer.get_extra_info("peername"));
    EXPECT_EQ(peer.port(), port);
    CO_ASSERT_TRUE(writer.transport() != nullptr);
    EXPECT_FALSE(writer.transport()->is_closing());
    EXPECT_TRUE(writer.can_write_eof());
    writer.write_eof();  // the server sees EOF, closes; we see EOF
    EXPECT_EQ(co_await reader.read(), "");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

namespace {

asyncio::Coro<void> chunk_echo_handler(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    for (;;) {
        std::string data = co_await reader.read(65536);
        if (data.empty()) break;
        writer.write(data);
        co_await writer.drain();
    }
    writer.close();
}

asyncio::Coro<void> send_then_eof(asyncio::StreamWriter writer, std::string data) {
    for (std::size_t at = 0; at < data.size(); at += 100000) {
        writer.write(std::string_view(data).substr(at, 100000));
        co_await writer.drain();
    }
    writer.write_eof();
}

}  // namespace

// Once a reader's buffer has grown, the transport reads into it directly; bytes must come out
// whole and in order whichever way each read went, and whatever the reads take.
ASYNCIO_TEST_REALTIME(SocketStreams, LargeTransfersComeBackWholeAndInOrderWhateverTheReadSizes) {
    asyncio::Server server = co_await asyncio::start_server(chunk_echo_handler, "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    std::string sent(3 * 1024 * 1024 + 123, '\0');
    for (std::size_t i = 0; i < sent.size(); ++i)
        sent[i] = static_cast<char>('a' + (i * 7 + i / 4099) % 26);
    asyncio::Task<void> sender = asyncio::create_task(send_then_eof(writer, sent));
    std::string got = co_await reader.readexactly(100000);
    while (got.size() < 1000000) got += co_await reader.read(777);
    got += co_await reader.read();  // the rest, until EOF
    co_await sender;
    CO_ASSERT_EQ(got.size(), sent.size());
    EXPECT_TRUE(got == sent);
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

// CPython's transport reads the peer's address when it is made (_SelectorTransport.__init__):
// it stays known after the peer reset the connection, when the kernel no longer has it.
ASYNCIO_TEST_REALTIME(SocketStreams, PeernameIsStillKnownAfterThePeerResetTheConnection) {
    asyncio::Future<void> got_client = asyncio::testing::loop().create_future<void>();
    std::optional<asyncio::StreamReader> server_reader;
    std::optional<asyncio::StreamWriter> server_writer;
    asyncio::Server server = co_await asyncio::start_server(
        [&](asyncio::StreamReader r, asyncio::StreamWriter w) -> asyncio::Coro<void> {
            server_reader = r;
            server_writer = w;
            got_client.set_result();
            co_return;
        },
        "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    int client_port = 0;
    {
        asyncio::Socket c(AF_INET, SOCK_STREAM);
        c.connect("127.0.0.1", port);
        client_port = c.getsockname().port();
        co_await got_client;
        struct linger lg {
            1, 0
        };
        ::setsockopt(c.fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }  // reset
    bool reset = false;
    try {
        co_await server_reader->read();
    } catch (const std::system_error& e) {
        reset = e.code().value() == ECONNRESET;
    }
    EXPECT_TRUE(reset);
    try {
        co_await server_writer->wait_closed();
    } catch (const std::system_error&) {
    }
    auto peer = std::any_cast<asyncio::SockAddr>(server_writer->get_extra_info("peername"));
    EXPECT_EQ(peer.port(), client_port);
    EXPECT_EQ(std::any_cast<asyncio::SockAddr>(server_writer->get_extra_info("sockname")).port(),
              port);
    // The fd is closed: -1, as Python's socket.fileno() after close.
    EXPECT_EQ(std::any_cast<int>(server_writer->get_extra_info("socket")), -1);
    server.close();
    co_await server.wait_closed();
}

// parity #108 — StreamTests::test_drain_raises
ASYNCIO_TEST_REALTIME(SocketStreams, DrainRaisesForEveryWaiterWhenThePeerGoesAway) {
    asyncio::Future<void> got_client = asyncio::testing::loop().create_future<void>();
    std::optional<asyncio::StreamWriter> server_writer;
    asyncio::Server server = co_await asyncio::start_server(
        [&](asyncio::StreamReader, asyncio::StreamWriter w) -> asyncio::Coro<void> {
            server_writer = w;
            got_client.set_result();
            co_return;
        },
        "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    {
        asyncio::Socket c(AF_INET, SOCK_STREAM);
        c.connect("127.0.0.1", port);
        co_await got_client;
        struct linger lg {
            1, 0
        };
        ::setsockopt(c.fileno(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }  // reset
    auto w = *server_writer;
    std::string big(1 << 20, 'x');
    bool raised = false;
    std::vector<asyncio::Task<void>> drains;
    try {
        for (int i = 0; i < 100 && !raised; ++i) {
            w.write(big);
            if (i == 0) {
                drains.push_back(asyncio::create_task(w.drain()));
                drains.push_back(asyncio::create_task(w.drain()));
            }
            co_await w.drain();
        }
    } catch (const std::system_error& e) {
        raised = e.code().value() == ECONNRESET || e.code().value() == EPIPE;
    }
    EXPECT_TRUE(raised);
    for (auto& d : drains) {
        try {
            co_await d;  // each waiter woke: with the error, or at once when not paused
        } catch (const std::system_error&) {
        }
        EXPECT_TRUE(d.done());
    }
    server.close();
    server.abort_clients();
    co_await server.wait_closed();
}

// parity #109 — test_eof_feed_when_closing_writer / test_wait_closed_on_close
ASYNCIO_TEST_REALTIME(SocketStreams, WaitClosedReturnsOnceClosedAndWriteAfterWriteEofRaises) {
    asyncio::Server server = co_await asyncio::start_server(echo_handler, "127.0.0.1", 0);
    auto [reader, writer] =
        co_await asyncio::open_connection("127.0.0.1", server.sockets()[0].getsockname().port());
    writer.write_eof();
    EXPECT_THROW(writer.write("x"), asyncio::RuntimeError);
    writer.close();
    writer.close();  // harmless
    co_await writer.wait_closed();
    EXPECT_TRUE(writer.is_closing());
    server.close();
    co_await server.wait_closed();
}

ASYNCIO_TEST_REALTIME(SocketStreams, UnixStreamsEcho) {
    std::string path = "/tmp/asyncio-streams-" + std::to_string(::getpid()) + ".sock";
    asyncio::Server server = co_await asyncio::start_unix_server(echo_handler, path);
    auto [reader, writer] = co_await asyncio::open_unix_connection(path);
    writer.write("over unix\n");
    EXPECT_EQ(co_await reader.readline(), "over unix\n");
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
}

ASYNCIO_TEST_REALTIME(SocketStreams, AHandlerThatThrowsIsReportedAndItsConnectionClosed) {
    asyncio::Server server = co_await asyncio::start_server(
        [](asyncio::StreamReader, asyncio::StreamWriter) -> asyncio::Coro<void> {
            throw std::invalid_argument("handler failed");
            co_return;
        },
        "127.0.0.1", 0);
    auto [reader, writer] =
        co_await asyncio::open_connection("127.0.0.1", server.sockets()[0].getsockname().port());
    EXPECT_EQ(co_await reader.read(), "");  // the server closed the connection
    auto reports = asyncio::testing::take_reports();
    CO_ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].message, "Unhandled exception in client_connected_cb");
    writer.close();
    server.close();
    co_await server.wait_closed();
}

// Cancel during connect (a stream connect to a black-holed address) leaves no fd.
ASYNCIO_TEST_REALTIME(SocketStreams, CancelDuringOpenConnectionLeavesNoFd) {
    int before = asyncio::testing::open_fd_count();
    auto t = asyncio::create_task(asyncio::open_connection("10.255.255.1", 9));
    co_await asyncio::sleep(0);
    co_await asyncio::sleep(0);
    t.cancel();
    try {
        co_await t;
    } catch (const asyncio::CancelledError&) {
    } catch (const std::system_error&) {
    }
    EXPECT_EQ(asyncio::testing::open_fd_count(), before);
}

// --- real peers: CPython's asyncio on the other end ---

namespace {

/// Runs `python3 -c script args...`, returning its pid; stdout to `out_fd` if >= 0.
pid_t spawn_python(const std::string& script, const std::vector<std::string>& args) {
    pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<const char*> argv{"python3", "-c", script.c_str()};
        for (const auto& a : args) argv.push_back(a.c_str());
        argv.push_back(nullptr);
        ::execvp("python3", const_cast<char* const*>(argv.data()));
        _exit(127);
    }
    return pid;
}

asyncio::Coro<int> wait_child(pid_t pid) {
    int status = 0;
    for (int i = 0; i < 30000; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid)
            co_return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        co_await asyncio::sleep(0.001);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    co_return -1;
}

}  // namespace

ASYNCIO_TEST_REALTIME(RealPeers, CPythonAsyncioClientAgainstOurServer) {
    asyncio::Server server = co_await asyncio::start_server(echo_handler, "127.0.0.1", 0);
    int port = server.sockets()[0].getsockname().port();
    const char* client = R"(
import asyncio, sys
async def main(port):
    r, w = await asyncio.open_connection('127.0.0.1', port)
    for i in range(100):
        w.write(b'line %d\n' % i)
        await w.drain()
        assert await r.readline() == b'line %d\n' % i
    w.close()
    await w.wait_closed()
asyncio.run(main(int(sys.argv[1])))
)";
    pid_t pid = spawn_python(client, {std::to_string(port)});
    EXPECT_EQ(co_await wait_child(pid), 0);
    server.close();
    co_await server.wait_closed();
}

ASYNCIO_TEST_REALTIME(RealPeers, OurClientAgainstACPythonAsyncioServer) {
    // The server prints its port on stdout, then echoes one connection and exits.
    int out[2];
    CO_ASSERT_TRUE(::pipe2(out, O_CLOEXEC) == 0);
    const char* server = R"(
import asyncio, os, sys
async def handle(r, w):
    while line := await r.readline():
        w.write(line.upper())
        await w.drain()
    w.close()
    done.set()
async def main():
    global done
    done = asyncio.Event()
    srv = await asyncio.start_server(handle, '127.0.0.1', 0)
    os.write(int(sys.argv[1]), b'%d\n' % srv.sockets[0].getsockname()[1])
    await done.wait()
    srv.close()
asyncio.run(main())
)";
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 3);
        ::execlp("python3", "python3", "-c", server, "3", nullptr);
        _exit(127);
    }
    ::close(out[1]);
    auto [port_reader, unused] = std::pair{
        asyncio::detail::make_fd_reader(asyncio::testing::loop(), out[0],
                                        asyncio::detail::FdTransport::Kind::read_pipe, 1024),
        0};
    (void)unused;
    std::string port_line = co_await port_reader.readline();
    CO_ASSERT_TRUE(!port_line.empty());
    int port = std::stoi(port_line);
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    for (int i = 0; i < 50; ++i) {
        writer.write("hello " + std::to_string(i) + "\n");
        co_await writer.drain();
        EXPECT_EQ(co_await reader.readline(), "HELLO " + std::to_string(i) + "\n");
    }
    writer.write_eof();
    EXPECT_EQ(co_await reader.read(), "");
    writer.close();
    co_await writer.wait_closed();
    EXPECT_EQ(co_await wait_child(pid), 0);
}

// --- the cancellation harness on socket streams ---

namespace {

/// A connected stream pair over a socketpair (no listener needed).
std::pair<std::pair<asyncio::StreamReader, asyncio::StreamWriter>,
          std::pair<asyncio::StreamReader, asyncio::StreamWriter>>
stream_pair() {
    int sv[2];
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    auto a = asyncio::detail::make_socket_streams(asyncio::get_event_loop(), sv[0], 1 << 16);
    auto b = asyncio::detail::make_socket_streams(asyncio::get_event_loop(), sv[1], 1 << 16);
    return {a, b};
}

template <int Op>
struct StreamReadScenario {
    std::optional<std::pair<std::pair<asyncio::StreamReader, asyncio::StreamWriter>,
                            std::pair<asyncio::StreamReader, asyncio::StreamWriter>>>
        p = stream_pair();
    std::string got;
    asyncio::Coro<void> victim() {
        auto& r = p->first.first;
        if constexpr (Op == 0) got += co_await r.readline();
        if constexpr (Op == 1) got += co_await r.readexactly(6);
        if constexpr (Op == 2) got += co_await r.readuntil("\n");
    }
    asyncio::Coro<void> others() {
        p->second.second.write("hello\n");
        co_await p->second.second.drain();
    }
    asyncio::Coro<void> after_victim(bool) {
        // Nothing lost: whatever the victim did not return is still buffered.
        if (got.empty()) got = co_await p->first.first.readline();
        EXPECT_EQ(got, "hello\n");
        p->first.second.close();
        p->second.second.close();
        co_await p->first.second.wait_closed();
        co_await p->second.second.wait_closed();
    }
    void check(bool) {}
};

struct DrainScenario {
    std::optional<std::pair<std::pair<asyncio::StreamReader, asyncio::StreamWriter>,
                            std::pair<asyncio::StreamReader, asyncio::StreamWriter>>>
        p = stream_pair();
    std::string big = std::string(1 << 20, 'd');
    DrainScenario() { p->first.second.write(big); }  // mostly buffered: drain() must wait
    asyncio::Coro<void> victim() { co_await p->first.second.drain(); }
    asyncio::Coro<void> others() {
        std::string got = co_await p->second.first.readexactly(static_cast<long long>(big.size()));
        EXPECT_EQ(got.size(), big.size());  // a cancelled drain still writes everything
    }
    asyncio::Coro<void> after_victim(bool) { co_return; }
    void check(bool) {}
};

}  // namespace

TEST(SocketStreamsCancellation, ReadlineSweep) {
    EXPECT_GT(asyncio::testing::cancel_sweep<StreamReadScenario<0>>(40), 0);
}
TEST(SocketStreamsCancellation, ReadexactlySweep) {
    EXPECT_GT(asyncio::testing::cancel_sweep<StreamReadScenario<1>>(40), 0);
}
TEST(SocketStreamsCancellation, ReaduntilSweep) {
    EXPECT_GT(asyncio::testing::cancel_sweep<StreamReadScenario<2>>(40), 0);
}
TEST(SocketStreamsCancellation, DrainSweep) {
    EXPECT_GT(asyncio::testing::cancel_sweep<DrainScenario>(40), 0);
}
