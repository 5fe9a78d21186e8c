// Frame names from the objects' symbol tables (see asyncio/detail/frames.hpp).
#include "asyncio/detail/frames.hpp"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "asyncio/coro.hpp"

namespace asyncio::detail {

namespace {

struct Symbol {
    std::uintptr_t addr;  // relative to the object's load bias
    std::size_t size;
    std::string name;  // mangled
};

/// The function symbols of one ELF file (64-bit), sorted by address; empty when the file
/// cannot be read or has no symbol table. Every offset is checked against the file's size.
std::vector<Symbol> read_symbols(const char* path) {
    std::vector<Symbol> out;
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
        ::close(fd);
        return out;
    }
    const std::size_t len = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return out;
    const auto* base = static_cast<const unsigned char*>(map);
    auto fits = [len](std::uint64_t off, std::uint64_t n) { return off <= len && n <= len - off; };
    const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
    if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
        eh->e_shentsize == sizeof(Elf64_Shdr) &&
        fits(eh->e_shoff, std::uint64_t{eh->e_shnum} * sizeof(Elf64_Shdr))) {
        const auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
        // .symtab has the local symbols (coroutine actors); .dynsym is the fallback.
        for (Elf64_Word want : {Elf64_Word{SHT_SYMTAB}, Elf64_Word{SHT_DYNSYM}}) {
            for (unsigned i = 0; i < eh->e_shnum; ++i) {
                const Elf64_Shdr& s = sh[i];
                if (s.sh_type != want || s.sh_link >= eh->e_shnum) continue;
                const Elf64_Shdr& strs = sh[s.sh_link];
                if (!fits(s.sh_offset, s.sh_size) || !fits(strs.sh_offset, strs.sh_size)) continue;
                const auto* syms = reinterpret_cast<const Elf64_Sym*>(base + s.sh_offset);
                const char* names = reinterpret_cast<const char*>(base + strs.sh_offset);
                for (std::size_t k = 0; k < s.sh_size / sizeof(Elf64_Sym); ++k) {
                    const Elf64_Sym& y = syms[k];
                    if (ELF64_ST_TYPE(y.st_info) != STT_FUNC || y.st_value == 0) continue;
                    if (y.st_name >= strs.sh_size) continue;
                    const char* n = names + y.st_name;
                    std::size_t nl = ::strnlen(n, strs.sh_size - y.st_name);
                    out.push_back({static_cast<std::uintptr_t>(y.st_value),
                                   static_cast<std::size_t>(y.st_size), std::string(n, nl)});
                }
            }
            if (!out.empty()) break;
        }
    }
    ::munmap(map, len);
    std::sort(out.begin(), out.end(),
              [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
    return out;
}

struct Lookup {
    std::uintptr_t addr = 0;
    std::uintptr_t bias = 0;
    std::string path;
    bool found = false;
};

int find_object(dl_phdr_info* info, std::size_t, void* data) {
    auto* q = static_cast<Lookup*>(data);
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD) continue;
        std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
        if (q->addr >= lo && q->addr < lo + ph.p_memsz) {
            q->bias = info->dlpi_addr;
            q->path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
            q->found = true;
            return 1;
        }
    }
    return 0;
}

std::string demangle(const std::string& mangled) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(
        abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), std::free);
    return status == 0 && d ? std::string(d.get()) : mangled;
}

/// "ns::f(int) [clone .actor]" -> "ns::f": the qualified name, as Python's __qualname__.
std::string strip_signature(std::string name) {
    if (auto pos = name.find(" [clone"); pos != std::string::npos) name.erase(pos);
    int depth = 0;  // the '(' of the parameter list is the first one outside <...>
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c == '<') ++depth;
        if (c == '>' && depth > 0) --depth;
        if (c == '(' && depth == 0 && i > 0) {
            // "{lambda()#1}" and "(anonymous namespace)" are part of the name
            if (i >= 6 && name.compare(i - 6, 6, "lambda") == 0) continue;
            if (name.compare(i, 21, "(anonymous namespace)") == 0) continue;
            name.erase(i);
            break;
        }
    }
    return name;
}

/// GCC names a coroutine's actor `<mangled ramp>P<frame type>.actor`, the frame type ending in
/// `<length><mangled ramp>.Frame`: the ramp's name is what a user wrote.
std::string coroutine_symbol(std::string name) {
    for (const char* suffix : {".actor", ".destroy"}) {
        std::size_t n = std::strlen(suffix);
        if (name.size() > n && name.compare(name.size() - n, n, suffix) == 0) {
            name.erase(name.size() - n);
            break;
        }
    }
    static constexpr char frame[] = ".Frame";
    const std::size_t fl = sizeof(frame) - 1;
    if (name.size() > fl && name.compare(name.size() - fl, fl, frame) == 0) {
        // Find the length prefix that covers exactly the tail.
        for (std::size_t i = name.size() - fl; i-- > 1;) {
            if (name[i] != '_' || name[i + 1] != 'Z') continue;
            std::size_t j = i;
            while (j > 0 && name[j - 1] >= '0' && name[j - 1] <= '9') --j;
            if (j == i) continue;
            std::size_t declared = std::strtoul(name.substr(j, i - j).c_str(), nullptr, 10);
            if (declared == name.size() - i)
                return strip_signature(demangle(name.substr(i, name.size() - i - fl)));
        }
    }
    return strip_signature(demangle(name));
}

}  // namespace

std::string qualified_name(const std::string& mangled) { return coroutine_symbol(mangled); }

std::string demangled_type_name(const char* mangled) { return demangle(mangled); }

std::string symbol_name(const void* code) {
    static std::mutex m;
    static std::map<std::string, std::vector<Symbol>> cache;
    Lookup q;
    q.addr = reinterpret_cast<std::uintptr_t>(code);
    ::dl_iterate_phdr(&find_object, &q);
    if (!q.found) return {};
    std::lock_guard<std::mutex> lock(m);
    auto it = cache.find(q.path);
    if (it == cache.end()) it = cache.emplace(q.path, read_symbols(q.path.c_str())).first;
    const auto& syms = it->second;
    std::uintptr_t rel = q.addr - q.bias;
    auto s = std::upper_bound(syms.begin(), syms.end(), rel,
                              [](std::uintptr_t a, const Symbol& y) { return a < y.addr; });
    if (s == syms.begin()) return {};
    --s;
    if (rel >= s->addr + std::max<std::size_t>(s->size, 1)) return {};
    return coroutine_symbol(s->name);
}

std::string coroutine_name(std::coroutine_handle<> frame) {
    if (!frame) return "<no coroutine>";
    void* resume_fn = *static_cast<void**>(frame.address());
    std::string name = symbol_name(resume_fn);
    if (!name.empty()) return name;
    char buf[48];
    std::snprintf(buf, sizeof buf, "<coroutine %p>", frame.address());
    return buf;
}

std::coroutine_handle<> frame_continuation(std::coroutine_handle<> frame) noexcept {
    // Coro's and AsyncGenerator's promises both start with promise_base.
    auto h = std::coroutine_handle<promise_base>::from_address(frame.address());
    std::coroutine_handle<> c = h.promise().continuation_;
    if (!c || c.address() == std::noop_coroutine().address()) return {};
    return c;
}

}  // namespace asyncio::detail
