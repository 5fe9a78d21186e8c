# Builds tests/consumer against asyncio-cpp, by find_package (after an install into a
# scratch prefix) or by add_subdirectory, then runs it. Both builds are unoptimised (-O0, no
# debug info): the check is that the targets export, install and link, and -O0 makes each
# library build about a third of what -O2 costs on CI's two cores.
set(build ${WORK_DIR}/${MODE})
file(REMOVE_RECURSE ${build})
file(MAKE_DIRECTORY ${build})
set(args -DASYNCIO_MODE=${MODE} -DASYNCIO_SOURCE_DIR=${SOURCE_DIR} -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0)
if(MODE STREQUAL "find_package")
  set(prefix ${WORK_DIR}/prefix)
  file(REMOVE_RECURSE ${prefix} ${WORK_DIR}/lib-build)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib-build
                    -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0 -DASYNCIO_BUILD_TESTS=OFF
                    -DASYNCIO_BUILD_EXAMPLES=OFF -DASYNCIO_BUILD_BENCH=OFF
                    -DCMAKE_INSTALL_PREFIX=${prefix}
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "configuring the library failed")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/lib-build -j2 --target install
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "installing the library failed")
  endif()
  list(APPEND args -DCMAKE_PREFIX_PATH=${prefix})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${build} ${args}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer (${MODE}) failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} -j2 RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer (${MODE}) failed")
endif()
execute_process(COMMAND ${build}/consumer OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(rc OR NOT out MATCHES "consumer got 42")
  message(FATAL_ERROR "the consumer (${MODE}) did not run: ${out}")
endif()
message(STATUS "consumer (${MODE}) ok: ${out}")
