// The HTTP server, aiohttp.web's shape: everything a server program includes.
// Python: `from aiohttp import web`.
#pragma once

#include <asyncio/http/exceptions.hpp>
#include <asyncio/http/headers.hpp>
#include <asyncio/http/web_app.hpp>
#include <asyncio/http/web_exceptions.hpp>
#include <asyncio/http/web_request.hpp>
#include <asyncio/http/web_response.hpp>
#include <asyncio/http/web_runner.hpp>
