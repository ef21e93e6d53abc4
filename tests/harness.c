/*
 * tests/harness.c - main() for test programs built on tests/harness.h: picks
 * the tests to run, runs each in a forked child with a timeout, prints TAP.
 */
#include "harness.h"

#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT 120
#define HIDDEN_PREFIX "xfail_"
#define EXIT_ERROR 2	/* usage or internal error */

enum outcome { OUTCOME_NONE, OUTCOME_PASS, OUTCOME_FAIL, OUTCOME_SKIP };

/* What a test reports; shared with the forked child that runs it. */
struct result {
	enum outcome outcome;
	char skip_reason[256];
};

/* One runnable instance: a test, with one variant of its fixture if any. */
struct test_case {
	const struct th_test *test;
	const struct th_variant *variant;
	char *name;
	bool selected;
};

static struct {
	bool list;
	bool no_fork;
	unsigned long timeout;
	const char **include;
	size_t n_include;
	const char **exclude;
	size_t n_exclude;
} opt = { .timeout = DEFAULT_TIMEOUT };

static struct th_test *tests;
static struct test_case *cases;
static size_t n_cases;

/*
 * The test running in this process.  Everything the code after setjmp()
 * needs lives here rather than in locals, which longjmp() may clobber.
 */
static struct {
	const struct test_case *tc;
	struct result *result;
	void *self;
	const void *variant_data;
	pid_t pid;
	pthread_t thread;
	bool in_test;
	bool skipped;
	atomic_bool failed;	/* EXPECT_* may fail on any thread */
	jmp_buf env;
} cur;

/* Signals we wait for while a child runs; blocked in the parent. */
static sigset_t wait_set;
static sigset_t orig_mask;

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
	exit(EXIT_ERROR);
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		die("malloc");
	return p;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool registered_before(const struct th_test *a, const struct th_test *b)
{
	int c = strcmp(a->file, b->file);

	return c < 0 || (c == 0 && a->line < b->line);
}

/* Constructors run in no promised order, so keep the lists sorted. */
void th_register_test(struct th_test *test)
{
	struct th_test **pos = &tests;

	while (*pos && !registered_before(test, *pos))
		pos = &(*pos)->next;
	test->next = *pos;
	*pos = test;
}

void th_register_variant(struct th_fixture *fixture, struct th_variant *variant)
{
	struct th_variant **pos = &fixture->variants;

	while (*pos && (*pos)->line <= variant->line)
		pos = &(*pos)->next;
	variant->next = *pos;
	*pos = variant;
}

const char *th_test_name(void)
{
	return cur.tc ? cur.tc->name : "";
}

const char *th_variant_name(void)
{
	return cur.tc && cur.tc->variant ? cur.tc->variant->name : "";
}

bool th_test_failed(void)
{
	return atomic_load(&cur.failed);
}

/* Prints a message as "# " diagnostic lines, whatever newlines it holds. */
static void vdiag(const char *file, int line, const char *fmt, va_list ap)
{
	va_list ap2;
	char *msg, *p, *nl;
	int len;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		die("vsnprintf");
	msg = xmalloc((size_t)len + 1);
	vsnprintf(msg, (size_t)len + 1, fmt, ap);

	flockfile(stdout);
	for (p = msg; ; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (p == msg && file)
			printf("# %s:%d: %s\n", file, line, p);
		else
			printf("# %s\n", p);
		if (!nl || nl[1] == '\0')
			break;
	}
	funlockfile(stdout);
	fflush(stdout);
	free(msg);
}

static void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(NULL, 0, fmt, ap);
	va_end(ap);
}

void th_log(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(file, line, fmt, ap);
	va_end(ap);
}

/*
 * A check that fails where the harness cannot attribute it to the test
 * (another process) or cannot unwind the test (another thread) would be
 * lost or corrupt the run; make the mistake loud instead.
 */
static void require_test_context(const char *what, bool on_test_thread)
{
	if (cur.in_test && cur.pid == getpid() &&
	    (!on_test_thread || pthread_equal(cur.thread, pthread_self())))
		return;
	diag("%s used outside the test's %s; aborting", what,
	     on_test_thread ? "thread" : "process");
	abort();
}

