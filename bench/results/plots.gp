# plots.gp — vtdkit report's plots, drawn from the .dat files beside it.
# Run it in this directory: gnuplot plots.gp. Each plot is drawn as PNG and SVG.
# Written by vtdkit (src/bench/plot.c); docs/plots.md says what each plot shows.
# vtdkit report: 20000 operations per run, seed 1; costs: docs/cost-model.md

set encoding utf8
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
	png_term = "set terminal pngcairo noenhanced font 'sans,10' size "
} else {
	png_term = "set terminal png noenhanced size "
}
svg_term = "set terminal svg dynamic noenhanced font 'sans,10' background '#ffffff' size "
term(fmt, w, h) = (fmt eq "png" ? png_term : svg_term) . sprintf("%d,%d", w, h)
footer = "vtdkit report: 20000 operations per run, seed 1; costs: docs/cost-model.md"

# (a) modelled cost per operation
do for [fmt in "png svg"] {
	reset
	eval term(fmt, 1000, 700)
	set output "cost.".fmt
	set style data histograms
	set style histogram clustered gap 1
	set style fill solid 0.85 border -1
	set key inside top right horizontal opaque box
	set grid ytics
	set xtics nomirror rotate by -40 left font ",9"
	set offsets 0, 0, graph 0.15, 0
	set title "Modelled cost per operation, by unmap policy\n(virtual ns per operation, idle gaps excluded)"
	set xlabel "workload"
	set ylabel "modelled ns per operation"
	set bmargin 10
	set label 1 footer at screen 0.99, screen 0.015 right font ",8"
	set yrange [0:*]
	plot "cost.dat" using 2:xtic(1) title "strict", \
	     "" using 3 title "lazy", \
	     "" using 4 title "lazy-ranged"
}

# (b) invalidation descriptors and waits per operation
do for [fmt in "png svg"] {
	reset
	eval term(fmt, 1000, 1000)
	set output "inval.".fmt
	set style data histograms
	set style histogram clustered gap 1
	set style fill solid 0.85 border -1
	set key inside top right horizontal opaque box
	set grid ytics
	set xtics nomirror rotate by -40 left font ",9"
	set offsets 0, 0, graph 0.15, 0
	set multiplot layout 2,1 title "Invalidation work per operation, by unmap policy" margins 0.08,0.97,0.16,0.9 spacing 0,0.16
	set ylabel "descriptors per operation"
	set title "invalidation descriptors submitted, wait descriptors excluded"
	set label 1 footer at screen 0.99, screen 0.015 right font ",8"
	set yrange [0:*]
	plot "inval.dat" using 2:xtic(1) title "strict", \
	     "" using 3 title "lazy", \
	     "" using 4 title "lazy-ranged"
	unset label 1
	set key off
	set ylabel "waits per operation"
	set title "wait descriptors (the CPU waits for the queue to drain)"
	set xlabel "workload"
	set yrange [0:*]
	plot "inval.dat" using 5:xtic(1) title "strict", \
	     "" using 6 title "lazy", \
	     "" using 7 title "lazy-ranged"
	unset multiplot
}

