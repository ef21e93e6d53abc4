/*
 * tests/unit/test_harness.c - tests of the test harness itself.  The xfail_*
 * tests misbehave on purpose; the harness_run and harness_modes tests start
 * this program again to run them, and check its TAP output and exit status.
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Checks that run in this process. */

TEST(harness_cmp_by_value)
{
	ASSERT_LT(-1, 0u);
	ASSERT_NE(-1, UINT_MAX);
	ASSERT_NE((intmax_t)-1, UINTMAX_MAX);
	ASSERT_GT(UINT64_MAX, INT64_MAX);
	ASSERT_LT(INTMAX_MIN, (size_t)0);
	ASSERT_GE(0u, -1);
	ASSERT_LE(-2, -1);
	ASSERT_LE(-2, -2);
	ASSERT_GT(-1, -2);
	ASSERT_LT(-2, (unsigned char)0);
	ASSERT_EQ(200, (unsigned char)200);
	ASSERT_EQ((signed char)-3, -3L);
	ASSERT_EQ(UINT64_MAX, UINT64_MAX);
	ASSERT_EQ(INTMAX_MIN, INTMAX_MIN);
	ASSERT_GT(INTMAX_MAX, INTMAX_MIN);
	ASSERT_EQ('A', (char)65);
	ASSERT_EQ(true, 1);
}

struct opaque;

TEST(harness_cmp_odd_operands)
{
	struct {
		int s : 3;
		unsigned u : 3;
	} bits = { -1, 7 };
	enum { NEGATIVE = -1, POSITIVE = 1 } e = NEGATIVE;
	const short c = -5;
	struct opaque *none = NULL;

	ASSERT_EQ(-1, bits.s);
	ASSERT_LT(bits.s, bits.u);
	ASSERT_EQ(-1, e);
	ASSERT_LT(e, 0u);
	ASSERT_LT(c, (unsigned short)0);
	ASSERT_EQ(NULL, none);
	ASSERT_NULL(none);
}

TEST(harness_every_check_passes)
{
	int x[2] = { 0 };

	EXPECT_EQ(1, 1);
	EXPECT_NE(1, 2);
	EXPECT_LT(1, 2);
	EXPECT_LE(2, 2);
	EXPECT_GT(2, 1);
	EXPECT_GE(2, 2);
	EXPECT_LT(&x[0], &x[1]);
	EXPECT_TRUE(&x[0]);
	EXPECT_TRUE(-1);
	EXPECT_FALSE(0u);
	EXPECT_FALSE(NULL);
	EXPECT_NULL(NULL);
	EXPECT_NONNULL(x);
	EXPECT_STREQ("a", "a");
	EXPECT_STREQ(NULL, NULL);
	EXPECT_STRNE("a", "b");
	EXPECT_STRNE("a", NULL);
	EXPECT_STRNE(NULL, "a");
	ASSERT_FALSE(th_test_failed());
}

static int tick(int *n)
{
	return (*n)++;
}

TEST(harness_operands_evaluated_once)
{
	int n = 0;

	ASSERT_LT(tick(&n), tick(&n));
	ASSERT_EQ(2, n);
	ASSERT_TRUE(tick(&n));
	ASSERT_EQ(3, n);
	ASSERT_STREQ(&"abcd"[tick(&n)], "d");
	ASSERT_EQ(4, n);
}

TEST(harness_names_of_plain_test)
{
	ASSERT_STREQ("harness_names_of_plain_test", th_test_name());
	ASSERT_STREQ("", th_variant_name());
}

FIXTURE(harness_pair) {
	int doubled;
	bool set_up;
};

FIXTURE_VARIANT(harness_pair) {
	const char *name;
	int value;
};

FIXTURE_VARIANT_ADD(harness_pair, small) {
	.name = "small",
	.value = 1,
};

FIXTURE_VARIANT_ADD(harness_pair, large) {
	.name = "large",
	.value = 1000,
};

