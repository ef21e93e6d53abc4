/*
 * vtdkit.c — the command-line entry point: subcommand dispatch and each
 * subcommand's options. One option table per subcommand drives both
 * getopt_long and --help; the work itself lives in the subcommand's
 * module (hw.c, demo.c, run.c, bench.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/scenario.h"
#include "bench/progress.h"
#include "bench/replay.h"
#include "bench/timeline.h"
#include "bench/trace.h"
#include "bench/tracedat.h"
#include "fmt/bits.h"
#include "check/stress.h"
#include "vtd/vtd.h"
#include "bench.h"
#include "compare.h"
#include "report.h"
#include "demo.h"
#include "hw.h"
#include "run.h"

/* Exit status of every subcommand. */
enum {
	EXIT_OK		= 0,	/* ran, and every check passed */
	EXIT_CHECK	= 1,	/* ran, and a check failed */
	EXIT_USAGE	= 2,	/* bad usage or bad input */
};

static const char exit_help[] =
	"Exit status:\n"
	"  0  success\n"
	"  1  a check failed (demo: a step did not behave as the specification says;\n"
	"     run: an expectation failed)\n"
	"  2  bad usage or bad input (unknown option, bad value, a console line\n"
	"     answered ERR, a malformed scenario line, a failed libvtd call)\n";

struct cli_opt {
	const char *name;
	int has_arg;
	int val;
	const char *arg;	/* argument name in --help, NULL for none */
	const char *help;
};

static void print_opts(FILE *f, const struct cli_opt *opts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-26s %s\n", left, opts[i].help);
	}
}

/*
 * getopt_long over @opts. Returns the option's val, -1 at the end, or
 * prints a message naming the bad option and returns '?'.
 */
static int next_opt(int argc, char **argv, const char *cmd, const struct cli_opt *opts,
		    size_t n)
{
	struct option lopts[16] = { { 0 } };
	int c;

	for (size_t i = 0; i < n && i < ARRAY_SIZE(lopts) - 1; i++)
		lopts[i] = (struct option){ opts[i].name, opts[i].has_arg, NULL, opts[i].val };
	opterr = 0;
	c = getopt_long(argc, argv, ":h", lopts, NULL);
	if (c == '?') {
		const char *arg = argv[optind - 1];
		const char *eq = strchr(arg, '=');

		if (strncmp(arg, "--", 2))
			fprintf(stderr, "vtdkit %s: unknown option '-%c'\n", cmd, optopt);
		else if (optopt && eq)
			fprintf(stderr, "vtdkit %s: option '%.*s' takes no argument\n", cmd,
				(int)(eq - arg), arg);
		else
			fprintf(stderr, "vtdkit %s: unknown option '%s'\n", cmd, arg);
	} else if (c == ':') {
		fprintf(stderr, "vtdkit %s: option '%s' needs an argument\n", cmd,
			argv[optind - 1]);
		c = '?';
	}
	return c;
}

/*
 * The positional arguments left after the options: exactly one, named
 * @what, or (@what NULL) none. 0, or -1 after saying what is wrong.
 */
static int one_arg(const char *cmd, int argc, char **argv, const char *what)
{
	if (what && optind == argc) {
		fprintf(stderr, "vtdkit %s: missing %s\nTry 'vtdkit %s --help'.\n", cmd, what, cmd);
		return -1;
	}
	if (argc - optind > (what ? 1 : 0)) {
		fprintf(stderr, "vtdkit %s: unexpected argument '%s'%s%s%s\n", cmd,
			argv[optind + (what ? 1 : 0)], what ? " (one " : "", what ? what : "",
			what ? ")" : "");
		return -1;
	}
	return 0;
}

/* ---- vtdkit hw ---- */

/*
 * A progress bar for the libraries' long runs (their progress callbacks):
 * drawn on a terminal only, from the first call, when the total is known;
 * it follows a total that changes (a run with two bounds; 0: unknown, a
 * count) and is cleared when @done reaches a known @total.
 */
struct cli_bar {
	struct progress p;
	const char *label;
	bool started;
};

static void cli_progress(void *arg, uint64_t done, uint64_t total)
{
	struct cli_bar *b = arg;

	if (!b->started) {
		progress_start(&b->p, b->label, total);
		b->started = true;
	}
	b->p.total = total;
	progress_update(&b->p, done);
	if (total && done >= total)
		progress_done(&b->p);
}

static const struct cli_opt hw_opts[] = {
	{ "iommu", required_argument, 'i', "KEY=VAL,...",
	  "add a remapping unit (named dmar0, dmar1, ...)" },
	{ "device", required_argument, 'd', "SID[,KEY=VAL...]",
	  "add a device, e.g. 00:01.0,ats=1,iommu=dmar1" },
	{ "mem", required_argument, 'm', "SIZE", "guest RAM from address 0 (default 1G)" },
	{ "echo", no_argument, 'e', NULL, "print each command, after '> ', before its reply" },
	{ "help", no_argument, 'h', NULL, "show this help" },
};

