#include "solver/io/input_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "solver/io/input_error.h"
#include "solver/numerics/byte_archive.h"
#include "solver/numerics/cluster.h"

namespace ldsgd {

const char* JsonTypeName(const nlohmann::json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

std::string ShortestSpelling(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buffer[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
    if (std::strtod(buffer, nullptr) == v) break;
  }
  return buffer;
}

std::string InvalidOption(const char* field, double value, const char* constraint) {
  std::ostringstream s;
  s << "Invalid configuration. Options::" << field << " = " << ShortestSpelling(value)
    << ". Violated constraint: " << constraint;
  return s.str();
}

namespace {

std::string ReadLocalFile(const std::string& path, std::size_t max_bytes) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path, "", "cannot read file: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open file");
  // A device or a pipe (/dev/zero, /dev/urandom) may never end: only regular files are read.
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path, "", "not a regular file");
  if (std::filesystem::file_size(path, ec) > max_bytes) {
    throw InputError(path, "", "larger than " + std::to_string(max_bytes >> 20) + " MiB, the limit for this kind of file");
  }
  // Read in chunks up to one byte past the limit: an endless stream stops there.
  std::string text;
  std::vector<char> chunk(std::size_t{1} << 16);
  while (in && text.size() <= max_bytes) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw InputError(path, "", "cannot read file");
  if (text.size() > max_bytes) {
    throw InputError(path, "", "larger than " + std::to_string(max_bytes >> 20) + " MiB, the limit for this kind of file");
  }
  return text;
}

}  // namespace

// In an MPI job the root reads, and every rank gets its text or the same error: the file need not
// be visible to the other nodes, and every rank fails alike on bad input.
std::string ReadInputFile(const std::string& path, std::size_t max_bytes) {
  Cluster& cluster = Cluster::Get();
  if (!cluster.CanCommunicate()) return ReadLocalFile(path, max_bytes);
  std::string bytes;
  if (cluster.is_root()) {
    ByteWriter writer;
    try {
      const std::string text = ReadLocalFile(path, max_bytes);
      writer(true, text);
    } catch (const InputError& e) {
      writer(false, e.file(), e.field(), e.detail());
    }
    bytes = writer.Take();
  }
  cluster.Broadcast(&bytes);
  ByteReader reader(bytes);
  bool ok = false;
  reader(ok);
  std::string text, field, detail;
  if (ok) {
    reader(text);
    return text;
  }
  reader(text, field, detail);
  throw InputError(text, field, detail);
}

namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] "; the tag helps nobody.
std::string StripJsonTag(const std::string& what) {
  const std::size_t close = what.find("] ");
  return close == std::string::npos ? what : what.substr(close + 2);
}

// Where the parser is: one frame per open object or array.
struct JsonFrame {
  bool array = false;
  long index = 0;              // arrays: the element being read
  std::string key;             // objects: the last key read
  std::set<std::string> keys;  // objects: the keys read so far
};

std::string PathOf(const std::vector<JsonFrame>& frames) {
  std::string path;
  for (const JsonFrame& f : frames) {
    if (f.array) {
      path += "[" + std::to_string(f.index) + "]";
    } else if (!f.key.empty()) {
      path += (path.empty() ? "" : ".") + f.key;
    }
  }
  return path;
}

}  // namespace

nlohmann::json ParseJson(std::string_view text, const std::string& source) {
  using json = nlohmann::json;
  std::vector<JsonFrame> frames;
  // Called for every event: keeps the path, refuses a repeated key, counts array elements.
  const json::parser_callback_t track = [&](int, json::parse_event_t event, json& parsed) {
    auto element_done = [&] {
      if (!frames.empty() && frames.back().array) ++frames.back().index;
    };
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames.push_back({event == json::parse_event_t::array_start, 0, "", {}});
        break;
      case json::parse_event_t::key: {
        JsonFrame& f = frames.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) throw InputError(source, PathOf(frames), "given twice (keys must be unique)");
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        element_done();
        break;
      case json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), track);
  } catch (const json::exception& e) {
    throw InputError(source, "", "invalid JSON: " + StripJsonTag(e.what()));
  }
}

}  // namespace ldsgd
