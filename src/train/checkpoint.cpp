// The checkpoint file format (see checkpoint.h).
#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/atomic_file.h"

namespace mnistnet {
namespace {

static_assert(std::endian::native == std::endian::little, "checkpoints are little-endian");

constexpr char kMagic[8] = {'M', 'N', 'I', 'S', 'T', 'C', 'K', 'P'};
constexpr uint32_t kVersion = 1;
constexpr size_t kFixedHeader = sizeof(kMagic) + 3 * sizeof(uint32_t);  // magic, version, H, CRC

uint32_t crc_of(const char* data, size_t n) {
  // zlib takes uInt lengths: feed it in pieces so any size works.
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const auto piece = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), piece);
    data += piece;
    n -= piece;
  }
  return static_cast<uint32_t>(crc);
}

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }

uint32_t get_u32(std::string_view in, size_t offset) {
  uint32_t v;
  std::memcpy(&v, in.data() + offset, 4);
  return v;
}

std::string hex64(uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, v);
  return text;
}

uint64_t parse_hex64(const nlohmann::json& j) {
  const std::string text = j.get<std::string>();
  if (text.size() != 16 || text.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw std::invalid_argument("expected 16 hex digits, got \"" + text + "\"");
  return std::stoull(text, nullptr, 16);
}

nlohmann::json rng_json(const Rng::State& s) {
  return {hex64(s[0]), hex64(s[1]), hex64(s[2]), hex64(s[3])};
}

Rng::State rng_from(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 4)
    throw std::invalid_argument("a generator state is 4 hex numbers");
  return {parse_hex64(j[0]), parse_hex64(j[1]), parse_hex64(j[2]), parse_hex64(j[3])};
}

// JSON has no NaN or infinity: nlohmann writes them as null, which reads back as NaN.
double get_double(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

nlohmann::json history_json(const std::vector<EpochResult>& history) {
  nlohmann::json rows = nlohmann::json::array();
  for (const EpochResult& r : history)
    rows.push_back({r.epoch, r.accuracy, r.loss, r.lr, r.val_accuracy, r.val_loss, r.seconds});
  return rows;
}

std::vector<EpochResult> history_from(const nlohmann::json& rows) {
  std::vector<EpochResult> history;
  for (const auto& row : rows) {
    if (!row.is_array() || row.size() != 7)
      throw std::invalid_argument("a history row has 7 numbers");
    EpochResult r;
    r.epoch = row[0].get<int>();
    r.accuracy = get_double(row[1]);
    r.loss = get_double(row[2]);
    r.lr = get_double(row[3]);
    r.val_accuracy = get_double(row[4]);
    r.val_loss = get_double(row[5]);
    r.seconds = get_double(row[6]);
    history.push_back(r);
  }
  return history;
}

// Collects the binary sections while the header is being built.
struct SectionWriter {
  nlohmann::json table = nlohmann::json::array();
  std::string bytes;

  void add(const std::string& name, const void* data, size_t n, const nlohmann::json& extra = {}) {
    nlohmann::json entry = {
        {"name", name}, {"bytes", n}, {"crc32", crc_of(static_cast<const char*>(data), n)}};
    if (extra.is_object()) entry.update(extra);
    table.push_back(std::move(entry));
    bytes.append(static_cast<const char*>(data), n);
  }
  void add_floats(const std::string& name, const std::vector<float>& v,
                  const nlohmann::json& extra = {}) {
    add(name, v.data(), v.size() * sizeof(float), extra);
  }
};

}  // namespace

std::string encode_checkpoint(const Checkpoint& c) {
  SectionWriter sections;
  for (const NamedTensor& p : c.params)
    sections.add_floats("param/" + p.name, p.values, {{"shape", p.shape}});
  for (size_t i = 0; i < c.optimizer_state.size(); ++i)
    sections.add_floats("optimizer/" + std::to_string(i), c.optimizer_state[i]);
  sections.add("data/shuffle_buffer", c.data_stream.buffer.data(),
               c.data_stream.buffer.size() * sizeof(uint32_t));
  for (size_t i = 0; i < c.best_weights.size(); ++i)
    sections.add_floats("best/" + std::to_string(i), c.best_weights[i]);

  const TrainingProgress& p = c.progress;
  nlohmann::json rngs = nlohmann::json::array();
  for (const Rng::State& s : c.layer_rngs) rngs.push_back(rng_json(s));
  const nlohmann::json header = {
      {"config_name", c.config_name},
      {"config", c.config},
      {"progress",
       {{"epoch", p.epoch},
        {"step", p.step},
        {"global_step", p.global_step},
        {"lr", p.lr},
        {"loss_sum", p.loss_sum},
        {"correct", p.correct},
        {"seen", p.seen},
        {"seconds", p.seconds},
        {"stopped", p.stopped},
        {"history", history_json(p.history)}}},
      {"early_stopping", c.early_stopping},
      {"reduce_lr_on_plateau", c.reduce_lr_on_plateau},
      {"observers", c.observers},
      {"optimizer", {{"type", c.optimizer}, {"iterations", c.optimizer_iterations}}},
      {"layer_rngs", rngs},
      {"data",
       {{"train_examples", c.train_examples},
        {"pass", c.data_stream.pass},
        {"next_input", c.data_stream.next_input},
        {"emitted", c.data_stream.emitted},
        {"rng", rng_json(c.data_stream.rng)}}},
      {"sections", sections.table}};
  const std::string header_text = header.dump();

  std::string out;
  out.reserve(kFixedHeader + header_text.size() + sections.bytes.size());
  out.append(kMagic, sizeof kMagic);
  put_u32(out, kVersion);
  put_u32(out, static_cast<uint32_t>(header_text.size()));
  put_u32(out, crc_of(header_text.data(), header_text.size()));
  out += header_text;
  out += sections.bytes;
  return out;
}

