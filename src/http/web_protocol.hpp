// The server's connection protocol: one RequestHandler per connection, parsing requests with
// HttpParser and running them one after another in a task. Python: aiohttp.web_protocol.
#pragma once

#include <asyncio/events.hpp>
#include <asyncio/futures.hpp>
#include <asyncio/http/detail/http_parser.hpp>
#include <asyncio/http/web_runner.hpp>
#include <asyncio/protocols.hpp>
#include <asyncio/tasks.hpp>
#include <asyncio/transports.hpp>

#include "http/compressor.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

namespace asyncio::http::web::detail {

using http::detail::BodyChunk;
using http::detail::HttpParser;
using http::detail::MessageEnd;
using http::detail::MessageHead;
using http::detail::ParserEvent;

class RequestHandler;

/// What a runner's sites and connections share.
struct ServerState {
    Application* app = nullptr;
    AppRunnerOptions options;
    std::unordered_set<RequestHandler*> handlers;  // live connections
    std::vector<Server> servers;                   // the sites' listening servers
    bool set_up = false;
    bool closing = false;                  // graceful shutdown under way
    std::optional<Future<void>> all_gone;  // set when handlers empties while closing
};

/// One connection. Invariant: `task_` runs serve() from connection_made until the connection
/// ends; it alone reads events off `parser_` (waiting on `waiter_` when none is queued).
class RequestHandler : public Protocol, public std::enable_shared_from_this<RequestHandler> {
  public:
    RequestHandler(std::shared_ptr<ServerState> state, bool secure)
        : state_(std::move(state)), secure_(secure), parser_(make_parser(*state_->app)) {}
    ~RequestHandler() override;

    void connection_made(Transport& transport) override;
    void data_received(std::string_view data) override;
    bool eof_received() override;
    void connection_lost(std::exception_ptr exc) override;
    void pause_writing() override;
    void resume_writing() override;

    /// Graceful shutdown: an idle connection closes now, a busy one after its response.
    void close_when_idle();
    /// The end: abort the transport, cancel the task.
    void abort();

    // For Request and StreamResponse.
    Coro<std::string> read_body_piece(Request& request);  // "" at the end of the body
    Coro<void> start_stream(Request& request, StreamResponse& response);
    Coro<void> write_stream(std::string_view data);
    Coro<void> end_stream();

  private:
    enum class Wait { head, body };
    static HttpParser make_parser(const Application& app);
    void arm_deadline(double when);
    void on_timer();
    Coro<void> serve();
    // Waits until the parser has an event or the input ended (EOF, lost, or closing between
    // requests). Errors: HeadTimeout, IdleTimeout, BodyTimeout (web_protocol.cpp).
    Coro<void> wait_event(Wait wait);
    // The parser's next event; nullopt when there is none (the input ended).
    // Errors: the parser's HttpProcessingError.
    std::optional<ParserEvent> take_event();
    // The route's handler. Errors: HTTPNotFound, HTTPMethodNotAllowed.
    const Handler& find_handler(Request& request);
    void send_response(const Request& request, const Response& response);
    void send_error(int status, std::string_view text);
    // The status line and header fields into head_, ending with `extra` (whole lines) and the
    // blank line.
    void head_block(int status, std::string_view reason, const CIMultiDict& headers,
                    std::string_view content_type, std::optional<std::uint64_t> length,
                    bool chunked, std::string_view extra = {});
    // The coding a response asking for compression gets, adding its header lines to `extra`.
    ContentCoding negotiate_coding(const Request& request, const CIMultiDict& headers,
                                   std::optional<ContentCoding> force, std::string& extra);
    void write_chunk(std::string_view data);
    void log_access(const Request& request, int status, std::uint64_t bytes);
    void write(std::string_view data);
    void writelines(std::span<const std::string_view> pieces);
    void report_error();
    Coro<void> drain();
    void wake();
    void update_reading();

    std::shared_ptr<ServerState> state_;
    bool secure_;
    HttpParser parser_;
    Transport* transport_ = nullptr;
    EventLoop* loop_ = nullptr;  // the transport's, kept: the timer may outlive the transport
    Task<void> task_;
    std::optional<Future<void>> waiter_;  // serve() waiting for parser events
    std::optional<Future<void>> drain_;   // a writer waiting for resume_writing
    // One timer per connection, re-armed lazily: serve() sets `deadline_` each time it waits
    // (-1 when not waiting); `timer_` fires at `timer_when_` <= `deadline_` at the latest and,
    // when the deadline moved on meanwhile, re-arms itself for it. A request costs no timer
    // operation, only a store.
    std::optional<TimerHandle> timer_;
    double timer_when_ = -1;  // when `timer_` fires; -1: not armed
    double deadline_ = -1;
    bool timed_out_ = false;  // the deadline passed while serve() waited
    std::string remote_;
    double head_started_ = -1;  // loop time the current head began, or -1
    bool eof_ = false;
    bool lost_ = false;
    bool busy_ = false;         // a request is being handled
    bool close_after_ = false;  // close once the current response is sent
    bool write_paused_ = false;
    bool read_paused_ = false;
    // The response in progress.
    bool head_request_ = false;
    bool http10_ = false;
    bool stream_started_ = false;
    bool stream_chunked_ = false;
    bool stream_ended_ = false;
    int stream_status_ = 0;
    std::uint64_t bytes_sent_ = 0;
    std::unique_ptr<http::detail::Compressor> stream_compressor_;  // a compressed stream's
    std::string head_;  // the response head being built (its capacity kept between requests)
};

}  // namespace asyncio::http::web::detail
