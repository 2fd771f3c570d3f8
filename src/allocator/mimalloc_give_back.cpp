// seer-resonate's settings for mimalloc (linked by seer_link_allocator(... GIVE_BACK),
// cmake/allocator.cmake). mimalloc decommits a freed page only 25 ms later and only when it is
// next called, so an idle server kept what its last large requests had used: 128 MiB after two
// rounds of eight 3.9 MB creates, against 28 MiB under glibc (live_front_test bounds it at 128).
// Decommitting at once: 50-55 MiB, for one madvise per ~15 requests under load.
#include <mimalloc.h>

namespace {

[[maybe_unused]] const bool kDecommitAtOnce = [] {
  mi_option_set(mi_option_decommit_delay, 0);
  return true;
}();

}  // namespace
