# Ultra-slow growth on fractional Brownian landscapes. Variables: datadir, out.
set datafile separator ','
set key top left
do for [fmt in "pngcairo pdfcairo"] {
  if (fmt eq "pngcairo") { set terminal pngcairo size 1200,480 font ",11"; set output out.".png" } \
  else { set terminal pdfcairo size 10in,4in font ",10"; set output out.".pdf" }
  set multiplot layout 1,2
  set title "<x^2> against ln t (log-log): slope = growth exponent"
  set logscale xy
  set xlabel "ln t"
  set ylabel "<x^2>"
  plot for [a in "0.5 1 1.5"] datadir."/series_alpha_".a.".csv" every ::2 using (log($1)):2 with linespoints pt 7 ps 0.5 title "alpha = ".a
  unset logscale
  set title "fitted k of <x^2> = B (ln t - c)^k against 4/alpha"
  set xlabel "alpha"
  set ylabel "k"
  set xrange [0.3:1.7]
  set yrange [0:*]
  plot datadir."/exponents.csv" every ::1 using 1:3:4:5 with yerrorbars pt 7 title "fitted k (95% CI)", \
       4/x with lines dt 2 lw 2 title "4/alpha"
  unset multiplot
  unset xrange
  unset yrange
  unset output
}
