# seer_add_simulation(NAME SOURCES file.cpp ... [LIBRARIES lib ...])
#   A user's own seer: an executable with every seer command over the systems and checker models
#   its SOURCES register (SEER_REGISTER_SYSTEM, SEER_REGISTER_MODEL). main() comes from
#   seer::cli_main. LIBRARIES are linked too (the user's own design libraries).
function(seer_add_simulation name)
  cmake_parse_arguments(PARSE_ARGV 1 SEER_SIM "" "" "SOURCES;LIBRARIES")
  if(NOT SEER_SIM_SOURCES)
    message(FATAL_ERROR "seer_add_simulation(${name}): give the SOURCES that register its systems")
  endif()
  add_executable(${name} ${SEER_SIM_SOURCES})
  target_compile_features(${name} PRIVATE cxx_std_20)
  target_link_libraries(${name} PRIVATE seer::cli_main seer::cli seer::services seer::sim
                                        ${SEER_SIM_LIBRARIES})
endfunction()
