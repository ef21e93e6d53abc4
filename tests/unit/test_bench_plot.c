/*
 * test_bench_plot.c — the plots of workload results (src/bench/plot.h):
 * the file list; the data files read back number by number and checked
 * against the results they came from, as docs/plots.md describes them;
 * clusters in first-met order with a column per policy; what the script
 * refers to; rewriting a directory; every refused input; and plot_render
 * with the real gnuplot (skipped without it), with none on PATH, and with
 * a stand-in shell script that misbehaves on purpose.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "bench/plot.h"
#include "bench/workload.h"
#include "fmt/bits.h"

#define MAXRES	16	/* results one test plots */
#define MAXROWS	8	/* clusters of a bar file */
#define MAXCOLS	6	/* values of a row: two quantities x three policies */
#define MAXBLK	16	/* blocks of exposure.dat */
#define NPOL	3	/* strict, lazy, lazy-ranged */

/* A bar file (cost.dat, inval.dat, hitrate.dat) read back. */
struct bars {
	char head[256];			/* the "# cluster ..." line */
	unsigned rows;
	char label[MAXROWS][64];	/* unquoted */
	unsigned cols[MAXROWS];		/* values in the row */
	double v[MAXROWS][MAXCOLS];
};

/* One block of exposure.dat read back. */
struct eblock {
	char head[160];			/* its "# block ..." line */
	unsigned rows;
	double x[CHK_EXPO_BUCKETS], below[CHK_EXPO_BUCKETS];
	unsigned long long count[CHK_EXPO_BUCKETS];
	int bucket[CHK_EXPO_BUCKETS];
};

/* What a test expects of the grouping: clusters, their names, the policies. */
struct layout {
	unsigned nclus;
	const char *label[MAXROWS];
	unsigned npol;
	enum vtd_dma_mode pol[NPOL];	/* the columns, in order */
	unsigned clus[MAXRES];		/* per result: its cluster */
};

FIXTURE(bench_plot) {
	char tmp[64];			/* mkdtemp; removed with everything in it */
	char dir[PATH_MAX];		/* tmp/out: where the plots go */
	char err[512];
	char *text;			/* the file read last */
	struct wl_result r[MAXRES];	/* the results to plot */
	size_t n;
	struct bars bars;
	unsigned nblk;
	struct eblock blk[MAXBLK];
	bool env_changed;		/* PATH saved in old_path, FAKE_GNUPLOT set */
	char *old_path;			/* NULL: PATH was unset */
	bool moved;			/* chdir'ed away from cwd */
	char cwd[PATH_MAX];
	int old_stdout;			/* > 0: our standard output, moved away */
};

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

FIXTURE_SETUP(bench_plot)
{
	strcpy(self->tmp, "/tmp/vtdkit-plot-XXXXXX");
	ASSERT_NONNULL(mkdtemp(self->tmp));
	snprintf(self->dir, sizeof(self->dir), "%s/out", self->tmp);
}

FIXTURE_TEARDOWN(bench_plot)
{
	if (self->old_stdout > 0) {
		fflush(stdout);
		dup2(self->old_stdout, STDOUT_FILENO);
		close(self->old_stdout);
	}
	if (self->moved)
		EXPECT_EQ(0, chdir(self->cwd));
	if (self->env_changed) {
		if (self->old_path)
			setenv("PATH", self->old_path, 1);
		else
			unsetenv("PATH");
		unsetenv("FAKE_GNUPLOT");
	}
	free(self->old_path);
	free(self->text);
	if (self->tmp[0])
		EXPECT_EQ(0, nftw(self->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS));
}

/* ---- helpers ---- */

/* "@dir/@name" into @buf (PATH_MAX bytes). */
static const char *in(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	ASSERT_TRUE(n > 0 && n < PATH_MAX);
	return buf;
}

static bool exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	return !stat(in(path, dir, name), &st);
}

/* How many entries @dir has, "." and ".." left out. */
static unsigned entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	ASSERT_NONNULL(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Write @text into @dir/@name with @mode. */
static void put_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	FILE *f = fopen(in(path, dir, name), "w");

	ASSERT_NONNULL(f);
	fputs(text, f);
	ASSERT_EQ(0, fclose(f));
	ASSERT_EQ(0, chmod(path, mode));
}

/* @dir/@name, whole, into self->text (NUL-terminated); its size into @len. */
static const char *slurp(struct th_fixture_data_bench_plot *self, const char *dir,
			 const char *name, size_t *len)
{
	char path[PATH_MAX];
	FILE *f = fopen(in(path, dir, name), "rb");
	long size = -1;

	if (!f)
		TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_NONNULL(f);
	free(self->text);
	self->text = NULL;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		ASSERT_TRUE(false);
	}
	self->text = malloc((size_t)size + 1);
	if (!self->text || fread(self->text, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		ASSERT_TRUE(false);
	}
	fclose(f);
	self->text[size] = 0;
	if (len)
		*len = (size_t)size;
	return self->text;
}

/*
 * A result with only what plot.c reads, of one configuration and policy;
 * every number derives from its index so that no two cells are equal.
 */
static struct wl_result *add(struct th_fixture_data_bench_plot *self, enum wl_kind w,
			     enum vtd_dma_mode m, bool cm, enum vtdm_profile prof, bool late)
{
	struct wl_result *r;
	unsigned v = (unsigned)self->n + 1;

	ASSERT_GT(MAXRES, self->n);
	r = &self->r[self->n++];
	memset(r, 0, sizeof(*r));
	r->workload = w;
	r->mode_asked = r->mode = m;
	r->cm = cm;
	r->profile = prof;
	r->late_dma = late;
	r->ops = 4000;
	r->seed = 7;
	r->ns_per_op = 100.25 + 37.5 * v;
	r->desc_wait = 250 * (v % 4) + v;
	r->desc_total = r->desc_wait + 4000 + 123 * v;
	r->iotlb_hit_rate = 0.5 + 0.0123 * v;
	r->atc_hit_rate = v % 2 ? NAN : 0.25 + 0.0071 * v;
	return r;
}

static void write_ok(struct th_fixture_data_bench_plot *self)
{
	int ret = plot_write(self->dir, self->r, self->n, self->err, sizeof(self->err));

	if (ret)
		TH_LOG("plot_write: %d: %s", ret, self->err);
	ASSERT_EQ(0, ret);
	ASSERT_STREQ("", self->err);
}

