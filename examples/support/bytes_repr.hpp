// Python's repr() of bytes, for examples that print what they receive as Python does:
// b'hello', b'a\nb', b"it's".
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace example {

inline std::string bytes_repr(std::string_view data) {
    char quote =
        (data.find('\'') != std::string_view::npos && data.find('"') == std::string_view::npos)
            ? '"'
            : '\'';
    std::string out = "b";
    out += quote;
    for (unsigned char c : data) {
        if (c == '\\' || c == static_cast<unsigned char>(quote)) {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += quote;
    return out;
}

}  // namespace example
