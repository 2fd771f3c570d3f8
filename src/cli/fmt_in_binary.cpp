// fmt's compiled functions (what libfmt.so holds) built into the seer binary itself. With them
// here the binary needs neither libfmt.so nor, through it, the shared libstdc++, which it links
// statically (src/cli/CMakeLists.txt): resolving those libraries' symbols at every start cost
// more than a small `seer check` does. The libraries a user's own seer links are unchanged.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
// The templates format.h declares `extern` (the rest is instantiated here as it is used).
template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE
