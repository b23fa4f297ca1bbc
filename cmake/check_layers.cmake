# The layering rule of docs/pages/architecture.md, checked on the sources' #include lines:
#   core/   the base: includes nothing of gengap's other parts, no LibTorch, no Eigen;
#   sim/    stands on core: never includes train/ or repro/, never LibTorch;
#   train/  stands on core, beside sim: never includes sim/ or repro/;
#   repro/  composes sim and train: may include anything.
# cmake -DROOT=<source tree> [-DSTAMP=<file written when the tree passes>] -P check_layers.cmake
# Exits with an error listing every wrong-way include (file, line, header, rule).
if(NOT ROOT)
  message(FATAL_ERROR "check_layers.cmake: set -DROOT=<source tree>")
endif()

set(violations "")
macro(check_part part forbidden why)
  file(GLOB_RECURSE files "${ROOT}/${part}/*.hpp" "${ROOT}/${part}/*.h" "${ROOT}/${part}/*.cpp" "${ROOT}/${part}/*.cc")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" lines)
    set(n 0)
    foreach(l IN LISTS lines)
      math(EXPR n "${n} + 1")
      if(l MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")
        set(inc "${CMAKE_MATCH_1}")
        if(inc MATCHES "${forbidden}")
          file(RELATIVE_PATH rel "${ROOT}" "${f}")
          list(APPEND violations "${rel}:${n}: #include ${inc}: ${why}")
        endif()
      endif()
    endforeach()
  endforeach()
endmacro()

check_part(core "^gengap/(sim|train|repro)([/.]|$)|^(torch|ATen|c10)/|^(Eigen|unsupported/Eigen)/"
  "core/ is the base: it includes no other part of gengap, no LibTorch and no Eigen")
check_part(sim "^gengap/(train|repro)([/.]|$)|^(torch|ATen|c10)/"
  "sim/ stands on core only: it never includes train/, repro/ or LibTorch")
check_part(train "^gengap/(sim|repro)([/.]|$)"
  "train/ stands on core beside sim/: it never includes sim/ or repro/ (shared code belongs in core/)")

list(LENGTH violations count)
if(count GREATER 0)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "gengap: ${count} include(s) break the layering rule (docs/pages/architecture.md):\n  ${text}")
endif()
if(STAMP)
  file(TOUCH "${STAMP}")
endif()
