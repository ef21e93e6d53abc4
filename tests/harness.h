/*
 * tests/harness.h - vtdkit's unit test harness: TEST, FIXTURE, ASSERT/EXPECT.
 * Link a test file with tests/harness.c, which provides main() and prints TAP.
 */
#ifndef VTDKIT_TESTS_HARNESS_H
#define VTDKIT_TESTS_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Declaring tests
 * ---------------
 *	TEST(name) { ... }
 *
 *	FIXTURE(fix) { int fd; };		 per-test state, zeroed
 *	FIXTURE_VARIANT(fix) { int flags; };	 optional
 *	FIXTURE_VARIANT_ADD(fix, ro) { .flags = O_RDONLY };
 *	FIXTURE_VARIANT_ADD(fix, rw) { .flags = O_RDWR };
 *	FIXTURE_SETUP(fix) { self->fd = open(path, variant->flags); }
 *	FIXTURE_TEARDOWN(fix) { close(self->fd); }
 *	TEST_F(fix, reads) { ... self->fd ... variant->flags ... }
 *
 * FIXTURE_SETUP and FIXTURE_TEARDOWN are both required once FIXTURE is used.
 * In them and in TEST_F bodies, `self` points to the fixture struct (zeroed
 * before setup) and `variant` to the variant struct.  A TEST_F runs once per
 * FIXTURE_VARIANT_ADD of its fixture; with none, it runs once with variant
 * NULL.  Tests and variants register themselves; they run in the order they
 * are declared in a file (each test with all its variants in turn), files in
 * the order of their __FILE__ names.
 *
 * Each run of setup, test and teardown is named "fix.variant.test",
 * "fix.test" (no variants) or "test" (TEST).  Setup runs first; if it
 * returns without failing or skipping, the test runs; if setup returned,
 * teardown runs, even when the test failed an ASSERT_*.
 *
 * Checks
 * ------
 * ASSERT_x ends the running setup, test or teardown at once on failure,
 * also from inside helper functions they call; EXPECT_x records the
 * failure and carries on.  Each failure prints
 * file:line, the check's text and the values involved as TAP diagnostics.
 *
 *	ASSERT_EQ/NE/LT/LE/GT/GE(expected, seen)  passes iff expected OP seen
 *	ASSERT_TRUE(x) / ASSERT_FALSE(x)
 *	ASSERT_NULL(p) / ASSERT_NONNULL(p)
 *	ASSERT_STREQ(expected, seen) / ASSERT_STRNE(expected, seen)
 *	EXPECT_... the same set.
 *
 * EQ..GE and TRUE/FALSE take integers, enums, chars, bools or pointers (not
 * floating point, which fails to compile with a "th_floating_point_..."
 * error).  They compare mathematical values, whatever the types: -1 is less
 * than 0u, and -1 differs from UINT64_MAX.  Each argument is evaluated once,
 * expected before seen.  STREQ treats two NULLs as equal and NULL as
 * different from any string.
 *
 * TH_LOG(fmt, ...)		prints a "# file:line: ..." diagnostic.
 * SKIP(statement, fmt, ...)	marks the test skipped with a reason, then
 *				runs statement (usually `return`).  A skip
 *				in setup skips the test; teardown still runs.
 * th_test_name()		full name of the running test.
 * th_variant_name()		its variant's name, "" when it has none.
 * th_test_failed()		whether a check has failed so far (e.g. to
 *				keep evidence in teardown).
 *
 * EXPECT_* and TH_LOG may be used from any thread of the test's process.
 * ASSERT_* and SKIP must run on the thread that runs the test; elsewhere,
 * and anywhere in a process the test forked, they abort that process.
 *
 * Running
 * -------
 * Every test program takes these options:
 *	-l		list the names of the selected tests and exit
 *	-t PATTERN	select only tests whose name matches the fnmatch(3)
 *			glob PATTERN; repeatable (a test matching any is kept)
 *	-T PATTERN	drop tests whose name matches; repeatable
 *			(-t patterns that select nothing are a usage error)
 *	-o SECONDS	per-test timeout, default 120; 0 means none
 *	-n		run in this process, without fork or timeout, for
 *			debuggers; a crash then ends the whole run
 *	-h		help
 *
 * Each test runs in its own forked process (its own process group, killed
 * whole on timeout).  A crash, abort, timeout or non-zero exit of that
 * process fails the test, naming the signal or status; so does exit(0)
 * before teardown.  The process ends through exit(), so LeakSanitizer and
 * gcov see each test.
 *
 * Tests, fixtures and variants whose name starts with "xfail_" are hidden:
 * they run (or are listed) only when a -t pattern matches them.  The
 * harness's own tests use them for checks meant to fail.
 *
 * Output is TAP version 13: "1..N", then "ok K name", "not ok K name" or
 * "ok K name # SKIP reason" per test, then "# PASSED: P / N" and
 * "# P passed, F failed, S skipped".  Exit status: 0 if no test failed,
 * 1 if one did, 2 on usage or internal errors.
 */

