#include <cstdio>

#include "ember/ember.hpp"

ember::Isa isa_seen_by_unit_a();
int threads_seen_by_unit_a();

int main() {
  ember::set_isa(ember::Isa::scalar);
  ember::set_num_threads(1);
  const bool same = isa_seen_by_unit_a() == ember::Isa::scalar && threads_seen_by_unit_a() == 1;
  std::printf("two units agree: %s\n", same ? "yes" : "no");
  return same ? 0 : 1;
}
