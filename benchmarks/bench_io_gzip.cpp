// gunzip and crc32 of ember::io against zlib (the peer, linked into this benchmark only when
// zlib1g-dev is installed), in the same run. Inputs: Fashion-MNIST's training images (26 MB of
// gzip, 47 MB decoded; skipped when the data set is not installed) and a 75 kB text fixture.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ember/io/file.hpp"
#include "ember/io/gzip.hpp"
#include "ember/io/idx.hpp"

#if EMBER_BENCH_HAVE_ZLIB
#include <zlib.h>
#endif

namespace {

using Bytes = std::vector<std::uint8_t>;

const Bytes* input(const std::string& which) {
  static const Bytes train = [] {
    try {
      return ember::io::read_file(ember::io::fashion_mnist_path("train-images-idx3-ubyte.gz"));
    } catch (const ember::io_error&) {
      return Bytes{};
    }
  }();
  static const Bytes text = [] {
    const std::string here = __FILE__;
    return ember::io::read_file(here.substr(0, here.find_last_of('/')) +
                                "/../tests/io/fixtures/text1500.level9.gz");
  }();
  const Bytes* b = which == "fashion_train_images" ? &train : &text;
  return b->empty() ? nullptr : b;
}

void BM_gunzip_ember(benchmark::State& state, const std::string& which) {
  const Bytes* in = input(which);
  if (in == nullptr) return state.SkipWithError("the data set is not installed");
  std::size_t out = 0;
  for (auto _ : state) {
    Bytes decoded = ember::io::gunzip(in->data(), in->size());
    out = decoded.size();
    benchmark::DoNotOptimize(decoded.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out));
}

void BM_crc32_ember(benchmark::State& state) {
  const Bytes data(1 << 20, 0x5A);
  for (auto _ : state) benchmark::DoNotOptimize(ember::io::crc32(data.data(), data.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}

#if EMBER_BENCH_HAVE_ZLIB
// zlib's inflate with a gzip wrapper into a buffer sized from ISIZE, grown when too small: the
// same work as gunzip (allocate, decode, check CRC and length).
void BM_gunzip_zlib(benchmark::State& state, const std::string& which) {
  const Bytes* in = input(which);
  if (in == nullptr) return state.SkipWithError("the data set is not installed");
  const std::size_t isize = ember::io::detail::load_le32(in->data() + in->size() - 4);
  std::size_t out = 0;
  for (auto _ : state) {
    Bytes decoded(isize + 1);
    z_stream s{};
    inflateInit2(&s, 16 + MAX_WBITS);
    s.next_in = const_cast<Bytef*>(in->data());
    s.avail_in = static_cast<uInt>(in->size());
    int rc = Z_OK;
    while (rc == Z_OK) {
      if (s.total_out == decoded.size()) decoded.resize(decoded.size() * 2);
      s.next_out = decoded.data() + s.total_out;
      s.avail_out = static_cast<uInt>(decoded.size() - s.total_out);
      rc = inflate(&s, Z_NO_FLUSH);
    }
    out = s.total_out;
    inflateEnd(&s);
    if (rc != Z_STREAM_END) return state.SkipWithError("zlib failed");
    benchmark::DoNotOptimize(decoded.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out));
}

void BM_crc32_zlib(benchmark::State& state) {
  const Bytes data(1 << 20, 0x5A);
  for (auto _ : state)
    benchmark::DoNotOptimize(::crc32(0L, data.data(), static_cast<uInt>(data.size())));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
#endif

}  // namespace

BENCHMARK_CAPTURE(BM_gunzip_ember, fashion_train_images, std::string("fashion_train_images"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_gunzip_ember, text75k, std::string("text75k"))->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_crc32_ember)->Unit(benchmark::kMicrosecond);
#if EMBER_BENCH_HAVE_ZLIB
BENCHMARK_CAPTURE(BM_gunzip_zlib, fashion_train_images, std::string("fashion_train_images"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_gunzip_zlib, text75k, std::string("text75k"))->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_crc32_zlib)->Unit(benchmark::kMicrosecond);
#endif

BENCHMARK_MAIN();