FIXTURE_SETUP(harness_pair)
{
	/* Every test gets a zeroed fixture, whatever earlier tests did. */
	ASSERT_FALSE(self->set_up);
	ASSERT_EQ(0, self->doubled);
	self->doubled = 2 * variant->value;
	self->set_up = true;
}

FIXTURE_TEARDOWN(harness_pair)
{
	EXPECT_TRUE(self->set_up);
}

TEST_F(harness_pair, clobbers_self)
{
	self->doubled = -1;
}

TEST_F(harness_pair, setup_saw_variant)
{
	char name[64];

	ASSERT_TRUE(self->set_up);
	ASSERT_EQ(2 * variant->value, self->doubled);
	ASSERT_STREQ(variant->name, th_variant_name());
	snprintf(name, sizeof(name), "harness_pair.%s.setup_saw_variant",
		 variant->name);
	ASSERT_STREQ(name, th_test_name());
}

FIXTURE(harness_plain) {
	int answer;
};

FIXTURE_SETUP(harness_plain)
{
	self->answer = 42;
}

FIXTURE_TEARDOWN(harness_plain)
{
}

TEST_F(harness_plain, no_variant)
{
	ASSERT_NULL(variant);
	ASSERT_EQ(42, self->answer);
	ASSERT_STREQ("harness_plain.no_variant", th_test_name());
	ASSERT_STREQ("", th_variant_name());
}

/* Hidden tests, which the checks further down run and judge. */

FIXTURE(xfail_lifecycle) {
	const char *tag;
};

FIXTURE_VARIANT(xfail_lifecycle) {
	const char *tag;
};

FIXTURE_VARIANT_ADD(xfail_lifecycle, one) {
	.tag = "one",
};

FIXTURE_VARIANT_ADD(xfail_lifecycle, two) {
	.tag = "two",
};

FIXTURE_SETUP(xfail_lifecycle)
{
	self->tag = variant->tag;
	TH_LOG("setup %s", self->tag);
}

FIXTURE_TEARDOWN(xfail_lifecycle)
{
	TH_LOG("teardown %s failed=%d", self->tag, th_test_failed());
}

TEST_F(xfail_lifecycle, passes)
{
	TH_LOG("body %s", self->tag);
}

TEST_F(xfail_lifecycle, asserts)
{
	TH_LOG("body %s", self->tag);
	ASSERT_EQ(1, 2);
	TH_LOG("after assert");
}

TEST_F(xfail_lifecycle, expects)
{
	TH_LOG("body %s", self->tag);
	TH_LOG("next line %d", __LINE__ + 1);
	EXPECT_EQ(-1, UINT64_MAX);
	EXPECT_STREQ("a\n", "b");
	TH_LOG("after expects");
}

TEST_F(xfail_lifecycle, skips)
{
	TH_LOG("body %s", self->tag);
	SKIP(return, "not today\n%d", 7);
	TH_LOG("after skip");
}

enum setup_end { SETUP_SKIPS, SETUP_EXPECT_FAILS, SETUP_ASSERT_FAILS };

FIXTURE(xfail_setup) {
	int unused;
};

FIXTURE_VARIANT(xfail_setup) {
	enum setup_end end;
};

FIXTURE_VARIANT_ADD(xfail_setup, skip) {
	.end = SETUP_SKIPS,
};

FIXTURE_VARIANT_ADD(xfail_setup, expect) {
	.end = SETUP_EXPECT_FAILS,
};

FIXTURE_VARIANT_ADD(xfail_setup, assert) {
	.end = SETUP_ASSERT_FAILS,
};

FIXTURE_SETUP(xfail_setup)
{
	if (variant->end == SETUP_SKIPS)
		SKIP(return, "setup skipped");
	if (variant->end == SETUP_EXPECT_FAILS)
		EXPECT_TRUE(false);
	if (variant->end == SETUP_ASSERT_FAILS)
		ASSERT_TRUE(false);
}