_Noreturn void th_end_test(void)
{
	require_test_context("ASSERT_*", true);
	longjmp(cur.env, 1);
}

void th_skip(const char *fmt, ...)
{
	char *p;
	va_list ap;

	require_test_context("SKIP", true);
	cur.skipped = true;
	va_start(ap, fmt);
	vsnprintf(cur.result->skip_reason, sizeof(cur.result->skip_reason),
		  fmt, ap);
	va_end(ap);
	/* The reason goes on the TAP result line, which must stay one line. */
	for (p = cur.result->skip_reason; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
}

static void fail_check(const char *file, int line, const char *text)
{
	require_test_context("EXPECT_*", false);
	atomic_store(&cur.failed, true);
	printf("# %s:%d: %s failed\n", file, line, text);
}

static void print_value(const char *label, struct th_value v)
{
	if (v.is_signed && v.bits > INTMAX_MAX)
		printf("#   %-9s -%ju (0x%jx)\n", label, -v.bits, v.bits);
	else
		printf("#   %-9s %ju (0x%jx)\n", label, v.bits, v.bits);
}

/* Quotes s in C syntax so that any bytes in it show, on one line. */
static void print_string(const char *label, const char *s)
{
	printf("#   %-9s ", label);
	if (!s) {
		puts("NULL");
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < ' ' || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	puts("\"");
}

/* Orders a and b by value, without C's conversions between signednesses. */
static int compare_values(struct th_value a, struct th_value b)
{
	bool a_neg = a.is_signed && a.bits > INTMAX_MAX;
	bool b_neg = b.is_signed && b.bits > INTMAX_MAX;

	if (a_neg != b_neg)
		return a_neg ? -1 : 1;
	/* Same sign: two's complement bits order like the values. */
	return (a.bits > b.bits) - (a.bits < b.bits);
}

bool th_check_cmp(const char *file, int line, const char *text, enum th_op op,
		  struct th_value expected, struct th_value seen)
{
	int c = compare_values(expected, seen);
	bool ok = false;

	switch (op) {
	case TH_OP_EQ:
		ok = c == 0;
		break;
	case TH_OP_NE:
		ok = c != 0;
		break;
	case TH_OP_LT:
		ok = c < 0;
		break;
	case TH_OP_LE:
		ok = c <= 0;
		break;
	case TH_OP_GT:
		ok = c > 0;
		break;
	case TH_OP_GE:
		ok = c >= 0;
		break;
	}
	if (ok)
		return true;
	flockfile(stdout);
	fail_check(file, line, text);
	print_value("expected:", expected);
	print_value("seen:", seen);
	funlockfile(stdout);
	fflush(stdout);
	return false;
}

bool th_check_true(const char *file, int line, const char *text, bool want,
		   struct th_value seen)
{
	if ((seen.bits != 0) == want)
		return true;
	flockfile(stdout);
	fail_check(file, line, text);
	print_value("seen:", seen);
	funlockfile(stdout);
	fflush(stdout);
	return false;
}

bool th_check_null(const char *file, int line, const char *text,
		   bool want_null, const void *seen)
{
	if ((seen == NULL) == want_null)
		return true;
	flockfile(stdout);
	fail_check(file, line, text);
	printf("#   %-9s %p\n", "seen:", seen);
	funlockfile(stdout);
	fflush(stdout);
	return false;
}

bool th_check_str(const char *file, int line, const char *text,
		  bool want_equal, const char *expected, const char *seen)
{
	bool equal = expected && seen ? strcmp(expected, seen) == 0
				      : expected == seen;

	if (equal == want_equal)
		return true;
	flockfile(stdout);
	fail_check(file, line, text);
	print_string("expected:", expected);
	print_string("seen:", seen);
	funlockfile(stdout);
	fflush(stdout);
	return false;
}

/* Calls fn; returns false if an ASSERT_* failure jumped out of it. */
static bool call_guarded(void (*fn)(void *self, const void *variant))
{
	if (setjmp(cur.env))
		return false;
	fn(cur.self, cur.variant_data);
	return true;
}

static void run_in_process(const struct test_case *tc, struct result *res)
{
	const struct th_test *t = tc->test;
	const struct th_fixture *f = t->fixture;

	res->outcome = OUTCOME_NONE;
	res->skip_reason[0] = '\0';
	cur.tc = tc;
	cur.result = res;
	cur.variant_data = tc->variant ? tc->variant->data : NULL;
	cur.pid = getpid();
	cur.thread = pthread_self();
	cur.skipped = false;
	atomic_store(&cur.failed, false);
	cur.self = NULL;
	if (f) {
		cur.self = calloc(1, t->self_size);
		if (!cur.self && t->self_size)
			die("calloc");
	}

	cur.in_test = true;
	if (!f) {
		call_guarded(t->run);
	} else if (call_guarded(f->setup)) {
		if (!atomic_load(&cur.failed) && !cur.skipped)
			call_guarded(t->run);
		call_guarded(f->teardown);
	}
	cur.in_test = false;

	free(cur.self);
	cur.self = NULL;
	if (atomic_load(&cur.failed))
		res->outcome = OUTCOME_FAIL;
	else if (cur.skipped)
		res->outcome = OUTCOME_SKIP;
	else
		res->outcome = OUTCOME_PASS;
}

static const char *signal_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
		{ SIGABRT, "SIGABRT" }, { SIGALRM, "SIGALRM" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" },
		{ SIGHUP, "SIGHUP" }, { SIGILL, "SIGILL" },
		{ SIGINT, "SIGINT" }, { SIGKILL, "SIGKILL" },
		{ SIGPIPE, "SIGPIPE" }, { SIGQUIT, "SIGQUIT" },
		{ SIGSEGV, "SIGSEGV" }, { SIGSYS, "SIGSYS" },
		{ SIGTERM, "SIGTERM" }, { SIGTRAP, "SIGTRAP" },
		{ SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" },
		{ SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return "unnamed signal";
}

static void handle_nothing(int sig)
{
	(void)sig;
}

/*
 * SIGCHLD gets a handler, as an ignored signal might never become pending
 * for sigtimedwait(); the termination signals keep their disposition, so
 * that ignoring them still works.
 */
static void block_wait_signals(void)
{
	struct sigaction sa = { .sa_handler = handle_nothing };

	sigemptyset(&wait_set);
	sigaddset(&wait_set, SIGCHLD);
	sigaddset(&wait_set, SIGINT);
	sigaddset(&wait_set, SIGTERM);
	sigaddset(&wait_set, SIGHUP);
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_BLOCK, &wait_set, &orig_mask);
}

static void reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
}

static struct timespec time_left(const struct timespec *deadline)
{
	struct timespec now, left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left.tv_sec = deadline->tv_sec - now.tv_sec;
	left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (left.tv_nsec < 0) {
		left.tv_sec--;
		left.tv_nsec += 1000000000L;
	}
	return left;
}

/*
 * Waits for the test's child.  If it outlives the timeout, or we are asked
 * to terminate, kills its process group, so that nothing it started lingers
 * holding our stdout.  Returns the terminating signal received, or 0.
 */
static int await_child(pid_t pid, int *status, bool *timed_out)
{
	struct timespec deadline, left;
	int sig = 0;
	pid_t r;

	*timed_out = false;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)opt.timeout;
	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			die("waitpid");
		if (!opt.timeout) {
			sig = sigwaitinfo(&wait_set, NULL);
		} else {
			left = time_left(&deadline);
			if (left.tv_sec < 0) {
				*timed_out = true;
				break;
			}
			sig = sigtimedwait(&wait_set, NULL, &left);
		}
		if (sig > 0 && sig != SIGCHLD)
			break;
	}
	kill(-pid, SIGKILL);
	reap(pid, status);
	return *timed_out ? 0 : sig;
}

