// The files `seer new` writes (src/cli/scaffold/, embedded at build time), with @NAME@ and
// @NAME_ID@ standing for the project's name and its C++ identifier.
#pragma once

#include <string>
#include <vector>

namespace seer::cli {

struct ScaffoldFile {
  std::string
      path;  // relative to the project's directory; design/design.cpp.in becomes design/NAME.cpp
  std::string content;
};

const std::vector<ScaffoldFile>& scaffold_files();

}  // namespace seer::cli