FIXTURE_TEARDOWN(xfail_setup)
{
	TH_LOG("teardown ran");
}

TEST_F(xfail_setup, test)
{
	TH_LOG("test ran");
}

/* One variant per check macro, named after it. */
enum macro { EQ, NE, LT, LE, GT, GE, IS_TRUE, IS_FALSE, IS_NULL, NONNULL,
	     STREQ, STRNE };

static const char *const macro_names[] = {
	"EQ", "NE", "LT", "LE", "GT", "GE", "TRUE", "FALSE", "NULL", "NONNULL",
	"STREQ", "STRNE",
};

FIXTURE(xfail_macro) {
	int x;
};

FIXTURE_VARIANT(xfail_macro) {
	enum macro macro;
};

FIXTURE_VARIANT_ADD(xfail_macro, eq) { .macro = EQ };
FIXTURE_VARIANT_ADD(xfail_macro, ne) { .macro = NE };
FIXTURE_VARIANT_ADD(xfail_macro, lt) { .macro = LT };
FIXTURE_VARIANT_ADD(xfail_macro, le) { .macro = LE };
FIXTURE_VARIANT_ADD(xfail_macro, gt) { .macro = GT };
FIXTURE_VARIANT_ADD(xfail_macro, ge) { .macro = GE };
FIXTURE_VARIANT_ADD(xfail_macro, is_true) { .macro = IS_TRUE };
FIXTURE_VARIANT_ADD(xfail_macro, is_false) { .macro = IS_FALSE };
FIXTURE_VARIANT_ADD(xfail_macro, is_null) { .macro = IS_NULL };
FIXTURE_VARIANT_ADD(xfail_macro, nonnull) { .macro = NONNULL };
FIXTURE_VARIANT_ADD(xfail_macro, streq) { .macro = STREQ };
FIXTURE_VARIANT_ADD(xfail_macro, strne) { .macro = STRNE };

FIXTURE_SETUP(xfail_macro)
{
}

FIXTURE_TEARDOWN(xfail_macro)
{
}

TEST_F(xfail_macro, asserts)
{
	switch (variant->macro) {
	case EQ: ASSERT_EQ(1, 2); break;
	case NE: ASSERT_NE(1, 1); break;
	case LT: ASSERT_LT(2, 1); break;
	case LE: ASSERT_LE(2, 1); break;
	case GT: ASSERT_GT(1, 2); break;
	case GE: ASSERT_GE(1, 2); break;
	case IS_TRUE: ASSERT_TRUE(0); break;
	case IS_FALSE: ASSERT_FALSE(1); break;
	case IS_NULL: ASSERT_NULL(&self->x); break;
	case NONNULL: ASSERT_NONNULL(NULL); break;
	case STREQ: ASSERT_STREQ("a", "b"); break;
	case STRNE: ASSERT_STRNE("a", "a"); break;
	}
	TH_LOG("continued");
}

TEST_F(xfail_macro, expects)
{
	switch (variant->macro) {
	case EQ: EXPECT_EQ(1, 2); break;
	case NE: EXPECT_NE(1, 1); break;
	case LT: EXPECT_LT(2, 1); break;
	case LE: EXPECT_LE(2, 1); break;
	case GT: EXPECT_GT(1, 2); break;
	case GE: EXPECT_GE(1, 2); break;
	case IS_TRUE: EXPECT_TRUE(0); break;
	case IS_FALSE: EXPECT_FALSE(1); break;
	case IS_NULL: EXPECT_NULL(&self->x); break;
	case NONNULL: EXPECT_NONNULL(NULL); break;
	case STREQ: EXPECT_STREQ("a", "b"); break;
	case STRNE: EXPECT_STRNE("a", "a"); break;
	}
	TH_LOG("continued");
}

TEST(xfail_crash)
{
	abort();
}

TEST(xfail_exit)
{
	exit(0);
}

