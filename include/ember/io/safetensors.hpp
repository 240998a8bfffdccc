// ember::io: safetensors files (https://github.com/huggingface/safetensors), the weight format
// ember shares with PyTorch.
//
// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
//   {"__metadata__": {"k": "v"}, "fc1.weight": {"dtype": "F32", "shape": [2, 3],
//    "data_offsets": [0, 24]}, ...}
// padded with spaces, then the data buffer; offsets are relative to the buffer, and the tensors
// must cover it exactly, without overlaps or holes. Tensor data is little-endian.
//
//   ember::io::SafetensorsWriter w;
//   w.add("fc1.weight", ember::io::Dtype::F32, {2, 3}, data, 24).metadata("format", "pt");
//   w.write("model.safetensors");
//   auto f = ember::io::SafetensorsFile::open("model.safetensors");
//   ember::io::TensorView t = f.get("fc1.weight");  // dtype, shape, pointer into f's buffer
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/error.hpp"
#include "ember/io/dtype.hpp"
#include "ember/io/file.hpp"
#include "ember/io/json.hpp"

namespace ember::io {

// A tensor inside a loaded file: no copy. `data` points into the file's buffer and is only
// byte-aligned in general: read elements with std::memcpy. Valid while the file object lives.
struct TensorView {
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  const std::uint8_t* data = nullptr;
  std::size_t nbytes = 0;

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
  }
};

// The reference implementation refuses larger headers; so do we, before allocating anything.
inline constexpr std::uint64_t safetensors_max_header = 100'000'000;

namespace detail {

// numel * element size, or false when a dimension is negative or the product exceeds 2^62.
inline bool checked_nbytes(const std::vector<std::int64_t>& shape, Dtype dtype,
                           std::uint64_t& out) {
  std::uint64_t n = dtype_size(dtype);
  for (std::int64_t d : shape) {
    if (d < 0) return false;
    const auto ud = static_cast<std::uint64_t>(d);
    if (ud != 0 && n > (std::uint64_t{1} << 62) / ud) return false;
    n *= ud;
  }
  out = n;
  return true;
}

inline std::string dtype_list() {
  std::string s;
  for (Dtype d : all_dtypes) {
    if (!s.empty()) s += ", ";
    s += dtype_name(d);
  }
  return s;
}

}  // namespace detail

// A safetensors file loaded into memory, validated completely on load.
class SafetensorsFile {
 public:
  // Takes ownership of the file's bytes; `name` (usually the path) starts every error message.
  static SafetensorsFile from_bytes(std::vector<std::uint8_t> bytes,
                                    std::string name = "safetensors data") {
    SafetensorsFile f;
    f.bytes_ = std::move(bytes);
    f.name_ = std::move(name);
    f.parse();
    return f;
  }

  static SafetensorsFile from_bytes(const std::uint8_t* data, std::size_t size,
                                    std::string name = "safetensors data") {
    return from_bytes(std::vector<std::uint8_t>(data, data + size), std::move(name));
  }

  static SafetensorsFile open(const std::string& path) { return from_bytes(read_file(path), path); }

