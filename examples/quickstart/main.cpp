#include <ember/ember.hpp>

#include <cstdio>

namespace nn = ember::nn;

int main() {
  // Fit y = x^3 - x/2 + noise with a 2-layer MLP, PyTorch style.
  ember::manual_seed(0);
  ember::Tensor<float> x = ember::rand<float>({256, 1}).mul(2.0f).sub(1.0f);
  ember::Tensor<float> noise = ember::randn<float>({256, 1}).mul(0.05f);
  ember::Tensor<float> y = x.pow(3.0f).sub(x.mul(0.5f)).add(noise);

  nn::Sequential<float> model(nn::Linear<float>(1, 32), nn::Tanh<float>(),
                              nn::Linear<float>(32, 1));
  ember::optim::Adam<float> opt(model.parameters(), ember::optim::AdamOptions(0.01));
  float loss = 0;
  for (int step = 0; step < 500; ++step) {
    opt.zero_grad();
    ember::Tensor<float> l = ember::F::mse_loss(model(x), y);
    l.backward();
    opt.step();
    loss = l.item();
    if (step % 100 == 0) std::printf("step %3d  loss %.5f\n", step, double(loss));
  }
  std::printf("final loss %.5f (kernels: %s)\n", double(loss),
              ember::isa_name(ember::current_isa()));
  return loss < 0.01f ? 0 : 1;
}
