# The allocator seer's programs link (`seer`, and seer-resonate with GIVE_BACK: mimalloc 2.0.9 kept
# 128-140 MiB after large requests until told to decommit freed pages at once, and live_front_test
# bounds what the server holds after them; src/allocator/mimalloc_give_back.cpp). Under glibc's
# malloc, malloc and free were a third of a promises sweep's instructions (nlohmann::json map
# nodes, coroutine frames, messages) and a quarter of seer-resonate's; mimalloc (Debian's
# libmimalloc-dev) runs the same sweep ~15-20 % faster (BENCHMARKS.md, "Allocator") and the server
# in 17 % fewer instructions a request.
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
# to the program that links it). GIVE_BACK: freed memory goes back to the system at once (a
# long-running server), not when the allocator is next called.
function(seer_link_allocator target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "GIVE_BACK" "" "")
  if(SEER_USE_MIMALLOC)
    set(sources ${PROJECT_SOURCE_DIR}/src/allocator/mimalloc_new_delete.cpp)
    if(ARG_GIVE_BACK)
      list(APPEND sources ${PROJECT_SOURCE_DIR}/src/allocator/mimalloc_give_back.cpp)
    endif()
    target_sources(${target} PRIVATE ${sources})
    set_source_files_properties(${sources} TARGET_DIRECTORY ${target}
                                PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
    target_link_libraries(${target} PRIVATE mimalloc)
  endif()
endfunction()
