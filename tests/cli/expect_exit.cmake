# Runs EXE with ARGS ("^^"-separated) and checks its exit code and output.
#   -DEXPECT_CODE=N         required exit code
#   -DEXPECT_REGEX=RE       optional regex that stdout+stderr must match
#   -DREJECT_REGEX=RE       optional regex that stdout+stderr must not match
#   -DEXPECT_FILE=PATH      optional file that must exist afterwards (removed first)
#   -DWORKDIR=DIR           optional working directory
string(REPLACE "^^" ";" arg_list "${ARGS}")
if(DEFINED EXPECT_FILE)
  file(REMOVE "${EXPECT_FILE}")
endif()
if(NOT DEFINED WORKDIR)
  set(WORKDIR ".")
endif()
execute_process(COMMAND "${EXE}" ${arg_list}
                WORKING_DIRECTORY "${WORKDIR}"
                RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
message("${all}")
if(NOT "${code}" STREQUAL "${EXPECT_CODE}")
  message(FATAL_ERROR "exit code ${code}, expected ${EXPECT_CODE}")
endif()
if(DEFINED EXPECT_REGEX AND NOT all MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "output does not match: ${EXPECT_REGEX}")
endif()
if(DEFINED REJECT_REGEX AND all MATCHES "${REJECT_REGEX}")
  message(FATAL_ERROR "output matches what it must not: ${REJECT_REGEX}")
endif()
if(DEFINED EXPECT_FILE AND NOT EXISTS "${EXPECT_FILE}")
  message(FATAL_ERROR "expected output file ${EXPECT_FILE} was not written")
endif()