Checkpoint decode_checkpoint(std::string_view bytes, const std::string& source) {
  const std::string where = source + ": ";
  auto fail = [&](size_t byte, const std::string& what) -> CheckpointError {
    return CheckpointError(where + "byte " + std::to_string(byte) + ": " + what);
  };
  if (bytes.size() < kFixedHeader) {
    throw fail(bytes.size(), "the file ends after " + std::to_string(bytes.size()) +
                                 " bytes, inside the " + std::to_string(kFixedHeader) +
                                 "-byte preamble (truncated checkpoint)");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw fail(0, "not an mnistnet checkpoint (expected the magic \"MNISTCKP\")");
  if (const uint32_t version = get_u32(bytes, 8); version != kVersion) {
    throw fail(8, "checkpoint format version " + std::to_string(version) +
                      ", this mnistnet reads version " + std::to_string(kVersion));
  }
  const size_t header_length = get_u32(bytes, 12);
  if (header_length > bytes.size() - kFixedHeader) {
    throw fail(bytes.size(), "the file ends inside the header, which runs to byte " +
                                 std::to_string(kFixedHeader + header_length) +
                                 " (truncated checkpoint)");
  }
  const std::string_view header_text = bytes.substr(kFixedHeader, header_length);
  if (crc_of(header_text.data(), header_text.size()) != get_u32(bytes, 16)) {
    throw CheckpointError(where + "bytes " + std::to_string(kFixedHeader) + ".." +
                          std::to_string(kFixedHeader + header_length) +
                          " (header): checksum mismatch, the file is corrupt");
  }
  const nlohmann::json header = nlohmann::json::parse(header_text, nullptr, false);
  if (header.is_discarded() || !header.is_object())
    throw fail(kFixedHeader, "the header is not a JSON object");

  Checkpoint c;
  c.source = source;
  size_t offset = kFixedHeader + header_length;
  try {
    // The section table first: every byte range checked before anything is interpreted.
    struct Range {
      std::string name;
      size_t offset, size;
    };
    std::vector<Range> ranges;
    for (const auto& s : header.at("sections")) {
      const std::string name = s.at("name").get<std::string>();
      const auto size = s.at("bytes").get<uint64_t>();
      if (size > bytes.size() - offset) {
        throw fail(bytes.size(), "the file ends inside section " + name +
                                     ", which runs from byte " + std::to_string(offset) + " to " +
                                     std::to_string(offset + size) + " (truncated checkpoint)");
      }
      if (crc_of(bytes.data() + offset, size) != s.at("crc32").get<uint32_t>()) {
        throw CheckpointError(where + "bytes " + std::to_string(offset) + ".." +
                              std::to_string(offset + size) + " (" + name +
                              "): checksum mismatch, the file is corrupt");
      }
      ranges.push_back({name, offset, size});
      offset += size;
    }
    if (offset != bytes.size())
      throw fail(offset, std::to_string(bytes.size() - offset) +
                             " unexpected bytes after the last section");

    auto floats = [&](const Range& r) {
      if (r.size % sizeof(float) != 0)
        throw fail(r.offset, "section " + r.name + " is not a whole number of floats");
      std::vector<float> v(r.size / sizeof(float));
      if (!v.empty()) std::memcpy(v.data(), bytes.data() + r.offset, r.size);
      return v;
    };
    const auto& table = header.at("sections");
    for (size_t i = 0; i < ranges.size(); ++i) {
      const Range& r = ranges[i];
      if (r.name.starts_with("param/")) {
        NamedTensor t{r.name.substr(6), table[i].at("shape").get<Shape>(), floats(r)};
        if (static_cast<int64_t>(t.values.size()) != element_count(t.shape))
          throw fail(r.offset, "section " + r.name + " holds " + std::to_string(t.values.size()) +
                                   " floats for shape " + shape_string(t.shape));
        c.params.push_back(std::move(t));
      } else if (r.name.starts_with("optimizer/")) {
        c.optimizer_state.push_back(floats(r));
      } else if (r.name.starts_with("best/")) {
        c.best_weights.push_back(floats(r));
      } else if (r.name == "data/shuffle_buffer") {
        if (r.size % sizeof(uint32_t) != 0)
          throw fail(r.offset, "the shuffle buffer is not a whole number of indices");
        c.data_stream.buffer.resize(r.size / sizeof(uint32_t));
        if (r.size > 0) std::memcpy(c.data_stream.buffer.data(), bytes.data() + r.offset, r.size);
      } else {
        throw fail(r.offset, "unknown section " + r.name);
      }
    }

    c.config_name = header.at("config_name").get<std::string>();
    c.config = header.at("config");
    const auto& p = header.at("progress");
    c.progress.epoch = p.at("epoch").get<int>();
    c.progress.step = p.at("step").get<int64_t>();
    c.progress.global_step = p.at("global_step").get<int64_t>();
    c.progress.lr = get_double(p.at("lr"));
    c.progress.loss_sum = get_double(p.at("loss_sum"));
    c.progress.correct = p.at("correct").get<int64_t>();
    c.progress.seen = p.at("seen").get<int64_t>();
    c.progress.seconds = get_double(p.at("seconds"));
    c.progress.stopped = p.at("stopped").get<bool>();
    c.progress.history = history_from(p.at("history"));
    if (c.progress.epoch < 0 || c.progress.step < 0 || c.progress.global_step < 0 ||
        c.progress.seen < 0)
      throw std::invalid_argument("negative progress counters");
    c.early_stopping = header.at("early_stopping");
    // Absent in checkpoints written before ReduceLROnPlateau existed.
    c.reduce_lr_on_plateau = header.value("reduce_lr_on_plateau", nlohmann::json());
    c.observers = header.at("observers");
    c.optimizer = header.at("optimizer").at("type").get<std::string>();
    c.optimizer_iterations = header.at("optimizer").at("iterations").get<int64_t>();
    for (const auto& s : header.at("layer_rngs")) c.layer_rngs.push_back(rng_from(s));
    const auto& d = header.at("data");
    c.train_examples = d.at("train_examples").get<int64_t>();
    c.data_stream.pass = d.at("pass").get<int64_t>();
    c.data_stream.next_input = d.at("next_input").get<uint32_t>();
    // The stream position keys the augmentation's draws; absent before augmentation existed.
    c.data_stream.emitted = d.value("emitted", int64_t{0});
    c.data_stream.rng = rng_from(d.at("rng"));
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {  // nlohmann's type and missing-key errors, bad values
    throw fail(kFixedHeader, std::string("the header does not describe a checkpoint: ") + e.what());
  }
  return c;
}

void write_checkpoint(const std::filesystem::path& path, const Checkpoint& checkpoint) {
  write_file_atomically(path, encode_checkpoint(checkpoint));  // temp file, fsync, rename
  // The rename is durable only once the directory entry is: sync the directory too.
  const int fd = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

Checkpoint read_checkpoint(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw CheckpointError(path.string() + ": cannot open the checkpoint" +
                          (std::filesystem::exists(path) ? "" : " (it does not exist)"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return decode_checkpoint(buffer.str(), path.string());
}

std::filesystem::path checkpoint_dir(const std::filesystem::path& run_dir) {
  return run_dir / "checkpoints";
}

std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir, int64_t global_step) {
  char name[40];
  std::snprintf(name, sizeof name, "ckpt-%010lld.ckpt", static_cast<long long>(global_step));
  return checkpoint_dir(run_dir) / name;
}

std::vector<std::filesystem::path> list_checkpoints(const std::filesystem::path& run_dir) {
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(checkpoint_dir(run_dir), ec)) {
    const std::string name = entry.path().filename().string();
    // "ckpt-" + 10 digits + ".ckpt": the zero padding makes name order step order.
    if (name.size() == 20 && name.starts_with("ckpt-") && name.ends_with(".ckpt") &&
        name.find_first_not_of("0123456789", 5) == 15)
      found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

void prune_checkpoints(const std::filesystem::path& run_dir, int keep) {
  const std::vector<std::filesystem::path> all = list_checkpoints(run_dir);
  std::error_code ec;
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i)
    std::filesystem::remove(all[i], ec);
  // A crash (or a second Ctrl-C) during a write leaves "<name>.tmp.<pid>" behind.
  for (const auto& entry : std::filesystem::directory_iterator(checkpoint_dir(run_dir), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("ckpt-") && name.find(".ckpt.tmp.") != std::string::npos)
      std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace mnistnet
