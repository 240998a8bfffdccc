// ember: whether operations record the autograd graph on this thread (NoGradGuard switches it off).
#pragma once

namespace ember {

namespace detail {
inline bool& grad_mode_flag() noexcept {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

// True unless a NoGradGuard is alive on this thread.
inline bool is_grad_enabled() noexcept {
  return detail::grad_mode_flag();
}

// While alive, operations on this thread record nothing (inference, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard() noexcept : previous_(detail::grad_mode_flag()) { detail::grad_mode_flag() = false; }
  ~NoGradGuard() { detail::grad_mode_flag() = previous_; }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Re-enables recording inside a NoGradGuard scope.
class EnableGradGuard {
 public:
  EnableGradGuard() noexcept : previous_(detail::grad_mode_flag()) {
    detail::grad_mode_flag() = true;
  }
  ~EnableGradGuard() { detail::grad_mode_flag() = previous_; }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ember
