// Names of functions and types for debug reports (CPython: asyncio/format_helpers.py).
//
// A callback or coroutine is named after the symbol of its code address: dladdr() knows the
// exported symbols; the others (static functions, a coroutine's "[clone .actor]" resume
// function, any symbol of an executable linked without -rdynamic) are looked up in the
// object file's own symbol table (.symtab), read from disk on first use. Only reports call
// this, so none of it is on a hot path.
#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <typeinfo>

#include "asyncio/events.hpp"

namespace asyncio::detail {

namespace {

std::string demangle(const char* symbol) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> dem(
        abi::__cxa_demangle(symbol, nullptr, nullptr, &status), std::free);
    return status == 0 && dem ? std::string(dem.get()) : std::string(symbol);
}

/// The name of the function symbol of `file` containing file address `addr`, from its
/// .symtab; "" when there is none (a stripped binary).
std::string symtab_lookup(const char* file, ElfW(Addr) addr) {
    int fd = ::open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(ElfW(Ehdr)))) {
        ::close(fd);
        return {};
    }
    auto size = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return {};
    std::string found;
    const auto* base = static_cast<const unsigned char*>(map);
    const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(base);
    auto in_file = [&](std::size_t off, std::size_t len) { return off <= size && len <= size - off; };
    if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
        in_file(eh->e_shoff, std::size_t{eh->e_shnum} * sizeof(ElfW(Shdr)))) {
        const auto* sh = reinterpret_cast<const ElfW(Shdr)*>(base + eh->e_shoff);
        for (unsigned i = 0; i < eh->e_shnum && found.empty(); ++i) {
            if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
            const ElfW(Shdr)& strtab = sh[sh[i].sh_link];
            if (!in_file(sh[i].sh_offset, sh[i].sh_size) ||
                !in_file(strtab.sh_offset, strtab.sh_size))
                continue;
            const auto* syms = reinterpret_cast<const ElfW(Sym)*>(base + sh[i].sh_offset);
            std::size_t n = sh[i].sh_size / sizeof(ElfW(Sym));
            for (std::size_t k = 0; k < n; ++k) {
                const ElfW(Sym)& s = syms[k];
                if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_name >= strtab.sh_size) continue;
                if (addr >= s.st_value && addr < s.st_value + (s.st_size ? s.st_size : 1)) {
                    const char* name =
                        reinterpret_cast<const char*>(base + strtab.sh_offset + s.st_name);
                    found = std::string(name, strnlen(name, strtab.sh_size - s.st_name));
                    break;
                }
            }
        }
    }
    ::munmap(map, size);
    return found;
}

/// "ns::f(int) [clone .actor]" -> "ns::f": the qualified name, as Python's __qualname__.
std::string strip_signature(std::string name) {
    if (auto pos = name.find(" [clone"); pos != std::string::npos) name.erase(pos);
    // cut at the '(' of the parameter list: the first one outside <...>
    int depth = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c == '<') ++depth;
        if (c == '>' && depth > 0) --depth;
        if (c == '(' && depth == 0 && i > 0) {
            // "{lambda()#1}" and "(anonymous namespace)" are part of the name
            if (name[i - 1] == 'a' && name.compare(i - 6, 6, "lambda") == 0) continue;
            if (name.compare(i, 21, "(anonymous namespace)") == 0) continue;
            name.erase(i);
            break;
        }
    }
    return name;
}

}  // namespace

std::string function_name(const void* fn) {
    Dl_info info{};
    if (::dladdr(fn, &info)) {
        if (info.dli_sname) return strip_signature(demangle(info.dli_sname));
        if (info.dli_fname && info.dli_fbase) {
            // A shared object or PIE: symbols are relative to the load base; a fixed-address
            // executable's are absolute.
            const auto* eh = static_cast<const ElfW(Ehdr)*>(info.dli_fbase);
            auto a = reinterpret_cast<ElfW(Addr)>(fn);
            ElfW(Addr) addr = eh->e_type == ET_DYN ? a - reinterpret_cast<ElfW(Addr)>(info.dli_fbase) : a;
            const char* file = info.dli_fname;
            if (!*file || std::strchr(file, '/') == nullptr) file = "/proc/self/exe";
            std::string sym = symtab_lookup(file, addr);
            if (!sym.empty()) return strip_signature(demangle(sym.c_str()));
        }
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", fn);
    return buf;
}

std::string type_name(const std::type_info& type) { return demangle(type.name()); }

}  // namespace asyncio::detail
