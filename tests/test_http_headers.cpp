// asyncio::http::CIMultiDict: aiohttp's (multidict's) CIMultiDict behaviour.
#include <asyncio/http/headers.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using asyncio::http::CIMultiDict;

TEST(HttpHeaders, LookupIgnoresAsciiCase) {
    CIMultiDict h;
    h.add("Content-Type", "text/plain");
    EXPECT_EQ(h.get("content-type").value(), "text/plain");
    EXPECT_EQ(h.getone("CONTENT-TYPE"), "text/plain");
    EXPECT_EQ(h["Content-type"], "text/plain");
    EXPECT_TRUE(h.contains("cOnTeNt-TyPe"));
    EXPECT_FALSE(h.contains("Content-Length"));
}

TEST(HttpHeaders, GetReturnsTheFirstValueOrTheFallback) {
    CIMultiDict h{{"Via", "a"}, {"via", "b"}};
    EXPECT_EQ(h.get("VIA").value(), "a");
    EXPECT_FALSE(h.get("Host").has_value());
    EXPECT_EQ(h.get("Host", "none"), "none");
}

TEST(HttpHeaders, GetoneOfAMissingNameThrowsOutOfRangeNamingIt) {
    CIMultiDict h;
    try {
        (void)h.getone("X-Missing");
        FAIL() << "no exception";
    } catch (const std::out_of_range& e) {
        EXPECT_NE(std::string(e.what()).find("X-Missing"), std::string::npos);
    }
}

TEST(HttpHeaders, GetallReturnsEveryValueInOrder) {
    CIMultiDict h;
    h.add("Set-Cookie", "a=1");
    h.add("Host", "x");
    h.add("set-cookie", "b=2");
    auto all = h.getall("SET-COOKIE");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], "a=1");
    EXPECT_EQ(all[1], "b=2");
    EXPECT_EQ(h.count("set-cookie"), 2u);
    EXPECT_TRUE(h.getall("Nope").empty());
}

TEST(HttpHeaders, IterationKeepsInsertionOrderAndSpelling) {
    CIMultiDict h;
    h.add("B", "1");
    h.add("a", "2");
    h.add("b", "3");
    std::vector<std::string> seen;
    for (const auto& [k, v] : h) seen.push_back(k + "=" + v);
    EXPECT_EQ(seen, (std::vector<std::string>{"B=1", "a=2", "b=3"}));
    auto keys = h.keys();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[0], "B");
    EXPECT_EQ(keys[1], "a");
}

TEST(HttpHeaders, SetReplacesEveryValueKeepingTheFirstPlace) {
    CIMultiDict h;
    h.add("X", "1");
    h.add("Y", "2");
    h.add("x", "3");
    h.set("X", "new");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h.begin()->first, "X");
    EXPECT_EQ(h.begin()->second, "new");
    EXPECT_EQ(std::next(h.begin())->first, "Y");
    h.set("Z", "appended");
    EXPECT_EQ(h.size(), 3u);
    EXPECT_EQ(h.getone("z"), "appended");
}

TEST(HttpHeaders, SetdefaultKeepsAnExistingValue) {
    CIMultiDict h{{"Host", "a"}};
    EXPECT_EQ(h.setdefault("host", "b"), "a");
    EXPECT_EQ(h.setdefault("Accept", "*/*"), "*/*");
    EXPECT_EQ(h.size(), 2u);
}

TEST(HttpHeaders, PopallRemovesEveryValueAndCountsThem) {
    CIMultiDict h{{"A", "1"}, {"b", "2"}, {"a", "3"}};
    EXPECT_EQ(h.popall("A"), 2u);
    EXPECT_EQ(h.popall("A"), 0u);
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h.getone("B"), "2");
}

TEST(HttpHeaders, ExtendAppendsAndEqualityComparesNamesIgnoringCase) {
    CIMultiDict a{{"A", "1"}};
    CIMultiDict b{{"B", "2"}};
    a.extend(b);
    EXPECT_EQ(a, (CIMultiDict{{"a", "1"}, {"b", "2"}}));
    EXPECT_NE(a, (CIMultiDict{{"b", "2"}, {"a", "1"}}));
    EXPECT_NE(a, (CIMultiDict{{"a", "1"}, {"b", "X"}}));
}

TEST(HttpHeaders, IequalsComparesAsciiOnly) {
    EXPECT_TRUE(asyncio::http::iequals("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(asyncio::http::iequals("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(asyncio::http::iequals("\xc3\x84", "\xc3\xa4"));  // no Unicode folding
}

TEST(HttpHeaders, MultiDictComparesKeysExactly) {
    asyncio::http::MultiDict q;
    q.add("a", "1");
    q.add("A", "2");
    q.add("a", "3");
    EXPECT_EQ(q.getall("a").size(), 2u);
    EXPECT_EQ(q.getone("A"), "2");
    EXPECT_FALSE(q.contains("b"));
    q.set("a", "x");
    EXPECT_EQ(q, (asyncio::http::MultiDict{{"a", "x"}, {"A", "2"}}));
}
