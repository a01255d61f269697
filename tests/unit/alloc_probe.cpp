// Replacement global operator new/delete that record request sizes while an AllocProbe exists.
// Only the plain (non-aligned) forms are replaced; the library's aligned and nothrow forms
// forward to these or to their own allocator, both of which stay consistent with free().
#include "alloc_probe.h"

#include <cstdlib>
#include <new>

namespace {
int g_active = 0;
size_t g_largest = 0;
size_t g_total = 0;

void* allocate(size_t size) {
  if (g_active > 0) {
    if (size > g_largest) g_largest = size;
    g_total += size;
  }
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(size_t size) { return allocate(size); }
void* operator new[](size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace hvterm::test {
AllocProbe::AllocProbe() {
  if (g_active++ == 0) g_largest = g_total = 0;
}
AllocProbe::~AllocProbe() { --g_active; }
size_t AllocProbe::largest() const { return g_largest; }
size_t AllocProbe::total() const { return g_total; }
}  // namespace hvterm::test
