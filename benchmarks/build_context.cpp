// Linked into every benchmark: records in its output how ember was compiled. The test build
// (tools/run-tests.sh: -O2, assertions on) runs ember's generic code about 20% slower than a
// release build (`-DCMAKE_BUILD_TYPE=Release` in a fresh directory: -O3 -DNDEBUG); its figures are
// marked, and a warning says so, so that they are not quoted as a release build's.
#include <benchmark/benchmark.h>

#include <cstdio>

namespace {

struct BuildContext {
  BuildContext() {
#if defined(NDEBUG)
    benchmark::AddCustomContext("ember_build", EMBER_BENCH_CXX_FLAGS);
#else
    benchmark::AddCustomContext("ember_build",
                                EMBER_BENCH_CXX_FLAGS " (assertions on: not a release build)");
    std::fputs("warning: ember was built with assertions on (" EMBER_BENCH_CXX_FLAGS
               "): these are not a release build's figures; see benchmarks/README.md\n",
               stderr);
#endif
  }
};
const BuildContext context;

}  // namespace