struct th_variant {
	const char *name;
	const void *data;
	int line;
	struct th_variant *next;
};

struct th_fixture {
	const char *name;
	void (*setup)(void *self, const void *variant);
	void (*teardown)(void *self, const void *variant);
	struct th_variant *variants;
};

struct th_test {
	const char *name;
	const char *file;
	int line;
	struct th_fixture *fixture;	/* NULL for TEST() */
	size_t self_size;
	void (*run)(void *self, const void *variant);
	struct th_test *next;
};

void th_register_test(struct th_test *test);
void th_register_variant(struct th_fixture *fixture,
			 struct th_variant *variant);

const char *th_test_name(void);
const char *th_variant_name(void);
bool th_test_failed(void);

void th_log(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void th_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The harness's names are prefixed th_ so they stay out of the tests' way. */
#define TH_REGISTER_TEST_(obj)						\
	static void __attribute__((constructor)) obj##_register(void)	\
	{								\
		th_register_test(&obj);					\
	}

#define TEST(test_name)							\
	static void th_test_body_##test_name(void *, const void *);	\
	static struct th_test th_test_##test_name = {			\
		.name = #test_name,					\
		.file = __FILE__,					\
		.line = __LINE__,					\
		.run = th_test_body_##test_name,			\
	};								\
	TH_REGISTER_TEST_(th_test_##test_name)				\
	static void th_test_body_##test_name(				\
		void *th_self_ __attribute__((unused)),			\
		const void *th_variant_ __attribute__((unused)))

/*
 * The fixture and variant struct tags get a prefix so that a fixture may be
 * named after the type it tests.  The variant struct is declared here so
 * that fixtures without FIXTURE_VARIANT still have a `variant` type.
 */
#define FIXTURE(fix)							\
	struct th_fixture_data_##fix;					\
	struct th_variant_data_##fix;					\
	static void th_setup_##fix(struct th_fixture_data_##fix *,	\
				   const struct th_variant_data_##fix *); \
	static void th_teardown_##fix(struct th_fixture_data_##fix *,	\
				      const struct th_variant_data_##fix *); \
	static void th_setup_thunk_##fix(void *self, const void *variant) \
	{								\
		th_setup_##fix(self, variant);				\
	}								\
	static void th_teardown_thunk_##fix(void *self, const void *variant) \
	{								\
		th_teardown_##fix(self, variant);			\
	}								\
	static struct th_fixture th_fixture_##fix = {			\
		.name = #fix,						\
		.setup = th_setup_thunk_##fix,				\
		.teardown = th_teardown_thunk_##fix,			\
	};								\
	struct th_fixture_data_##fix

#define FIXTURE_VARIANT(fix) struct th_variant_data_##fix

#define FIXTURE_VARIANT_ADD(fix, vname)					\
	static const struct th_variant_data_##fix th_vdata_##fix##__##vname; \
	static struct th_variant th_variant_##fix##__##vname = {	\
		.name = #vname,						\
		.data = &th_vdata_##fix##__##vname,			\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor))			\
	th_variant_##fix##__##vname##_register(void)			\
	{								\
		th_register_variant(&th_fixture_##fix,			\
				    &th_variant_##fix##__##vname);	\
	}								\
	static const struct th_variant_data_##fix th_vdata_##fix##__##vname =

#define FIXTURE_SETUP(fix)						\
	static void th_setup_##fix(					\
		struct th_fixture_data_##fix *self __attribute__((unused)), \
		const struct th_variant_data_##fix *variant		\
			__attribute__((unused)))

