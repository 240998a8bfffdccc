// Prints what ember found on this machine and runs a kernel on every usable ISA.
#include <chrono>
#include <cstdio>
#include <vector>

#include "ember/ember.hpp"

int main() {
  std::printf("ember %s\n", ember::version_string);
  std::printf("CPU features:  %s\n", ember::cpu_features().to_string().c_str());
  std::printf("ISAs usable:   %s\n",
              ember::kernels::detail::isa_list(ember::available_isas()).c_str());
  const ember::Isa chosen = ember::current_isa();
  std::printf("ISA in use:    %s (xsimd arch %s)\n", ember::isa_name(chosen),
              ember::active_kernels().arch_name);

  // y += a * x on 1M floats, 50 times, on each ISA; every ISA must give the same sum.
  const std::size_t n = 1 << 20;
  std::printf("\naxpy on %zu floats, best of 50 runs:\n", n);
  for (ember::Isa isa : ember::available_isas()) {
    ember::set_isa(isa);
    std::vector<float> x(n, 0.5f), y(n, 1.0f);
    double best = 1e30;
    for (int rep = 0; rep < 50; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      ember::kernels::axpy(n, 0.001f, x.data(), y.data());
      const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
      best = dt.count() < best ? dt.count() : best;
    }
    const double gbs = 3.0 * sizeof(float) * static_cast<double>(n) / best / 1e9;
    std::printf("  %-7s %8.1f us  %6.1f GB/s  y[0] = %.6f\n", ember::isa_name(isa), best * 1e6, gbs,
                static_cast<double>(y[0]));
  }
  ember::set_isa(chosen);
  return 0;
}
