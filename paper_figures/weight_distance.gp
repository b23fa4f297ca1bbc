# Fig. 2 of the paper: ||w_t - w_0|| against epochs and against iterations, one curve per batch size
# (mean over seeds). Variables: datadir (an experiment folder of kind weight_distance), out.
if (exists("profile")) set label 99 "gengap, ".profile." profile" at screen 0.995, screen 0.015 right font ",8" front
set datafile separator ','
set key top left
batches = system("cat ".datadir."/batch_sizes.txt")
has_window = system("test -f ".datadir."/window.csv && echo 1 || echo 0") + 0
t0 = has_window ? system("tail -1 ".datadir."/window.csv | cut -d, -f1") + 0 : 0
tT = has_window ? system("tail -1 ".datadir."/window.csv | cut -d, -f2") + 0 : 0
do for [fmt in "pngcairo pdfcairo"] {
  if (fmt eq "pngcairo") { set terminal pngcairo size 1200,480 font ",11"; set output out.".png" } \
  else { set terminal pdfcairo size 10in,4in font ",10"; set output out.".pdf" }
  set multiplot layout 1,2
  set logscale x
  set ylabel "||w_t - w_0||"
  set title "against epochs (paper: larger batches travel less)"
  set xlabel "epochs"
  plot for [b in batches] datadir."/curve_B".b.".csv" every ::1 using 2:3 with lines lw 2 title "B = ".b
  set title "against iterations, lr x sqrt(B/B_s) (paper: they overlap)".(has_window ? "; window dashed" : "")
  set xlabel "iterations t"
  if (has_window) { set arrow 1 from t0, graph 0 to t0, graph 1 nohead dt 2; set arrow 2 from tT, graph 0 to tT, graph 1 nohead dt 2 }
  plot for [b in batches] datadir."/curve_B".b.".csv" every ::1 using 1:3 with lines lw 2 title "B = ".b
  unset arrow 1
  unset arrow 2
  unset multiplot
  unset output
}