/* Is @want (NaN: a NaN) what the file says, @seen, to its 4 decimals? */
static void check_num(double want, double seen, const char *file, unsigned row, unsigned col)
{
	bool ok = isnan(want) ? isnan(seen) : fabs(seen - want) <= 5.1e-5 + 1e-9 * fabs(want);

	if (!ok)
		TH_LOG("%s row %u column %u: want %.6f, seen %.6f", file, row, col, want, seen);
	EXPECT_TRUE(ok);
}

/* Read bar file @name into self->bars: comments, then a row per cluster. */
static void parse_bars(struct th_fixture_data_bench_plot *self, const char *name)
{
	struct bars *b = &self->bars;
	char *s = (char *)slurp(self, self->dir, name, NULL);
	unsigned lineno = 0;

	memset(b, 0, sizeof(*b));
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		char *end;

		lineno++;
		if (!strncmp(line, "# cluster", 9)) {
			snprintf(b->head, sizeof(b->head), "%s", line);
			continue;
		}
		if (line[0] == '#')
			continue;
		/* A row: "label" v v v ... */
		if (line[0] != '"' || !(end = strchr(line + 1, '"')))
			TH_LOG("%s line %u: no quoted label: %s", name, lineno, line);
		ASSERT_EQ('"', line[0]);
		ASSERT_NONNULL(end = strchr(line + 1, '"'));
		ASSERT_GT(MAXROWS, b->rows);
		snprintf(b->label[b->rows], sizeof(b->label[0]), "%.*s", (int)(end - line - 1),
			 line + 1);
		for (char *p = end + 1; *p;) {
			char *q;
			double v;

			while (*p == ' ')
				p++;
			if (!*p)
				break;
			v = strtod(p, &q);
			if (q == p || (*q && *q != ' '))
				TH_LOG("%s line %u: not a number: %s", name, lineno, p);
			ASSERT_TRUE(q != p && (!*q || *q == ' '));
			ASSERT_GT(MAXCOLS, b->cols[b->rows]);
			b->v[b->rows][b->cols[b->rows]++] = v;
			p = q;
		}
		b->rows++;
	}
}

/*
 * Read exposure.dat into self->blk: a block starts at its "# block" line,
 * after exactly two blank lines (gnuplot's index separator) except the
 * first; its rows are "x_us count below_pct bucket".
 */
static void parse_expo(struct th_fixture_data_bench_plot *self)
{
	char *s = (char *)slurp(self, self->dir, "exposure.dat", NULL);
	unsigned blank = 0, lineno = 0;
	struct eblock *b = NULL;

	self->nblk = 0;
	for (char *line = s, *next; *line; line = next) {
		next = strchr(line, '\n');
		ASSERT_NONNULL(next);		/* every line ends */
		*next++ = 0;
		lineno++;
		if (!line[0]) {
			blank++;
			continue;
		}
		if (!strncmp(line, "# block ", 8)) {
			if (blank != (self->nblk ? 2u : 0u))
				TH_LOG("line %u: %u blank lines before a block", lineno, blank);
			ASSERT_EQ(self->nblk ? 2u : 0u, blank);
			ASSERT_GT(MAXBLK, self->nblk);
			b = &self->blk[self->nblk++];
			memset(b, 0, sizeof(*b));
			snprintf(b->head, sizeof(b->head), "%s", line);
		} else if (line[0] != '#') {
			int used = 0;

			if (!b || blank)
				TH_LOG("line %u: a row outside a block", lineno);
			ASSERT_TRUE(b && !blank);
			ASSERT_GT(CHK_EXPO_BUCKETS, b->rows);
			ASSERT_EQ(4, sscanf(line, "%lf %llu %lf %d%n", &b->x[b->rows],
					    &b->count[b->rows], &b->below[b->rows],
					    &b->bucket[b->rows], &used));
			ASSERT_EQ(strlen(line), (size_t)used);
			b->rows++;
		}
		blank = 0;
	}
}

typedef double (*quantity)(const struct wl_result *r);

/* The plotted quantities as docs/plots.md defines them; NaN: none. */
static double q_ns(const struct wl_result *r)
{
	return r->ns_per_op;
}

static double q_desc(const struct wl_result *r)
{
	return r->ops ? (double)(r->desc_total - r->desc_wait) / (double)r->ops : NAN;
}

static double q_wait(const struct wl_result *r)
{
	return r->ops ? (double)r->desc_wait / (double)r->ops : NAN;
}

static double q_iotlb(const struct wl_result *r)
{
	return 100 * r->iotlb_hit_rate;
}

static double q_atc(const struct wl_result *r)
{
	return 100 * r->atc_hit_rate;
}

/* The result of cluster @k under policy @m, or NULL. */
static const struct wl_result *of(const struct th_fixture_data_bench_plot *self,
				  const struct layout *l, unsigned k, enum vtd_dma_mode m)
{
	for (size_t i = 0; i < self->n; i++)
		if (l->clus[i] == k && self->r[i].mode_asked == m)
			return &self->r[i];
	return NULL;
}

/* Bar file @name: its header, a row per cluster, @nq quantities x policies. */
static void check_bars(struct th_fixture_data_bench_plot *self, const struct layout *l,
		       const char *name, const quantity *q, const char *const *suffix,
		       unsigned nq)
{
	char head[256] = "# cluster";

	parse_bars(self, name);
	for (unsigned s = 0; s < nq; s++)
		for (unsigned j = 0; j < l->npol; j++)
			snprintf(head + strlen(head), sizeof(head) - strlen(head), " %s%s",
				 wl_mode_name(l->pol[j]), suffix[s]);
	EXPECT_STREQ(head, self->bars.head);
	ASSERT_EQ(l->nclus, self->bars.rows);
	for (unsigned k = 0; k < l->nclus; k++) {
		EXPECT_STREQ(l->label[k], self->bars.label[k]);
		ASSERT_EQ(nq * l->npol, self->bars.cols[k]);
		for (unsigned s = 0; s < nq; s++)
			for (unsigned j = 0; j < l->npol; j++) {
				const struct wl_result *r = of(self, l, k, l->pol[j]);

				check_num(r ? q[s](r) : NAN, self->bars.v[k][s * l->npol + j],
					  name, k, s * l->npol + j);
			}
	}
}

static uint64_t windows(const struct wl_result *r)
{
	uint64_t n = 0;

	for (int b = 0; r && b < CHK_EXPO_BUCKETS; b++)
		n += r->exposure_hist[b];
	return n;
}

/*
 * exposure.dat: block k * npol + j for cluster k and policy j; its rows
 * from the bucket below the cluster's shortest window to its longest
 * (bucket 0 alone without windows), row b at x = 2^b ns, the bucket's
 * count, and the share of windows shorter than x.
 */
