# Runs FILE twice with the same seed; the reports and the VCDs must be
# byte-identical (docs/architecture.md; determinism). A third run without
# --vcd must write the same report: the waveform only observes (its
# sampling must not reorder the model's processes).
include(${CMAKE_CURRENT_LIST_DIR}/../same_bytes.cmake)
foreach(i 1 2)
  execute_process(COMMAND "${EXE}" run "${FILE}" --quiet --report "${OUT}.${i}.json" --vcd "${OUT}.${i}.vcd"
                  RESULT_VARIABLE code OUTPUT_QUIET ERROR_VARIABLE err)
  if(code GREATER 1)
    message(FATAL_ERROR "run ${i} of ${FILE}: exit ${code}\n${err}")
  endif()
endforeach()
execute_process(COMMAND "${EXE}" run "${FILE}" --quiet --report "${OUT}.novcd.json"
                RESULT_VARIABLE code OUTPUT_QUIET ERROR_VARIABLE err)
if(code GREATER 1)
  message(FATAL_ERROR "run without --vcd of ${FILE}: exit ${code}\n${err}")
endif()
same_bytes("${OUT}.1.json" "${OUT}.novcd.json" same)
if(NOT same)
  message(FATAL_ERROR "${FILE}: the report differs with and without --vcd")
endif()
foreach(ext json vcd)
  same_bytes("${OUT}.1.${ext}" "${OUT}.2.${ext}" same)
  if(NOT same)
    message(FATAL_ERROR "${FILE}: the two runs' .${ext} differ")
  endif()
endforeach()
