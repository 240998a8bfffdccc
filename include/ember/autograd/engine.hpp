// ember: the backward pass. Walks the graph once in dependency order from the roots, sums the
// gradients arriving at each node, calls the nodes' backward functions, and frees the graph
// afterwards unless it is retained.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/autograd/grad_mode.hpp"
#include "ember/autograd/node.hpp"

namespace ember::autograd::detail {

// Where autograd::grad() wants gradients delivered instead of into .grad.
template <class T>
struct Capture {
  std::vector<Node<T>*> nodes;     // one per requested input
  std::vector<Tensor<T>> results;  // filled by the engine
};

template <class T>
void add_into(Tensor<T>& acc, Tensor<T> g) {
  if (!g.defined()) return;
  acc = acc.defined() ? acc.add(g) : std::move(g);
}

template <class T>
void run_backward(const std::vector<std::shared_ptr<Node<T>>>& roots,
                  std::vector<Tensor<T>> root_grads, bool retain_graph, Capture<T>* capture) {
  NoGradGuard no_grad;  // backward formulas are not themselves recorded (no double backward)

  // 1. Every node reachable from the roots, and how many edges point at it.
  std::unordered_map<Node<T>*, std::size_t> deps;
  std::vector<Node<T>*> stack;
  std::vector<Node<T>*> visited;
  for (const auto& r : roots) {
    if (r && deps.emplace(r.get(), 0).second) {
      stack.push_back(r.get());
      visited.push_back(r.get());
    }
  }
  while (!stack.empty()) {
    Node<T>* n = stack.back();
    stack.pop_back();
    for (const auto& next : n->next_functions()) {
      if (!next) continue;
      auto [it, inserted] = deps.emplace(next.get(), 0);
      ++it->second;
      if (inserted) {
        stack.push_back(next.get());
        visited.push_back(next.get());
      }
    }
  }

  // 2. Seed the roots, then process nodes whose every incoming gradient has arrived.
  std::unordered_map<Node<T>*, Tensor<T>> buffers;
  buffers.reserve(visited.size());
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (roots[i]) add_into(buffers[roots[i].get()], root_grads[i]);
  }
  std::vector<Node<T>*> ready;
  for (const auto& r : roots) {
    if (r && deps[r.get()] == 0 && std::find(ready.begin(), ready.end(), r.get()) == ready.end()) {
      ready.push_back(r.get());
    }
  }
  while (!ready.empty()) {
    Node<T>* node = ready.back();
    ready.pop_back();
    Tensor<T> grad = std::move(buffers[node]);
    buffers.erase(node);
    if (grad.defined()) {
      for (const Hook<T>& h : node->pre_hooks()) grad = h(grad);
    }

    std::vector<Tensor<T>> input_grads;
    const bool is_leaf_node = dynamic_cast<AccumulateGrad<T>*>(node) != nullptr;
    if (capture) {
      // autograd::grad(): deliver the gradients asked for and leave every .grad untouched.
      for (std::size_t i = 0; i < capture->nodes.size(); ++i) {
        if (capture->nodes[i] != node || !grad.defined()) continue;
        Tensor<T> g = grad;
        if (is_leaf_node) {
          if (auto leaf = static_cast<AccumulateGrad<T>*>(node)->leaf()) {
            g = AccumulateGrad<T>::run_hooks(*leaf, g);
          }
        }
        add_into(capture->results[i], g);
      }
      if (!is_leaf_node && grad.defined()) input_grads = node->apply(grad);
    } else if (grad.defined()) {
      if (is_leaf_node) {
        // Hand over the engine's reference: an unshared buffer becomes .grad without a copy.
        static_cast<AccumulateGrad<T>*>(node)->apply_owned(std::move(grad));
      } else {
        input_grads = node->apply(grad);
      }
    }

    const auto& next = node->next_functions();
    EMBER_CHECK_STATE(input_grads.empty() || input_grads.size() == next.size(),
                      "backward: ", node->name(), " returned ", input_grads.size(),
                      " gradients for ", next.size(), " inputs");
    for (std::size_t i = 0; i < next.size(); ++i) {
      Node<T>* child = next[i].get();
      if (!child) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        EMBER_CHECK_STATE(input_grads[i].shape() == node->input_shape(i),
                          "backward: ", node->name(), " returned a gradient of shape ",
                          input_grads[i].shape(), " for input ", i, " of shape ",
                          node->input_shape(i));
        add_into(buffers[child], std::move(input_grads[i]));
      }
      if (--deps[child] == 0) ready.push_back(child);
    }
  }

  if (!retain_graph) {
    for (Node<T>* n : visited) n->release();
  }
}

}  // namespace ember::autograd::detail
