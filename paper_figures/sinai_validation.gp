# Sinai's walk against Kesten's law. Variables: datadir (experiment folder), out (path without extension).
if (exists("profile")) set label 99 "gengap, ".profile." profile" at screen 0.995, screen 0.015 right font ",8" front
set datafile separator ','
set key top left
do for [fmt in "pngcairo pdfcairo"] {
  if (fmt eq "pngcairo") { set terminal pngcairo size 1200,480 font ",11"; set output out.".png" } \
  else { set terminal pdfcairo size 10in,4in font ",10"; set output out.".pdf" }
  set multiplot layout 1,2
  set title "sigma^4 <x^2> / (ln t - c)^4 against Kesten's 61/45"
  set xlabel "ln t (t in walker steps)"
  set ylabel "sigma^4 <x^2> / (ln t - c)^4"
  set yrange [0:*]
  plot datadir."/sinai_ratio.csv" every ::1 using 2:4 with linespoints pt 7 ps 0.5 title "Monte Carlo", \
       61.0/45 with lines lw 2 dt 2 title "61/45"
  set title "Golosov's valley bottom: sigma^2 b_Gamma / Gamma^2"
  set xlabel "b (sites)"
  set ylabel "CDF"
  set yrange [0:1]
  set xrange [-4:4]
  plot datadir."/valley_cdf.csv" every ::1 using 1:2 with lines lw 2 title "valley bottoms", \
       datadir."/valley_cdf.csv" every ::1 using 1:3 with lines lw 2 dt 2 title "Kesten"
  unset multiplot
  unset xrange
  unset output
}