static _Noreturn void die_by_signal(int sig)
{
	sigset_t set;

	printf("Bail out! interrupted by %s\n", signal_name(sig));
	fflush(stdout);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

static void run_forked(const struct test_case *tc, struct result *res)
{
	bool timed_out;
	int status, sig;
	pid_t pid;

	res->outcome = OUTCOME_NONE;
	res->skip_reason[0] = '\0';
	/* Or the child would print whatever is still buffered once more. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		diag("%s: fork: %s", tc->name, strerror(errno));
		res->outcome = OUTCOME_FAIL;
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, &orig_mask, NULL);
		run_in_process(tc, res);
		/* exit(), not _exit(): leak checkers and gcov run at exit. */
		exit(0);
	}
	/* Also here, so that a timeout cannot find the group not made yet. */
	setpgid(pid, pid);

	sig = await_child(pid, &status, &timed_out);
	if (sig)
		die_by_signal(sig);
	if (timed_out) {
		diag("%s: timed out after %lu s; killed", tc->name,
		     opt.timeout);
		res->outcome = OUTCOME_FAIL;
	} else if (WIFSIGNALED(status)) {
		diag("%s: killed by signal %d (%s)", tc->name,
		     WTERMSIG(status), signal_name(WTERMSIG(status)));
		res->outcome = OUTCOME_FAIL;
	} else if (WEXITSTATUS(status) != 0) {
		diag("%s: test process exited with status %d", tc->name,
		     WEXITSTATUS(status));
		res->outcome = OUTCOME_FAIL;
	} else if (res->outcome == OUTCOME_NONE) {
		diag("%s: test process exited before the test finished",
		     tc->name);
		res->outcome = OUTCOME_FAIL;
	}
}

