// Two translation units include every ember header and link into one program: no multiple
// definitions, and both see the same process-wide state (ISA choice, thread count).
#include "ember/ember.hpp"

ember::Isa isa_seen_by_unit_a() {
  return ember::current_isa();
}
int threads_seen_by_unit_a() {
  return ember::get_num_threads();
}
