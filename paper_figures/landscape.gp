# The landscape and the noise, measured on the weight-distance runs (issue 13):
# (a) estimator (b): the local exponent alpha(r) = d ln S / d ln r against r / d(t), with its 95% band
#     over directions, per batch size and checkpoint (alpha = 2: smooth; < 2: rough);
# (b) estimator (c): the barrier on the straight segment between two iterates against their distance;
# (c) the sqrt(B) premise: v = lr^2 tr(Sigma)/B against B at each checkpoint, for the three lr rules;
# (d) the gradient noise scale B_simple = tr(Sigma)/|G|^2 along training, per batch size.
# Variables: datadir (an experiment folder of kind weight_distance with a landscape block), out.
if (exists("profile")) set label 99 "gengap, ".profile." profile" at screen 0.995, screen 0.015 right font ",8" front
set datafile separator ','
batches = system("cat ".datadir."/batch_sizes.txt")
has_land = system("test -f ".datadir."/alpha_curve.csv && echo 1 || echo 0") + 0
# Panels whose data hold no plottable point (e.g. no segment had a barrier) show a note instead of failing
# on an empty log-scale range.
alpha_seed = has_land ? system("awk -F, 'NR == 2 {print $2}' ".datadir."/alpha_curve.csv") + 0 : 0
n_alpha = has_land ? system("awk -F, 'NR > 1 && $4 > 0 && $5 == $5 + 0' ".datadir."/alpha_curve.csv | wc -l") + 0 : 0
alpha_ts = has_land ? system("tail -n +2 ".datadir."/alpha_curve.csv | cut -d, -f3 | sort -n -u | tr '\\n' ' '") : ""
n_barriers = has_land ? system("awk -F, 'NR > 1 && $5 > 0 && $6 > 0' ".datadir."/barriers.csv | wc -l") + 0 : 0
n_noise = system("cat ".datadir."/noise_B*.csv 2>/dev/null | awk -F, '$1 + 0 > 0 && $4 + 0 > 0' | wc -l") + 0
n_premise = system("test -f ".datadir."/premise.csv && awk -F, 'NR > 1 && $4 > 0' ".datadir."/premise.csv | wc -l || echo 0") + 0
checkpoints = system("test -f ".datadir."/premise.csv && tail -n +2 ".datadir."/premise.csv | cut -d, -f3 | sort -n -u | tr '\\n' ' '")
do for [fmt in "pngcairo pdfcairo"] {
  if (fmt eq "pngcairo") { set terminal pngcairo size 1500,1100 font ",11"; set output out.".png" } \
  else { set terminal pdfcairo size 12.5in,9in font ",10"; set output out.".pdf" }
  set multiplot layout 2,2
  set key top left font ",9"
  if (has_land) {
    set logscale x
    set title "(a) local exponent alpha(r) of S(r) = E (L(w + r u) - L(w))^2, 95% band over directions (seed ".alpha_seed.")"
    set xlabel "r (distance from w_t)"
    set ylabel "alpha(r)"
    set yrange [0:4]
    if (n_alpha == 0) { unset logscale; set label 1 "alpha(r) undefined at every radius" at graph 0.1, graph 0.5; plot [0:1][0:1] -1 notitle; unset label 1 } else {
    # One curve per (B, checkpoint), k = 0 .. nb nt - 1: the colour tells B, the dash and point type the
    # checkpoint (the default cycle has only 8 colours); the band takes its curve's colour.
    nb = words(batches); nt = words(alpha_ts)
    plot for [k=0:nb*nt-1] datadir."/alpha_curve.csv" every ::1 using ($1 == word(batches, k/nt+1)+0 && $2 == alpha_seed && $3 == word(alpha_ts, k%nt+1)+0 ? $4 : NaN):6:7 with filledcurves fs transparent solid 0.12 lc ((k/nt)+1) notitle, \
         for [k=0:nb*nt-1] "" every ::1 using ($1 == word(batches, k/nt+1)+0 && $2 == alpha_seed && $3 == word(alpha_ts, k%nt+1)+0 ? $4 : NaN):5 with linespoints pt (5 + 2*(k%nt)) ps 0.6 dt k%nt+1 lc ((k/nt)+1) title "B = ".word(batches, k/nt+1).", t = ".word(alpha_ts, k%nt+1), \
         2 with lines dt 2 lc rgb "black" title "alpha = 2 (smooth)"
    }
    set autoscale y
    set logscale xy
    set title "(b) barrier on the segment between iterates vs their distance"
    set xlabel "||w_t - w_s||"
    set ylabel "barrier (probe loss)"
    if (n_barriers > 0) {
      plot for [b in batches] datadir."/barriers.csv" every ::1 using ($1 == b+0 && $6 > 0 ? $5 : NaN):6 with points pt 7 ps 0.6 title "B = ".b
    } else {
      unset logscale
      set label 1 "no segment between the probed iterates rose above its ends" at graph 0.05, graph 0.5
      plot [0:1][0:1] -1 notitle
      unset label 1
    }
  } else {
    unset logscale
    set label 1 "no landscape measurement in this profile" at graph 0.1, graph 0.5
    plot [0:1][0:1] -1 notitle
    plot [0:1][0:1] -1 notitle
    unset label 1
  }
  set logscale xy
  if (n_premise == 0) { unset logscale; set label 1 "no premise measurement in this run" at graph 0.1, graph 0.5 }
  set title "(c) increment covariance v = lr^2 tr(Sigma)/B (premise: flat under sqrt scaling)"
  set xlabel "batch size B"
  set ylabel "v"
  if (n_premise == 0) { plot [0:1][0:1] -1 notitle; unset label 1 } else {
  plot for [t in checkpoints] datadir."/premise.csv" every ::1 using (strcol(1) eq "sqrt" && $3 == t+0 ? $2 : NaN):4 with linespoints pt 7 lw 2 title "sqrt, t = ".t, \
       for [t in checkpoints] "" every ::1 using (strcol(1) eq "none" && $3 == t+0 ? $2 : NaN):4 with points pt 4 ps 1.2 title "none, t = ".t, \
       for [t in checkpoints] "" every ::1 using (strcol(1) eq "linear" && $3 == t+0 ? $2 : NaN):4 with points pt 6 ps 1.2 title "linear, t = ".t
  }
  set logscale xy
  set title "(d) gradient noise scale B_{simple} = tr(Sigma)/|G|^2 along training (mean over seeds)"
  set xlabel "iterations t"
  set ylabel "B_{simple}"
  if (n_noise > 0) {
    plot for [b in batches] datadir."/noise_B".b.".csv" every ::1 using 1:($4 > 0 ? $4 : NaN) with linespoints pt 7 ps 0.4 title "B = ".b
  } else {
    unset logscale
    set label 1 "B_{simple} undefined at every record (no noise.csv, or |G|^2 <= tr(Sigma)/b)" at graph 0.05, graph 0.5
    plot [0:1][0:1] -1 notitle
    unset label 1
  }
  unset multiplot
  unset logscale
  unset output
}