#define FIXTURE_TEARDOWN(fix)						\
	static void th_teardown_##fix(					\
		struct th_fixture_data_##fix *self __attribute__((unused)), \
		const struct th_variant_data_##fix *variant		\
			__attribute__((unused)))

#define TEST_F(fix, test_name)						\
	static void th_test_body_##fix##__##test_name(			\
		struct th_fixture_data_##fix *,				\
		const struct th_variant_data_##fix *);			\
	static void th_test_thunk_##fix##__##test_name(void *self,	\
						  const void *variant)	\
	{								\
		th_test_body_##fix##__##test_name(self, variant);	\
	}								\
	static struct th_test th_test_##fix##__##test_name = {		\
		.name = #test_name,					\
		.file = __FILE__,					\
		.line = __LINE__,					\
		.fixture = &th_fixture_##fix,				\
		.self_size = sizeof(struct th_fixture_data_##fix),	\
		.run = th_test_thunk_##fix##__##test_name,		\
	};								\
	TH_REGISTER_TEST_(th_test_##fix##__##test_name)			\
	static void th_test_body_##fix##__##test_name(			\
		struct th_fixture_data_##fix *self __attribute__((unused)), \
		const struct th_variant_data_##fix *variant		\
			__attribute__((unused)))

#define TH_LOG(...) th_log(__FILE__, __LINE__, __VA_ARGS__)

#define SKIP(statement, ...)						\
	do {								\
		th_skip(__VA_ARGS__);					\
		statement;						\
	} while (0)

/*
 * An integer or pointer operand of a check: its value modulo 2^N in bits,
 * and whether its type is signed, which is all it takes to compare any two
 * operands by their mathematical values.
 */
struct th_value {
	uintmax_t bits;
	bool is_signed;
};

/* Selected for floating-point operands to make the build fail, by name. */
struct th_floating_point_operands_are_not_supported { char unused; };

/*
 * The conditional, never evaluated, applies the integer promotions: they
 * keep values, and give bit-fields a type that _Generic can match.
 */
#define th_is_signed_(x) _Generic(1 ? (x) : (x),			\
	int: true,							\
	long: true,							\
	long long: true,						\
	float: (struct th_floating_point_operands_are_not_supported){ 0 }, \
	double: (struct th_floating_point_operands_are_not_supported){ 0 }, \
	long double:							\
		(struct th_floating_point_operands_are_not_supported){ 0 }, \
	default: false)

#define th_value_(x) ((struct th_value){ (uintmax_t)(x), th_is_signed_(x) })

enum th_op { TH_OP_EQ, TH_OP_NE, TH_OP_LT, TH_OP_LE, TH_OP_GT, TH_OP_GE };

/* Each returns whether the check passed, after reporting a failure. */
bool th_check_cmp(const char *file, int line, const char *text, enum th_op op,
		  struct th_value expected, struct th_value seen);
bool th_check_true(const char *file, int line, const char *text, bool want,
		   struct th_value seen);
bool th_check_null(const char *file, int line, const char *text,
		   bool want_null, const void *seen);
bool th_check_str(const char *file, int line, const char *text,
		  bool want_equal, const char *expected, const char *seen);

/* Leaves the running setup, test or teardown after a failed ASSERT_*. */
_Noreturn void th_end_test(void);

#define th_stop_ASSERT_() th_end_test()
#define th_stop_EXPECT_() ((void)0)

/* Operands go through named temporaries so that expected is evaluated first. */
#define th_cmp_(kind, op, expected, seen, text)				\
	do {								\
		const struct th_value th_e_ = th_value_(expected);	\
		const struct th_value th_s_ = th_value_(seen);		\
		if (!th_check_cmp(__FILE__, __LINE__, text, op, th_e_, th_s_)) \
			th_stop_##kind##_();				\
	} while (0)

#define th_true_(kind, want, x, text)					\
	do {								\
		if (!th_check_true(__FILE__, __LINE__, text, want,	\
				   th_value_(x)))			\
			th_stop_##kind##_();				\
	} while (0)

#define th_null_(kind, want_null, p, text)				\
	do {								\
		if (!th_check_null(__FILE__, __LINE__, text, want_null, (p))) \
			th_stop_##kind##_();				\
	} while (0)

