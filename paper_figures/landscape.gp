# The landscape and the noise, measured on the weight-distance runs (issue 13):
# (a) estimator (b): the local exponent alpha(r) = d ln S / d ln r against r / d(t), with its 95% band
#     over directions, per batch size and checkpoint (alpha = 2: smooth; < 2: rough);
# (b) estimator (c): the barrier on the straight segment between two iterates against their distance;
# (c) the sqrt(B) premise: v = lr^2 tr(Sigma)/B against B at each checkpoint, for the three lr rules;
# (d) the gradient noise scale B_simple = tr(Sigma)/|G|^2 along training, per batch size.
# Variables: datadir (an experiment folder of kind weight_distance with a landscape block), out.
set datafile separator ','
batches = system("cat ".datadir."/batch_sizes.txt")
has_land = system("test -f ".datadir."/alpha_curve.csv && echo 1 || echo 0") + 0
checkpoints = system("test -f ".datadir."/premise.csv && tail -n +2 ".datadir."/premise.csv | cut -d, -f3 | sort -n -u | tr '\\n' ' '")
do for [fmt in "pngcairo pdfcairo"] {
  if (fmt eq "pngcairo") { set terminal pngcairo size 1500,1100 font ",11"; set output out.".png" } \
  else { set terminal pdfcairo size 12.5in,9in font ",10"; set output out.".pdf" }
  set multiplot layout 2,2
  set key top left font ",9"
  if (has_land) {
    set logscale x
    set title "(a) local exponent alpha(r) of S(r) = E (L(w + r u) - L(w))^2, 95% band over directions"
    set xlabel "r (distance from w_t)"
    set ylabel "alpha(r)"
    set yrange [0:4]
    plot for [b in batches] datadir."/alpha_curve.csv" every ::1 using ($1 == b+0 && $2 == 1 ? $4 : NaN):6:7 with filledcurves fs transparent solid 0.15 notitle, \
         for [b in batches] "" every ::1 using ($1 == b+0 && $2 == 1 ? $4 : NaN):5 with linespoints pt 7 ps 0.5 title "B = ".b." (seed 1, each checkpoint)", \
         2 with lines dt 2 lc rgb "black" title "alpha = 2 (smooth)"
    set autoscale y
    set logscale xy
    set title "(b) barrier on the segment between iterates vs their distance"
    set xlabel "||w_t - w_s||"
    set ylabel "barrier (probe loss)"
    plot for [b in batches] datadir."/barriers.csv" every ::1 using ($1 == b+0 && $6 > 0 ? $5 : NaN):6 with points pt 7 ps 0.6 title "B = ".b
  } else {
    unset logscale
    set label 1 "no landscape measurement in this profile" at graph 0.1, graph 0.5
    plot [0:1][0:1] -1 notitle
    plot [0:1][0:1] -1 notitle
    unset label 1
  }
  set logscale xy
  set title "(c) increment covariance v = lr^2 tr(Sigma)/B (premise: flat under sqrt scaling)"
  set xlabel "batch size B"
  set ylabel "v"
  plot for [t in checkpoints] datadir."/premise.csv" every ::1 using (strcol(1) eq "sqrt" && $3 == t+0 ? $2 : NaN):4 with linespoints pt 7 lw 2 title "sqrt, t = ".t, \
       for [t in checkpoints] "" every ::1 using (strcol(1) eq "none" && $3 == t+0 ? $2 : NaN):4 with points pt 4 ps 1.2 title "none, t = ".t, \
       for [t in checkpoints] "" every ::1 using (strcol(1) eq "linear" && $3 == t+0 ? $2 : NaN):4 with points pt 6 ps 1.2 title "linear, t = ".t
  set title "(d) gradient noise scale B_simple = tr(Sigma)/|G|^2 along training (mean over seeds)"
  set xlabel "iterations t"
  set ylabel "B_simple"
  plot for [b in batches] datadir."/noise_B".b.".csv" every ::1 using 1:($4 > 0 ? $4 : NaN) with linespoints pt 7 ps 0.4 title "B = ".b
  unset multiplot
  unset logscale
  unset output
}