# (c) exposure windows, CDF
do for [fmt in "png svg"] {
	reset
	eval term(fmt, 1500, 2550)
	set output "exposure.".fmt
	set multiplot layout 7,3 title "Exposure windows: time from an unmap's return to the flush that covers it\n(share of windows shorter than x, per policy)" margins 0.070,0.97,0.035,0.973 spacing 0.073,0.039
	set logscale x 10
	set format x "%g"
	set grid xtics ytics
	set key top left
	set xlabel "exposure window, µs (log scale)"
	set ylabel "windows shorter than x, %"
	set yrange [0:135]
	set ytics 0, 20, 100
	set label 1 "vtdkit report: 20000 operations per run, seed 1; costs: docs/cost-model.md" at screen 0.99, screen 0.015 right font ",8"
	set title "nic-rx cm=0 exact"
	plot "exposure.dat" index 0 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 1 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 2 using 1:3 with linespoints title "lazy-ranged"
	unset label 1
	set title "nic-rx cm=0 adversarial"
	plot "exposure.dat" index 3 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 4 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 5 using 1:3 with linespoints title "lazy-ranged"
	set title "nic-rx cm=1 exact"
	plot "exposure.dat" index 6 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 7 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 8 using 1:3 with linespoints title "lazy-ranged"
	set title "nic-rx cm=1 adversarial"
	plot "exposure.dat" index 9 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 10 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 11 using 1:3 with linespoints title "lazy-ranged"
	set title "nic-tx cm=0 exact"
	plot "exposure.dat" index 12 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 13 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 14 using 1:3 with linespoints title "lazy-ranged"
	set title "nic-tx cm=0 adversarial"
	plot "exposure.dat" index 15 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 16 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 17 using 1:3 with linespoints title "lazy-ranged"
	set title "nic-tx cm=1 exact"
	plot "exposure.dat" index 18 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 19 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 20 using 1:3 with linespoints title "lazy-ranged"
	set title "nic-tx cm=1 adversarial"
	plot "exposure.dat" index 21 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 22 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 23 using 1:3 with linespoints title "lazy-ranged"
	set title "nvme cm=0 exact"
	plot "exposure.dat" index 24 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 25 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 26 using 1:3 with linespoints title "lazy-ranged"
	set title "nvme cm=0 adversarial"
	plot "exposure.dat" index 27 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 28 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 29 using 1:3 with linespoints title "lazy-ranged"
	set title "nvme cm=1 exact"
	plot "exposure.dat" index 30 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 31 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 32 using 1:3 with linespoints title "lazy-ranged"
	set title "nvme cm=1 adversarial"
	plot "exposure.dat" index 33 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 34 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 35 using 1:3 with linespoints title "lazy-ranged"
	set title "gpu cm=0 exact"
	plot "exposure.dat" index 36 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 37 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 38 using 1:3 with linespoints title "lazy-ranged"
	set title "gpu cm=0 adversarial"
	plot "exposure.dat" index 39 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 40 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 41 using 1:3 with linespoints title "lazy-ranged"
	set title "gpu cm=1 exact"
	plot "exposure.dat" index 42 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 43 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 44 using 1:3 with linespoints title "lazy-ranged"
	set title "gpu cm=1 adversarial"
	plot "exposure.dat" index 45 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 46 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 47 using 1:3 with linespoints title "lazy-ranged"
	set title "mixed cm=0 exact"
	plot "exposure.dat" index 48 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 49 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 50 using 1:3 with linespoints title "lazy-ranged"
	set title "mixed cm=0 adversarial"
	plot "exposure.dat" index 51 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 52 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 53 using 1:3 with linespoints title "lazy-ranged"
	set title "mixed cm=1 exact"
	plot "exposure.dat" index 54 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 55 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 56 using 1:3 with linespoints title "lazy-ranged"
	set title "mixed cm=1 adversarial"
	plot "exposure.dat" index 57 using 1:3 with linespoints title "strict", \
	     "exposure.dat" index 58 using 1:3 with linespoints title "lazy", \
	     "exposure.dat" index 59 using 1:3 with linespoints title "lazy-ranged"
	unset multiplot
}

