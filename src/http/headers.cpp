// CIMultiDict: a vector of (name, value) pairs scanned with an ASCII case-insensitive compare.
#include <asyncio/http/headers.hpp>

#include <iterator>
#include <stdexcept>

namespace asyncio::http {

namespace {
constexpr unsigned char lower(unsigned char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + ('a' - 'A')) : c;
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(static_cast<unsigned char>(a[i])) != lower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

CIMultiDict::CIMultiDict(std::initializer_list<value_type> items) : items_(items) {}

std::optional<std::string_view> CIMultiDict::get(std::string_view key) const noexcept {
    for (const auto& [k, v] : items_) {
        if (iequals(k, key)) return std::string_view(v);
    }
    return std::nullopt;
}

std::string_view CIMultiDict::get(std::string_view key, std::string_view fallback) const noexcept {
    auto v = get(key);
    return v ? *v : fallback;
}

const std::string& CIMultiDict::getone(std::string_view key) const {
    for (const auto& [k, v] : items_) {
        if (iequals(k, key)) return v;
    }
    throw std::out_of_range("CIMultiDict: no header '" + std::string(key) + "'");
}

std::vector<std::string_view> CIMultiDict::getall(std::string_view key) const {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : items_) {
        if (iequals(k, key)) out.emplace_back(v);
    }
    return out;
}

bool CIMultiDict::contains(std::string_view key) const noexcept { return get(key).has_value(); }

std::size_t CIMultiDict::count(std::string_view key) const noexcept {
    std::size_t n = 0;
    for (const auto& item : items_) n += iequals(item.first, key) ? 1 : 0;
    return n;
}

void CIMultiDict::add(std::string key, std::string value) {
    items_.emplace_back(std::move(key), std::move(value));
}

void CIMultiDict::set(std::string_view key, std::string value) {
    auto it = items_.begin();
    while (it != items_.end() && !iequals(it->first, key)) ++it;
    if (it == items_.end()) {
        items_.emplace_back(std::string(key), std::move(value));
        return;
    }
    it->second = std::move(value);
    auto out = std::next(it);
    for (auto in = out; in != items_.end(); ++in) {
        if (!iequals(in->first, key)) {
            if (out != in) *out = std::move(*in);
            ++out;
        }
    }
    items_.erase(out, items_.end());
}

const std::string& CIMultiDict::setdefault(std::string_view key, std::string value) {
    for (const auto& [k, v] : items_) {
        if (iequals(k, key)) return v;
    }
    items_.emplace_back(std::string(key), std::move(value));
    return items_.back().second;
}

void CIMultiDict::extend(const CIMultiDict& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

std::size_t CIMultiDict::popall(std::string_view key) noexcept {
    auto before = items_.size();
    std::erase_if(items_, [&](const value_type& item) { return iequals(item.first, key); });
    return before - items_.size();
}

std::vector<std::string_view> CIMultiDict::keys() const {
    std::vector<std::string_view> out;
    for (const auto& item : items_) {
        bool seen = false;
        for (auto k : out) {
            if (iequals(k, item.first)) {
                seen = true;
                break;
            }
        }
        if (!seen) out.emplace_back(item.first);
    }
    return out;
}

bool operator==(const CIMultiDict& a, const CIMultiDict& b) noexcept {
    if (a.items_.size() != b.items_.size()) return false;
    for (std::size_t i = 0; i < a.items_.size(); ++i) {
        if (!iequals(a.items_[i].first, b.items_[i].first) ||
            a.items_[i].second != b.items_[i].second)
            return false;
    }
    return true;
}

}  // namespace asyncio::http
