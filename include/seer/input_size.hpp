// Inputs seer refuses before reading (a history, a trace, a run file): a directory, and a file
// beyond the largest seer reads. Readers hold a whole input in memory, parsed, at about 13 times
// its size for a JSON history (measured: 46 MB -> 608 MB), so an input beyond the bound is refused
// with one line instead of exhausting memory. The environment variable SEER_MAX_INPUT_BYTES raises
// or lowers it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <system_error>

namespace seer {

inline constexpr std::uint64_t kDefaultMaxInputBytes = std::uint64_t{1} << 30;  // 1 GiB

inline std::uint64_t max_input_bytes() {
  const char* text = std::getenv("SEER_MAX_INPUT_BYTES");
  if (text == nullptr || *text == '\0') return kDefaultMaxInputBytes;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0) return kDefaultMaxInputBytes;
  return v;
}

// The end of a refusal for an input beyond `limit` bytes, whether its size was known before it
// was read (input_too_large) or found while reading it (read_bounded).
inline std::string beyond_input_limit(std::uint64_t limit) {
  return "more than the " + std::to_string(limit) +
         "-byte input limit (inputs are held in memory at about 13 times their size; set "
         "SEER_MAX_INPUT_BYTES to read it anyway)";
}

// Why `path` is too large to read ("FILE: 2147483648 bytes, more than ..."), or nullopt. A path
// whose size cannot be known (a pipe, a file that vanished) passes: its reader reports what it
// finds.
inline std::optional<std::string> input_too_large(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return std::nullopt;
  const auto limit = max_input_bytes();
  if (size <= limit) return std::nullopt;
  return path + ": " + std::to_string(size) + " bytes, " + beyond_input_limit(limit);
}

// Why `path` cannot be read as an input file (a directory: std::ifstream opens one and then reads
// nothing, which a reader would take for an empty history or trace), or why it is too large; or
// nullopt.
inline std::optional<std::string> input_refused(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return path + ": a directory, not a file";
  return input_too_large(path);
}

// Reads all of `in` (opened from `path`) into `text`, or says why not: more than the input limit,
// or a read error. input_too_large knows only a regular file's size; a pipe or a device (a
// history piped in, /dev/zero) is bounded here, while it is read, so that an input without end
// stops at the limit instead of hanging until memory runs out.
inline std::optional<std::string> read_bounded(std::istream& in, const std::string& path,
                                               std::string& text) {
  const auto limit = max_input_bytes();
  text.clear();
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size <= limit) {
    text.reserve(static_cast<std::size_t>(size));
  }
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    if (text.size() + n > limit) {
      text.clear();
      return path + ": " + beyond_input_limit(limit);
    }
    text.append(chunk, n);
  }
  if (in.bad()) return path + ": read error";
  return std::nullopt;
}

}  // namespace seer