static void check_expo(struct th_fixture_data_bench_plot *self, const struct layout *l)
{
	parse_expo(self);
	ASSERT_EQ(l->nclus * l->npol, self->nblk);
	for (unsigned k = 0; k < l->nclus; k++) {
		int lo = -1, hi = 0;

		for (unsigned j = 0; j < l->npol; j++) {
			const struct wl_result *r = of(self, l, k, l->pol[j]);

			for (int b = 0; r && b < CHK_EXPO_BUCKETS; b++)
				if (r->exposure_hist[b]) {
					if (lo < 0 || b < lo)
						lo = b;
					if (b > hi)
						hi = b;
				}
		}
		lo = lo > 0 ? lo - 1 : 0;
		for (unsigned j = 0; j < l->npol; j++) {
			const struct wl_result *r = of(self, l, k, l->pol[j]);
			const struct eblock *b = &self->blk[k * l->npol + j];
			uint64_t total = windows(r), below = 0;
			char head[160];

			snprintf(head, sizeof(head), "# block %u: %s %s, %llu windows",
				 k * l->npol + j, l->label[k], wl_mode_name(l->pol[j]),
				 (unsigned long long)total);
			EXPECT_STREQ(head, b->head);
			ASSERT_EQ(hi - lo + 1, b->rows);
			for (unsigned i = 0; i < b->rows; i++) {
				int bk = lo + (int)i;
				double x = ldexp(1, bk) / 1000;
				uint64_t c = r ? r->exposure_hist[bk] : 0;

				below += c;
				EXPECT_EQ(bk, b->bucket[i]);
				if (fabs(b->x[i] - x) > 1e-5 * x)
					TH_LOG("block %u row %u: x %g, want %g", k * l->npol + j, i,
					       b->x[i], x);
				EXPECT_TRUE(fabs(b->x[i] - x) <= 1e-5 * x);
				EXPECT_EQ(c, b->count[i]);
				check_num(total ? 100.0 * (double)below / (double)total : NAN,
					  b->below[i], "exposure.dat", k * l->npol + j, i);
			}
		}
	}
}

/* Every data file as @l says. */
static void check_all(struct th_fixture_data_bench_plot *self, const struct layout *l)
{
	static const quantity cost[] = { q_ns }, inval[] = { q_desc, q_wait },
			      hit[] = { q_iotlb, q_atc };
	static const char *const cost_sfx[] = { "" }, *const inval_sfx[] = { ".desc", ".wait" },
			  *const hit_sfx[] = { ".iotlb", ".devtlb" };

	check_bars(self, l, "cost.dat", cost, cost_sfx, 1);
	check_bars(self, l, "inval.dat", inval, inval_sfx, 2);
	check_bars(self, l, "hitrate.dat", hit, hit_sfx, 2);
	check_expo(self, l);
}

static bool has(const char *text, const char *what)
{
	return strstr(text, what) != NULL;
}

/* EXPECT that @text contains @what (or not), showing it when not. */
static void expect_has(const char *text, const char *what, bool want)
{
	if (has(text, what) != want)
		TH_LOG("%s \"%s\" in \"%.600s\"", want ? "missing" : "unexpected", what, text);
	EXPECT_EQ(want, has(text, what));
}

/* Set PATH (saving the old one for teardown). */
static void set_path(struct th_fixture_data_bench_plot *self, const char *path)
{
	if (!self->env_changed) {
		const char *old = getenv("PATH");

		self->old_path = old ? strdup(old) : NULL;
		ASSERT_TRUE(!old || self->old_path);
		self->env_changed = true;
	}
	ASSERT_EQ(0, setenv("PATH", path, 1));
}

/* ---- plot_files ---- */

/* The fixed list: data files, then the script, then each image as PNG and SVG. */
TEST(bench_plot_files)
{
	static const char *const stems[] = { "cost", "inval", "exposure", "exposure-hist",
					     "hitrate" };
	const struct plot_file *f;
	size_t n, i, ndat = 0;

	f = plot_files(&n);
	ASSERT_NONNULL(f);
	ASSERT_EQ(4 + 1 + 2 * ARRAY_SIZE(stems), n);
	for (i = 0; i < n && !f[i].image && strcmp(f[i].name, PLOT_SCRIPT); i++) {
		const char *dot = strrchr(f[i].name, '.');

		ASSERT_NONNULL(dot);
		EXPECT_STREQ(".dat", dot);
		ndat++;
	}
	EXPECT_EQ(4, ndat);
	ASSERT_GT(n, i);
	EXPECT_STREQ(PLOT_SCRIPT, f[i].name);
	EXPECT_FALSE(f[i].image);
	for (i++; i < n; i++) {
		const char *dot = strrchr(f[i].name, '.');
		char other[64];
		size_t j;

		EXPECT_TRUE(f[i].image);
		ASSERT_NONNULL(dot);
		ASSERT_TRUE(!strcmp(dot, ".png") || !strcmp(dot, ".svg"));
		/* Its twin in the other format is in the list too. */
		snprintf(other, sizeof(other), "%.*s%s", (int)(dot - f[i].name), f[i].name,
			 strcmp(dot, ".png") ? ".png" : ".svg");
		for (j = 0; j < n && strcmp(f[j].name, other); j++)
			;
		if (j == n)
			TH_LOG("%s without %s", f[i].name, other);
		EXPECT_GT(n, j);
	}
	/* The stems of docs/plots.md, each once per format; no name twice. */
	for (size_t s = 0; s < ARRAY_SIZE(stems); s++) {
		unsigned png = 0, svg = 0;

		for (i = 0; i < n; i++) {
			size_t l = strlen(stems[s]);

			if (!strncmp(f[i].name, stems[s], l)) {
				png += !strcmp(f[i].name + l, ".png");
				svg += !strcmp(f[i].name + l, ".svg");
			}
		}
		EXPECT_EQ(1, png);
		EXPECT_EQ(1, svg);
	}
	for (i = 0; i < n; i++) {
		EXPECT_NONNULL(f[i].what);
		EXPECT_TRUE(f[i].what && f[i].what[0]);
		EXPECT_NULL(strchr(f[i].name, '/'));
		for (size_t j = i + 1; j < n; j++)
			EXPECT_STRNE(f[i].name, f[j].name);
	}
	/* The same list each time. */
	EXPECT_EQ(f, plot_files(&i));
	EXPECT_EQ(n, i);
}

