# Runs EXE (with optional ARGS) and passes when it exits non-zero and its output matches
# EXPECT_OUTPUT (a regular expression).
separate_arguments(_args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${EXE}" ${_args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "expected a failure, got exit code 0; output:\n${out}${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "output does not match '${EXPECT_OUTPUT}':\n${out}${err}")
endif()
message(STATUS "failed as expected (${rc}): ${err}")
