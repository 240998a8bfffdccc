# Configures ember with one dependency hidden and passes when configuration stops with a message
# naming the Debian package to install.
execute_process(COMMAND ${CMAKE_COMMAND} -S "${EMBER_SOURCE_DIR}" -B "${WORK_DIR}"
                        -DEMBER_BUILD_TESTS=OFF -DEMBER_BUILD_BENCHMARKS=OFF
                        -DEMBER_BUILD_EXAMPLES=OFF -DCMAKE_DISABLE_FIND_PACKAGE_${PACKAGE}=ON
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE "${WORK_DIR}")
if(rc EQUAL 0)
  message(FATAL_ERROR "configuring without ${PACKAGE} succeeded; expected a configure-time error")
endif()
# CMake wraps long messages: compare with whitespace collapsed.
string(REGEX REPLACE "[ \t\r\n]+" " " err "${err}")
if(NOT err MATCHES "ember needs ${PACKAGE}, which was not found\\. On Debian or Ubuntu: apt-get install ${DEBIAN_PACKAGE}")
  message(FATAL_ERROR "unexpected message:\n${err}")
endif()
