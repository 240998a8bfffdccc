#include <doctest/doctest.h>

#include <thread>

#include "ember/core/allocator.hpp"
#include "ember/core/tensor.hpp"

using ember::CPUCachingAllocator;
using ember::Tensor;
using ember::WithCPUCachingAllocatorGuard;

TEST_CASE("CPUCachingAllocator: a freed buffer is handed out again for the same size") {
  CPUCachingAllocator cache;
  WithCPUCachingAllocatorGuard use(cache);
  const float* first = nullptr;
  {
    const auto t = ember::full<float>({1000}, 1.f);
    first = t.data();
    CHECK(cache.cached_bytes() == 0);
  }
  CHECK(cache.cached_bytes() == 4000);
  {
    const auto same = ember::full<float>({10, 100}, 2.f);  // same bytes, other shape
    CHECK(same.data() == first);
    CHECK(cache.cached_bytes() == 0);
    CHECK(same.data()[999] == 2.f);
  }
  {
    // Another size is not served from the cached 4000-byte buffer, which stays cached.
    const auto other = ember::zeros<float>({999});
    CHECK(other.data() != first);
    CHECK(cache.cached_bytes() == 4000);
  }
  CHECK(cache.cached_bytes() == 4000 + 3996);
  cache.release();
  CHECK(cache.cached_bytes() == 0);
}

TEST_CASE("CPUCachingAllocator: only tensors made under a guard, on its thread, use the cache") {
  CPUCachingAllocator cache;
  { const auto before = ember::zeros<double>({64}); }
  CHECK(cache.cached_bytes() == 0);
  {
    WithCPUCachingAllocatorGuard use(cache);
    std::thread([] { const auto elsewhere = ember::zeros<double>({64}); }).join();
    CHECK(cache.cached_bytes() == 0);
    { const auto here = ember::zeros<double>({64}); }
    CHECK(cache.cached_bytes() == 512);
  }
  { const auto after = ember::zeros<double>({64}); }
  CHECK(cache.cached_bytes() == 512);
}

TEST_CASE("CPUCachingAllocator: guards nest, and the outer cache comes back") {
  CPUCachingAllocator outer, inner;
  WithCPUCachingAllocatorGuard use_outer(outer);
  {
    WithCPUCachingAllocatorGuard use_inner(inner);
    { const auto t = ember::zeros<float>({8}); }
  }
  { const auto t = ember::zeros<float>({16}); }
  CHECK(inner.cached_bytes() == 32);
  CHECK(outer.cached_bytes() == 64);
}

TEST_CASE("CPUCachingAllocator: buffers freed on another thread or after the allocator are safe") {
  Tensor<float> survivor;
  {
    CPUCachingAllocator cache;
    WithCPUCachingAllocatorGuard use(cache);
    auto moved = ember::ones<float>({256});
    survivor = ember::ones<float>({128});
    std::thread([t = std::move(moved)]() mutable { t = Tensor<float>(); }).join();
    CHECK(cache.cached_bytes() == 1024);  // back in the cache it came from
  }
  // The allocator is gone (LeakSanitizer checks that its cached buffer was freed); the survivor
  // is still usable, and freeing it now goes to the heap.
  CHECK(survivor.sum().item() == 128.f);
  survivor = Tensor<float>();
}
