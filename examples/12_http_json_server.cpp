// A small JSON API server (Python: aiohttp.web): a to-do list kept in memory, with routes for
// listing, creating, reading and deleting items, path parameters, a query parameter, JSON
// bodies and 404s. The example serves it on a free port of 127.0.0.1, queries it with
// CPython's http.client (a real peer, run as a subprocess), prints what came back, then shuts
// the server down gracefully. The access log goes to stderr.
#include <unistd.h>

#include <asyncio/asyncio.hpp>
#include <asyncio/http/web.hpp>

#include <iostream>
#include <map>

namespace web = asyncio::http::web;
using json = nlohmann::json;

// The application's state and handlers.
struct TodoApi {
    std::map<int, json> items;
    int next_id = 1;

    asyncio::Coro<web::Response> list(web::Request& req) {
        json out = json::array();
        const bool only_open = req.query().get("done", "") == "false";
        for (const auto& [id, item] : items) {
            if (!only_open || !item["done"].get<bool>()) out.push_back(item);
        }
        co_return web::json_response(out);
    }

    asyncio::Coro<web::Response> create(web::Request& req) {
        json body = co_await req.json();
        if (!body.contains("title") || !body["title"].is_string())
            throw web::HTTPBadRequest("a to-do needs a \"title\" string");
        json item = {
            {"id", next_id}, {"title", body["title"]}, {"done", body.value("done", false)}};
        items[next_id++] = item;
        co_return web::json_response(item, 201);
    }

    json& find(web::Request& req) {
        auto it = items.find(std::stoi(req.match_info().at("id")));
        if (it == items.end()) throw web::HTTPNotFound("no to-do " + req.match_info().at("id"));
        return it->second;
    }

    asyncio::Coro<web::Response> get(web::Request& req) { co_return web::json_response(find(req)); }

    asyncio::Coro<web::Response> remove(web::Request& req) {
        items.erase(find(req)["id"].get<int>());
        co_return web::Response{.status = 204};
    }
};

// The client side: CPython's http.client, printing one line per exchange.
const char* const client_script = R"PY(
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
def call(method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    c.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = c.getresponse()
    data = r.read().decode()
    print(f"{method} {path} -> {r.status} {data}")
call("POST", "/todos", {"title": "write the server"})
call("POST", "/todos", {"title": "test it", "done": True})
call("POST", "/todos", {"oops": 1})
call("GET", "/todos")
call("GET", "/todos?done=false")
call("GET", "/todos/2")
call("DELETE", "/todos/2")
call("GET", "/todos/2")
call("PATCH", "/todos")
)PY";

asyncio::Coro<void> amain() {
    TodoApi api;
    web::Application app;
    app.router().add_get("/todos", [&api](web::Request& r) { return api.list(r); });
    app.router().add_post("/todos", [&api](web::Request& r) { return api.create(r); });
    app.router().add_get("/todos/{id}", [&api](web::Request& r) { return api.get(r); });
    app.router().add_delete("/todos/{id}", [&api](web::Request& r) { return api.remove(r); });

    web::AppRunner runner(app);
    co_await runner.setup();
    web::TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    std::cout << "serving on a free port of 127.0.0.1" << std::endl;

    auto client = co_await asyncio::create_subprocess_exec("python3", "-c", client_script,
                                                           std::to_string(site.port()));
    int rc = co_await client.wait();
    std::cout << "client exited with " << rc << std::endl;

    co_await runner.cleanup();
    std::cout << "server shut down" << std::endl;
}

int main() {
    asyncio::run(amain());
    return 0;
}