static char *join_name(const char *fixture, const char *variant,
		       const char *test)
{
	const char *parts[3] = { fixture, variant, test };
	size_t i, len = 0;
	char *name;

	for (i = 0; i < 3; i++)
		if (parts[i])
			len += strlen(parts[i]) + 1;
	name = xmalloc(len);
	name[0] = '\0';
	for (i = 0; i < 3; i++) {
		if (!parts[i])
			continue;
		if (name[0])
			strcat(name, ".");
		strcat(name, parts[i]);
	}
	return name;
}

static bool is_hidden(const struct test_case *tc)
{
	const struct th_fixture *f = tc->test->fixture;

	return starts_with(tc->test->name, HIDDEN_PREFIX) ||
	       (f && starts_with(f->name, HIDDEN_PREFIX)) ||
	       (tc->variant && starts_with(tc->variant->name, HIDDEN_PREFIX));
}

static bool matches_any(const char *name, const char **patterns, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fnmatch(patterns[i], name, 0) == 0)
			return true;
	return false;
}

static void add_case(const struct th_test *t, const struct th_variant *v)
{
	struct test_case *tc = &cases[n_cases++];

	tc->test = t;
	tc->variant = v;
	tc->name = join_name(t->fixture ? t->fixture->name : NULL,
			     v ? v->name : NULL, t->name);
	tc->selected = (opt.n_include ? matches_any(tc->name, opt.include,
						    opt.n_include)
				      : !is_hidden(tc)) &&
		       !matches_any(tc->name, opt.exclude, opt.n_exclude);
}

static const struct th_variant *first_variant(const struct th_test *t)
{
	return t->fixture ? t->fixture->variants : NULL;
}

/* A test runs once per variant, or once if it has none. */
static size_t count_runs(const struct th_test *t)
{
	const struct th_variant *v;
	size_t n = 0;

	for (v = first_variant(t); v; v = v->next)
		n++;
	return n ? n : 1;
}

/* Makes the cases in running order; returns how many are selected. */
static size_t build_cases(void)
{
	const struct th_test *t;
	const struct th_variant *v;
	size_t n = 0, i, selected = 0;

	for (t = tests; t; t = t->next)
		n += count_runs(t);
	/* + 1: malloc(0) may return NULL, which is no failure. */
	cases = xmalloc(n * sizeof(*cases) + 1);
	for (t = tests; t; t = t->next) {
		if (!first_variant(t))
			add_case(t, NULL);
		for (v = first_variant(t); v; v = v->next)
			add_case(t, v);
	}
	for (i = 0; i < n_cases; i++)
		selected += cases[i].selected;
	return selected;
}

