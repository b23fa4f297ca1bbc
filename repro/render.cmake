# Renders one figure: gnuplot SCRIPT with datadir=DATADIR, out=OUT (writes OUT.png and OUT.pdf),
# profile=PROFILE (printed in a corner of the figure, so that no figure hides which run made it),
# when the experiment produced data (DATADIR/result.json); touches STAMP either way.
if(EXISTS ${DATADIR}/result.json)
  get_filename_component(dir ${OUT} DIRECTORY)
  file(MAKE_DIRECTORY ${dir})
  if(NOT PROFILE)
    set(PROFILE "unnamed")
  endif()
  execute_process(COMMAND ${GNUPLOT} -e "datadir='${DATADIR}'; out='${OUT}'; profile='${PROFILE}'" ${SCRIPT} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "gnuplot ${SCRIPT} failed for ${DATADIR}")
  endif()
else()
  get_filename_component(n ${OUT} NAME)
  message(STATUS "figure ${n}: no data in ${DATADIR} (experiment skipped in this profile); the committed figure stays")
endif()
file(TOUCH ${STAMP})
