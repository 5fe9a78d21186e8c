// URL: an absolute http(s) URL split into its parts (RFC 3986), as the HTTP client needs it.
//
// URL::parse() splits "scheme://user:password@host:port/path?query#fragment", lower-cases the
// scheme and the host, keeps an IPv6 literal without its brackets, fills in the scheme's
// default port, and percent-encodes the bytes that may not appear raw in a path, a query or
// a fragment (a space becomes %20; an existing %XX escape is kept). join() resolves a
// reference against the URL (RFC 3986 §5.2, what a redirect's Location needs);
// with_query() / update_query() encode query parameters. This is yarl.URL's shape, reduced
// to what a client uses; it is a splitter, not an HTTP message parser.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asyncio::http {

/// A URL that cannot be parsed or used. what() names the URL and what is wrong.
/// Python: aiohttp.InvalidURL (a ValueError); httpx.InvalidURL.
class InvalidURL : public std::invalid_argument {
  public:
    InvalidURL(std::string url, const std::string& why);
    /// The URL as given.
    const std::string& url() const noexcept { return url_; }

  private:
    std::string url_;
};

/// Query parameters in order; a name may repeat. Python: a list of (name, value) pairs.
using Params = std::vector<std::pair<std::string, std::string>>;

/// A parsed URL. Python: yarl.URL. Values, cheap to copy.
class URL {
  public:
    URL() = default;
    /// Parses `text`, an absolute URL with a scheme and a host ("http://h/p"), or, for
    /// `relative_ok`, also a reference without them ("/p?q", "../x", "//h/p").
    /// Errors: InvalidURL (no scheme or host, a bad port, a bad IPv6 literal, a control
    /// character or a space in the host...).
    static URL parse(std::string_view text, bool relative_ok = false);
    /// Parses `text` (absolute). Errors: InvalidURL.
    explicit URL(std::string_view text) : URL(parse(text)) {}

    /// "http", "https"... lower case; "" in a relative reference.
    const std::string& scheme() const noexcept { return scheme_; }
    const std::string& user() const noexcept { return user_; }
    const std::string& password() const noexcept { return password_; }
    /// The host, lower case; an IPv6 literal without brackets ("::1").
    const std::string& host() const noexcept { return host_; }
    /// The port given, or the scheme's default (80, 443), or nullopt when neither.
    std::optional<int> port() const noexcept;
    /// The port as written in the URL, if any. Python: yarl explicit_port.
    std::optional<int> explicit_port() const noexcept { return port_; }
    /// The path as sent, percent-encoded; "/" when an absolute URL has none.
    const std::string& path() const noexcept { return path_; }
    /// The query string without "?", percent-encoded; "" when none. Python: query_string.
    const std::string& query_string() const noexcept { return query_; }
    /// The query decoded into pairs ("+" is a space). Python: yarl URL.query (a MultiDict).
    Params query() const;
    const std::string& fragment() const noexcept { return fragment_; }
    /// An absolute URL (it has a scheme and a host).
    bool is_absolute() const noexcept { return !host_.empty(); }
    bool is_ipv6() const noexcept { return host_.find(':') != std::string::npos; }
    /// The port is the scheme's default one.
    bool is_default_port() const noexcept;

    /// The request target: path and "?query" (no fragment). Python: yarl raw_path_qs.
    std::string raw_path_qs() const;
    /// The Host header's value: the host ([...] for IPv6) and ":port" unless the default.
    std::string host_port() const;
    /// scheme://host[:port], without user, path, query or fragment. Python: URL.origin().
    URL origin() const;
    /// The URL as text (user info included, fragment included).
    std::string str() const;
    /// The URL as text without the password (for messages and logs).
    std::string human_repr() const;

    /// `reference` resolved against this URL (RFC 3986 §5.2.2, with dot segments removed).
    /// Python: URL.join(URL(reference)) / urllib.parse.urljoin. Errors: InvalidURL.
    URL join(std::string_view reference) const;
    /// This URL with its query replaced by `params` (encoded). Python: with_query(params).
    URL with_query(const Params& params) const;
    /// This URL with `params` appended to its query. Python: update_query / extend_query.
    URL update_query(const Params& params) const;
    /// This URL without its fragment.
    URL with_fragment(std::string fragment) const;

    friend bool operator==(const URL&, const URL&) = default;

  private:
    std::string scheme_, user_, password_, host_;
    std::optional<int> port_;
    std::string path_, query_, fragment_;
    bool has_authority_ = false;
    bool has_query_ = false;
    bool has_fragment_ = false;
};

/// The default port of `scheme` (http 80, https 443, ws 80, wss 443), nullopt otherwise.
std::optional<int> default_port(std::string_view scheme) noexcept;

/// Percent-encodes every byte of `s` outside the unreserved set and `safe`.
/// Python: urllib.parse.quote(s, safe).
std::string quote(std::string_view s, std::string_view safe = "/");
/// Decodes %XX escapes (and "+" as a space when `plus`). A malformed escape stays as is.
/// Python: urllib.parse.unquote / unquote_plus.
std::string unquote(std::string_view s, bool plus = false);
/// "a=1&b=x+y": application/x-www-form-urlencoded. Python: urllib.parse.urlencode(pairs).
std::string urlencode(const Params& params);

}  // namespace asyncio::http
