# asyncio::http: the HTTP layer (aiohttp's counterpart), a library of its own over the core.
#
# Its parser is llhttp (Node.js's, and aiohttp's own), built here from the C sources Debian's
# node-llhttp ships (/usr/share/llhttp/*.c, header /usr/share/include/llhttp/llhttp.h) into a
# static library; nothing is downloaded. llhttp.h stays out of the public headers.
find_package(ZLIB REQUIRED)              # gzip / deflate bodies
find_package(nlohmann_json 3 REQUIRED)   # json(): its value type is nlohmann::json

find_path(ASYNCIO_LLHTTP_INCLUDE_DIR llhttp.h
  PATHS /usr/share/include/llhttp /usr/include/llhttp /usr/include NO_CACHE)
find_path(ASYNCIO_LLHTTP_SOURCE_DIR llhttp.c PATHS /usr/share/llhttp NO_CACHE)
if(NOT ASYNCIO_LLHTTP_INCLUDE_DIR OR NOT ASYNCIO_LLHTTP_SOURCE_DIR)
  message(FATAL_ERROR "llhttp's C sources were not found: install the Debian package node-llhttp "
                      "(make deps does)")
endif()

add_library(asyncio_llhttp STATIC
  ${ASYNCIO_LLHTTP_SOURCE_DIR}/api.c
  ${ASYNCIO_LLHTTP_SOURCE_DIR}/http.c
  ${ASYNCIO_LLHTTP_SOURCE_DIR}/llhttp.c)
# UNITY_BUILD OFF: llhttp.c and api.c declare the same callbacks differently (a unity build
# of the consumer check would merge them).
set_target_properties(asyncio_llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME llhttp
                                                UNITY_BUILD OFF)
target_include_directories(asyncio_llhttp PUBLIC $<BUILD_INTERFACE:${ASYNCIO_LLHTTP_INCLUDE_DIR}>)

file(GLOB ASYNCIO_HTTP_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/http/*.cpp)
add_library(asyncio_http ${ASYNCIO_HTTP_SOURCES})
add_library(asyncio::http ALIAS asyncio_http)
set_target_properties(asyncio_http PROPERTIES EXPORT_NAME http)
target_include_directories(asyncio_http PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(asyncio_http
  PUBLIC asyncio nlohmann_json::nlohmann_json
  PRIVATE asyncio_llhttp ZLIB::ZLIB OpenSSL::SSL OpenSSL::Crypto)
if(ASYNCIO_IS_ROOT)
  target_compile_options(asyncio_http PRIVATE -Wall -Wextra -Wpedantic)
endif()

# br bodies: libbrotli's decoder (Debian libbrotli-dev), linked by its path so that the
# exported target needs nothing more from a consumer.
find_path(ASYNCIO_BROTLI_INCLUDE_DIR brotli/decode.h NO_CACHE)
find_library(ASYNCIO_BROTLIDEC_LIBRARY brotlidec NO_CACHE)
if(NOT ASYNCIO_BROTLI_INCLUDE_DIR OR NOT ASYNCIO_BROTLIDEC_LIBRARY)
  message(FATAL_ERROR "libbrotli's decoder was not found: install the Debian package libbrotli-dev "
                      "(make deps does)")
endif()
target_include_directories(asyncio_http PRIVATE ${ASYNCIO_BROTLI_INCLUDE_DIR})
target_link_libraries(asyncio_http PRIVATE ${ASYNCIO_BROTLIDEC_LIBRARY})

# text() of a body without a charset that is not UTF-8: uchardet (Debian libuchardet-dev, the
# detector mpv uses) names its charset, iconv (glibc) converts. Found with pkg-config and
# linked by its path, as libbrotli above.
find_package(PkgConfig REQUIRED)
pkg_check_modules(ASYNCIO_UCHARDET uchardet)
if(NOT ASYNCIO_UCHARDET_FOUND)
  message(FATAL_ERROR "uchardet was not found: install the Debian package libuchardet-dev "
                      "(make deps does)")
endif()
find_library(ASYNCIO_UCHARDET_LIBRARY uchardet HINTS ${ASYNCIO_UCHARDET_LIBRARY_DIRS} NO_CACHE)
target_include_directories(asyncio_http PRIVATE ${ASYNCIO_UCHARDET_INCLUDE_DIRS})
target_link_libraries(asyncio_http PRIVATE ${ASYNCIO_UCHARDET_LIBRARY})
