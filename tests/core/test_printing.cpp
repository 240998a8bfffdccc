#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "ember/core/tensor.hpp"
#include "refs_printing.hpp"

TEST_CASE("values print exactly like torch's repr, followed by shape and dtype") {
  const auto& cases = ember_refs::print_cases();
  REQUIRE(cases.size() == std::size(ember_refs::print_reprs));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& t = cases[i].inputs[0];
    const std::string want = ember_refs::print_reprs[i];
    const bool is_int = std::string(cases[i].op) == "int64";
    const std::string got = is_int ? ember::to_string(ember_refs::to_tensor<int64_t>(t))
                                   : ember::to_string(ember_refs::to_tensor<double>(t));
    const std::string suffix = ", shape=" + ember::detail::concat(t.shape) +
                               ", dtype=" + (is_int ? "int64" : "float64") + ")";
    INFO("case " << i << "\ngot:\n" << got << "\nwant:\n" << want << suffix);
    CHECK(got == want + suffix);
  }
}

TEST_CASE("operator<< streams the same text; float32, empty and undefined tensors") {
  std::ostringstream os;
  os << ember::tensor<float>({0.5f, 2.f});
  CHECK(os.str() == "tensor([0.5000, 2.0000], shape=[2], dtype=float32)");
  CHECK(ember::to_string(ember::zeros<float>({0, 3})) == "tensor([], shape=[0, 3], dtype=float32)");
  CHECK(ember::to_string(ember::Tensor<float>()) == "tensor(undefined)");
  // A strided view prints its own elements, not the underlying buffer's order.
  const auto m = ember::arange<int64_t>(6).view({2, 3}).t();
  CHECK(ember::to_string(m) ==
        "tensor([[0, 3],\n        [1, 4],\n        [2, 5]], shape=[3, 2], dtype=int64)");
}