static void hw_usage(FILE *f)
{
	fputs("usage: vtdkit hw [OPTION]... [SCRIPT]\n"
	      "A line console to the bare VT-d hardware model, in the style of QEMU's\n"
	      "qtest: reads commands from SCRIPT (or standard input, also as '-') and\n"
	      "writes one reply line per command: OK ..., FAULT ... or ERR message.\n"
	      "Commands: readb/w/l/q ADDR, writeb/w/l/q ADDR VALUE, read ADDR SIZE,\n"
	      "write ADDR SIZE 0xBYTES, memset ADDR SIZE BYTE, clflush ADDR,\n"
	      "dma_read SID IOVA SIZE [pasid=N], dma_write SID IOVA 0xBYTES [pasid=N],\n"
	      "ats_translate SID IOVA [pasid=N], clock_step NS, clock, stat NAME, help.\n"
	      "Without --iommu there is one unit with the default configuration.\n"
	      "Keys of --iommu and --device: docs/hw-console.md.\n\n"
	      "Options:\n", f);
	print_opts(f, hw_opts, ARRAY_SIZE(hw_opts));
	fputc('\n', f);
	fputs(exit_help, f);
}

static int hw_main(int argc, char **argv)
{
	static struct hw_topo topo;	/* large: keep it off the stack */
	char err[256];
	unsigned flags = 0;
	const char *name = "<stdin>";
	FILE *in = stdin;
	struct vtdm *m;
	int c, errors;

	hw_topo_init(&topo);
	while ((c = next_opt(argc, argv, "hw", hw_opts, ARRAY_SIZE(hw_opts))) != -1) {
		int rc = 0;

		switch (c) {
		case 'i':
			rc = hw_topo_add_iommu(&topo, optarg, err, sizeof(err));
			break;
		case 'd':
			rc = hw_topo_add_device(&topo, optarg, err, sizeof(err));
			break;
		case 'm':
			rc = hw_topo_set_mem(&topo, optarg, err, sizeof(err));
			break;
		case 'e':
			flags |= HW_ECHO;
			break;
		case 'h':
			hw_usage(stdout);
			return EXIT_OK;
		default:
			fputs("Try 'vtdkit hw --help'.\n", stderr);
			return EXIT_USAGE;
		}
		if (rc) {
			fprintf(stderr, "vtdkit hw: %s\n", err);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "vtdkit hw: unexpected argument '%s' (one SCRIPT at most)\n",
			argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (optind < argc && strcmp(argv[optind], "-")) {
		name = argv[optind];
		in = fopen(name, "r");
		if (!in) {
			fprintf(stderr, "vtdkit hw: cannot open '%s': %s\n", name, strerror(errno));
			return EXIT_USAGE;
		}
	}
	m = hw_topo_build(&topo, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "vtdkit hw: %s\n", err);
		if (in != stdin)
			fclose(in);
		return EXIT_USAGE;
	}
	errors = hw_console_run(m, in, stdout, name, flags);
	vtdm_destroy(m);
	if (in != stdin)
		fclose(in);
	if (errors > 0)
		fprintf(stderr, "vtdkit hw: %s: %d line%s answered ERR\n", name, errors,
			errors == 1 ? "" : "s");
	return errors ? EXIT_USAGE : EXIT_OK;
}

/* ---- vtdkit demo ---- */

static const struct cli_opt demo_opts[] = {
	{ "workload", required_argument, 'w', "NAME",
	  "nic-rx, nic-tx, nvme, gpu or mixed (default mixed)" },
	{ "ops", required_argument, 'n', "N", "operations per run (default 20000)" },
	{ "param", required_argument, 'p', "KEY=VAL", "a workload parameter (repeatable; see below)" },
	{ "mode", required_argument, 'm', "MODE", "only this policy: strict, lazy or lazy-ranged" },
	{ "cm", required_argument, 'c', "0|1", "caching mode on every unit (default 0)" },
	{ "profile", required_argument, 'P', "P", "exact or adversarial caches (default exact)" },
	{ "no-late", no_argument, 'L', NULL, "skip the runs with the misbehaving device" },
	{ "json", no_argument, 'j', NULL, "print one JSON document" },
	{ "csv", no_argument, 'C', NULL, "print CSV (the table, a blank line, the cost table)" },
	{ "timeline", required_argument, 't', "FILE",
	  "write the first policy's run as Chrome/Perfetto trace-event JSON" },
	{ "registers", no_argument, 'r', NULL,
	  "instead: the register-level walk through one unit (no driver)" },
	{ "help", no_argument, 'h', NULL, "show this help" },
};

static void demo_param_help(void *arg, const char *key, const char *help)
{
	fprintf(arg, "  %-12s %s\n", key, help);
}

static void demo_usage(FILE *f)
{
	fputs("usage: vtdkit demo [OPTION]...\n"
	      "The main job: run a built-in workload under every unmap policy (strict,\n"
	      "lazy, lazy-ranged) on libvtd and the hardware model, every DMA judged by\n"
	      "the checker's oracle, and print one table: invalidation descriptors and\n"
	      "waits per operation, modelled time per operation, IOTLB and device-TLB hit\n"
	      "rates, exposure windows, and a safety verdict. Each policy runs twice: with\n"
	      "well-behaved devices, and with a device that touches every buffer once\n"
	      "more after its unmap (strict must fault it; lazy shows the stale window).\n"
	      "docs/workloads.md.\n\n"
	      "Options:\n", f);
	print_opts(f, demo_opts, ARRAY_SIZE(demo_opts));
	fputs("\nWorkloads and their parameters (--param KEY=VAL):\n", f);
	for (int w = 0; w < WL_NR; w++) {
		fprintf(f, " %s: %s\n", wl_name((enum wl_kind)w), wl_summary((enum wl_kind)w));
		wl_params_foreach((enum wl_kind)w, demo_param_help, f);
	}
	fputs("\nExit status:\n"
	      "  0  every policy ran; none let a well-behaved device use a stale translation\n"
	      "     (--registers: every step behaved as the specification says)\n"
	      "  1  a policy let a well-behaved device use a stale translation (a bug)\n"
	      "     (--registers: a step did not behave as the specification says)\n"
	      "  2  bad usage, a bad parameter, or a run that could not complete\n", f);
}

static int demo_main(int argc, char **argv)
{
	struct compare_cfg cfg = { .only_mode = -1, .format = REP_TEXT };
	const char *params[32], *workload = "mixed";
	unsigned nparams = 0;
	bool registers = false;
	char err[200];
	int c, w;

	while ((c = next_opt(argc, argv, "demo", demo_opts, ARRAY_SIZE(demo_opts))) != -1) {
		switch (c) {
		case 'w':
			workload = optarg;
			break;
		case 'n':
		case 'p':
		case 'm':
		case 'c':
		case 'P': {
			static const struct { int c; const char *key; } keys[] = {
				{ 'n', "ops" }, { 'm', "mode" }, { 'c', "cm" }, { 'P', "caching" },
			};
			static char buf[32][80];

			if (nparams == ARRAY_SIZE(params)) {
				fputs("vtdkit demo: too many parameters\n", stderr);
				return EXIT_USAGE;
			}
			for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
				if (keys[k].c == c) {
					snprintf(buf[nparams], sizeof(buf[nparams]), "%s=%s", keys[k].key,
						 optarg);
					optarg = buf[nparams];
				}
			if (c == 'm')
				cfg.only_mode = 0;	/* set below from the parameter */
			params[nparams++] = optarg;
			break;
		}
		case 'L':
			cfg.no_late = true;
			break;
		case 'j':
			cfg.format = REP_JSON;
			break;
		case 'C':
			cfg.format = REP_CSV;
			break;
		case 't':
			cfg.timeline = optarg;
			break;
		case 'r':
			registers = true;
			break;
		case 'h':
			demo_usage(stdout);
			return EXIT_OK;
		default:
			fputs("Try 'vtdkit demo --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (one_arg("demo", argc, argv, NULL))
		return EXIT_USAGE;
	if (registers)
		return demo_run(stdout) ? EXIT_CHECK : EXIT_OK;
	w = wl_lookup(workload);
	if (w < 0) {
		fprintf(stderr, "vtdkit demo: --workload: '%s' is not nic-rx, nic-tx, nvme, gpu or"
			" mixed\n", workload);
		return EXIT_USAGE;
	}
	wl_opts_init(&cfg.wl, (enum wl_kind)w);
	for (unsigned i = 0; i < nparams; i++) {
		const char *eq = strchr(params[i], '=');
		char key[64];

		if (!eq || eq == params[i] || (size_t)(eq - params[i]) >= sizeof(key)) {
			fprintf(stderr, "vtdkit demo: --param: '%s' is not KEY=VALUE\n", params[i]);
			return EXIT_USAGE;
		}
		memcpy(key, params[i], (size_t)(eq - params[i]));
		key[eq - params[i]] = 0;
		if (wl_params_set(&cfg.wl, key, eq + 1, err, sizeof(err))) {
			fprintf(stderr, "vtdkit demo: %s\n", err);
			return EXIT_USAGE;
		}
		if (!strcmp(key, "mode"))
			cfg.only_mode = (int)cfg.wl.mode;
	}
	return compare_run(&cfg, stdout, stderr);
}

/* ---- vtdkit run ---- */

static const struct cli_opt run_opts[] = {
	{ "trace", no_argument, 't', NULL, "print each libvtd trace event as it happens" },
	{ "stats", no_argument, 's', NULL, "print every counter at the end" },
	{ "json", no_argument, 'j', NULL, "print one JSON report only (not with --trace)" },
	{ "help", no_argument, 'h', NULL, "show this help" },
};

static void run_usage(FILE *f)
{
	fputs("usage: vtdkit run [OPTION]... SCENARIO\n"
	      "Run a scenario: declare remapping units and devices, drive libvtd against\n"
	      "the hardware model (domains, attach, map, unmap, flush), let devices DMA,\n"
	      "and check counters and the exact invalidation descriptors each operation\n"
	      "submitted. The whole file is parsed before anything runs. SCENARIO '-' is\n"
	      "standard input. The language: docs/scenario.md.\n\n"
	      "Options:\n", f);
	print_opts(f, run_opts, ARRAY_SIZE(run_opts));
	fputs("\nExit status:\n"
	      "  0  every expectation held\n"
	      "  1  an expectation failed (each one is reported; the scenario runs to the end)\n"
	      "  2  bad usage, an unreadable file, a malformed line, or a libvtd or model\n"
	      "     call that failed (reported as FILE:LINE: message; nothing after it runs)\n",
	      f);
}

static int run_main(int argc, char **argv)
{
	unsigned flags = 0;
	int c;

	while ((c = next_opt(argc, argv, "run", run_opts, ARRAY_SIZE(run_opts))) != -1) {
		switch (c) {
		case 't':
			flags |= SCENARIO_TRACE;
			break;
		case 's':
			flags |= SCENARIO_STATS;
			break;
		case 'j':
			flags |= SCENARIO_JSON;
			break;
		case 'h':
			run_usage(stdout);
			return EXIT_OK;
		default:
			fputs("Try 'vtdkit run --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if ((flags & SCENARIO_JSON) && (flags & SCENARIO_TRACE)) {
		fputs("vtdkit run: --trace and --json both write to standard output; "
		      "pick one\n", stderr);
		return EXIT_USAGE;
	}
	if (one_arg("run", argc, argv, "SCENARIO"))
		return EXIT_USAGE;
	return run_scenario_file(argv[optind], flags, stdout, stderr);
}

/* --inject NAME: one more libvtd knob in @knobs; -1 (reported) if unknown. */
static int add_knob(const char *cmd, const char *name, unsigned *knobs)
{
	int k = vtd_knob_lookup(name);

	if (k < 0) {
		fprintf(stderr, "vtdkit %s: unknown knob '%s' (see --help)\n", cmd, name);
		return -1;
	}
	*knobs |= 1u << k;
	return 0;
}

/* ---- vtdkit explore ---- */

static const struct cli_opt explore_opts[] = {
	{ "runs", required_argument, 'r', "N", "schedules to run (random mode), or a cap (bounded)" },
	{ "seed", required_argument, 's', "S", "first seed of the random schedules" },
	{ "preemptions", required_argument, 'p', "K", "every schedule with at most K preemptions" },
	{ "replay", required_argument, 'R', "TOKEN", "run the one schedule a violation printed" },
	{ "inject", required_argument, 'i', "KNOB", "switch a libvtd fault-injection knob on" },
	{ "no-sleep-sets", no_argument, 'n', NULL, "bounded mode without sleep-set reduction" },
	{ "verbose", no_argument, 'v', NULL, "print every run's step list on stderr" },
	{ "help", no_argument, 'h', NULL, "show this help" },
};

static void explore_usage(FILE *f)
{
	fputs("usage: vtdkit explore [OPTION]... SCENARIO\n"
	      "Run a scenario's thread blocks under the deterministic scheduler, many times:\n"
	      "random schedules from a seed, or (--preemptions) every schedule up to that\n"
	      "many preemptions, with sleep-set reduction. The checker judges every DMA;\n"
	      "the first violation is printed with its replay token and step list.\n"
	      "Options left out take the scenario's 'explore' line. Knobs: tags-after-install,\n"
	      "no-wbf-before-install, dynamic-sync-map, no-devtlb-inv, free-table-before-flush,\n"
	      "iova-reuse-before-flush, no-map-flush-cm, unlocked-tag-walk,\n"
	      "old-tags-removed-first. docs/checker.md has the details.\n\n"
	      "Options:\n", f);
	print_opts(f, explore_opts, ARRAY_SIZE(explore_opts));
	fputs("\nExit status:\n"
	      "  0  no schedule violated anything (bounded: every schedule was covered)\n"
	      "  1  a violation (printed with --replay TOKEN), or the run cap cut a bounded\n"
	      "     exploration short\n"
	      "  2  bad usage, a malformed scenario, or a run that could not go on\n", f);
}

static int explore_main(int argc, char **argv)
{
	struct scenario_explore_opts o = { 0 };
	struct cli_bar bar = { .label = "explore" };
	unsigned long long v;
	char *end;
	int c, rc;

	while ((c = next_opt(argc, argv, "explore", explore_opts, ARRAY_SIZE(explore_opts))) != -1) {
		switch (c) {
		case 'r':
		case 's':
		case 'p':
			errno = 0;
			v = strtoull(optarg, &end, 0);
			if (!*optarg || *end || errno || (c == 'r' && (!v || v > 100000000)) ||
			    (c == 'p' && v > 16)) {
				fprintf(stderr, "vtdkit explore: bad value '%s' for --%s\n", optarg,
					c == 'r' ? "runs" : c == 's' ? "seed" : "preemptions");
				return EXIT_USAGE;
			}
			if (c == 'r')
				o.runs = (unsigned)v;
			else if (c == 's')
				o.seed = v, o.seed_set = true;
			else
				o.preemptions = (int)v, o.preemptions_set = true;
			break;
		case 'R':
			o.replay = optarg;
			break;
		case 'i':
			if (add_knob("explore", optarg, &o.knobs))
				return EXIT_USAGE;
			break;
		case 'n':
			o.no_sleep_sets = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			explore_usage(stdout);
			return EXIT_OK;
		default:
			fputs("Try 'vtdkit explore --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (one_arg("explore", argc, argv, "SCENARIO"))
		return EXIT_USAGE;
	o.progress = cli_progress;
	o.progress_arg = &bar;
	rc = explore_scenario_file(argv[optind], &o, stdout, stderr);
	progress_done(&bar.p);
	return rc;
}

/* ---- vtdkit stress ---- */

static const struct cli_opt stress_opts[] = {
	{ "seconds", required_argument, 't', "S", "wall-clock bound (default 2)" },
	{ "ops", required_argument, 'o', "N", "operations per mapping thread (default: no bound)" },
	{ "cpus", required_argument, 'c', "N", "mapping threads, 1 to 8 (default 3)" },
	{ "mode", required_argument, 'm', "MODE", "strict, lazy or lazy-ranged (default lazy)" },
	{ "cm", no_argument, 'C', NULL, "caching-mode units (the mode is kept)" },
	{ "inject", required_argument, 'i', "KNOB", "switch a libvtd fault-injection knob on" },
	{ "seed", required_argument, 's', "S", "seed of the threads' choices" },
	{ "help", no_argument, 'h', NULL, "show this help" },
};

static void stress_usage(FILE *f)
{
	fputs("usage: vtdkit stress [OPTION]...\n"
	      "Run libvtd and the model on real threads with the checker on: mapping threads\n"
	      "map and unmap through the DMA layer, a mover moves devices between domains,\n"
	      "one thread per device does DMA to what is mapped. Every access is judged;\n"
	      "the report gives the operations, the exposure windows of lazy unmaps and\n"
	      "every violation. The knobs are those vtdkit explore --help lists; the ones\n"
	      "that break locking (unlocked-tag-walk) are for vtdkit explore only: on real\n"
	      "threads they are real data races.\n\n"
	      "Options:\n", f);
	print_opts(f, stress_opts, ARRAY_SIZE(stress_opts));
	fputs("\nExit status:\n"
	      "  0  no violation\n"
	      "  1  violations (each kind counted, the first ones printed)\n"
	      "  2  bad usage, or the machine could not be built\n", f);
}

static int stress_main(int argc, char **argv)
{
	struct stress_opts o = { .mode = VTD_DMA_LAZY };
	struct cli_bar bar = { .label = "stress" };
	int rc;
	unsigned long long v;
	char *end;
	double d;
	int c;

	while ((c = next_opt(argc, argv, "stress", stress_opts, ARRAY_SIZE(stress_opts))) != -1) {
		switch (c) {
		case 't':
			errno = 0;
			d = strtod(optarg, &end);
			if (!*optarg || *end || errno || !(d > 0 && d <= 3600)) {
				fprintf(stderr, "vtdkit stress: bad value '%s' for --seconds "
					"(0 to 3600)\n", optarg);
				return EXIT_USAGE;
			}
			o.seconds = d;
			break;
		case 'o':
		case 'c':
		case 's':
			errno = 0;
			v = strtoull(optarg, &end, 0);
			if (!*optarg || *end || errno || (c == 'c' && (!v || v > 8)) ||
			    (c == 'o' && !v)) {
				fprintf(stderr, "vtdkit stress: bad value '%s' for --%s\n", optarg,
					c == 'o' ? "ops" : c == 'c' ? "cpus (1 to 8)" : "seed");
				return EXIT_USAGE;
			}
			if (c == 'o')
				o.ops = v;
			else if (c == 'c')
				o.cpus = (unsigned)v;
			else
				o.seed = v;
			break;
		case 'm':
			if (!strcmp(optarg, "strict"))
				o.mode = VTD_DMA_STRICT;
			else if (!strcmp(optarg, "lazy"))
				o.mode = VTD_DMA_LAZY;
			else if (!strcmp(optarg, "lazy-ranged"))
				o.mode = VTD_DMA_LAZY_RANGED;
			else {
				fprintf(stderr, "vtdkit stress: unknown mode '%s' (strict, lazy or "
					"lazy-ranged)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'C':
			o.cm = true;
			break;
		case 'i':
			if (add_knob("stress", optarg, &o.knobs))
				return EXIT_USAGE;
			break;
		case 'h':
			stress_usage(stdout);
			return EXIT_OK;
		default:
			fputs("Try 'vtdkit stress --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (one_arg("stress", argc, argv, NULL))
		return EXIT_USAGE;
	o.progress = cli_progress;
	o.progress_arg = &bar;
	rc = stress_run(&o, stdout, stderr);
	progress_done(&bar.p);
	return rc;
}

/* ---- vtdkit bench ---- */

static const struct cli_opt bench_opts[] = {
	{ "ops", required_argument, 'o', "N",
	  "workload matrix: operations per run (default 20000; 0 skips the matrix)" },
	{ "traces", required_argument, 't', "DIR",
	  "replay every DIR/NAME.trace (default ../shared/traces when it exists)" },
	{ "no-traces", no_argument, 'T', NULL, "skip the traces" },
	{ "out", required_argument, 'O', "DIR", "also write DIR/bench.json" },
	{ "pairs", required_argument, 'p', "N", "ring: map/unmap pairs per run (default 100000)" },
	{ "runs", required_argument, 'r', "R", "runs per speed measurement; medians (default 5)" },
	{ "no-dma", no_argument, 'n', NULL, "ring: skip the device's writes (software path only)" },
	{ "csv", no_argument, 'c', NULL, "print CSV (the tables a blank line apart)" },
	{ "json", no_argument, 'j', NULL, "print one JSON document instead of the tables" },
	{ "help", no_argument, 'h', NULL, "show this help" },
};

static void bench_usage(FILE *f)
{
	fputs("usage: vtdkit bench [OPTION]...\n"
	      "The benchmark matrix (what `make bench` runs; docs/benchmarks.md):\n"
	      " - workloads: nic-rx, nic-tx, nvme, gpu, mixed x strict, lazy, lazy-ranged\n"
	      "   x caching mode off/on x exact/adversarial caches, well-behaved devices:\n"
	      "   invalidation descriptors and waits per operation, modelled ns per\n"
	      "   operation, IOTLB and device-TLB hit rates, exposure windows, violations;\n"
	      " - traces: every real Linux capture replayed under each policy, beside\n"
	      "   Linux's own descriptors and waits (docs/replay.md);\n"
	      " - speed: the model's DMA page translations per wall second, and the ring\n"
	      "   workload (one unit, one device, a ring of 256 buffers of 2-4 KiB, CM\n"
	      "   off and on) for the core's wall ns per map/unmap pair; medians of --runs;\n"
	      "then the cost table. Counters and modelled times are deterministic.\n\n"
	      "Options:\n", f);
	print_opts(f, bench_opts, ARRAY_SIZE(bench_opts));
	fputs("\nExit status:\n"
	      "  0  every run completed; no DMA fault in the ring, no violation in a workload\n"
	      "  1  a ring DMA faulted, or a well-behaved workload run saw a violation\n"
	      "  2  bad usage, or a run could not be set up\n", f);
}

static int bench_count(const char *arg, const char *opt, uint64_t max, unsigned *out)
{
	uint64_t v;

	if (vtdm_parse_u64(arg, &v, false) || !v || v > max) {
		fprintf(stderr, "vtdkit bench: bad value '%s' for --%s (1..%llu)\n", arg, opt,
			(unsigned long long)max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int bench_main(int argc, char **argv)
{
	struct bench_cfg cfg = { .pairs = 100000, .runs = 5, .format = BENCH_TEXT, .ops = 20000,
				 .traces = "../shared/traces" };
	bool traces_given = false;
	unsigned ops;
	int c;

	while ((c = next_opt(argc, argv, "bench", bench_opts, ARRAY_SIZE(bench_opts))) != -1) {
		switch (c) {
		case 'p':
			if (bench_count(optarg, "pairs", 100000000, &cfg.pairs))
				return EXIT_USAGE;
			break;
		case 'r':
			if (bench_count(optarg, "runs", 1000, &cfg.runs))
				return EXIT_USAGE;
			break;
		case 'n':
			cfg.no_dma = true;
			break;
		case 'o':
			if (!strcmp(optarg, "0")) {
				cfg.ops = 0;
				break;
			}
			if (bench_count(optarg, "ops", 100000000, &ops))
				return EXIT_USAGE;
			cfg.ops = ops;
			break;
		case 't':
			cfg.traces = optarg;
			traces_given = true;
			break;
		case 'T':
			cfg.traces = NULL;
			break;
		case 'O':
			cfg.out = optarg;
			break;
		case 'c':
			cfg.format = BENCH_CSV;
			break;
		case 'j':
			cfg.format = BENCH_JSON;
			break;
		case 'h':
			bench_usage(stdout);
			return EXIT_OK;
		default:
			fputs("Try 'vtdkit bench --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (one_arg("bench", argc, argv, NULL))
		return EXIT_USAGE;
	/* The default directory is optional; one named on the command line is not. */
	if (cfg.traces && !traces_given && access(cfg.traces, R_OK))
		cfg.traces = NULL;
	else if (cfg.traces && access(cfg.traces, R_OK)) {
		fprintf(stderr, "vtdkit bench: --traces: cannot read '%s': %s\n", cfg.traces,
			strerror(errno));
		return EXIT_USAGE;
	}
	return bench_matrix(&cfg, stdout, stderr);
}

/* ---- vtdkit replay ---- */

static const struct cli_opt replay_opts[] = {
	{ "mode", required_argument, 'm', "MODE",
	  "replay under strict, lazy or lazy-ranged (default: the captured policy)" },
	{ "cm", required_argument, 'c', "0|1", "caching mode of the unit (default: as captured)" },
	{ "profile", required_argument, 'p', "P", "exact or adversarial caches (default exact)" },
	{ "qemu", required_argument, 'q', "LOG",
	  "QEMU vtd_inv_desc log of the same run (default: NAME.qemu-vtd.log beside NAME.trace)" },
	{ "console", required_argument, 'k', "FILE",
	  "the guest's console log (default: NAME.console beside NAME.trace)" },
	{ "counts", no_argument, 'n', NULL, "only read and count the file (no replay)" },
	{ "json", no_argument, 'j', NULL, "print one JSON object instead of the table" },
	{ "csv", no_argument, 'C', NULL, "print CSV (what,linux,vtdkit; a blank line; the cost table)" },
	{ "timeline", required_argument, 't', "FILE",
	  "write a Perfetto/Chrome trace-event JSON: the replayed calls, vtdkit's and Linux's"
	  " descriptors" },
	{ "help", no_argument, 'h', NULL, "show this help" },
};

static void replay_usage(FILE *f)
{
	fputs("usage: vtdkit replay [OPTION]... FILE\n"
	      "Replay a real Linux VT-d trace through libvtd and compare. FILE is a Linux\n"
	      "guest's ftrace text (tracefs 'trace' or 'trace-cmd report': iommu map/unmap/\n"
	      "attach, intel_iommu qi_submit and cache_tag events) or a QEMU\n"
	      "'-trace vtd_inv_desc*' log; the format is told by each line's content.\n"
	      "Every map and unmap is attributed to a domain (cache-tag and descriptor\n"
	      "evidence, else the rules in docs/replay.md) and replayed at its own IOVA\n"
	      "and time through libvtd's DMA layer under the policy asked for. Linux's\n"
	      "descriptors, decoded from the raw qwords, are printed beside vtdkit's: by\n"
	      "type and granularity, waits (from the QEMU log) and modelled invalidation\n"
	      "time. A file without map/unmap events (a QEMU log) is only counted.\n"
	      "Malformed lines go to standard error as FILE:LINE: message and are skipped.\n"
	      "An xz file is read through 'xz -dc'; trace-cmd's binary trace.dat through\n", f);
	fputs(tracedat_supported() ? "libtracecmd (built in).\n\n" :
	      "libtracecmd, which this build lacks (install libtracecmd-dev, rebuild).\n\n", f);
	fputs("Options:\n", f);
	print_opts(f, replay_opts, ARRAY_SIZE(replay_opts));
	fputs("\nExit status:\n"
	      "  0  the file was read and replayed (or counted); malformed lines are not fatal\n"
	      "  1  the checker's oracle found a violation during the replay\n"
	      "  2  bad usage, an unreadable file, or no recognisable event in it\n", f);
}


static int replay_counts(const char *name, const struct trace_summary *s, bool json)
{
	if (!json && !s->binary)
		trace_summary_print_errors(stderr, s, name);
	if (!trace_summary_events(s)) {
		fprintf(stderr, "vtdkit replay: %s: no recognisable event in %lu lines", name,
			s->lines);
		if (s->binary)
			fprintf(stderr, " (%s)", trace_binary_hint(s->binary));
		fputc('\n', stderr);
		return EXIT_USAGE;
	}
	trace_summary_print(stdout, s, name, json);
	return EXIT_OK;
}

static int replay_main(int argc, char **argv)
{
	struct replay_opts o = { .mode = -1, .cm = -1, .profile = VTDM_EXACT };
	struct trace_summary *s;
	struct replay_result *r;
	bool json = false, counts = false, csv = false;
	const char *name, *timeline = NULL;
	struct cli_bar bar = { .label = "replay" };
	char err[300];
	int c, rc;

	while ((c = next_opt(argc, argv, "replay", replay_opts, ARRAY_SIZE(replay_opts))) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "strict")) {
				o.mode = VTD_DMA_STRICT;
			} else if (!strcmp(optarg, "lazy")) {
				o.mode = VTD_DMA_LAZY;
			} else if (!strcmp(optarg, "lazy-ranged")) {
				o.mode = VTD_DMA_LAZY_RANGED;
			} else {
				fprintf(stderr, "vtdkit replay: --mode: '%s' is not strict, lazy or"
					" lazy-ranged\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			if (strcmp(optarg, "0") && strcmp(optarg, "1")) {
				fprintf(stderr, "vtdkit replay: --cm: '%s' is not 0 or 1\n", optarg);
				return EXIT_USAGE;
			}
			o.cm = optarg[0] - '0';
			break;
		case 'p':
			if (!strcmp(optarg, "exact")) {
				o.profile = VTDM_EXACT;
			} else if (!strcmp(optarg, "adversarial")) {
				o.profile = VTDM_ADVERSARIAL;
			} else {
				fprintf(stderr, "vtdkit replay: --profile: '%s' is not exact or"
					" adversarial\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			o.qemu_log = optarg;
			break;
		case 'k':
			o.console = optarg;
			break;
		case 'n':
			counts = true;
			break;
		case 'j':
			json = true;
			break;
		case 'C':
			csv = true;
			break;
		case 't':
			timeline = optarg;
			break;
		case 'h':
			replay_usage(stdout);
			return EXIT_OK;
		default:
			fputs("Try 'vtdkit replay --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (one_arg("replay", argc, argv, "FILE"))
		return EXIT_USAGE;
	name = argv[optind];
	s = malloc(sizeof(*s));
	if (!s) {
		fputs("vtdkit replay: out of memory\n", stderr);
		return EXIT_USAGE;
	}
	rc = trace_read_file(name, s);
	if (rc) {
		fprintf(stderr, "vtdkit replay: cannot read '%s': %s\n", name,
			s->decode_err[0] ? s->decode_err : strerror(-rc));
		free(s);
		return EXIT_USAGE;
	}
	if (counts || !trace_summary_events(s) || !(s->events[TEV_MAP] + s->events[TEV_UNMAP])) {
		rc = replay_counts(name, s, json);
		free(s);
		return rc;
	}
	if (!json && !csv)
		trace_summary_print_errors(stderr, s, name);
	free(s);
	r = malloc(sizeof(*r));
	if (!r) {
		fputs("vtdkit replay: out of memory\n", stderr);
		return EXIT_USAGE;
	}
	if (timeline) {
		o.timeline = tl_open(timeline, err, sizeof(err));
		if (!o.timeline) {
			fprintf(stderr, "vtdkit replay: %s\n", err);
			free(r);
			return EXIT_USAGE;
		}
	}
	o.progress = cli_progress;
	o.progress_arg = &bar;
	rc = replay_run(name, &o, r, err, sizeof(err));
	progress_done(&bar.p);
	if (o.timeline) {
		int trc = tl_close(o.timeline);

		if (trc && !rc) {
			fprintf(stderr, "vtdkit replay: writing %s: %s\n", timeline,
				strerror(-trc));
			free(r);
			return EXIT_USAGE;
		}
	}
	if (rc) {
		fprintf(stderr, "vtdkit replay: %s\n", err);
		free(r);
		return EXIT_USAGE;
	}
	if (csv)
		replay_print_csv(stdout, r);
	else
		replay_print(stdout, r, name, json);
	rc = r->violations ? EXIT_CHECK : EXIT_OK;
	free(r);
	return rc;
}

/* ---- vtdkit report ---- */

static const struct cli_opt report_opts[] = {
	{ "out", required_argument, 'o', "DIR", "write the plot data, script and images there"
	  " (default report)" },
	{ "ops", required_argument, 'n', "N", "operations per run (default 5000)" },
	{ "workload", required_argument, 'w', "NAME",
	  "nic-rx, nic-tx, nvme, gpu or mixed (repeatable; default all five)" },
	{ "cm", required_argument, 'c', "0|1", "caching mode on every unit (default 0)" },
	{ "profile", required_argument, 'P', "P", "exact or adversarial caches (default exact)" },
	{ "late", no_argument, 'L', NULL,
	  "every device uses each buffer once more after its unmap" },
	{ "json", no_argument, 'j', NULL, "print one JSON document" },
	{ "csv", no_argument, 'C', NULL,
	  "print CSV (the runs, the cost table, the files; blank lines between)" },
	{ "help", no_argument, 'h', NULL, "show this help" },
};

static void report_usage(FILE *f)
{
	fputs("usage: vtdkit report [OPTION]...\n"
	      "Run each workload under every unmap policy (strict, lazy, lazy-ranged), print\n"
	      "one table of what each costs and the cost table, and write plots into DIR:\n"
	      "modelled cost per operation, invalidation descriptors and waits per\n"
	      "operation, the exposure-window distribution and the IOTLB and device-TLB hit\n"
	      "rates, as gnuplot data files and the script plots.gp. When gnuplot is\n"
	      "installed it draws each plot as PNG and SVG; without it the data and the\n"
	      "script are still written. The files written are listed at the end.\n"
	      "docs/plots.md.\n\n"
	      "Options:\n", f);
	print_opts(f, report_opts, ARRAY_SIZE(report_opts));
	fputs("\nExit status:\n"
	      "  0  every run completed and no policy let a well-behaved device use a stale\n"
	      "     translation (also when gnuplot is not installed)\n"
	      "  1  a policy let a well-behaved device use a stale translation (a bug;\n"
	      "     not judged with --late, where lazy policies are expected to)\n"
	      "  2  bad usage, a run that could not complete, the plots could not be\n"
	      "     written, or gnuplot failed\n", f);
}

static int report_main(int argc, char **argv)
{
	struct report_cfg cfg = { .profile = VTDM_EXACT, .format = REP_TEXT };
	struct wl_opts scratch;
	char err[200];
	int c, w;

	wl_opts_init(&scratch, WL_NIC_RX);
	while ((c = next_opt(argc, argv, "report", report_opts, ARRAY_SIZE(report_opts))) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg) {
				fputs("vtdkit report: --out: empty directory name\n", stderr);
				return EXIT_USAGE;
			}
			cfg.dir = optarg;
			break;
		case 'n':
		case 'c':
		case 'P':
			/* wl_params_set checks the value and names what it takes. */
			if (wl_params_set(&scratch, c == 'n' ? "ops" : c == 'c' ? "cm" : "caching",
					  optarg, err, sizeof(err))) {
				fprintf(stderr, "vtdkit report: --%s: %s\n",
					c == 'n' ? "ops" : c == 'c' ? "cm" : "profile", err);
				return EXIT_USAGE;
			}
			if (c == 'n')
				cfg.ops = scratch.ops;
			else if (c == 'c')
				cfg.cm = scratch.cm;
			else
				cfg.profile = scratch.profile;
			break;
		case 'w':
			w = wl_lookup(optarg);
			if (w < 0) {
				fprintf(stderr, "vtdkit report: --workload: '%s' is not nic-rx, nic-tx,"
					" nvme, gpu or mixed\n", optarg);
				return EXIT_USAGE;
			}
			for (unsigned i = 0; i <= cfg.nworkloads; i++)
				if (i == cfg.nworkloads) {
					cfg.workloads[cfg.nworkloads++] = (enum wl_kind)w;
					break;
				} else if (cfg.workloads[i] == (enum wl_kind)w) {
					break;
				}
			break;
		case 'L':
			cfg.late = true;
			break;
		case 'j':
			cfg.format = REP_JSON;
			break;
		case 'C':
			cfg.format = REP_CSV;
			break;
		case 'h':
			report_usage(stdout);
			return EXIT_OK;
		default:
			fputs("Try 'vtdkit report --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (one_arg("report", argc, argv, NULL))
		return EXIT_USAGE;
	return report_run(&cfg, stdout, stderr);
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "hw", hw_main, "line console to the bare hardware model (qtest style)" },
	{ "demo", demo_main, "the main job: every unmap policy on a workload, cost and safety" },
	{ "run", run_main, "run a scenario: libvtd on the model, DMA, expectations" },
	{ "explore", explore_main, "explore a scenario's thread interleavings with the checker" },
	{ "stress", stress_main, "libvtd and the model on real threads, every DMA judged" },
	{ "bench", bench_main, "the benchmark matrix: workloads, policies, traces, speed" },
	{ "replay", replay_main, "replay a real Linux VT-d trace through libvtd, side by side" },
	{ "report", report_main, "every policy on every workload: tables and gnuplot plots" },
};

static void usage(FILE *f)
{
	fputs("usage: vtdkit COMMAND [OPTION]... [ARG]...\n"
	      "       vtdkit COMMAND --help\n"
	      "VT-d IOMMU cache invalidation: a driver core, a hardware model, a checker.\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fputc('\n', f);
	fputs(exit_help, f);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		if (!strcmp(cmd, "help") && argc > 2) {
			char *sub[] = { argv[2], "--help", NULL };

			for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
				if (!strcmp(argv[2], commands[i].name))
					return commands[i].main(2, sub);
			fprintf(stderr, "vtdkit: unknown command '%s'\n", argv[2]);
			return EXIT_USAGE;
		}
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "vtdkit: unknown command '%s'\n", cmd);
	fputs("Try 'vtdkit --help'.\n", stderr);
	return EXIT_USAGE;
}
