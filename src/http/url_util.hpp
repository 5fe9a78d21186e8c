// Percent-decoding of request targets: the path and the query string (application/x-www-form-
// urlencoded: '+' is a space). Invalid escapes ("%zz", a '%' at the end) are kept as they are,
// as Python's urllib.parse.unquote does.
#pragma once

#include <asyncio/http/headers.hpp>

#include <string>
#include <string_view>

namespace asyncio::http::detail {

/// Python: urllib.parse.unquote(s) (unquote_plus when `plus_is_space`).
std::string unquote(std::string_view s, bool plus_is_space);
/// "a=1&b=x+y&a=2" as a MultiDict. Python: urllib.parse.parse_qsl(q, keep_blank_values=True).
MultiDict parse_query(std::string_view q);

}  // namespace asyncio::http::detail
