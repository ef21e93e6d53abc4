/*
 * plot.h — plots of workload results (src/bench/workload.h): gnuplot data
 * files and one gnuplot script written into a directory, and a runner that
 * draws them as PNG and SVG when gnuplot is installed. The plots, the
 * fields they come from and the files: docs/plots.md.
 *
 * The library prints nothing and never aborts: errors are negative errno
 * values with a message in the caller's buffer.
 */
#ifndef VTD_BENCH_PLOT_H
#define VTD_BENCH_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include "bench/workload.h"

/* The script plot_write writes and plot_render runs, in the directory. */
#define PLOT_SCRIPT	"plots.gp"

/* One file of the directory. */
struct plot_file {
	const char *name;	/* "cost.dat", "cost.png", ... (no directory) */
	const char *what;	/* one line saying what it holds */
	bool image;		/* drawn by plot_render, not written by plot_write */
};

/*
 * Every file plot_write and plot_render produce, in a fixed order: the
 * data files, the script, then each plot as .png and .svg. @n gets the count.
 */
const struct plot_file *plot_files(size_t *n);

/*
 * Write the data files and PLOT_SCRIPT for results @r[0..@n) into @dir,
 * creating it (and missing parents) when needed; existing files of the
 * same names are replaced, and images of an earlier plot_render removed
 * (they would not match the new data). The results may mix workloads, policies
 * (mode_asked), caching mode, cache profile and late_dma: one cluster or
 * panel per (workload, cm, profile, late_dma) in the order first met,
 * one bar or line per policy. Returns 0, or -EINVAL (no results, a result
 * out of range, two results for the same cluster and policy),
 * -ENAMETOOLONG, -ENOMEM, or the errno of a failed mkdir or write, with
 * a message in @err.
 */
int plot_write(const char *dir, const struct wl_result *r, size_t n, char *err, size_t errlen);

/* Is an executable "gnuplot" on PATH? */
bool plot_have_gnuplot(void);

/*
 * Run gnuplot on @dir/PLOT_SCRIPT, in @dir, without a shell, and check
 * that every image of plot_files() is there and not empty. Returns 0
 * (@err then holds the first line gnuplot wrote on its standard error, a
 * warning, or ""), -ENOENT when gnuplot is not on PATH, the errno of a
 * failed fork, pipe or chdir, or -EIO when gnuplot failed or an image is
 * missing, with the last line gnuplot wrote on its standard error (its
 * error message) in @err.
 */
int plot_render(const char *dir, char *err, size_t errlen);

#endif
