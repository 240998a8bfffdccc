// ember: the backward pass. Walks the graph once in dependency order from the roots, sums the
// gradients arriving at each node, calls the nodes' backward functions, and frees the graph
// afterwards unless it is retained.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
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

// The per-run bookkeeping of the engine: for every node reachable from the roots, how many edges
// still have to deliver a gradient and the sum of those delivered so far. Nodes are numbered in
// discovery order; an open-addressing table maps a node to its number. A few allocations per
// backward() in all, instead of one per node and map.
template <class T>
class GraphTask {
 public:
  struct Entry {
    Node<T>* node;
    std::size_t deps;
    Tensor<T> grad;
  };

  explicit GraphTask(std::size_t expected) {
    entries_.reserve(expected);
    table_.assign(table_size_for(expected), Slot{nullptr, 0});
  }

  // The entry of n, added (with no dependencies) if new; `added` tells which.
  std::size_t find_or_add(Node<T>* n, bool& added) {
    std::size_t i = probe(n);
    if (table_[i].node == n) {
      added = false;
      return table_[i].index;
    }
    if (2 * (entries_.size() + 1) > table_.size()) {
      grow();
      i = probe(n);
    }
    table_[i] = Slot{n, entries_.size()};
    entries_.push_back(Entry{n, 0, Tensor<T>()});
    added = true;
    return entries_.size() - 1;
  }
  // The entry of a node known to be in the graph.
  std::size_t index_of(Node<T>* n) const { return table_[probe(n)].index; }

  std::vector<Entry>& entries() noexcept { return entries_; }

 private:
  struct Slot {
    Node<T>* node;
    std::size_t index;
  };
  static std::size_t table_size_for(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    return cap;
  }
  std::size_t probe(const Node<T>* n) const {
    const std::size_t mask = table_.size() - 1;
    std::size_t i = (reinterpret_cast<std::uintptr_t>(n) >> 4) * 0x9E3779B97F4A7C15ull & mask;
    while (table_[i].node != nullptr && table_[i].node != n) i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<Slot> old(table_.size() * 2, Slot{nullptr, 0});
    old.swap(table_);
    for (const Slot& s : old) {
      if (s.node) table_[probe(s.node)] = s;
    }
  }

  std::vector<Entry> entries_;
  std::vector<Slot> table_;
};

template <class T>
void run_backward(const std::vector<std::shared_ptr<Node<T>>>& roots,
                  std::vector<Tensor<T>> root_grads, bool retain_graph, Capture<T>* capture) {
  NoGradGuard no_grad;  // backward formulas are not themselves recorded (no double backward)

  // 1. Every node reachable from the roots, and how many edges point at it (the entries vector is
  // its own work list: entries after `scan` have not had their edges followed yet).
  GraphTask<T> task(16);
  auto& entries = task.entries();
  bool added = false;
  for (const auto& r : roots) {
    if (r) task.find_or_add(r.get(), added);
  }
  for (std::size_t scan = 0; scan < entries.size(); ++scan) {
    Node<T>* n = entries[scan].node;
    for (const auto& next : n->next_functions()) {
      if (!next) continue;
      const std::size_t j = task.find_or_add(next.get(), added);
      ++entries[j].deps;
    }
  }

  // 2. Seed the roots, then process nodes whose every incoming gradient has arrived.
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (roots[i]) add_into(entries[task.index_of(roots[i].get())].grad, root_grads[i]);
  }
  for (const auto& r : roots) {
    if (!r) continue;
    const std::size_t i = task.index_of(r.get());
    if (entries[i].deps == 0 && std::find(ready.begin(), ready.end(), i) == ready.end()) {
      ready.push_back(i);
    }
  }
  while (!ready.empty()) {
    const std::size_t idx = ready.back();
    ready.pop_back();
    Node<T>* node = entries[idx].node;
    Tensor<T> grad = std::move(entries[idx].grad);  // leaves the entry's handle empty
    if (grad.defined()) {
      for (const Hook<T>& h : node->pre_hooks()) grad = h(grad);
    }

    std::vector<Tensor<T>> input_grads;
    const bool is_leaf_node = node->is_accumulator();
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
      const std::size_t c = task.index_of(child);
      if (i < input_grads.size() && input_grads[i].defined()) {
        EMBER_CHECK_STATE(input_grads[i].shape() == node->input_shape(i),
                          "backward: ", node->name(), " returned a gradient of shape ",
                          input_grads[i].shape(), " for input ", i, " of shape ",
                          node->input_shape(i));
        add_into(entries[c].grad, std::move(input_grads[i]));
      }
      if (--entries[c].deps == 0) ready.push_back(c);
    }
  }

  if (!retain_graph) {
    for (const auto& e : entries) e.node->release();
  }
}

}  // namespace ember::autograd::detail
