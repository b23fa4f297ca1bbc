# repro.quick: the whole pipeline on tiny settings; checks the mechanics (files, schema, verdict
# table, skip messages, reuse of finished work, resume of an interrupted run, figures), not the science.
file(REMOVE_RECURSE ${OUT})
string(REPLACE "|" ";" CONFIGS "${CONFIGS}")
string(REPLACE "|" ";" FIGURES "${FIGURES}")
execute_process(COMMAND ${REPRO} --profile quick --out ${OUT} ${CONFIGS} RESULT_VARIABLE rc ERROR_VARIABLE err)
message(STATUS "${err}")
if(rc)
  message(FATAL_ERROR "gengap-repro failed: ${rc}")
endif()
set(expect summary.md verdicts.json sinai_validation/result.json sinai_validation/sinai_ratio.csv
    sinai_validation/valley_cdf.csv alpha_sweep/result.json alpha_sweep/exponents.csv
    sgd_batch_insilico/result.json sgd_batch_insilico/curve_B128.csv sgd_batch_insilico/batch_sizes.txt)
set(min_verdicts 9)
if(TRAIN)
  list(APPEND expect table1_f1/result.json table1_f1/table1.csv table1_f1/error_f1_SB.csv table1_f1/error_f1_RA.csv
       table1_f1/error_f1_RA_B128.csv weight_distance_f1/result.json weight_distance_f1/batch_sizes.txt
       weight_distance_f1/curve_B16.csv weight_distance_f1/curve_B32.csv weight_distance_f1/fit_reference.csv
       weight_distance_f1/gamma.csv weight_distance_f1/window.csv weight_distance_f1/parts.csv
       weight_distance_f1/control_none_B32.csv weight_distance_f1/control_linear_B32.csv
       weight_distance_f1/alpha_curve.csv weight_distance_f1/structure.csv weight_distance_f1/barriers.csv
       weight_distance_f1/premise.csv weight_distance_f1/noise_B16.csv weight_distance_f1/noise_B32.csv
       weight_distance_resnet44/result.json weight_distance_resnet44/curve_B16.csv)
  # table1_f1: 4 verdicts; each weight_distance: log time, overlap, gamma, exponent, walk; f1 also
  # roughness (estimator b) and the sqrt(B) premise
  math(EXPR min_verdicts "${min_verdicts} + 4 + 5 + 5 + 2")
  if(NOT err MATCHES "about [0-9]+ s left in this experiment")
    message(FATAL_ERROR "no time-left estimate between runs")
  endif()
endif()
foreach(f ${expect})
  if(NOT EXISTS ${OUT}/${f})
    message(FATAL_ERROR "missing output ${OUT}/${f}")
  endif()
endforeach()
file(READ ${OUT}/verdicts.json v)
string(JSON n LENGTH "${v}")
if(n LESS min_verdicts)
  message(FATAL_ERROR "expected at least ${min_verdicts} verdicts, got ${n}")
endif()
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  foreach(key experiment claim expected measured rule verdict reason)
    string(JSON val ERROR_VARIABLE jerr GET "${v}" ${i} ${key})
    if(jerr)
      message(FATAL_ERROR "verdict ${i} lacks ${key}: ${jerr}")
    endif()
  endforeach()
endforeach()
file(READ ${OUT}/summary.md s)
if(NOT s MATCHES "\\| experiment \\| claim \\| expected")
  message(FATAL_ERROR "summary.md has no verdict table")
endif()
if(TRAIN)
  # No CIFAR data was given: both rows are skipped, and the message says which files go where.
  if(NOT s MATCHES "Skipped:" OR NOT s MATCHES "cifar-10-batches-bin" OR NOT s MATCHES "cifar-100-binary")
    message(FATAL_ERROR "summary.md does not list the CIFAR rows as skipped with the files they need")
  endif()
  if(NOT s MATCHES "\\| SB \\| LB \\| \\+LR \\| \\+GBN \\| \\+RA \\|")
    message(FATAL_ERROR "summary.md has no Table 1")
  endif()
endif()
# A second run finds every experiment up to date and reruns nothing.
execute_process(COMMAND ${REPRO} --profile quick --out ${OUT} ${CONFIGS} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(rc OR NOT err MATCHES "up to date")
  message(FATAL_ERROR "the second run did not reuse the finished experiments: ${err}")
endif()
if(TRAIN)
  # An interrupted experiment: its result is gone and one run lost its summary (killed before the
  # end). The rerun keeps the finished runs and redoes only that one.
  file(REMOVE ${OUT}/weight_distance_f1/result.json ${OUT}/weight_distance_f1/runs/B32_s2/summary.json)
  execute_process(COMMAND ${REPRO} --profile quick --out ${OUT} ${CONFIGS} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(rc OR NOT EXISTS ${OUT}/weight_distance_f1/runs/B32_s2/summary.json OR NOT err MATCHES "resuming")
    message(FATAL_ERROR "the interrupted run was not resumed: ${err}")
  endif()
  file(READ ${OUT}/verdicts.json v2)
  if(NOT v2 STREQUAL v)
    message(FATAL_ERROR "the resumed experiment gave other verdicts than the uninterrupted one")
  endif()
endif()
if(GNUPLOT)
  foreach(f ${FIGURES})
    string(REPLACE ":" ";" parts ${f})
    list(GET parts 0 script)
    list(GET parts 1 exp)
    list(GET parts 2 name)
    execute_process(COMMAND ${CMAKE_COMMAND} -DGNUPLOT=${GNUPLOT} -DSCRIPT=${FIGS}/${script}.gp -DDATADIR=${OUT}/${exp}
      -DOUT=${OUT}/${name} -DSTAMP=${OUT}/${name}.stamp -P ${RENDER} RESULT_VARIABLE rc)
    if(EXISTS ${OUT}/${exp}/result.json AND (rc OR NOT EXISTS ${OUT}/${name}.png OR NOT EXISTS ${OUT}/${name}.pdf))
      message(FATAL_ERROR "figure ${name} was not rendered")
    endif()
  endforeach()
endif()
