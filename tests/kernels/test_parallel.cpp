#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "ember/kernels/parallel.hpp"

TEST_CASE("parallel_for covers the range exactly once, for any thread count and grain") {
  const int saved = ember::get_num_threads();
  for (int threads : {1, 2, 3}) {
    ember::set_num_threads(threads);
    CHECK(ember::get_num_threads() == threads);
    for (std::size_t n : {0u, 1u, 7u, 1000u}) {
      for (std::size_t grain : {1u, 16u, 100000u}) {
        std::vector<std::atomic<int>> hits(n + 3);
        ember::parallel_for(3, n + 3, grain, [&](std::size_t lo, std::size_t hi) {
          CHECK(lo < hi);
          for (std::size_t i = lo; i < hi; ++i) hits[i].fetch_add(1);
        });
        for (std::size_t i = 0; i < n + 3; ++i) CHECK(hits[i].load() == (i >= 3 ? 1 : 0));
      }
    }
  }
  ember::set_num_threads(saved);
}

TEST_CASE("set_num_threads rejects counts below one") {
  CHECK_THROWS_WITH_AS(ember::set_num_threads(0),
                       "set_num_threads: expected a thread count >= 1, got 0", ember::value_error);
}