TEST(xfail_exit_status)
{
	exit(3);
}

TEST(xfail_sleep)
{
	TH_LOG("sleeping");
	sleep(30);
}

static void *expect_fails(void *arg)
{
	(void)arg;
	EXPECT_EQ(0, 1);
	return NULL;
}

TEST(xfail_expect_in_threads)
{
	pthread_t threads[4];
	size_t i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, expect_fails,
					    NULL));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	TH_LOG("joined");
}

static void *assert_fails(void *arg)
{
	(void)arg;
	ASSERT_EQ(0, 1);
	return NULL;
}

TEST(xfail_assert_in_thread)
{
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, assert_fails, NULL));
	pthread_join(thread, NULL);
}

/* Running this program again, and reading what it says. */

struct capture {
	pid_t pid;	/* while it runs */
	char *out;	/* its stdout and stderr */
	size_t len;
	int status;	/* from waitpid() */
};

/* Starts this program with args (NULL-terminated), output piped to *fd. */
static void spawn_self(struct capture *cap, const char *const *args, int *fd)
{
	const char *argv[16] = { "test_harness" };
	char exe[4096];
	ssize_t len;
	size_t i;
	int p[2];

	/*
	 * Not execv("/proc/self/exe"): under valgrind that is valgrind's
	 * tool, while readlink() gets the program it runs.
	 */
	len = readlink("/proc/self/exe", exe, sizeof(exe));
	ASSERT_LT(0, len);
	ASSERT_LT(len, sizeof(exe));
	exe[len] = '\0';
	for (i = 0; args[i]; i++) {
		ASSERT_LT(i + 2, sizeof(argv) / sizeof(argv[0]));
		argv[i + 1] = args[i];
	}
	free(cap->out);
	cap->out = NULL;
	cap->len = 0;
	ASSERT_EQ(0, pipe(p));
	cap->pid = fork();
	ASSERT_NE(-1, cap->pid);
	if (cap->pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	*fd = p[0];
}

/* Reads fd into cap->out until EOF, or until the output holds stop. */
static void read_output(struct capture *cap, int fd, const char *stop)
{
	char buf[4096], *grown;
	ssize_t n;

	while (!stop || !cap->out || !strstr(cap->out, stop)) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		ASSERT_LE(0, n);
		if (n == 0)
			return;
		grown = realloc(cap->out, cap->len + (size_t)n + 1);
		ASSERT_NONNULL(grown);
		cap->out = grown;
		memcpy(cap->out + cap->len, buf, (size_t)n);
		cap->len += (size_t)n;
		cap->out[cap->len] = '\0';
	}
}

static void finish(struct capture *cap)
{
	ASSERT_EQ(cap->pid, waitpid(cap->pid, &cap->status, 0));
	cap->pid = 0;
}

static void run_self(struct capture *cap, const char *const *args)
{
	int fd;

	spawn_self(cap, args, &fd);
	read_output(cap, fd, NULL);
	close(fd);
	finish(cap);
}

static int exit_status(const struct capture *cap)
{
	return WIFEXITED(cap->status) ? WEXITSTATUS(cap->status) : -1;
}

/* Kills what a failed test left running, and shows what it read. */
static void release(struct capture *cap)
{
	if (cap->pid > 0) {
		kill(cap->pid, SIGKILL);
		waitpid(cap->pid, NULL, 0);
	}
	if (th_test_failed() && cap->out)
		TH_LOG("output of the program under test:\n%s", cap->out);
	free(cap->out);
}

static bool has_line(const char *out, const char *line)
{
	size_t len = strlen(line);
	const char *p;

	for (p = out; ; p++) {
		if (strncmp(p, line, len) == 0 &&
		    (p[len] == '\n' || p[len] == '\0'))
			return true;
		p = strchr(p, '\n');
		if (!p)
			return false;
	}
}

