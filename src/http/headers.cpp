// CIMultiDict / MultiDict: a vector of (name, value) pairs scanned with the key comparison.
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

template <class K>
BasicMultiDict<K>::BasicMultiDict(std::initializer_list<value_type> items) : items_(items) {}

template <class K>
std::optional<std::string_view> BasicMultiDict<K>::get(std::string_view key) const noexcept {
    for (const auto& [k, v] : items_) {
        if (K{}(k, key)) return std::string_view(v);
    }
    return std::nullopt;
}

template <class K>
std::string_view BasicMultiDict<K>::get(std::string_view key,
                                        std::string_view fallback) const noexcept {
    auto v = get(key);
    return v ? *v : fallback;
}

template <class K>
const std::string& BasicMultiDict<K>::getone(std::string_view key) const {
    for (const auto& [k, v] : items_) {
        if (K{}(k, key)) return v;
    }
    throw std::out_of_range("no key '" + std::string(key) + "' in the multidict");
}

template <class K>
std::vector<std::string_view> BasicMultiDict<K>::getall(std::string_view key) const {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : items_) {
        if (K{}(k, key)) out.emplace_back(v);
    }
    return out;
}

template <class K>
bool BasicMultiDict<K>::contains(std::string_view key) const noexcept {
    return get(key).has_value();
}

template <class K>
std::size_t BasicMultiDict<K>::count(std::string_view key) const noexcept {
    std::size_t n = 0;
    for (const auto& item : items_) n += K{}(item.first, key) ? 1 : 0;
    return n;
}

template <class K>
void BasicMultiDict<K>::add(std::string key, std::string value) {
    items_.emplace_back(std::move(key), std::move(value));
}

template <class K>
void BasicMultiDict<K>::set(std::string_view key, std::string value) {
    auto it = items_.begin();
    while (it != items_.end() && !K{}(it->first, key)) ++it;
    if (it == items_.end()) {
        items_.emplace_back(std::string(key), std::move(value));
        return;
    }
    it->second = std::move(value);
    auto out = std::next(it);
    for (auto in = out; in != items_.end(); ++in) {
        if (!K{}(in->first, key)) {
            if (out != in) *out = std::move(*in);
            ++out;
        }
    }
    items_.erase(out, items_.end());
}

template <class K>
const std::string& BasicMultiDict<K>::setdefault(std::string_view key, std::string value) {
    for (const auto& [k, v] : items_) {
        if (K{}(k, key)) return v;
    }
    items_.emplace_back(std::string(key), std::move(value));
    return items_.back().second;
}

template <class K>
void BasicMultiDict<K>::extend(const BasicMultiDict& other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

template <class K>
std::size_t BasicMultiDict<K>::popall(std::string_view key) noexcept {
    auto before = items_.size();
    std::erase_if(items_, [&](const value_type& item) { return K{}(item.first, key); });
    return before - items_.size();
}

template <class K>
std::vector<std::string_view> BasicMultiDict<K>::keys() const {
    std::vector<std::string_view> out;
    for (const auto& item : items_) {
        bool seen = false;
        for (auto k : out) {
            if (K{}(k, item.first)) {
                seen = true;
                break;
            }
        }
        if (!seen) out.emplace_back(item.first);
    }
    return out;
}

template <class K>
bool BasicMultiDict<K>::operator==(const BasicMultiDict& other) const noexcept {
    if (items_.size() != other.items_.size()) return false;
    for (std::size_t i = 0; i < items_.size(); ++i) {
        if (!K{}(items_[i].first, other.items_[i].first) ||
            items_[i].second != other.items_[i].second)
            return false;
    }
    return true;
}

template class BasicMultiDict<detail::KeyEqualIgnoringCase>;
template class BasicMultiDict<detail::KeyEqual>;

}  // namespace asyncio::http
