// One line of a line-delimited protocol, read with a bound: std::getline grows its string until a
// newline comes, so a peer that never sends one (or `seer mcp < /dev/zero`) would grow the process
// until memory ran out.
#pragma once

#include <cstddef>
#include <istream>
#include <limits>
#include <string>

namespace seer::cli {

enum class LineRead { line, too_long, end };

// Reads up to the next '\n' (not kept) into `line`. `too_long`: the line has more than `limit`
// bytes; it is returned at once, read up to the bound (so the peer can be answered before the rest
// arrives, which may be never), and skip_line discards the rest. `end`: no byte was left.
inline LineRead read_line_bounded(std::istream& in, std::string& line, std::size_t limit) {
  line.clear();
  auto* buffer = in.rdbuf();
  for (;;) {
    const auto c = buffer->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return line.empty() ? LineRead::end : LineRead::line;
    }
    if (c == '\n') return LineRead::line;
    if (line.size() == limit) {
      line.clear();
      return LineRead::too_long;
    }
    line.push_back(static_cast<char>(c));
  }
}

// Discards the rest of a line read_line_bounded found too long, up to and including its '\n'.
inline void skip_line(std::istream& in) {
  in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
}

}  // namespace seer::cli
