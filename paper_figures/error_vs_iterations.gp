# Fig. 3 of the paper: test error against iterations, small batch against the adapted large batches
# (+LR +GBN +RA), and the unadapted large batch for contrast. Variables: datadir (an experiment
# folder of kind train_table), out.
if (exists("profile")) set label 99 "gengap, ".profile." profile" at screen 0.995, screen 0.015 right font ",8" front
set datafile separator ','
set key top right
files = system("ls ".datadir."/error_*.csv")
do for [fmt in "pngcairo pdfcairo"] {
  if (fmt eq "pngcairo") { set terminal pngcairo size 900,560 font ",11"; set output out.".png" } \
  else { set terminal pdfcairo size 7.5in,4.6in font ",10"; set output out.".pdf" }
  set logscale x
  set title "test error against iterations"
  set xlabel "iterations"
  set ylabel "test error (%)"
  plot for [f in files] f every ::1 using 1:3 with linespoints pt 7 ps 0.5 lw 2 \
       title system("basename ".f." .csv | sed -e 's/^error_//' -e 's/_/ /g'")
  unset output
}
