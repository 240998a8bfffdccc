// A user's program: checks the version and runs a dispatched kernel.
#include <ember/ember.hpp>

#include <cstdio>

int main() {
  float x[5] = {1, 2, 3, 4, 5};
  float y[5] = {0, 0, 0, 0, 0};
  ember::kernels::axpy(5, 2.0f, x, y);
  std::printf("ember %s on %s: y[4] = %g\n", ember::version_string,
              ember::isa_name(ember::current_isa()), static_cast<double>(y[4]));
  return (y[4] == 10.0f && EMBER_ISA_UNITS == 1) ? 0 : 1;
}
