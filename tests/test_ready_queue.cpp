// The loop's ready queue: FIFO of plain entries and of linked entries (runs of the same
// function sharing one slot), counted per entry.
#include <gtest/gtest.h>

#include <asyncio/detail/ready_queue.hpp>
#include <string>
#include <type_traits>
#include <vector>

using asyncio::detail::ReadyEntry;
using asyncio::detail::ReadyLink;
using asyncio::detail::ReadyQueue;

namespace {

// A linked entry runs with its link as `self`: the link is Item's first member (standard
// layout), so the same functions serve plain entries (self = the item) and linked ones.
struct Item {
    ReadyLink link{};
    const char* name;
    explicit Item(const char* n) : name(n) {}
};
static_assert(std::is_standard_layout_v<Item>);

std::vector<std::string>* seen = nullptr;
std::string name_of(void* self) { return reinterpret_cast<Item*>(self)->name; }
void fa(void* self, bool) { seen->push_back("a:" + name_of(self)); }
void fb(void* self, bool) { seen->push_back("b:" + name_of(self)); }

void push_linked(ReadyQueue& q, void (*fn)(void*, bool), Item& it) { q.push_linked(fn, &it.link); }

std::vector<std::string> drain(ReadyQueue& q) {
    std::vector<std::string> out;
    seen = &out;
    while (!q.empty()) {
        ReadyEntry e = q.pop();
        e.fn(e.self, true);
    }
    seen = nullptr;
    return out;
}

}  // namespace

TEST(ReadyQueue, LinkedAndPlainEntriesKeepOneFifoOrder) {
    ReadyQueue q;
    Item i1{"1"}, i2{"2"}, i3{"3"}, i4{"4"}, p{"p"}, i5{"5"};
    push_linked(q, fa, i1);
    push_linked(q, fa, i2);  // joins 1's run
    push_linked(q, fb, i3);  // another function: a new slot
    push_linked(q, fb, i4);
    q.push(fa, &p);  // a plain entry closes the run
    push_linked(q, fb, i5);
    EXPECT_EQ(q.size(), 6u);
    EXPECT_EQ(q.slots(), 4u);
    EXPECT_EQ(drain(q), (std::vector<std::string>{"a:1", "a:2", "b:3", "b:4", "a:p", "b:5"}));
    EXPECT_EQ(q.size(), 0u);
}

TEST(ReadyQueue, ARunBeingConsumedTakesLaterLinksInOrder) {
    ReadyQueue q;
    Item i1{"1"}, i2{"2"}, i3{"3"};
    push_linked(q, fa, i1);
    push_linked(q, fa, i2);
    std::vector<std::string> out;
    seen = &out;
    ReadyEntry e = q.pop();  // takes 1; the run's slot still holds 2
    e.fn(e.self, true);
    push_linked(q, fa, i3);  // appended to the same run, behind 2
    EXPECT_EQ(q.size(), 2u);
    while (!q.empty()) {
        e = q.pop();
        e.fn(e.self, true);
    }
    seen = nullptr;
    EXPECT_EQ(out, (std::vector<std::string>{"a:1", "a:2", "a:3"}));
    // Emptied: a new link starts a new run, and a link popped may be pushed again.
    push_linked(q, fa, i1);
    EXPECT_EQ(drain(q), (std::vector<std::string>{"a:1"}));
}

TEST(ReadyQueue, AMillionLinkedEntriesTakeOneSlotAndPopInOrder) {
    ReadyQueue q;
    std::vector<Item> items(1'000'000, Item(""));
    for (auto& it : items) push_linked(q, fa, it);
    EXPECT_EQ(q.size(), items.size());
    EXPECT_EQ(q.slots(), 1u);
    std::size_t n = 0;
    std::vector<std::string> out;
    seen = &out;
    while (!q.empty()) {
        ReadyEntry e = q.pop();
        ASSERT_EQ(e.self, &items[n].link);  // a linked entry's self is its link
        ++n;
    }
    seen = nullptr;
    EXPECT_EQ(n, items.size());
}
