# Project-wide compile settings as INTERFACE targets, linked PRIVATE by each target.
add_library(gengap_warnings INTERFACE)
target_compile_options(gengap_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>)

add_library(gengap_codegen INTERFACE)
if(GENGAP_NATIVE)
  target_compile_options(gengap_codegen INTERFACE -march=native)
  # GCC 12's own AVX-512 headers (avx512fintrin.h, _mm512_extractf64x4_pd, reached through Eigen)
  # trip -Wmaybe-uninitialized at -O3 on every AVX-512 machine: GCC bug 105593, hundreds of warnings
  # that are not the project's. Only for GCC 12 with -march=native; other builds keep the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12 AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(gengap_codegen INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()
if(GENGAP_SANITIZE)
  target_compile_options(gengap_codegen INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(gengap_codegen INTERFACE -fsanitize=address,undefined)
endif()
install(TARGETS gengap_warnings gengap_codegen EXPORT gengapTargets)

# gengap_add_library(<part> SOURCES ...): the library gengap_<part>, alias and export name
# gengap::<part>, headers under <part>/include, installed with its headers into the export set.
function(gengap_add_library part)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  set(t gengap_${part})
  add_library(${t} ${ARG_SOURCES})
  add_library(gengap::${part} ALIAS ${t})
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${part} OUTPUT_NAME ${t} POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${t} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${t} PUBLIC cxx_std_17)
  target_link_libraries(${t} PRIVATE gengap_warnings)
  install(TARGETS ${t} EXPORT gengapTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
