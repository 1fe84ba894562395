# Runs `qedisim check --revert PATCH` over CONFIGS ("^^"-separated) and passes
# as soon as one scenario fails its expectations (exit 1). Exit 2 or 3 from
# any run is an error of its own.
string(REPLACE "^^" ";" config_list "${CONFIGS}")
foreach(f ${config_list})
  execute_process(COMMAND "${EXE}" check "${f}" --quiet --fixed-only --revert ${PATCH}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(code EQUAL 1)
    get_filename_component(name ${f} NAME)
    message("${PATCH} is noticed: ${name} fails its expectations without it")
    return()
  endif()
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "${f}: exit ${code}\n${out}${err}")
  endif()
endforeach()
message(FATAL_ERROR "no shipped scenario notices the removal of ${PATCH}")
