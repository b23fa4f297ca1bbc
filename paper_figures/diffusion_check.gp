# The diffusion check: (a) d(t) of the reference batch on the decision window, with the fitted
# A (ln t - c)^k and a + C t^beta;
# (b) estimator (a), the authors' definition: the RMS over seeds of L(w_t) - L(w_0) (training probe)
#     against the mean distance, per batch size (slope = gamma);
# (c) the walk on an fBm landscape with alpha = 2 gamma, fitted the same way.
# Variables: datadir (an experiment folder of kind weight_distance), out.
if (exists("profile")) set label 99 "gengap, ".profile." profile" at screen 0.995, screen 0.015 right font ",8" front
set datafile separator ','
batches = system("cat ".datadir."/batch_sizes.txt")
has_walk = system("test -f ".datadir."/walk.csv && echo 1 || echo 0") + 0
do for [fmt in "pngcairo pdfcairo"] {
  if (fmt eq "pngcairo") { set terminal pngcairo size 1500,450 font ",11"; set output out.".png" } \
  else { set terminal pdfcairo size 12.5in,3.75in font ",10"; set output out.".pdf" }
  set multiplot layout 1,3
  set key top left
  set logscale x
  set title "(a) reference batch on the window: d(t) and the two fits"
  set xlabel "iterations t"
  set ylabel "||w_t - w_0||"
  plot datadir."/fit_reference.csv" every ::1 using 1:2 with points pt 7 ps 0.6 title "measured (mean over seeds)", \
       "" every ::1 using 1:3 with lines lw 2 title "A (ln t - c)^k", \
       "" every ::1 using 1:4 with lines dt 2 lw 2 title "a + C t^{/Symbol b}"
  set logscale xy
  set title "(b) RMS over seeds of L(w_t) - L(w_0): slope gamma"
  set xlabel "mean ||w_t - w_0||"
  set ylabel "RMS L(w_t) - L(w_0)"
  plot for [b in batches] datadir."/gamma.csv" every ::1 using ($1 == b+0 ? $3 : NaN):4 with linespoints pt 7 ps 0.4 title "B = ".b, \
       0.1*x with lines dt 3 lc rgb "black" title "slope 1 (authors)"
  unset logscale
  set logscale x
  set title "(c) walk on an fBm landscape with alpha = 2 gamma"
  set xlabel "t"
  set ylabel "sqrt(<x^2>)"
  if (has_walk) {
    plot datadir."/walk.csv" every ::1 using 1:2 with points pt 7 ps 0.6 title "simulated", \
         "" every ::1 using 1:3 with lines lw 2 title "A (ln t - c)^k", \
         "" every ::1 using 1:4 with lines dt 2 lw 2 title "a + C t^{/Symbol b}"
  } else {
    set label 1 "no walk: gamma's interval is not inside (0, 1]" at graph 0.1, graph 0.5
    unset logscale
    plot [0:1][0:1] -1 notitle
    unset label 1
  }
  unset multiplot
  unset logscale
  unset output
}
