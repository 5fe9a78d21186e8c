// HTTP header fields: a case-insensitive multi-valued map that keeps insertion order.
//
// HTTP field names compare without regard to ASCII case ("Content-Type" == "content-type"),
// a name may repeat (Set-Cookie, Via), and the order of the fields is kept as received or
// added. This is aiohttp's `CIMultiDict` (from the multidict package) in C++: get / getone /
// getall, add (one more value), set (replace every value), popall, contains, iteration over
// (name, value) pairs in insertion order. Names keep the spelling they were given.
// MultiDict is the same with case-sensitive keys (query strings, form fields).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asyncio::http {

/// True if `a` and `b` are equal ignoring ASCII case (HTTP field names, tokens).
bool iequals(std::string_view a, std::string_view b) noexcept;

namespace detail {
struct KeyEqualIgnoringCase {
    bool operator()(std::string_view a, std::string_view b) const noexcept { return iequals(a, b); }
};
struct KeyEqual {
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};
}  // namespace detail

/// A multi-valued mapping of names to values, in insertion order; `KeyEq` compares names.
/// Used as CIMultiDict (header fields) and MultiDict (query strings, forms).
///
/// Lookups are linear in the number of fields (a request carries tens of fields, where a
/// scan over a contiguous vector beats hashing).
/// Errors: getone() and operator[] on a missing name throw std::out_of_range naming the key.
/// Python: multidict.CIMultiDict (aiohttp's `request.headers`, `response.headers`) and
/// multidict.MultiDict (`request.query`);
/// `md[k] = v` is set(k, v), `del md[k]` is popall(k), `md.getall(k, [])` is getall(k)
/// (empty when absent rather than KeyError).
template <class KeyEq>
class BasicMultiDict {
  public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    BasicMultiDict() = default;
    BasicMultiDict(std::initializer_list<value_type> items);

    /// The first value of `key`, or nullopt. Python: md.get(key).
    std::optional<std::string_view> get(std::string_view key) const noexcept;
    /// The first value of `key`, or `fallback`. Python: md.get(key, default).
    std::string_view get(std::string_view key, std::string_view fallback) const noexcept;
    /// The first value of `key`. Errors: std::out_of_range when absent. Python: md.getone(key).
    const std::string& getone(std::string_view key) const;
    /// Same as getone(). Python: md[key].
    const std::string& operator[](std::string_view key) const { return getone(key); }
    /// Every value of `key` in order (empty when absent). Python: md.getall(key, []).
    std::vector<std::string_view> getall(std::string_view key) const;
    /// True if `key` has at least one value. Python: `key in md`.
    bool contains(std::string_view key) const noexcept;
    /// How many values `key` has.
    std::size_t count(std::string_view key) const noexcept;

    /// Appends one (key, value) field. Python: md.add(key, value).
    void add(std::string key, std::string value);
    /// Replaces every value of `key` with `value`: the first field keeps its place, the others
    /// go; appended when absent. Python: md[key] = value.
    void set(std::string_view key, std::string value);
    /// Sets `key` only if it is absent; returns its (first) value. Python: md.setdefault().
    const std::string& setdefault(std::string_view key, std::string value);
    /// Adds every field of `other` in order. Python: md.extend(other).
    void extend(const BasicMultiDict& other);
    /// Removes every value of `key`; returns how many were removed. Python: del md[key]
    /// (which raises KeyError when absent; here 0 is returned).
    std::size_t popall(std::string_view key) noexcept;
    /// Removes every field.
    void clear() noexcept { items_.clear(); }

    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    const_iterator begin() const noexcept { return items_.begin(); }
    const_iterator end() const noexcept { return items_.end(); }
    /// The distinct names in order of first appearance. Python: md.keys() without repeats.
    std::vector<std::string_view> keys() const;

    /// Equal when they hold the same fields in the same order (names compared with KeyEq).
    bool operator==(const BasicMultiDict& other) const noexcept;

  private:
    std::vector<value_type> items_;
};

extern template class BasicMultiDict<detail::KeyEqualIgnoringCase>;
extern template class BasicMultiDict<detail::KeyEqual>;

/// Header fields: names compare ignoring ASCII case. Python: multidict.CIMultiDict.
using CIMultiDict = BasicMultiDict<detail::KeyEqualIgnoringCase>;
/// Query parameters, form fields: names compare exactly. Python: multidict.MultiDict.
using MultiDict = BasicMultiDict<detail::KeyEqual>;

}  // namespace asyncio::http