static size_t count(const char *out, const char *needle)
{
	size_t n = 0;
	const char *p;

	for (p = strstr(out, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static const char *last_line(const char *out)
{
	size_t len = strlen(out);
	const char *p;

	if (len && out[len - 1] == '\n')
		len--;
	for (p = out + len; p > out && p[-1] != '\n'; p--)
		;
	return p;
}

/*
 * Copies to buf the part of out that test name printed: from its "# RUN"
 * line to its TAP result line.
 */
static void block_of(const char *out, const char *name, char *buf,
		     size_t size)
{
	char run[256];
	const char *start, *end;

	snprintf(run, sizeof(run), "# RUN %s\n", name);
	start = strstr(out, run);
	ASSERT_NONNULL(start);
	for (end = start; ; end++) {
		end = strchr(end, '\n');
		ASSERT_NONNULL(end);
		if (strncmp(end, "\nok ", 4) == 0 ||
		    strncmp(end, "\nnot ok ", 8) == 0)
			break;
	}
	end = strchr(end + 1, '\n');
	ASSERT_NONNULL(end);
	ASSERT_LT((size_t)(end - start), size);
	memcpy(buf, start, (size_t)(end - start));
	buf[end - start] = '\0';
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

FIXTURE(harness_run) {
	struct capture cap;
};

FIXTURE_SETUP(harness_run)
{
}

FIXTURE_TEARDOWN(harness_run)
{
	release(&self->cap);
}

TEST_F(harness_run, list_omits_hidden)
{
	const char *out;

	run_self(&self->cap, (const char *[]){ "-l", NULL });
	out = self->cap.out;
	ASSERT_EQ(0, exit_status(&self->cap));
	ASSERT_NE(0, strncmp(out, "xfail_", 6));
	ASSERT_EQ(0, count(out, "\nxfail_"));
	ASSERT_TRUE(has_line(out, "harness_pair.small.setup_saw_variant"));
	ASSERT_TRUE(has_line(out, "harness_pair.large.setup_saw_variant"));
	ASSERT_TRUE(has_line(out, "harness_plain.no_variant"));
	ASSERT_TRUE(has_line(out, th_test_name()));
}

TEST_F(harness_run, list_in_declaration_order)
{
	run_self(&self->cap, (const char *[]){ "-l", "-t", "xfail_life*",
					       NULL });
	ASSERT_EQ(0, exit_status(&self->cap));
	ASSERT_STREQ("xfail_lifecycle.one.passes\n"
		     "xfail_lifecycle.two.passes\n"
		     "xfail_lifecycle.one.asserts\n"
		     "xfail_lifecycle.two.asserts\n"
		     "xfail_lifecycle.one.expects\n"
		     "xfail_lifecycle.two.expects\n"
		     "xfail_lifecycle.one.skips\n"
		     "xfail_lifecycle.two.skips\n", self->cap.out);
}

TEST_F(harness_run, filters_combine)
{
	run_self(&self->cap, (const char *[]){ "-l", "-t", "harness_pair.*",
					       "-t", "harness_plain.*",
					       "-T", "*.large.*", NULL });
	ASSERT_EQ(0, exit_status(&self->cap));
	ASSERT_STREQ("harness_pair.small.clobbers_self\n"
		     "harness_pair.small.setup_saw_variant\n"
		     "harness_plain.no_variant\n", self->cap.out);
}

TEST_F(harness_run, usage_errors)
{
	static const char *const bad[][3] = {
		{ "-t", "no_such_test", NULL },
		{ "-o", "soon", NULL },
		{ "-o", "-1", NULL },
		{ "-Z", NULL },
		{ "stray", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_self(&self->cap, bad[i]);
		EXPECT_EQ(2, exit_status(&self->cap));
		EXPECT_NULL(strstr(self->cap.out, "TAP version"));
	}
	run_self(&self->cap, (const char *[]){ "-h", NULL });
	EXPECT_EQ(0, exit_status(&self->cap));
	EXPECT_NONNULL(strstr(self->cap.out, "usage:"));
}

TEST_F(harness_run, passing_run)
{
	run_self(&self->cap, (const char *[]){ "-t", "harness_pair.*", NULL });
	ASSERT_EQ(0, exit_status(&self->cap));
	ASSERT_EQ(0, strncmp(self->cap.out, "TAP version 13\n1..4\n", 20));
	ASSERT_TRUE(has_line(self->cap.out,
			     "ok 1 harness_pair.small.clobbers_self"));
	ASSERT_TRUE(has_line(self->cap.out,
			     "ok 4 harness_pair.large.setup_saw_variant"));
	ASSERT_TRUE(has_line(self->cap.out, "# PASSED: 4 / 4"));
	ASSERT_STREQ("# 4 passed, 0 failed, 0 skipped\n",
		     last_line(self->cap.out));
}

TEST_F(harness_run, crash_names_signal)
{
	run_self(&self->cap, (const char *[]){ "-t", "xfail_crash", NULL });
	ASSERT_EQ(1, exit_status(&self->cap));
	ASSERT_TRUE(has_line(self->cap.out, "not ok 1 xfail_crash"));
	ASSERT_TRUE(has_line(self->cap.out,
			     "# xfail_crash: killed by signal 6 (SIGABRT)"));
}

TEST_F(harness_run, early_exit_fails)
{
	run_self(&self->cap, (const char *[]){ "-t", "xfail_exit*", NULL });
	ASSERT_EQ(1, exit_status(&self->cap));
	ASSERT_TRUE(has_line(self->cap.out, "not ok 1 xfail_exit"));
	ASSERT_TRUE(has_line(self->cap.out, "# xfail_exit: test process exited "
			     "before the test finished"));
	ASSERT_TRUE(has_line(self->cap.out, "not ok 2 xfail_exit_status"));
	ASSERT_TRUE(has_line(self->cap.out, "# xfail_exit_status: test process "
			     "exited with status 3"));
}

TEST_F(harness_run, timeout_kills_test)
{
	double start = seconds_now();

	run_self(&self->cap, (const char *[]){ "-o", "1", "-t", "xfail_sleep",
					       NULL });
	ASSERT_TRUE(seconds_now() - start < 10);
	ASSERT_EQ(1, exit_status(&self->cap));
	ASSERT_TRUE(has_line(self->cap.out, "not ok 1 xfail_sleep"));
	ASSERT_TRUE(has_line(self->cap.out,
			     "# xfail_sleep: timed out after 1 s; killed"));
}

TEST_F(harness_run, interrupt_kills_test)
{
	double start = seconds_now();
	int fd;

	spawn_self(&self->cap, (const char *[]){ "-t", "xfail_sleep", NULL },
		   &fd);
	read_output(&self->cap, fd, "sleeping\n");
	ASSERT_EQ(0, kill(self->cap.pid, SIGTERM));
	/* EOF also means the sleeping test is gone: it held the pipe too. */
	read_output(&self->cap, fd, NULL);
	close(fd);
	finish(&self->cap);
	ASSERT_TRUE(seconds_now() - start < 10);
	ASSERT_TRUE(WIFSIGNALED(self->cap.status));
	ASSERT_EQ(SIGTERM, WTERMSIG(self->cap.status));
	ASSERT_TRUE(has_line(self->cap.out,
			     "Bail out! interrupted by SIGTERM"));
}

TEST_F(harness_run, assert_off_test_thread_aborts)
{
	run_self(&self->cap, (const char *[]){ "-t", "xfail_assert_in_thread",
					       NULL });
	ASSERT_EQ(1, exit_status(&self->cap));
	ASSERT_TRUE(has_line(self->cap.out, "not ok 1 xfail_assert_in_thread"));
	ASSERT_TRUE(has_line(self->cap.out, "# ASSERT_* used outside the "
			     "test's thread; aborting"));
	ASSERT_NONNULL(strstr(self->cap.out, "(SIGABRT)"));
}

/* Checks whose answer must not depend on -n. */

FIXTURE(harness_modes) {
	struct capture cap;
};

FIXTURE_VARIANT(harness_modes) {
	bool in_process;
};

FIXTURE_VARIANT_ADD(harness_modes, forked) {
	.in_process = false,
};

FIXTURE_VARIANT_ADD(harness_modes, in_process) {
	.in_process = true,
};

FIXTURE_SETUP(harness_modes)
{
}

FIXTURE_TEARDOWN(harness_modes)
{
	release(&self->cap);
}

static void run_mode(struct capture *cap, bool in_process, const char *pattern)
{
	const char *forked[] = { "-t", pattern, NULL };
	const char *unforked[] = { "-n", "-t", pattern, NULL };

	run_self(cap, in_process ? unforked : forked);
}

TEST_F(harness_modes, lifecycle)
{
	static const char *const tags[] = { "one", "two" };
	const char *out, *p;
	char block[4096], name[64], line[64];
	size_t i;

	run_mode(&self->cap, variant->in_process, "xfail_lifecycle.*");
	out = self->cap.out;
	ASSERT_EQ(1, exit_status(&self->cap));
	ASSERT_TRUE(has_line(out, "1..8"));
	ASSERT_TRUE(has_line(out, "ok 1 xfail_lifecycle.one.passes"));
	ASSERT_TRUE(has_line(out, "ok 2 xfail_lifecycle.two.passes"));
	ASSERT_TRUE(has_line(out, "not ok 3 xfail_lifecycle.one.asserts"));
	ASSERT_TRUE(has_line(out, "not ok 4 xfail_lifecycle.two.asserts"));
	ASSERT_TRUE(has_line(out, "not ok 5 xfail_lifecycle.one.expects"));
	ASSERT_TRUE(has_line(out, "not ok 6 xfail_lifecycle.two.expects"));
	ASSERT_TRUE(has_line(out, "ok 7 xfail_lifecycle.one.skips # SKIP "
			     "not today 7"));
	ASSERT_TRUE(has_line(out, "ok 8 xfail_lifecycle.two.skips # SKIP "
			     "not today 7"));
	ASSERT_TRUE(has_line(out, "# PASSED: 2 / 8"));
	ASSERT_STREQ("# 2 passed, 4 failed, 2 skipped\n", last_line(out));

	for (i = 0; i < 8; i++) {
		static const char *const tests[] = {
			"passes", "asserts", "expects", "skips",
		};
		const char *tag = tags[i % 2], *test = tests[i / 2];
		bool fails = i / 2 == 1 || i / 2 == 2;

		snprintf(name, sizeof(name), "xfail_lifecycle.%s.%s", tag,
			 test);
		block_of(out, name, block, sizeof(block));
		/* setup, then the test, then teardown, once each */
		snprintf(line, sizeof(line), ": setup %s\n", tag);
		p = strstr(block, line);
		ASSERT_NONNULL(p);
		snprintf(line, sizeof(line), ": body %s\n", tag);
		p = strstr(p, line);
		ASSERT_NONNULL(p);
		snprintf(line, sizeof(line), ": teardown %s failed=%d\n", tag,
			 fails);
		p = strstr(p, line);
		ASSERT_NONNULL(p);
		ASSERT_EQ(1, count(block, ": setup "));
		ASSERT_EQ(1, count(block, ": teardown "));
		ASSERT_NULL(strstr(block, "after assert"));
		ASSERT_NULL(strstr(block, "after skip"));
		ASSERT_EQ(i / 2 == 2, strstr(block, "after expects") != NULL);
	}
}

TEST_F(harness_modes, failure_report)
{
	const char *out, *p;
	char want[256];
	int line;

	run_mode(&self->cap, variant->in_process,
		 "xfail_lifecycle.one.expects");
	out = self->cap.out;
	ASSERT_EQ(1, exit_status(&self->cap));
	p = strstr(out, ": next line ");
	ASSERT_NONNULL(p);
	line = atoi(p + strlen(": next line "));
	snprintf(want, sizeof(want),
		 "# %s:%d: EXPECT_EQ(-1, UINT64_MAX) failed", __FILE__, line);
	ASSERT_TRUE(has_line(out, want));
	ASSERT_TRUE(has_line(out, "#   expected: -1 (0xffffffffffffffff)"));
	ASSERT_TRUE(has_line(out, "#   seen:     18446744073709551615 "
			     "(0xffffffffffffffff)"));
	ASSERT_NONNULL(strstr(out, ": EXPECT_STREQ(\"a\\n\", \"b\") failed\n"));
	ASSERT_TRUE(has_line(out, "#   expected: \"a\\n\""));
	ASSERT_TRUE(has_line(out, "#   seen:     \"b\""));
}

TEST_F(harness_modes, setup_failures)
{
	const char *out;
	char block[4096];

	run_mode(&self->cap, variant->in_process, "xfail_setup.*");
	out = self->cap.out;
	ASSERT_EQ(1, exit_status(&self->cap));
	ASSERT_TRUE(has_line(out, "ok 1 xfail_setup.skip.test # SKIP "
			     "setup skipped"));
	ASSERT_TRUE(has_line(out, "not ok 2 xfail_setup.expect.test"));
	ASSERT_TRUE(has_line(out, "not ok 3 xfail_setup.assert.test"));
	ASSERT_NULL(strstr(out, "test ran"));
	block_of(out, "xfail_setup.skip.test", block, sizeof(block));
	ASSERT_NONNULL(strstr(block, "teardown ran"));
	block_of(out, "xfail_setup.expect.test", block, sizeof(block));
	ASSERT_NONNULL(strstr(block, "teardown ran"));
	block_of(out, "xfail_setup.assert.test", block, sizeof(block));
	ASSERT_NULL(strstr(block, "teardown ran"));
}

TEST_F(harness_modes, every_check_fails)
{
	static const char *const variants[] = {
		"eq", "ne", "lt", "le", "gt", "ge", "is_true", "is_false",
		"is_null", "nonnull", "streq", "strne",
	};
	char block[4096], name[64], text[64];
	size_t i;

	run_mode(&self->cap, variant->in_process, "xfail_macro.*");
	ASSERT_EQ(1, exit_status(&self->cap));
	ASSERT_STREQ("# 0 passed, 24 failed, 0 skipped\n",
		     last_line(self->cap.out));
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "xfail_macro.%s.asserts",
			 variants[i]);
		block_of(self->cap.out, name, block, sizeof(block));
		snprintf(text, sizeof(text), ": ASSERT_%s(", macro_names[i]);
		EXPECT_NONNULL(strstr(block, text));
		EXPECT_NULL(strstr(block, "continued"));

		snprintf(name, sizeof(name), "xfail_macro.%s.expects",
			 variants[i]);
		block_of(self->cap.out, name, block, sizeof(block));
		snprintf(text, sizeof(text), ": EXPECT_%s(", macro_names[i]);
		EXPECT_NONNULL(strstr(block, text));
		EXPECT_NONNULL(strstr(block, "continued"));
	}
}

TEST_F(harness_modes, expect_from_threads)
{
	const char *out;

	run_mode(&self->cap, variant->in_process, "xfail_expect_in_threads");
	out = self->cap.out;
	ASSERT_EQ(1, exit_status(&self->cap));
	ASSERT_EQ(4, count(out, ": EXPECT_EQ(0, 1) failed\n"));
	ASSERT_NONNULL(strstr(out, ": joined\n"));
	ASSERT_TRUE(has_line(out, "not ok 1 xfail_expect_in_threads"));
	/* e.g. a ThreadSanitizer report changes the status */
	ASSERT_NULL(strstr(out, "exited with status"));
}
