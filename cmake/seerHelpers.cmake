# seer_add_simulation(NAME SOURCES file.cpp ... [LIBRARIES lib ...] [BUILTIN_SYSTEMS])
#   A user's own seer: an executable with every seer command over the systems and checker models
#   its SOURCES register (SEER_REGISTER_SYSTEM, SEER_REGISTER_MODEL). main() comes from
#   seer::cli_main. LIBRARIES are linked too (the user's own design libraries). BUILTIN_SYSTEMS adds
#   seer's own example systems (seer::systems: register, promises, ...), which are left out otherwise.
function(seer_add_simulation name)
  cmake_parse_arguments(PARSE_ARGV 1 SEER_SIM "BUILTIN_SYSTEMS" "" "SOURCES;LIBRARIES")
  if(NOT SEER_SIM_SOURCES)
    message(FATAL_ERROR "seer_add_simulation(${name}): give the SOURCES that register its systems")
  endif()
  add_executable(${name} ${SEER_SIM_SOURCES})
  target_compile_features(${name} PRIVATE cxx_std_20)
  # A traced run names the design's line behind each event ("at"): relative to the project's
  # source root, as seer's own build writes them, so a trace reads the same on every machine.
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${name} PRIVATE "-fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=")
  endif()
  target_link_libraries(${name} PRIVATE seer::cli_main seer::cli seer::services seer::sim
                                        ${SEER_SIM_LIBRARIES})
  if(SEER_SIM_BUILTIN_SYSTEMS)
    # A source of the program's own registers them: a static library's registrar would be dropped.
    set(source ${CMAKE_CURRENT_BINARY_DIR}/${name}_builtin_systems.cpp)
    file(CONFIGURE OUTPUT ${source}
         CONTENT "#include \"seer/systems/builtin.hpp\"\nSEER_USE_BUILTIN_SYSTEMS();\n")
    target_sources(${name} PRIVATE ${source})
    target_link_libraries(${name} PRIVATE seer::systems)
  endif()
  _seer_link_allocator(${name})
endfunction()

# The program's allocator, as seer's own `seer` picks it: mimalloc where it is installed (Debian's
# libmimalloc-dev), since a simulated run's allocations cost glibc's malloc about a third of its
# instructions (seer's BENCHMARKS.md, "Allocator"). SEER_ALLOCATOR=system keeps glibc's malloc;
# so does a build with -fsanitize=..., whose runtime must own the heap to find memory errors.
set(SEER_ALLOCATOR "auto" CACHE STRING "Allocator of seer_add_simulation's programs: auto, mimalloc or system")
function(_seer_link_allocator name)
  if(SEER_ALLOCATOR STREQUAL "system" OR "${CMAKE_CXX_FLAGS} ${CMAKE_EXE_LINKER_FLAGS}" MATCHES "-fsanitize")
    return()
  endif()
  if(SEER_ALLOCATOR STREQUAL "mimalloc")
    find_package(mimalloc 2.0 CONFIG REQUIRED)
  elseif(SEER_ALLOCATOR STREQUAL "auto")
    find_package(mimalloc 2.0 CONFIG QUIET)
  else()
    message(FATAL_ERROR "SEER_ALLOCATOR must be auto, mimalloc or system, not '${SEER_ALLOCATOR}'")
  endif()
  if(NOT mimalloc_FOUND)
    return()
  endif()
  # operator new and delete straight to mimalloc, not through malloc's PLT entry.
  set(source ${CMAKE_CURRENT_BINARY_DIR}/${name}_mimalloc_new_delete.cpp)
  file(CONFIGURE OUTPUT ${source} CONTENT "#include <mimalloc-new-delete.h>\n")
  target_sources(${name} PRIVATE ${source})
  target_link_libraries(${name} PRIVATE mimalloc)
endfunction()
