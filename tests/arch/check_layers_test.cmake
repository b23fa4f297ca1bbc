# The layering check passes on the real tree and fails, naming each wrong-way include, on a tree made
# of them (tests/arch/wrong_way). cmake -DSOURCE=<repo> -DCHECK=<check_layers.cmake> -P this
execute_process(COMMAND ${CMAKE_COMMAND} -DROOT=${SOURCE} -P ${CHECK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the real tree fails the layering check:\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -DROOT=${SOURCE}/tests/arch/wrong_way -P ${CHECK} RESULT_VARIABLE rc OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "the wrong-way tree passes the layering check")
endif()
foreach(expected "4 include(s) break" "core/src/bad.cpp:3: #include gengap/sim/fit.hpp"
    "sim/include/gengap/sim/bad.hpp:3: #include torch/torch.h" "sim/include/gengap/sim/bad.hpp:4: #include gengap/train/trainer.hpp"
    "train/src/bad.cpp:3: #include gengap/sim.hpp")
  string(FIND "${err}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the layering check's message lacks '${expected}':\n${err}")
  endif()
endforeach()
# Allowed includes are not flagged: core's own headers, a name that only starts like a part, LibTorch in train.
foreach(allowed "gengap/core/io.hpp" "simulation_like_name" "torch/types.h")
  string(FIND "${err}" "${allowed}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "the layering check flags an allowed include '${allowed}':\n${err}")
  endif()
endforeach()
