// asyncio::http::URL: splitting, normalising, joining (RFC 3986 §5.4 examples, checked
// against CPython 3.13's urllib.parse.urljoin) and query encoding (urlencode).
#include <gtest/gtest.h>

#include <asyncio/http/url.hpp>

using asyncio::http::InvalidURL;
using asyncio::http::URL;

TEST(HttpURL, SplitsEveryPart) {
    URL u("HTTP://user:pw@Example.COM:8080/a/b?x=1&y=2#frag");
    EXPECT_EQ(u.scheme(), "http");
    EXPECT_EQ(u.user(), "user");
    EXPECT_EQ(u.password(), "pw");
    EXPECT_EQ(u.host(), "example.com");
    EXPECT_EQ(u.port(), 8080);
    EXPECT_EQ(u.explicit_port(), 8080);
    EXPECT_EQ(u.path(), "/a/b");
    EXPECT_EQ(u.query_string(), "x=1&y=2");
    EXPECT_EQ(u.fragment(), "frag");
    EXPECT_EQ(u.raw_path_qs(), "/a/b?x=1&y=2");
    EXPECT_EQ(u.host_port(), "example.com:8080");
    EXPECT_EQ(u.str(), "http://user:pw@example.com:8080/a/b?x=1&y=2#frag");
    EXPECT_EQ(u.human_repr(), "http://user:********@example.com:8080/a/b?x=1&y=2#frag");
}

TEST(HttpURL, DefaultPortsAndAnEmptyPath) {
    URL u("https://h");
    EXPECT_EQ(u.port(), 443);
    EXPECT_FALSE(u.explicit_port());
    EXPECT_EQ(u.path(), "/");
    EXPECT_EQ(u.host_port(), "h");
    EXPECT_EQ(URL("http://h:80/").host_port(), "h");
    EXPECT_EQ(URL("http://h?q").raw_path_qs(), "/?q");
}

TEST(HttpURL, Ipv6LiteralsLoseTheirBracketsAndGetThemBackInHostPort) {
    URL u("http://[::1]:8443/x");
    EXPECT_EQ(u.host(), "::1");
    EXPECT_TRUE(u.is_ipv6());
    EXPECT_EQ(u.port(), 8443);
    EXPECT_EQ(u.host_port(), "[::1]:8443");
    EXPECT_EQ(u.str(), "http://[::1]:8443/x");
    EXPECT_EQ(URL("http://[::1]").host_port(), "[::1]");
}

TEST(HttpURL, BytesThatMayNotBeRawArePercentEncodedAndEscapesKept) {
    URL u("http://h/a b/%7e%zz?q=a b&r=%41#f g");
    EXPECT_EQ(u.path(), "/a%20b/%7E%25zz");
    EXPECT_EQ(u.query_string(), "q=a%20b&r=%41");
    EXPECT_EQ(u.fragment(), "f%20g");
    // A CR LF cannot split the request line.
    EXPECT_EQ(URL("http://h/x\r\nHost: evil").path(), "/x%0D%0AHost:%20evil");
}

TEST(HttpURL, BadUrlsRaiseInvalidUrlNamingTheProblem) {
    auto message = [](const char* text) {
        try {
            (void)URL(text);
        } catch (const InvalidURL& e) {
            EXPECT_EQ(e.url(), text);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(
        message("/just/a/path"),
        "invalid URL '/just/a/path': no scheme (an absolute URL starts with http:// or https://)");
    EXPECT_EQ(message("http:///path"), "invalid URL 'http:///path': no host");
    EXPECT_EQ(message("http://h:99999/"),
              "invalid URL 'http://h:99999/': the port '99999' is not a number from 0 to 65535");
    EXPECT_EQ(message("http://h:8x/"),
              "invalid URL 'http://h:8x/': the port '8x' is not a number from 0 to 65535");
    EXPECT_EQ(message("http://[::1/"),
              "invalid URL 'http://[::1/': an IPv6 literal without its closing ']'");
    EXPECT_EQ(message("http://[zz::1]/"),
              "invalid URL 'http://[zz::1]/': 'zz::1' is not an IPv6 address");
    EXPECT_EQ(message("http://a b/"), "invalid URL 'http://a b/': the character ' ' in the host");
    EXPECT_EQ(message("http://h\xc3\xa9.com/"),
              "invalid URL 'http://h\xc3\xa9.com/': a non-ASCII host name (IDNA is not supported)");
    // InvalidURL is a std::invalid_argument (aiohttp's is a ValueError).
    EXPECT_THROW((void)URL("nope"), std::invalid_argument);
}

TEST(HttpURL, JoinFollowsRfc3986Examples) {
    URL base("http://a/b/c/d;p?q");
    const std::pair<const char*, const char*> cases[] = {
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g/"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"https://other:8443/x", "https://other:8443/x"},
    };
    for (auto [ref, want] : cases)
        EXPECT_EQ(base.join(ref).str(), want) << "reference '" << ref << "'";
    // A redirect to another scheme without a host is refused.
    EXPECT_THROW((void)base.join("mailto:x@y"), InvalidURL);
}

TEST(HttpURL, QueryParametersAreEncodedLikeUrlencode) {
    URL u("http://h/p?k=v");
    URL more = u.update_query({{"a", "1 2"}, {"b", "x&y=z"}, {"c", "\xc3\xa9/~"}});
    // CPython: urlencode([('a','1 2'),('b','x&y=z'),('c','é/~')])
    EXPECT_EQ(more.query_string(), "k=v&a=1+2&b=x%26y%3Dz&c=%C3%A9%2F~");
    EXPECT_EQ(u.with_query({{"only", "1"}}).raw_path_qs(), "/p?only=1");
    auto q = more.query();
    ASSERT_EQ(q.size(), 4u);
    EXPECT_EQ(q[1], (std::pair<std::string, std::string>{"a", "1 2"}));
    EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"b", "x&y=z"}));
    EXPECT_EQ(asyncio::http::unquote("%41%2"), "A%2");
    EXPECT_EQ(asyncio::http::quote("a b/c"), "a%20b/c");
}