static int run_cases(size_t n_selected)
{
	static struct result local_result;
	struct result *res = &local_result;
	unsigned long passed = 0, failed = 0, skipped = 0, k = 0;
	size_t i;

	if (!opt.no_fork) {
		res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (res == MAP_FAILED)
			die("mmap");
		block_wait_signals();
	}

	printf("TAP version 13\n1..%zu\n", n_selected);
	for (i = 0; i < n_cases; i++) {
		const struct test_case *tc = &cases[i];

		if (!tc->selected)
			continue;
		k++;
		printf("# RUN %s\n", tc->name);
		if (opt.no_fork)
			run_in_process(tc, res);
		else
			run_forked(tc, res);

		switch (res->outcome) {
		case OUTCOME_PASS:
			passed++;
			printf("ok %lu %s\n", k, tc->name);
			break;
		case OUTCOME_SKIP:
			skipped++;
			printf("ok %lu %s # SKIP%s%s\n", k, tc->name,
			       res->skip_reason[0] ? " " : "",
			       res->skip_reason);
			break;
		case OUTCOME_NONE:
		case OUTCOME_FAIL:
			failed++;
			printf("not ok %lu %s\n", k, tc->name);
			break;
		}
	}

	if (!opt.no_fork) {
		/* A termination signal that came between tests ends us here. */
		sigprocmask(SIG_SETMASK, &orig_mask, NULL);
		munmap(res, sizeof(*res));
	}
	printf("# PASSED: %lu / %zu\n", passed, n_selected);
	printf("# %lu passed, %lu failed, %lu skipped\n", passed, failed,
	       skipped);
	return failed ? 1 : 0;
}

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [-h] [-l] [-n] [-o SECONDS] [-t PATTERN]... "
		"[-T PATTERN]...\n"
		"  -h          show this help\n"
		"  -l          list the selected tests' names and exit\n"
		"  -n          run tests in this process: no fork, no timeout\n"
		"  -o SECONDS  per-test timeout (default %d, 0 for none)\n"
		"  -t PATTERN  run only tests whose name matches this "
		"fnmatch(3) glob\n"
		"  -T PATTERN  do not run tests whose name matches\n"
		"Names are fixture.variant.test, fixture.test or test.  "
		"Tests with\n"
		"a part named " HIDDEN_PREFIX "* run only when a -t pattern "
		"matches them.\n",
		prog, DEFAULT_TIMEOUT);
}

static void parse_options(int argc, char **argv)
{
	char *end;
	int c;

	opt.include = xmalloc((size_t)argc * sizeof(*opt.include));
	opt.exclude = xmalloc((size_t)argc * sizeof(*opt.exclude));
	while ((c = getopt(argc, argv, "hlno:t:T:")) != -1) {
		switch (c) {
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		case 'l':
			opt.list = true;
			break;
		case 'n':
			opt.no_fork = true;
			break;
		case 'o':
			errno = 0;
			opt.timeout = strtoul(optarg, &end, 10);
			/* strtoul() would take "-1" as a huge number. */
			if (optarg[0] < '0' || optarg[0] > '9' || *end ||
			    errno || opt.timeout > INT_MAX) {
				fprintf(stderr, "%s: bad timeout '%s'\n",
					argv[0], optarg);
				exit(EXIT_ERROR);
			}
			break;
		case 't':
			opt.include[opt.n_include++] = optarg;
			break;
		case 'T':
			opt.exclude[opt.n_exclude++] = optarg;
			break;
		default:
			usage(stderr, argv[0]);
			exit(EXIT_ERROR);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0],
			argv[optind]);
		usage(stderr, argv[0]);
		exit(EXIT_ERROR);
	}
}

int main(int argc, char **argv)
{
	size_t n_selected, i;
	int ret = 0;

	/* Line by line, so that output a crash cuts short is not lost. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_options(argc, argv);
	n_selected = build_cases();
	if (opt.n_include && !n_selected) {
		/* Most likely a typo, which must not pass as a clean run. */
		fprintf(stderr, "%s: no test matches the -t patterns\n",
			argv[0]);
		ret = EXIT_ERROR;
	} else if (opt.list) {
		for (i = 0; i < n_cases; i++)
			if (cases[i].selected)
				puts(cases[i].name);
	} else {
		ret = run_cases(n_selected);
	}

	for (i = 0; i < n_cases; i++)
		free(cases[i].name);
	free(cases);
	free(opt.include);
	free(opt.exclude);
	return ret;
}
