# Builds tests/consumer against asyncio-cpp, by find_package (after an install into a
# scratch prefix) or by add_subdirectory, then runs it. The consumer builds unoptimised (-O0,
# no debug info): the check is that the targets export, install and link. Under
# add_subdirectory that is one more build of the library, done as a unity build (which also
# checks that the library builds as one, for users who set CMAKE_UNITY_BUILD): measured,
# 40 s on two cores (65 s of CPU) against 98 s (164 s of CPU) file by file, and ctest runs
# this check alone.
set(build ${WORK_DIR}/${MODE})
file(REMOVE_RECURSE ${build})
file(MAKE_DIRECTORY ${build})
set(args -DASYNCIO_MODE=${MODE} -DASYNCIO_SOURCE_DIR=${SOURCE_DIR} -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0)
if(MODE STREQUAL "find_package")
  # Installs the library this test tree built (make test's dev tree), so that the check costs
  # no second build of it.
  set(prefix ${WORK_DIR}/prefix)
  file(REMOVE_RECURSE ${prefix})
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "installing the library from ${BUILD_DIR} failed")
  endif()
  list(APPEND args -DCMAKE_PREFIX_PATH=${prefix})
else()
  list(APPEND args -DCMAKE_UNITY_BUILD=ON)
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
