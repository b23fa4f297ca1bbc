# Ultra-slow growth on fractional Brownian landscapes, solved exactly (master equation) to ln t = 35:
# (a) <x^2> against T ln t / s for every run (two s/T per alpha, the same landscapes scaled: they
# collapse); (b) the exponent of E b(Gamma)^2 = C (Gamma/s - c)^k from the potential alone and the
# dynamics' k = 2/w of <x^2>, against 4/alpha. Variables: datadir, out.
if (exists("profile")) set label 99 "gengap, ".profile." profile" at screen 0.995, screen 0.015 right font ",8" front
set datafile separator ','
set key top left
runs = system("ls ".datadir."/series_alpha_*_s_*.csv 2>/dev/null")
xmin = system("cat ".datadir."/result.json | grep -o '\"fit_x_min\": [0-9.]*' | head -1 | cut -d' ' -f2") + 0
do for [fmt in "pngcairo pdfcairo"] {
  if (fmt eq "pngcairo") { set terminal pngcairo size 1200,480 font ",11"; set output out.".png" } \
  else { set terminal pdfcairo size 10in,4in font ",10"; set output out.".pdf" }
  set multiplot layout 1,2
  set title "(a) <x^2> (sites^2) against T ln t / s (exact); rows right of the dashed line"
  set logscale xy
  set xlabel "T ln t / s (t in walker steps)"
  set ylabel "<x^2> (sites^2)"
  if (xmin > 0) { set arrow 1 from xmin, graph 0 to xmin, graph 1 nohead dt 2 }
  plot for [f in runs] f every ::1 using 3:4 with lines lw 2 title system("basename ".f." .csv | sed 's/series_//'") noenhanced
  unset arrow 1
  unset logscale
  set title "(b) exponents against 4/alpha (intervals clipped at 12)"
  set xlabel "alpha"
  set ylabel "k"
  set xrange [0.3:1.7]
  set yrange [0:12]
  plot datadir."/exponents.csv" every ::1 using ($1-0.02):3:4:5 with yerrorbars pt 7 title "E b(Gamma)^2 ~ (Gamma/s - c)^k, potential alone (95% CI)", \
       datadir."/exponents.csv" every ::1 using ($1+0.02):6:7:($8 > 12 ? 12 : $8) with yerrorbars pt 6 title "dynamics: k = 2/w of <x^2> (description)", \
       4/x with lines dt 2 lw 2 title "4/alpha"
  unset multiplot
  unset xrange
  unset yrange
  unset output
}
