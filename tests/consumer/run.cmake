# Builds and runs tests/consumer/<MODE> (find_package, add_subdirectory or fetchcontent) in WORK_DIR.
# find_package first installs ember from EMBER_SOURCE_DIR into a temporary prefix.
set(consumer_src "${EMBER_SOURCE_DIR}/tests/consumer/${MODE}")
file(REMOVE_RECURSE "${WORK_DIR}")
set(extra "")
if(MODE STREQUAL "find_package")
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${EMBER_SOURCE_DIR}" -B "${WORK_DIR}/ember-build"
                          -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF
                          -DEMBER_BUILD_BENCHMARKS=OFF -DEMBER_BUILD_EXAMPLES=OFF
                          -DEMBER_INSTALL=ON -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix
                  COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND ${CMAKE_COMMAND} --install "${WORK_DIR}/ember-build" COMMAND_ERROR_IS_FATAL ANY)
  set(extra "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${consumer_src}" -B "${WORK_DIR}/build"
                        -DCMAKE_BUILD_TYPE=Release -DEMBER_SOURCE_DIR=${EMBER_SOURCE_DIR}
                        -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${extra}
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" --parallel 2
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${WORK_DIR}/build/app" COMMAND_ERROR_IS_FATAL ANY)
