# Project-wide compile settings as INTERFACE targets, linked PRIVATE by each target.
add_library(gengap_warnings INTERFACE)
target_compile_options(gengap_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>)

add_library(gengap_codegen INTERFACE)
if(GENGAP_NATIVE)
  target_compile_options(gengap_codegen INTERFACE -march=native)
endif()
if(GENGAP_SANITIZE)
  target_compile_options(gengap_codegen INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(gengap_codegen INTERFACE -fsanitize=address,undefined)
endif()
install(TARGETS gengap_warnings gengap_codegen EXPORT gengapTargets)
