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
endfunction()
