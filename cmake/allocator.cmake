# The allocator the `seer` program links (seer-resonate keeps glibc's: its memory is given back after
# large requests by glibc's mallopt settings, which live_front_test checks; under mimalloc 2.0.9
# the server still held 140 MiB after them, against under 128 MiB). Under glibc's malloc, malloc
# and free were a third of a promises sweep's instructions (nlohmann::json map nodes, coroutine frames, messages); mimalloc
# (Debian's libmimalloc-dev) runs the same sweep ~15-20 % faster (BENCHMARKS.md, "Allocator").
#   SEER_ALLOCATOR=auto      mimalloc where installed, else glibc's (the default)
#   SEER_ALLOCATOR=mimalloc  mimalloc, or the configure step fails
#   SEER_ALLOCATOR=system    glibc's malloc
# Never under the sanitizers, which bring their own allocator to find memory errors with.
set(SEER_ALLOCATOR "auto" CACHE STRING "Allocator of seer's programs: auto, mimalloc or system")
set_property(CACHE SEER_ALLOCATOR PROPERTY STRINGS auto mimalloc system)
if(NOT SEER_ALLOCATOR MATCHES "^(auto|mimalloc|system)$")
  message(FATAL_ERROR "SEER_ALLOCATOR must be auto, mimalloc or system, not '${SEER_ALLOCATOR}'")
endif()

set(SEER_USE_MIMALLOC OFF)
if(NOT SEER_ALLOCATOR STREQUAL "system" AND NOT SEER_SANITIZE AND NOT SEER_FUZZ)
  if(SEER_ALLOCATOR STREQUAL "mimalloc")
    find_package(mimalloc 2.0 CONFIG REQUIRED)
  else()
    find_package(mimalloc 2.0 CONFIG QUIET)
  endif()
  if(mimalloc_FOUND)
    set(SEER_USE_MIMALLOC ON)
  endif()
endif()
if(SEER_USE_MIMALLOC)
  message(STATUS "seer: allocator mimalloc")
else()
  message(STATUS "seer: allocator glibc malloc")
endif()

# Links the chosen allocator into an executable (programs only: a library must leave the choice
# to the program that links it).
function(seer_link_allocator target)
  if(SEER_USE_MIMALLOC)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src/allocator/mimalloc_new_delete.cpp)
    set_source_files_properties(${PROJECT_SOURCE_DIR}/src/allocator/mimalloc_new_delete.cpp
                                TARGET_DIRECTORY ${target} PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
    target_link_libraries(${target} PRIVATE mimalloc)
  endif()
endfunction()
