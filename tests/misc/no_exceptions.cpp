// Built with -fno-exceptions: a failed check calls the installed handler, then aborts.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ember/ember.hpp"

static_assert(EMBER_EXCEPTIONS == 0, "this test must be compiled with -fno-exceptions");

int main(int argc, char** argv) {
  const bool with_handler = argc > 1 && std::string(argv[1]) == "--handler";
  if (with_handler) {
    ember::set_error_handler([](ember::error_kind kind, const char* message) {
      std::printf("handled %s: %s\n", ember::error_kind_name(kind), message);
      std::fflush(stdout);
      std::_Exit(0);
    });
  }
  std::vector<int> shape{64, 28, 28};
  EMBER_CHECK_SHAPE(shape.size() == 2, "expected [64, 784] got ", shape);
  std::puts("unreachable");
  return 3;
}