/* plot_write writes exactly the files of the list that are not images. */
TEST_F(bench_plot, writes_listed_files)
{
	const struct plot_file *f;
	unsigned want = 0;
	size_t n;

	add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	write_ok(self);
	f = plot_files(&n);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;

		if (f[i].image) {
			EXPECT_FALSE(exists(self->dir, f[i].name));
			continue;
		}
		want++;
		ASSERT_EQ(0, stat(in(path, self->dir, f[i].name), &st));
		EXPECT_TRUE(S_ISREG(st.st_mode));
		EXPECT_LT(0, st.st_size);
	}
	EXPECT_EQ(want, entries(self->dir));
}

/* ---- the data files ---- */

/*
 * One configuration, two workloads under the three policies: every cell
 * of cost.dat, inval.dat and hitrate.dat, with NaN for a device TLB that
 * does not exist and for per-operation values of a run without operations.
 */
TEST_F(bench_plot, bar_values)
{
	struct layout l = { 2, { "nic-tx", "gpu" }, 3,
			    { VTD_DMA_STRICT, VTD_DMA_LAZY, VTD_DMA_LAZY_RANGED },
			    { 0, 0, 1, 0, 1, 1 } };
	struct wl_result *r;

	add(self, WL_NIC_TX, VTD_DMA_LAZY_RANGED, false, VTDM_EXACT, false);
	add(self, WL_NIC_TX, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	add(self, WL_GPU, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	add(self, WL_NIC_TX, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r = add(self, WL_GPU, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	r->ops = 0;		/* no per-operation values */
	r->ns_per_op = NAN;
	r = add(self, WL_GPU, VTD_DMA_LAZY_RANGED, false, VTDM_EXACT, false);
	r->iotlb_hit_rate = 1;
	r->atc_hit_rate = 0;
	write_ok(self);
	check_all(self, &l);

	/* A few cells worked out by hand. */
	parse_bars(self, "cost.dat");
	check_num(100.25 + 37.5 * 2, self->bars.v[0][0], "cost.dat", 0, 0);	/* result 1 */
	check_num(100.25 + 37.5 * 1, self->bars.v[0][2], "cost.dat", 0, 2);	/* result 0 */
	EXPECT_TRUE(isnan(self->bars.v[1][0]));
	parse_bars(self, "inval.dat");
	/* Result 3 (v = 4): desc_wait 4, desc_total 4 + 4000 + 492. */
	check_num(4492.0 / 4000, self->bars.v[0][1], "inval.dat", 0, 1);
	check_num(4.0 / 4000, self->bars.v[0][4], "inval.dat", 0, 4);
	EXPECT_TRUE(isnan(self->bars.v[1][0]));
	EXPECT_TRUE(isnan(self->bars.v[1][3]));
	parse_bars(self, "hitrate.dat");
	check_num(100, self->bars.v[1][2], "hitrate.dat", 1, 2);
	check_num(0, self->bars.v[1][5], "hitrate.dat", 1, 5);
	/* Result 1 (v = 2): device-TLB hit rate 0.25 + 0.0142. */
	check_num(100 * (0.25 + 0.0071 * 2), self->bars.v[0][3], "hitrate.dat", 0, 3);
}

/*
 * Exposure histograms and CDFs: a block per cluster and policy, rows from
 * the bucket below the cluster's shortest window to its longest, bucket 0
 * (windows of 0 ns), the last bucket, an absent policy, no windows.
 */
TEST_F(bench_plot, exposure_blocks)
{
	struct layout l = { 4, { "nic-rx", "nvme", "gpu", "mixed" }, 2,
			    { VTD_DMA_STRICT, VTD_DMA_LAZY }, { 0, 0, 1, 1, 2, 2, 3 } };
	struct wl_result *r;

	r = add(self, WL_NIC_RX, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	r->exposure_hist[3] = 5;
	r->exposure_hist[7] = 2;
	r = add(self, WL_NIC_RX, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r->exposure_hist[5] = 1;
	r->exposure_hist[10] = 4;
	r = add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	r->exposure_hist[0] = 4;
	r = add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r->exposure_hist[0] = 1;
	r->exposure_hist[1] = 3;
	add(self, WL_GPU, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	add(self, WL_GPU, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r = add(self, WL_MIXED, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r->exposure_hist[CHK_EXPO_BUCKETS - 1] = 2;
	r->exposure_hist[CHK_EXPO_BUCKETS - 2] = 1;
	write_ok(self);
	check_all(self, &l);

	/* By hand: nic-rx runs from bucket 2 to 10, at 4 ns .. 1024 ns. */
	ASSERT_EQ(9, self->blk[0].rows);
	EXPECT_EQ(2, self->blk[0].bucket[0]);
	EXPECT_EQ(0, self->blk[0].count[0]);
	check_num(0, self->blk[0].below[0], "exposure.dat", 0, 0);
	EXPECT_EQ(5, self->blk[0].count[1]);
	check_num(500.0 / 7, self->blk[0].below[1], "exposure.dat", 0, 1);
	check_num(100, self->blk[0].below[8], "exposure.dat", 0, 8);
	EXPECT_TRUE(fabs(self->blk[1].x[8] - 1.024) < 1e-9);
	check_num(20, self->blk[1].below[3], "exposure.dat", 1, 3);	/* 1 of 5 below 32 ns */
	/* nvme: buckets 0 and 1, at 1 ns and 2 ns. */
	ASSERT_EQ(2, self->blk[2].rows);
	EXPECT_TRUE(fabs(self->blk[2].x[0] - 0.001) < 1e-12);
	check_num(100, self->blk[2].below[0], "exposure.dat", 2, 0);
	check_num(25, self->blk[3].below[0], "exposure.dat", 3, 0);
	/* gpu: one row of nothing. */
	ASSERT_EQ(1, self->blk[4].rows);
	EXPECT_EQ(0, self->blk[4].bucket[0]);
	EXPECT_TRUE(isnan(self->blk[4].below[0]));
	/* mixed: strict not run; lazy up to the last bucket, 2^64 ns. */
	ASSERT_EQ(3, self->blk[6].rows);
	EXPECT_TRUE(isnan(self->blk[6].below[2]));
	EXPECT_EQ(CHK_EXPO_BUCKETS - 1, self->blk[7].bucket[2]);
	check_num(100.0 / 3, self->blk[7].below[1], "exposure.dat", 7, 1);
}

/*
 * Results of several configurations: a cluster per (workload, cm, profile,
 * late_dma) in the order first met, named by what varies, a column per
 * policy present in enum order, NaN where a cluster lacks a policy.
 */
TEST_F(bench_plot, clusters_first_met)
{
	struct layout l = { 4, { "nvme cm=0 exact", "nic-rx cm=1 exact", "nvme cm=0 adversarial",
				 "nvme cm=0 exact late" }, 3,
			    { VTD_DMA_STRICT, VTD_DMA_LAZY, VTD_DMA_LAZY_RANGED },
			    { 0, 1, 0, 2, 3, 1, 2 } };
	struct layout l2 = { 2, { "gpu", "nvme" }, 2, { VTD_DMA_STRICT, VTD_DMA_LAZY_RANGED },
			     { 0, 1, 0 } };
	struct wl_result *r;

	r = add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r->exposure_hist[4] = 1;
	add(self, WL_NIC_RX, VTD_DMA_LAZY_RANGED, true, VTDM_EXACT, false);
	r = add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	r->exposure_hist[2] = 6;
	add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_ADVERSARIAL, false);
	r = add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_EXACT, true);
	r->exposure_hist[9] = 1;
	add(self, WL_NIC_RX, VTD_DMA_STRICT, true, VTDM_EXACT, false);
	add(self, WL_NVME, VTD_DMA_LAZY_RANGED, false, VTDM_ADVERSARIAL, false);
	write_ok(self);
	check_all(self, &l);

	/* Two policies only: two columns, strict then lazy-ranged. */
	self->n = 0;
	add(self, WL_GPU, VTD_DMA_LAZY_RANGED, true, VTDM_ADVERSARIAL, true);
	add(self, WL_NVME, VTD_DMA_STRICT, true, VTDM_ADVERSARIAL, true);
	add(self, WL_GPU, VTD_DMA_STRICT, true, VTDM_ADVERSARIAL, true);
	write_ok(self);
	check_all(self, &l2);
}

/* ---- the script ---- */

/*
 * plots.gp reads every data file and draws every image as PNG and SVG;
 * each exposure block with windows is drawn (CDF and histogram) and none
 * other; each cluster has its panel; a policy without any device-TLB value
 * says so; the footer names what all runs share.
 */
TEST_F(bench_plot, script_refs)
{
	const struct plot_file *f;
	unsigned stems = 0, loops = 0;
	const char *s, *p;
	char want[128];
	struct wl_result *r;
	size_t n;

	r = add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_ADVERSARIAL, true);
	r->exposure_hist[3] = 1;
	r->atc_hit_rate = 0.5;
	r = add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_ADVERSARIAL, true);
	r->atc_hit_rate = NAN;
	add(self, WL_GPU, VTD_DMA_STRICT, false, VTDM_ADVERSARIAL, true);
	r = add(self, WL_GPU, VTD_DMA_LAZY, false, VTDM_ADVERSARIAL, true);
	r->atc_hit_rate = NAN;
	r->exposure_hist[0] = 2;
	write_ok(self);
	s = slurp(self, self->dir, PLOT_SCRIPT, NULL);

	f = plot_files(&n);
	for (size_t i = 0; i < n; i++) {
		const char *dot = strrchr(f[i].name, '.');

		if (!strcmp(f[i].name, PLOT_SCRIPT))
			continue;
		if (!f[i].image) {
			snprintf(want, sizeof(want), "\"%s\"", f[i].name);
			expect_has(s, want, true);
		} else if (!strcmp(dot, ".png")) {
			/* Drawn once per format by a loop over "png svg". */
			snprintf(want, sizeof(want), "set output \"%.*s.\".fmt",
				 (int)(dot - f[i].name), f[i].name);
			expect_has(s, want, true);
			stems++;
		}
	}
	for (p = s; (p = strstr(p, "do for [fmt in \"png svg\"]")); p++)
		loops++;
	EXPECT_EQ(stems, loops);

	/* Blocks 0 (nvme strict) and 3 (gpu lazy) have windows, 1 and 2 none. */
	for (unsigned b = 0; b < 4; b++)
		for (unsigned col = 2; col <= 3; col++) {
			snprintf(want, sizeof(want), "\"exposure.dat\" index %u using 1:%u", b, col);
			expect_has(s, want, b == 0 || b == 3);
		}
	expect_has(s, "set title \"nvme\"", true);
	expect_has(s, "set title \"gpu\"", true);
	expect_has(s, "no exposure windows", false);
	expect_has(s, "\"strict (no data)\"", false);
	expect_has(s, "\"lazy (no data)\"", true);
	/* Nothing varies: the footer says it all once. */
	expect_has(s, "4000 operations per run, seed 7, caching mode off, adversarial caches,"
		   " devices use buffers after unmap; costs: docs/cost-model.md", true);

	/* A cluster without any window gets an empty panel saying so. */
	self->r[0].exposure_hist[3] = 0;
	self->r[1].seed = 8;
	self->r[2].cm = true;
	write_ok(self);
	s = slurp(self, self->dir, PLOT_SCRIPT, NULL);
	expect_has(s, "no exposure windows", true);
	expect_has(s, "\"exposure.dat\" index 0 ", false);
	expect_has(s, "seeds varying", true);
	expect_has(s, "caching mode", false);
	expect_has(s, "set title \"gpu cm=1\"", true);
}

/* ---- rewriting ---- */

/* Writing again replaces the data and the script and removes old images. */
TEST_F(bench_plot, rewrite)
{
	struct layout l = { 1, { "mixed" }, 1, { VTD_DMA_LAZY }, { 0 } };
	const struct plot_file *f;
	struct wl_result *r;
	const char *s;
	size_t n;

	add(self, WL_NIC_RX, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	add(self, WL_NIC_TX, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	r = add(self, WL_GPU, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r->exposure_hist[12] = 3;
	write_ok(self);
	f = plot_files(&n);
	for (size_t i = 0; i < n; i++)
		if (f[i].image)
			put_file(self->dir, f[i].name, "an old image", 0644);
	put_file(self->dir, "notes.txt", "mine", 0644);

	self->n = 0;
	r = add(self, WL_MIXED, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r->ns_per_op = 5;
	r->exposure_hist[1] = 1;
	write_ok(self);
	check_all(self, &l);
	for (size_t i = 0; i < n; i++)
		if (f[i].image && exists(self->dir, f[i].name)) {
			TH_LOG("%s left behind", f[i].name);
			EXPECT_FALSE(true);
		}
	EXPECT_TRUE(exists(self->dir, "notes.txt"));	/* not ours */
	s = slurp(self, self->dir, PLOT_SCRIPT, NULL);
	expect_has(s, "nic-rx", false);
	expect_has(s, "set title \"mixed\"", true);
	expect_has(s, "\"exposure.dat\" index 0 using 1:3", true);
}

/* ---- errors ---- */

/* No results, no directory: -EINVAL, nothing created. */
TEST_F(bench_plot, no_results)
{
	add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	EXPECT_EQ(-EINVAL, plot_write(self->dir, self->r, 0, self->err, sizeof(self->err)));
	EXPECT_STRNE("", self->err);
	expect_has(self->err, "no results", true);
	strcpy(self->err, "x");
	EXPECT_EQ(-EINVAL, plot_write(self->dir, NULL, 1, self->err, sizeof(self->err)));
	EXPECT_STRNE("", self->err);
	strcpy(self->err, "x");
	EXPECT_EQ(-EINVAL, plot_write(NULL, self->r, 1, self->err, sizeof(self->err)));
	expect_has(self->err, "no directory", true);
	/* No buffer for the message: still the error. */
	EXPECT_EQ(-EINVAL, plot_write(self->dir, self->r, 0, NULL, 0));
	EXPECT_FALSE(exists(self->tmp, "out"));
}

/* A result out of range: -EINVAL naming it; nothing written, not even the directory. */
TEST_F(bench_plot, out_of_range)
{
	static const struct {
		int w, m, prof;
	} bad[] = {
		{ WL_NR, VTD_DMA_STRICT, VTDM_EXACT },
		{ -1, VTD_DMA_STRICT, VTDM_EXACT },
		{ WL_NVME, VTD_DMA_LAZY_RANGED + 1, VTDM_EXACT },
		{ WL_NVME, -1, VTDM_EXACT },
		{ WL_NVME, VTD_DMA_STRICT, VTDM_ADVERSARIAL + 1 },
		{ WL_NVME, VTD_DMA_STRICT, -1 },
	};

	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		self->r[1].workload = (enum wl_kind)bad[i].w;
		self->r[1].mode_asked = (enum vtd_dma_mode)bad[i].m;
		self->r[1].profile = (enum vtdm_profile)bad[i].prof;
		EXPECT_EQ(-EINVAL, plot_write(self->dir, self->r, 2, self->err,
					      sizeof(self->err)));
		expect_has(self->err, "result 1", true);
		expect_has(self->err, "out of range", true);
		EXPECT_FALSE(exists(self->dir, "cost.dat"));
		EXPECT_FALSE(exists(self->dir, PLOT_SCRIPT));
		EXPECT_FALSE(exists(self->dir, "."));
	}
}

/* Two results for one cluster and policy: -EINVAL naming both. */
TEST_F(bench_plot, duplicate)
{
	add(self, WL_NVME, VTD_DMA_LAZY, true, VTDM_EXACT, false);
	add(self, WL_NVME, VTD_DMA_STRICT, true, VTDM_EXACT, false);
	add(self, WL_NVME, VTD_DMA_LAZY, true, VTDM_EXACT, false);
	EXPECT_EQ(-EINVAL, plot_write(self->dir, self->r, self->n, self->err,
				      sizeof(self->err)));
	expect_has(self->err, "results 0 and 2", true);
	expect_has(self->err, "nvme", true);
	expect_has(self->err, "lazy", true);
	EXPECT_FALSE(exists(self->dir, "cost.dat"));

	/* The same policy in another cluster is not one. */
	self->r[2].late_dma = true;
	write_ok(self);
	self->r[2].late_dma = false;
	self->r[2].profile = VTDM_ADVERSARIAL;
	write_ok(self);
}

/* A directory name of PATH_MAX bytes or more, or whose files' names would be. */
TEST_F(bench_plot, name_too_long)
{
	size_t len, start = strlen(self->tmp);
	char dir[PATH_MAX + 1], err[PATH_MAX + 256];	/* room for the name in the message */
	int ret;

	/* "tmp/ddd.../ddd...": components of 200 bytes, PATH_MAX bytes in all. */
	memcpy(dir, self->tmp, start);
	for (len = start; len < PATH_MAX; len++)
		dir[len] = (len - start) % 201 ? 'd' : '/';
	dir[len] = 0;
	ASSERT_EQ('d', dir[PATH_MAX - 1]);
	ret = plot_write(dir, self->r, 0, err, sizeof(err));
	EXPECT_EQ(-EINVAL, ret);	/* the results are checked first */
	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	ret = plot_write(dir, self->r, self->n, err, sizeof(err));
	EXPECT_EQ(-ENAMETOOLONG, ret);
	expect_has(err, strerror(ENAMETOOLONG), true);
	expect_has(err, "cannot create directory", true);
	EXPECT_EQ(0, entries(self->tmp));		/* nothing made */

	/* The directory fits, "dir/cost.dat" does not. */
	dir[PATH_MAX - 6] = 0;
	ASSERT_EQ('d', dir[PATH_MAX - 7]);
	ret = plot_write(dir, self->r, self->n, err, sizeof(err));
	EXPECT_EQ(-ENAMETOOLONG, ret);
	expect_has(err, "cost.dat", true);
	expect_has(err, strerror(ENAMETOOLONG), true);
}

/* A path under a regular file: mkdir's errno and a message naming the path. */
TEST_F(bench_plot, under_regular_file)
{
	char dir[PATH_MAX], want[PATH_MAX + 64];

	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	put_file(self->tmp, "file", "not a directory", 0644);

	snprintf(dir, sizeof(dir), "%s/file/sub/plots", self->tmp);
	EXPECT_EQ(-ENOTDIR, plot_write(dir, self->r, self->n, self->err, sizeof(self->err)));
	snprintf(want, sizeof(want), "cannot create directory %s: %s", dir, strerror(ENOTDIR));
	EXPECT_STREQ(want, self->err);

	/* The file itself. */
	snprintf(dir, sizeof(dir), "%s/file", self->tmp);
	EXPECT_EQ(-ENOTDIR, plot_write(dir, self->r, self->n, self->err, sizeof(self->err)));
	snprintf(want, sizeof(want), "cannot create directory %s: %s", dir, strerror(ENOTDIR));
	EXPECT_STREQ(want, self->err);
	slurp(self, self->tmp, "file", NULL);
	EXPECT_STREQ("not a directory", self->text);
}

/* Missing parents are created; a trailing slash is fine. */
TEST_F(bench_plot, creates_parents)
{
	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	snprintf(self->dir, sizeof(self->dir), "%s/a/b/c", self->tmp);
	write_ok(self);
	EXPECT_TRUE(exists(self->dir, "cost.dat"));
	EXPECT_TRUE(exists(self->dir, PLOT_SCRIPT));
	snprintf(self->dir, sizeof(self->dir), "%s/a/x/", self->tmp);
	write_ok(self);
	EXPECT_TRUE(exists(self->dir, "exposure.dat"));
}

/* ---- rendering ---- */

/* Every image exists, not empty, PNGs with the PNG signature, SVGs with "<svg". */
static void check_images(const char *dir)
{
	static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t n;
	const struct plot_file *f = plot_files(&n);

	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX], buf[4096];
		const char *dot = strrchr(f[i].name, '.');
		size_t got;
		FILE *fp;

		if (!f[i].image)
			continue;
		fp = fopen(in(path, dir, f[i].name), "rb");
		if (!fp)
			TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_NONNULL(fp);
		got = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[got] = 0;
		EXPECT_LT(0, got);
		if (!strcmp(dot, ".png"))
			EXPECT_TRUE(got >= sizeof(png) && !memcmp(buf, png, sizeof(png)));
		else
			EXPECT_NONNULL(strstr(buf, "<svg"));
	}
}

/* plot_render succeeds; with @quiet, without a warning from gnuplot. */
static void render_ok(struct th_fixture_data_bench_plot *self, bool quiet)
{
	int ret = plot_render(self->dir, self->err, sizeof(self->err));

	if (ret || self->err[0])
		TH_LOG("plot_render: %d: %s", ret, self->err);
	ASSERT_EQ(0, ret);
	if (quiet)
		EXPECT_STREQ("", self->err);
	check_images(self->dir);
}

/*
 * The real gnuplot on awkward data: bars all 0 or NaN, a policy with no
 * value at all, windows of 0 ns, a cluster without windows; then one
 * result with nothing to draw anywhere; then panels with a single x or y.
 */
TEST_F(bench_plot, render)
{
	struct wl_result *r;

	if (!plot_have_gnuplot())
		SKIP(return, "gnuplot is not installed");
	r = add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	r->exposure_hist[0] = 3;
	r->atc_hit_rate = 0.5;
	r = add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r->exposure_hist[0] = 1;
	r->exposure_hist[1] = 2;
	r->ns_per_op = NAN;
	add(self, WL_GPU, VTD_DMA_STRICT, true, VTDM_EXACT, false);
	r = add(self, WL_NIC_RX, VTD_DMA_LAZY_RANGED, false, VTDM_ADVERSARIAL, true);
	for (int b = 5; b < 30; b += 3)
		r->exposure_hist[b] = (uint64_t)b * 11;
	for (size_t i = 0; i < self->n; i++)
		self->r[i].desc_total -= self->r[i].desc_wait, self->r[i].desc_wait = 0;
	write_ok(self);
	render_ok(self, true);

	/* Nothing to draw at all. */
	self->n = 0;
	r = add(self, WL_MIXED, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	r->ns_per_op = 0;
	r->desc_total = r->desc_wait = 0;
	r->iotlb_hit_rate = r->atc_hit_rate = NAN;
	write_ok(self);
	render_ok(self, true);

	/*
	 * A cluster whose windows are all of 0 ns (one row per block, a single
	 * x), and one with a single policy whose windows fill one bucket (a
	 * single y on the histogram's log scale). Drawn, but gnuplot 5.4 warns
	 * "empty x range" and "empty y range", so @err holds a warning. Not
	 * from vtdkit report or bench: they run every policy, and strict
	 * windows are never 0 ns there.
	 */
	r->exposure_hist[0] = 5;
	r = add(self, WL_NVME, VTD_DMA_STRICT, false, VTDM_EXACT, false);
	r->exposure_hist[12] = 300;
	write_ok(self);
	render_ok(self, false);
}

/* Real results of two workloads under the three policies, written and drawn. */
TEST_F(bench_plot, render_workloads)
{
	static const char *const params[][2] = { { "ring", "64" }, { "qd", "8" } };
	static const enum wl_kind kinds[] = { WL_NIC_RX, WL_NVME };
	struct layout l = { 2, { "nic-rx", "nvme" }, 3,
			    { VTD_DMA_STRICT, VTD_DMA_LAZY, VTD_DMA_LAZY_RANGED },
			    { 0, 0, 0, 1, 1, 1 } };

	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		for (int m = VTD_DMA_STRICT; m <= VTD_DMA_LAZY_RANGED; m++) {
			struct wl_opts o;
			int ret;

			wl_opts_init(&o, kinds[k]);
			o.ops = 300;
			o.mode = (enum vtd_dma_mode)m;
			ASSERT_EQ(0, wl_params_set(&o, params[k][0], params[k][1], self->err,
						   sizeof(self->err)));
			ret = wl_run(&o, &self->r[self->n], self->err, sizeof(self->err));
			if (ret)
				TH_LOG("wl_run: %s", self->err);
			ASSERT_EQ(0, ret);
			ASSERT_LT(0, windows(&self->r[self->n]));
			self->n++;
		}
	write_ok(self);
	check_all(self, &l);
	if (!plot_have_gnuplot())
		SKIP(return, "gnuplot is not installed");
	render_ok(self, true);
}

/* Without gnuplot on PATH: -ENOENT, and plot_have_gnuplot says no. */
TEST_F(bench_plot, render_no_gnuplot)
{
	char bin[PATH_MAX], empty[PATH_MAX], sub[PATH_MAX], path[2 * PATH_MAX + 1];

	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	write_ok(self);
	ASSERT_EQ(0, mkdir(in(bin, self->tmp, "bin"), 0755));
	set_path(self, bin);
	EXPECT_FALSE(plot_have_gnuplot());
	strcpy(self->err, "x");
	EXPECT_EQ(-ENOENT, plot_render(self->dir, self->err, sizeof(self->err)));
	expect_has(self->err, "gnuplot", true);

	/* A "gnuplot" that may not be run, or that is a directory, is none. */
	put_file(bin, "gnuplot", "#!/bin/sh\nexit 0\n", 0644);
	ASSERT_EQ(0, mkdir(in(empty, self->tmp, "empty"), 0755));
	ASSERT_EQ(0, mkdir(in(sub, empty, "gnuplot"), 0755));
	snprintf(path, sizeof(path), "%s:%s", empty, bin);
	set_path(self, path);
	EXPECT_FALSE(plot_have_gnuplot());
	EXPECT_EQ(-ENOENT, plot_render(self->dir, self->err, sizeof(self->err)));
	EXPECT_EQ(5, entries(self->dir));	/* the data files and the script, no image */
}

/* A script gnuplot rejects: -EIO with gnuplot's error line. */
TEST_F(bench_plot, render_bad_script)
{
	if (!plot_have_gnuplot())
		SKIP(return, "gnuplot is not installed");
	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	write_ok(self);
	put_file(self->dir, PLOT_SCRIPT, "this is not gnuplot\n", 0644);
	EXPECT_EQ(-EIO, plot_render(self->dir, self->err, sizeof(self->err)));
	expect_has(self->err, "\"" PLOT_SCRIPT "\" line 1:", true);
}

/*
 * A stand-in gnuplot in @self->tmp/fake that checks it was run as
 * "gnuplot plots.gp" in the plot directory, then does what $FAKE_GNUPLOT
 * says: draw every image ("", "warn": and warn), fail with messages, die
 * by a signal, leave one image out, leave one empty. PATH then holds only
 * it, so it uses shell built-ins alone.
 */
static void fake_gnuplot(struct th_fixture_data_bench_plot *self)
{
	char bin[PATH_MAX], script[4096], *s = script;
	const struct plot_file *f;
	size_t n;

	s += sprintf(s, "#!/bin/sh\n"
		     "echo \"on standard output\"\n"
		     "if [ $# != 1 ] || [ \"$1\" != %s ] || [ ! -f %s ]; then\n"
		     "\techo \"fake: not run as gnuplot %s beside it\" >&2\n"
		     "\texit 9\n"
		     "fi\n"
		     "case \"$FAKE_GNUPLOT\" in\n"
		     "fail)\tprintf '\\nfake: first\\n\\nfake: the error\\n \\n' >&2\n"
		     "\techo \"on standard output\"\n"
		     "\texit 3 ;;\n"
		     "long)\ti=0\n"
		     "\twhile [ $i -lt 400 ]; do\n"
		     "\t\techo \"warning: number $i of many alike, sent to standard error\" >&2\n"
		     "\t\ti=$((i + 1))\n"
		     "\tdone\n"
		     "\techo \"fake: the error\" >&2\n"
		     "\texit 4 ;;\n"
		     "kill)\tkill -9 $$ ;;\n"
		     "esac\n"
		     "for f in", PLOT_SCRIPT, PLOT_SCRIPT, PLOT_SCRIPT);
	f = plot_files(&n);
	for (size_t i = 0; i < n; i++)
		if (f[i].image)
			s += sprintf(s, " %s", f[i].name);
	/* Shell built-ins only: PATH holds nothing else. */
	sprintf(s, "; do\n"
		"\t[ \"$FAKE_GNUPLOT\" = missing ] && [ $f = hitrate.svg ] && continue\n"
		"\tprintf img > $f\n"
		"done\n"
		"case \"$FAKE_GNUPLOT\" in\n"
		"empty)\t: > exposure.png ;;\n"
		"warn)\tprintf '\\n\\nwarning: fake first\\nfake: second\\n' >&2 ;;\n"
		"esac\n"
		"exit 0\n");
	ASSERT_EQ(0, mkdir(in(bin, self->tmp, "fake"), 0755));
	put_file(bin, "gnuplot", script, 0755);
	set_path(self, bin);
	ASSERT_TRUE(plot_have_gnuplot());
}

/* plot_render with the stand-in doing @how, after a fresh plot_write (no old image). */
static int render_as(struct th_fixture_data_bench_plot *self, const char *how)
{
	write_ok(self);
	ASSERT_EQ(0, setenv("FAKE_GNUPLOT", how, 1));
	strcpy(self->err, "x");
	return plot_render(self->dir, self->err, sizeof(self->err));
}

/*
 * plot_render's side of the work, whatever gnuplot does: success with its
 * first warning, failure with its last message line (the error), death by
 * a signal, an image missing or empty, a directory it cannot enter; its
 * standard output goes nowhere.
 */
TEST_F(bench_plot, render_fake_gnuplot)
{
	char dir[PATH_MAX], out[PATH_MAX];
	int fd, ret;

	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	fake_gnuplot(self);

	/* What gnuplot writes on its standard output is not ours to print. */
	in(out, self->tmp, "stdout");
	fflush(stdout);
	self->old_stdout = dup(STDOUT_FILENO);
	ASSERT_LT(0, self->old_stdout);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(STDOUT_FILENO, dup2(fd, STDOUT_FILENO));
	close(fd);
	ret = render_as(self, "");
	fflush(stdout);
	ASSERT_EQ(STDOUT_FILENO, dup2(self->old_stdout, STDOUT_FILENO));
	close(self->old_stdout);
	self->old_stdout = 0;
	EXPECT_EQ(0, ret);
	EXPECT_STREQ("", self->err);
	EXPECT_TRUE(exists(self->dir, "hitrate.svg"));
	EXPECT_STREQ("", slurp(self, self->tmp, "stdout", NULL));

	EXPECT_EQ(0, render_as(self, "warn"));
	EXPECT_STREQ("warning: fake first", self->err);

	EXPECT_EQ(-EIO, render_as(self, "fail"));
	expect_has(self->err, "exit 3", true);
	expect_has(self->err, "fake: the error", true);
	expect_has(self->err, "standard output", false);

	EXPECT_EQ(-EIO, render_as(self, "kill"));
	expect_has(self->err, "signal 9", true);

	EXPECT_EQ(-EIO, render_as(self, "missing"));
	expect_has(self->err, "hitrate.svg", true);

	EXPECT_EQ(-EIO, render_as(self, "empty"));
	expect_has(self->err, "exposure.png", true);

	/* A directory that does not exist: chdir's errno, naming it. */
	snprintf(dir, sizeof(dir), "%s/nowhere", self->tmp);
	ASSERT_EQ(0, setenv("FAKE_GNUPLOT", "", 1));
	EXPECT_EQ(-ENOENT, plot_render(dir, self->err, sizeof(self->err)));
	expect_has(self->err, dir, true);
	expect_has(self->err, "chdir", true);
}

/*
 * gnuplot's error after 24 KB of warnings is still the line in @err
 * (plot_render keeps the end of gnuplot's standard error, not only its
 * start: this test found that bug).
 */
TEST_F(bench_plot, render_long_stderr)
{
	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	fake_gnuplot(self);
	EXPECT_EQ(-EIO, render_as(self, "long"));
	expect_has(self->err, "exit 4", true);
	expect_has(self->err, "fake: the error", true);
}

/* A relative PATH entry and a relative directory still find the program. */
TEST_F(bench_plot, render_relative)
{
	add(self, WL_NVME, VTD_DMA_LAZY, false, VTDM_EXACT, false);
	fake_gnuplot(self);
	ASSERT_NONNULL(getcwd(self->cwd, sizeof(self->cwd)));
	ASSERT_EQ(0, chdir(self->tmp));
	self->moved = true;
	set_path(self, "fake");
	ASSERT_TRUE(plot_have_gnuplot());
	strcpy(self->dir, "out");
	EXPECT_EQ(0, render_as(self, ""));
	EXPECT_STREQ("", self->err);
	EXPECT_TRUE(exists(self->dir, "exposure-hist.png"));
}
