// A one-line live progress bar: redrawn in place on a terminal, printed every 10% otherwise
// (logs and CI stay readable).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

class ProgressBar {
 public:
  ProgressBar(std::string label, long total)
      : label_(std::move(label)),
        total_(total),
        tty_(isatty(fileno(stderr)) != 0),
        start_(std::chrono::steady_clock::now()) {}

  // done: samples processed so far; loss and accuracy: running means over the epoch.
  void update(long done, double loss, double accuracy) {
    const double secs = elapsed();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    const int decile = static_cast<int>(10 * done / (total_ > 0 ? total_ : 1));
    if (!tty_ && decile == last_decile_ && done < total_) return;
    last_decile_ = decile;
    constexpr int width = 28;
    const int filled = static_cast<int>(width * done / (total_ > 0 ? total_ : 1));
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    std::fprintf(stderr,
                 "%s%s [%s] %6ld/%ld  loss %.4f  acc %5.1f%%  %6.0f samples/s  %4.0fs left%s",
                 tty_ ? "\r" : "", label_.c_str(), bar.c_str(), done, total_, loss,
                 100.0 * accuracy, rate, eta, tty_ ? "" : "\n");
    std::fflush(stderr);
  }
  void finish() {
    if (tty_) std::fputc('\n', stderr);
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::string label_;
  long total_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
};