#define th_str_(kind, want_equal, expected, seen, text)			\
	do {								\
		const char *th_e_ = (expected);				\
		const char *th_s_ = (seen);				\
		if (!th_check_str(__FILE__, __LINE__, text, want_equal,	\
				  th_e_, th_s_))			\
			th_stop_##kind##_();				\
	} while (0)

/* Arguments are stringified here, before anything expands their macros. */
#define ASSERT_EQ(e, s) \
	th_cmp_(ASSERT, TH_OP_EQ, e, s, "ASSERT_EQ(" #e ", " #s ")")
#define ASSERT_NE(e, s) \
	th_cmp_(ASSERT, TH_OP_NE, e, s, "ASSERT_NE(" #e ", " #s ")")
#define ASSERT_LT(e, s) \
	th_cmp_(ASSERT, TH_OP_LT, e, s, "ASSERT_LT(" #e ", " #s ")")
#define ASSERT_LE(e, s) \
	th_cmp_(ASSERT, TH_OP_LE, e, s, "ASSERT_LE(" #e ", " #s ")")
#define ASSERT_GT(e, s) \
	th_cmp_(ASSERT, TH_OP_GT, e, s, "ASSERT_GT(" #e ", " #s ")")
#define ASSERT_GE(e, s) \
	th_cmp_(ASSERT, TH_OP_GE, e, s, "ASSERT_GE(" #e ", " #s ")")
#define ASSERT_TRUE(x) \
	th_true_(ASSERT, true, x, "ASSERT_TRUE(" #x ")")
#define ASSERT_FALSE(x) \
	th_true_(ASSERT, false, x, "ASSERT_FALSE(" #x ")")
#define ASSERT_NULL(p) \
	th_null_(ASSERT, true, p, "ASSERT_NULL(" #p ")")
#define ASSERT_NONNULL(p) \
	th_null_(ASSERT, false, p, "ASSERT_NONNULL(" #p ")")
#define ASSERT_STREQ(e, s) \
	th_str_(ASSERT, true, e, s, "ASSERT_STREQ(" #e ", " #s ")")
#define ASSERT_STRNE(e, s) \
	th_str_(ASSERT, false, e, s, "ASSERT_STRNE(" #e ", " #s ")")

#define EXPECT_EQ(e, s) \
	th_cmp_(EXPECT, TH_OP_EQ, e, s, "EXPECT_EQ(" #e ", " #s ")")
#define EXPECT_NE(e, s) \
	th_cmp_(EXPECT, TH_OP_NE, e, s, "EXPECT_NE(" #e ", " #s ")")
#define EXPECT_LT(e, s) \
	th_cmp_(EXPECT, TH_OP_LT, e, s, "EXPECT_LT(" #e ", " #s ")")
#define EXPECT_LE(e, s) \
	th_cmp_(EXPECT, TH_OP_LE, e, s, "EXPECT_LE(" #e ", " #s ")")
#define EXPECT_GT(e, s) \
	th_cmp_(EXPECT, TH_OP_GT, e, s, "EXPECT_GT(" #e ", " #s ")")
#define EXPECT_GE(e, s) \
	th_cmp_(EXPECT, TH_OP_GE, e, s, "EXPECT_GE(" #e ", " #s ")")
#define EXPECT_TRUE(x) \
	th_true_(EXPECT, true, x, "EXPECT_TRUE(" #x ")")
#define EXPECT_FALSE(x) \
	th_true_(EXPECT, false, x, "EXPECT_FALSE(" #x ")")
#define EXPECT_NULL(p) \
	th_null_(EXPECT, true, p, "EXPECT_NULL(" #p ")")
#define EXPECT_NONNULL(p) \
	th_null_(EXPECT, false, p, "EXPECT_NONNULL(" #p ")")
#define EXPECT_STREQ(e, s) \
	th_str_(EXPECT, true, e, s, "EXPECT_STREQ(" #e ", " #s ")")
#define EXPECT_STRNE(e, s) \
	th_str_(EXPECT, false, e, s, "EXPECT_STRNE(" #e ", " #s ")")

#endif /* VTDKIT_TESTS_HARNESS_H */