# (c) exposure windows, histogram
do for [fmt in "png svg"] {
	reset
	eval term(fmt, 1500, 2550)
	set output "exposure-hist.".fmt
	set multiplot layout 7,3 title "Exposure windows: time from an unmap's return to the flush that covers it\n(windows per power-of-two bucket, per policy)" margins 0.070,0.97,0.035,0.973 spacing 0.073,0.039
	set logscale x 10
	set format x "%g"
	set grid xtics ytics
	set key top left
	set xlabel "exposure window, µs (log scale)"
	set ylabel "windows in [x/2, x)"
	set logscale y 10
	set offsets 0, 0, graph 0.25, 0
	set label 1 "vtdkit report: 20000 operations per run, seed 1; costs: docs/cost-model.md" at screen 0.99, screen 0.015 right font ",8"
	set title "nic-rx cm=0 exact"
	plot "exposure.dat" index 0 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 1 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 2 using 1:2 with linespoints title "lazy-ranged"
	unset label 1
	set title "nic-rx cm=0 adversarial"
	plot "exposure.dat" index 3 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 4 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 5 using 1:2 with linespoints title "lazy-ranged"
	set title "nic-rx cm=1 exact"
	plot "exposure.dat" index 6 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 7 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 8 using 1:2 with linespoints title "lazy-ranged"
	set title "nic-rx cm=1 adversarial"
	plot "exposure.dat" index 9 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 10 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 11 using 1:2 with linespoints title "lazy-ranged"
	set title "nic-tx cm=0 exact"
	plot "exposure.dat" index 12 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 13 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 14 using 1:2 with linespoints title "lazy-ranged"
	set title "nic-tx cm=0 adversarial"
	plot "exposure.dat" index 15 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 16 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 17 using 1:2 with linespoints title "lazy-ranged"
	set title "nic-tx cm=1 exact"
	plot "exposure.dat" index 18 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 19 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 20 using 1:2 with linespoints title "lazy-ranged"
	set title "nic-tx cm=1 adversarial"
	plot "exposure.dat" index 21 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 22 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 23 using 1:2 with linespoints title "lazy-ranged"
	set title "nvme cm=0 exact"
	plot "exposure.dat" index 24 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 25 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 26 using 1:2 with linespoints title "lazy-ranged"
	set title "nvme cm=0 adversarial"
	plot "exposure.dat" index 27 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 28 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 29 using 1:2 with linespoints title "lazy-ranged"
	set title "nvme cm=1 exact"
	plot "exposure.dat" index 30 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 31 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 32 using 1:2 with linespoints title "lazy-ranged"
	set title "nvme cm=1 adversarial"
	plot "exposure.dat" index 33 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 34 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 35 using 1:2 with linespoints title "lazy-ranged"
	set title "gpu cm=0 exact"
	plot "exposure.dat" index 36 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 37 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 38 using 1:2 with linespoints title "lazy-ranged"
	set title "gpu cm=0 adversarial"
	plot "exposure.dat" index 39 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 40 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 41 using 1:2 with linespoints title "lazy-ranged"
	set title "gpu cm=1 exact"
	plot "exposure.dat" index 42 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 43 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 44 using 1:2 with linespoints title "lazy-ranged"
	set title "gpu cm=1 adversarial"
	plot "exposure.dat" index 45 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 46 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 47 using 1:2 with linespoints title "lazy-ranged"
	set title "mixed cm=0 exact"
	plot "exposure.dat" index 48 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 49 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 50 using 1:2 with linespoints title "lazy-ranged"
	set title "mixed cm=0 adversarial"
	plot "exposure.dat" index 51 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 52 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 53 using 1:2 with linespoints title "lazy-ranged"
	set title "mixed cm=1 exact"
	plot "exposure.dat" index 54 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 55 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 56 using 1:2 with linespoints title "lazy-ranged"
	set title "mixed cm=1 adversarial"
	plot "exposure.dat" index 57 using 1:2 with linespoints title "strict", \
	     "exposure.dat" index 58 using 1:2 with linespoints title "lazy", \
	     "exposure.dat" index 59 using 1:2 with linespoints title "lazy-ranged"
	unset multiplot
}

# (d) IOTLB and device-TLB hit rates
do for [fmt in "png svg"] {
	reset
	eval term(fmt, 1000, 1000)
	set output "hitrate.".fmt
	set style data histograms
	set style histogram clustered gap 1
	set style fill solid 0.85 border -1
	set key inside top right horizontal opaque box
	set grid ytics
	set xtics nomirror rotate by -40 left font ",9"
	set offsets 0, 0, graph 0.15, 0
	set yrange [0:120]
	set ytics 0, 20, 100
	set multiplot layout 2,1 title "Translation cache hit rates, by unmap policy" margins 0.08,0.97,0.16,0.9 spacing 0,0.16
	set title "IOTLB (in the remapping unit)"
	set ylabel "hits, % of lookups"
	set label 1 footer at screen 0.99, screen 0.015 right font ",8"
	plot "hitrate.dat" using 2:xtic(1) title "strict", \
	     "" using 3 title "lazy", \
	     "" using 4 title "lazy-ranged"
	unset label 1
	set key off
	set title "device TLB (ATS; no bar: the workload has no device TLB)"
	set xlabel "workload"
	plot "hitrate.dat" using 5:xtic(1) title "strict", \
	     "" using 6 title "lazy", \
	     "" using 7 title "lazy-ranged"
	unset multiplot
}
unset output
