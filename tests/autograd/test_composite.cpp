// Composite expressions against PyTorch: tools/gen_autograd_refs.py evaluates the same three
// expressions in float64 and stores the inputs, the value and the gradient of every input
// (tests/autograd/fixtures/composite.safetensors). Each expression chains many ops, so this checks
// that backward rules compose (accumulation across branches, views of views, broadcasting).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ember/ember.hpp"
#include "ember/io/tensor_io.hpp"

using ember::Tensor;
using T64 = Tensor<double>;

namespace {

const ember::io::SafetensorsFile& fixture() {
  static const ember::io::SafetensorsFile f = [] {
    const std::string here = __FILE__;
    return ember::io::SafetensorsFile::open(here.substr(0, here.find_last_of('/')) +
                                            "/fixtures/composite.safetensors");
  }();
  return f;
}

template <class T = double>
Tensor<T> get(const std::string& key) {
  return ember::io::to_tensor<T>(fixture().get(key), key);
}

// Same op order as PyTorch in double: agreement to ~1e-12 relative; the scale term covers values
// that are zero in exact arithmetic.
void check_close(const T64& got, const T64& want, const std::string& what) {
  CAPTURE(what);
  REQUIRE(got.shape() == want.shape());
  const T64 g = got.contiguous(), w = want.contiguous();
  for (int64_t i = 0; i < g.numel(); ++i) {
    CHECK(g.data()[i] == doctest::Approx(w.data()[i]).epsilon(1e-10).scale(1e-12));
  }
}

// Loads the case's float inputs as leaves, evaluates fn, backpropagates, and compares the value and
// every input's gradient with PyTorch's.
template <class F>
void run_case(const std::string& c, const std::vector<std::string>& names, F&& fn) {
  CAPTURE(c);
  std::vector<T64> leaves;
  for (const auto& n : names) leaves.push_back(get(c + "/" + n).requires_grad_());
  T64 out = fn(leaves);
  check_close(out.detach(), get(c + "/out"), c + "/out");
  out.backward();
  for (std::size_t i = 0; i < names.size(); ++i) {
    check_close(leaves[i].grad(), get(c + "/grad_" + names[i]), c + "/grad_" + names[i]);
  }
}

}  // namespace

TEST_CASE("composite: MLP-like expression with broadcasting, views, cat and where") {
  run_case("mlp", {"x", "w", "b", "v"}, [](const std::vector<T64>& in) {
    const T64 &x = in[0], &w = in[1], &b = in[2], &v = in[3];
    const T64 h = x.matmul(w).add(b).tanh();
    const T64 g = h.mul(v).sub(h.pow(2.0).div(3.0));
    const T64 r = g.exp().sum({1}, true).log();
    const T64 m = ember::cat<double>({g.narrow(1, 1, 2), r}, 1);
    const T64 p = m.transpose(0, 1).reshape({12});
    const T64 q = ember::where(p.gt(0.0), p, p.mul(0.1));
    return q.pow(2.0).mean().add(p.logsumexp({0})).add(m.sigmoid().prod({1}).sum());
  });
}

TEST_CASE("composite: gather, index_select, strided slice, masked_fill, max, var, norm") {
  const Tensor<int64_t> idx = get<int64_t>("indexing/idx"), rows = get<int64_t>("indexing/rows");
  run_case("indexing", {"a", "c"}, [&](const std::vector<T64>& in) {
    const T64 &a = in[0], &c = in[1];
    const T64 s = a.gather(1, idx);
    const T64 t = c.index_select(0, rows);
    const T64 u = t.slice(1, 0, 4, 2).mul(s.sum());
    const T64 mf = u.masked_fill(u.lt(-0.5), 0.0);
    const T64 mx = t.max(1).values;
    return mf.relu().add(1.0).log().sum().add(mx.mul(mx).sum()).add(a.var({1}).sum()).add(c.norm());
  });
}

TEST_CASE("composite: broadcast batched matmul, permute, softmax from parts, std, clamp, stack") {
  run_case("batched", {"p", "q", "r"}, [](const std::vector<T64>& in) {
    const T64 &p = in[0], &q = in[1], &r = in[2];
    const T64 y = p.matmul(q);
    const T64 z = y.permute({2, 0, 1}).add(r);
    const T64 e = z.sub(z.amax({2}, true)).exp();
    const T64 sm = e.div(e.sum({2}, true));
    const T64 st = ember::stack<double>({y.sigmoid().sum(), y.mul(y).mean()});
    return sm.mul(z)
        .sum()
        .add(z.std({0}).mean())
        .add(z.clamp(-0.5, 0.7).abs().sum())
        .add(st.mul(st).sum());
  });
}
