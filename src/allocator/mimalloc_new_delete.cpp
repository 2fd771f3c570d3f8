// operator new and delete straight to mimalloc (linked by seer_link_allocator,
// cmake/allocator.cmake): without this they would reach it through malloc's PLT entry, one more
// indirect call per allocation on the simulator's hottest path.
#include <mimalloc-new-delete.h>