  // Tensor names in alphabetical order.
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    k.reserve(entries_.size());
    for (const auto& e : entries_) k.push_back(e.first);
    return k;
  }

  std::size_t size() const noexcept { return entries_.size(); }
  bool contains(const std::string& key) const { return entries_.count(key) != 0; }

  // The tensor named `key`; index_error when there is none.
  TensorView get(const std::string& key) const {
    const auto it = entries_.find(key);
    if (it == entries_.end())
      fail(error_kind::index, "safetensors '", name_, "': no tensor named '", key,
           "' (the file has ", entries_.size(), " tensors)");
    const Entry& e = it->second;
    TensorView v;
    v.dtype = e.dtype;
    v.shape = e.shape;
    v.data = bytes_.data() + data_start_ + e.begin;
    v.nbytes = e.end - e.begin;
    return v;
  }

  // The "__metadata__" string map (empty when the file has none).
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }

  const std::string& name() const noexcept { return name_; }

 private:
  struct Entry {
    Dtype dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin, end;
  };

  SafetensorsFile() = default;

  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    fail(error_kind::format, "safetensors '", name_, "': ", parts...);
  }

  void parse() {
    const std::size_t size = bytes_.size();
    if (size < 8) error("file of ", size, " bytes is too short for the 8-byte header length");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | bytes_[static_cast<std::size_t>(i)];
    if (n > safetensors_max_header)
      error("header length ", n, " is absurd (the limit is ", safetensors_max_header, " bytes)");
    if (n > size - 8)
      error("header length ", n, " exceeds the ", size - 8, " bytes that follow the length field");
    data_start_ = 8 + static_cast<std::size_t>(n);
    const std::string context = "safetensors '" + name_ + "': header";
    const std::string_view text(reinterpret_cast<const char*>(bytes_.data()) + 8,
                                static_cast<std::size_t>(n));
    const json::Value root = json::parse(text, context);
    if (root.kind != json::Value::Kind::object)
      error("the header must be a JSON object, found ", json::kind_name(root.kind));

    std::vector<std::pair<std::string, const Entry*>> by_offset;
    for (std::size_t i = 0; i < root.keys.size(); ++i) {
      const std::string& key = root.keys[i];
      const json::Value& v = root.items[i];
      if (key == "__metadata__") {
        parse_metadata(v);
        continue;
      }
      entries_.emplace(key, parse_entry(key, v));
    }
    // The buffer must be covered exactly: sorted by offset, each tensor starts where the previous
    // one ended, and the last one ends at the end of the file.
    const std::uint64_t buffer = size - data_start_;
    by_offset.reserve(entries_.size());
    for (const auto& e : entries_) {
      if (e.second.end > buffer)
        error("tensor '", e.first, "': data_offsets [", e.second.begin, ", ", e.second.end,
              "] extend past the ", buffer, "-byte data buffer");
      by_offset.emplace_back(e.first, &e.second);
    }
    std::sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
      return a.second->begin != b.second->begin ? a.second->begin < b.second->begin
                                                : a.second->end < b.second->end;
    });
    std::uint64_t covered = 0;
    const std::pair<std::string, const Entry*>* prev = nullptr;
    for (const auto& cur : by_offset) {
      const Entry& e = *cur.second;
      if (e.begin < covered)
        error("tensors '", prev->first, "' [", prev->second->begin, ", ", prev->second->end,
              "] and '", cur.first, "' [", e.begin, ", ", e.end, "] overlap");
      if (e.begin > covered)
        error("bytes [", covered, ", ", e.begin,
              ") of the data buffer belong to no tensor (the buffer must be fully indexed)");
      covered = e.end;
      if (e.end > e.begin) prev = &cur;  // empty tensors overlap nothing
    }
    if (covered != buffer)
      error("the data buffer has ", buffer, " bytes, but the tensors cover only ", covered,
            " (the buffer must be fully indexed)");
  }

  void parse_metadata(const json::Value& v) {
    if (v.kind != json::Value::Kind::object)
      error("\"__metadata__\" must be an object of strings, found ", json::kind_name(v.kind));
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      if (v.items[i].kind != json::Value::Kind::string)
        error("metadata value of '", v.keys[i], "' must be a string, found ",
              json::kind_name(v.items[i].kind));
      metadata_[v.keys[i]] = v.items[i].string;
    }
  }

  Entry parse_entry(const std::string& key, const json::Value& v) const {
    if (v.kind != json::Value::Kind::object)
      error("tensor '", key, "' must be an object, found ", json::kind_name(v.kind));
    for (const std::string& field : v.keys)
      if (field != "dtype" && field != "shape" && field != "data_offsets")
        error("tensor '", key, "' has an unknown field '", field, "'");
    const json::Value* dtype = v.find("dtype");
    const json::Value* shape = v.find("shape");
    const json::Value* offsets = v.find("data_offsets");
    if (dtype == nullptr || shape == nullptr || offsets == nullptr)
      error("tensor '", key, "' needs the fields dtype, shape and data_offsets");

    Entry e{};
    if (dtype->kind != json::Value::Kind::string)
      error("tensor '", key, "': dtype must be a string, found ", json::kind_name(dtype->kind));
    if (!dtype_from_name(dtype->string, e.dtype))
      error("tensor '", key, "': unknown dtype \"", dtype->string,
            "\" (supported: ", detail::dtype_list(), ")");

    if (shape->kind != json::Value::Kind::array)
      error("tensor '", key, "': shape must be an array, found ", json::kind_name(shape->kind));
    for (const json::Value& d : shape->items) {
      if (d.kind != json::Value::Kind::integer)
        error("tensor '", key, "': shape entries must be integers, found ",
              json::kind_name(d.kind));
      e.shape.push_back(d.integer);
    }
    for (std::int64_t d : e.shape)
      if (d < 0) error("tensor '", key, "': shape ", e.shape, " has a negative entry");
    std::uint64_t nbytes = 0;
    if (!detail::checked_nbytes(e.shape, e.dtype, nbytes))
      error("tensor '", key, "': shape ", e.shape, " is too large");

    if (offsets->kind != json::Value::Kind::array || offsets->items.size() != 2 ||
        offsets->items[0].kind != json::Value::Kind::integer ||
        offsets->items[1].kind != json::Value::Kind::integer)
      error("tensor '", key, "': data_offsets must be an array of two integers [begin, end]");
    const std::int64_t begin = offsets->items[0].integer;
    const std::int64_t end = offsets->items[1].integer;
    if (begin < 0 || end < begin)
      error("tensor '", key, "': invalid data_offsets [", begin, ", ", end, "]");
    e.begin = static_cast<std::uint64_t>(begin);
    e.end = static_cast<std::uint64_t>(end);
    if (e.end - e.begin != nbytes)
      error("tensor '", key, "': data_offsets [", begin, ", ", end, "] hold ", e.end - e.begin,
            " bytes, but ", dtype_name(e.dtype), " ", e.shape, " needs ", nbytes);
    return e;
  }

  std::vector<std::uint8_t> bytes_;
  std::string name_;
  std::size_t data_start_ = 0;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Builds a safetensors file. Tensors are laid out largest element size first, then by name (as
// the reference implementation does, which keeps every tensor aligned to its element size), so
// the same tensors always give the same bytes.
class SafetensorsWriter {
 public:
  // Copies `nbytes` bytes of little-endian element data; nbytes must equal numel * dtype size.
  SafetensorsWriter& add(const std::string& name, Dtype dtype,
                         const std::vector<std::int64_t>& shape, const void* data,
                         std::size_t nbytes) {
    EMBER_CHECK_VALUE(json::is_valid_utf8(name),
                      "SafetensorsWriter::add: tensor names must be valid UTF-8 without NUL bytes");
    EMBER_CHECK_VALUE(
        name != "__metadata__",
        "SafetensorsWriter::add: '__metadata__' is reserved and cannot name a tensor");
    for (const Tensor& t : tensors_)
      EMBER_CHECK_VALUE(t.name != name, "SafetensorsWriter::add: duplicate tensor name '", name,
                        "'");
    for (std::int64_t d : shape)
      EMBER_CHECK_VALUE(d >= 0, "SafetensorsWriter::add('", name, "'): shape ", shape,
                        " has a negative entry");
    std::uint64_t expected = 0;
    EMBER_CHECK_VALUE(detail::checked_nbytes(shape, dtype, expected), "SafetensorsWriter::add('",
                      name, "'): shape ", shape, " is too large");
    EMBER_CHECK_VALUE(expected == nbytes, "SafetensorsWriter::add('", name,
                      "'): ", dtype_name(dtype), " ", shape, " needs ", expected, " bytes, got ",
                      nbytes);
    EMBER_CHECK_VALUE(nbytes == 0 || data != nullptr, "SafetensorsWriter::add('", name,
                      "'): data is null");
    const auto* p = static_cast<const std::uint8_t*>(data);
    tensors_.push_back(Tensor{name, dtype, shape, std::vector<std::uint8_t>(p, p + nbytes)});
    return *this;
  }

  // Sets a "__metadata__" entry (string to string, like the reference implementation).
  SafetensorsWriter& metadata(const std::string& key, const std::string& value) {
    EMBER_CHECK_VALUE(json::is_valid_utf8(key) && json::is_valid_utf8(value),
                      "SafetensorsWriter::metadata: keys and values must be valid UTF-8 without "
                      "NUL bytes");
    metadata_[key] = value;
    return *this;
  }

  std::vector<std::uint8_t> to_bytes() const {
    std::vector<const Tensor*> order;
    for (const Tensor& t : tensors_) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const Tensor* a, const Tensor* b) {
      const std::size_t sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
      return sa != sb ? sa > sb : a->name < b->name;
    });
    std::string header = "{";
    if (!metadata_.empty()) {
      header += "\"__metadata__\":{";
      bool first = true;
      for (const auto& kv : metadata_) {
        if (!first) header += ',';
        first = false;
        header += json::quote(kv.first) + ":" + json::quote(kv.second);
      }
      header += "}";
    }
    std::size_t offset = 0;
    for (const Tensor* t : order) {
      if (header.size() > 1) header += ',';
      header += json::quote(t->name) + ":{\"dtype\":\"" + dtype_name(t->dtype) + "\",\"shape\":[";
      for (std::size_t i = 0; i < t->shape.size(); ++i) {
        if (i) header += ',';
        header += std::to_string(t->shape[i]);
      }
      header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
                std::to_string(offset + t->bytes.size()) + "]}";
      offset += t->bytes.size();
    }
    header += '}';
    header.append((8 - header.size() % 8) % 8, ' ');  // keeps the buffer 8-byte aligned

    std::vector<std::uint8_t> out(8 + header.size() + offset);
    std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i)
      out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
    std::memcpy(out.data() + 8, header.data(), header.size());
    std::size_t pos = 8 + header.size();
    for (const Tensor* t : order) {
      if (!t->bytes.empty()) std::memcpy(out.data() + pos, t->bytes.data(), t->bytes.size());
      pos += t->bytes.size();
    }
    return out;
  }

  void write(const std::string& path) const {
    const std::vector<std::uint8_t> bytes = to_bytes();
    write_file(path, bytes.data(), bytes.size());
  }

 private:
  struct Tensor {
    std::string name;
    Dtype dtype;
    std::vector<std::int64_t> shape;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace ember::io
