// libFuzzer target: a sweep's result stream (`sweep --out`), as `seer merge` and a resumed sweep
// read it: the header line, then the record lines, read from a file (here an in-memory one). Any
// malformed input must end in a UsageError (one error line, exit 2), never a crash, a hang or
// another exception.
#include "command.hpp"
#include "sweep_file.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace seer::cli;
  const int fd = memfd_create("sweep-out", 0);
  if (fd < 0) return 0;
  std::size_t written = 0;
  while (written < size) {
    const auto n = write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    (void)read_sweep_file(
        path, [](const SweepHeader&) {}, [](const SweepRecord&, std::uint64_t) {});
  } catch (const UsageError&) {
  }
  close(fd);
  return 0;
}
