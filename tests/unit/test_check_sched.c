/*
 * test_check_sched.c — the deterministic scheduler and its explorer
 * (src/check/sched.c) on toy worlds whose interleavings can be counted by
 * hand: a lost update, independent tasks, cooperative locks, a lock-order
 * deadlock, a polling loop, drained device accesses, replay tokens and the
 * run cap.
 *
 * Each world's shared state lives in a static struct the callbacks reach
 * through their arg; tasks never ASSERT (they run on the scheduler's
 * threads), they record what they saw and finish() or the test judges it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "check/sched.h"

#define KEY_X	0x1000u
#define KEY_F	0x2000u

/* An exhaustive exploration's options: sleep sets on unless told. */
static struct sched_opts xopts(int preemptions, bool sleep_sets)
{
	return (struct sched_opts){ .runs = 100000, .preemptions = preemptions,
				    .sleep_sets = sleep_sets };
}

/* A random exploration's options. */
static struct sched_opts ropts(unsigned runs, uint64_t seed)
{
	return (struct sched_opts){ .runs = runs, .seed = seed, .preemptions = -1 };
}

/* -------------------------------------------------------- the lost update */

/*
 * Two tasks each do tmp = x; point; x = tmp + 1. Optionally a cooperative
 * lock covers the read-modify-write.
 */
struct lu_world {
	struct sched *s;
	uint64_t x;
	bool locked;
	void *lock;
	unsigned runs;
};

static struct lu_world lu;

static void lu_task(void *arg)
{
	struct lu_world *w = arg;
	struct sched *s = w->s;
	uint64_t tmp;

	if (w->locked)
		sched_lock(s, w->lock);
	sched_point(s, "read x");
	sched_touch(s, SK_MEM, KEY_X, false);
	tmp = w->x;
	sched_point(s, "write x");
	sched_touch(s, SK_MEM, KEY_X, true);
	w->x = tmp + 1;
	if (w->locked)
		sched_unlock(s, w->lock);
}

static int lu_start(void *arg, struct sched *s, char *err, size_t errlen)
{
	struct lu_world *w = arg;

	w->s = s;
	w->x = 0;
	w->lock = NULL;
	if (w->locked && !(w->lock = sched_lock_new(s))) {
		snprintf(err, errlen, "no memory for the lock");
		return -1;
	}
	if (sched_spawn(s, "inc_a", lu_task, w) || sched_spawn(s, "inc_b", lu_task, w)) {
		snprintf(err, errlen, "cannot spawn");
		return -1;
	}
	return 0;
}

static bool lu_finish(void *arg, struct sched *s, char *msg, size_t msglen)
{
	struct lu_world *w = arg;

	w->runs++;
	if (w->lock)
		sched_lock_free(s, w->lock);
	w->lock = NULL;
	if (w->x != 2) {
		snprintf(msg, msglen, "lost update: x = %" PRIu64, w->x);
		return true;
	}
	return false;
}

static const struct sched_world lu_world = { lu_start, lu_finish, &lu };

static void lu_reset(bool locked)
{
	memset(&lu, 0, sizeof(lu));
	lu.locked = locked;
}

static void assert_found(const struct sched_result *r)
{
	ASSERT_TRUE(r->violation);
	ASSERT_FALSE(r->error);
	ASSERT_NE(0, r->token[0]);
	ASSERT_NONNULL(strstr(r->msg, "lost update"));
	ASSERT_NONNULL(r->steps);
	ASSERT_NONNULL(strstr(r->steps, "inc_a"));
	ASSERT_NONNULL(strstr(r->steps, "inc_b"));
}

TEST(sched_lost_update_exhaustive_one_preemption)
{
	struct sched_opts o = xopts(1, true);
	struct sched_result r;

	lu_reset(false);
	ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
	assert_found(&r);
	ASSERT_FALSE(r.complete);
	ASSERT_EQ(lu.runs, r.runs);
	ASSERT_LT(0u, r.max_depth);
	sched_result_free(&r);
	ASSERT_NULL(r.steps);
}

TEST(sched_lost_update_not_without_preemption)
{
	struct sched_opts o = xopts(0, true);
	struct sched_result r;

	lu_reset(false);
	ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
	ASSERT_FALSE(r.violation);
	ASSERT_FALSE(r.error);
	ASSERT_TRUE(r.complete);
	ASSERT_NULL(r.steps);
	/* Without preemptions only the two serial orders exist. */
	ASSERT_EQ(2u, r.runs);
	sched_result_free(&r);
}

TEST(sched_lost_update_sleep_sets_do_not_hide_it)
{
	for (int ss = 0; ss < 2; ss++)
		for (int k = 1; k <= 3; k++) {
			struct sched_opts o = xopts(k, ss);
			struct sched_result r;

			lu_reset(false);
			ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
			assert_found(&r);
			sched_result_free(&r);
		}
}

TEST(sched_lost_update_random)
{
	struct sched_opts o = ropts(500, 1234);
	struct sched_result r;

	lu_reset(false);
	ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
	assert_found(&r);
	ASSERT_FALSE(r.complete);
	ASSERT_LE(r.runs, 500u);
	sched_result_free(&r);
}

/* ------------------------------------------------------------------ replay */

static void check_replay(const struct sched_result *orig)
{
	struct sched_opts o = { .replay = orig->token, .preemptions = -1 };
	struct sched_result r;

	lu_reset(false);
	ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
	ASSERT_TRUE(r.violation);
	ASSERT_FALSE(r.error);
	ASSERT_EQ(1u, r.runs);
	ASSERT_EQ(1u, lu.runs);
	ASSERT_STREQ(orig->msg, r.msg);
	ASSERT_STREQ(orig->token, r.token);
	ASSERT_STREQ(orig->steps, r.steps);
	sched_result_free(&r);
}

TEST(sched_replay_exhaustive_token)
{
	struct sched_opts o = xopts(1, true);
	struct sched_result r;

	lu_reset(false);
	ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
	ASSERT_TRUE(r.violation);
	ASSERT_EQ('x', r.token[0]);
	check_replay(&r);
	/* The preemptions field does not matter with a token. */
	{
		struct sched_opts o2 = { .replay = r.token, .preemptions = 3 };
		struct sched_result r2;

		lu_reset(false);
		ASSERT_EQ(0, sched_explore(&lu_world, &o2, &r2));
		ASSERT_TRUE(r2.violation);
		ASSERT_EQ(1u, r2.runs);
		sched_result_free(&r2);
	}
	sched_result_free(&r);
}

/* A random run's token is its seed; replaying it runs that same schedule. */
TEST(sched_replay_random_token)
{
	unsigned found = 0;

	for (uint64_t seed = 1; seed <= 40 && found < 5; seed += 7) {
		struct sched_opts o = ropts(500, seed);
		struct sched_result r;
		char *end;

		lu_reset(false);
		ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
		ASSERT_TRUE(r.violation);
		ASSERT_EQ(seed + r.runs - 1, strtoull(r.token, &end, 10));
		ASSERT_EQ(0, *end);
		check_replay(&r);
		found++;
		sched_result_free(&r);
	}
	ASSERT_EQ(5u, found);
}

/* A token of the schedule without any forced choice replays serially. */
TEST(sched_replay_plain_tokens)
{
	struct sched_opts o = { .replay = "x", .preemptions = -1 };
	struct sched_result r;

	lu_reset(false);
	ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
	ASSERT_FALSE(r.violation);
	ASSERT_FALSE(r.error);
	ASSERT_EQ(1u, r.runs);
	sched_result_free(&r);

	/* Forcing inc_b in after inc_a read x loses the update. */
	o.replay = "x:2=1";
	lu_reset(false);
	ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
	ASSERT_TRUE(r.violation);
	ASSERT_EQ(1u, r.runs);
	ASSERT_STREQ("x:2=1", r.token);
	sched_result_free(&r);
}

TEST(sched_replay_malformed_tokens)
{
	static const char *const bad[] = { "x:abc", "x:1=99", "", "x:", "x:1=", "x1=0",
					   "x:1=0:", "12z", "x:1=-1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sched_opts o = { .replay = bad[i], .preemptions = -1 };
		struct sched_result r;

		lu_reset(false);
		TH_LOG("token '%s'", bad[i]);
		ASSERT_EQ(-1, sched_explore(&lu_world, &o, &r));
		ASSERT_TRUE(r.error);
		ASSERT_FALSE(r.violation);
		ASSERT_NONNULL(strstr(r.msg, "bad replay token"));
		ASSERT_EQ(0u, r.runs);
		ASSERT_EQ(0u, lu.runs);
		ASSERT_NULL(r.steps);
		sched_result_free(&r);
	}
}

/* ------------------------------------------------------------- determinism */

/*
 * Three tasks of four steps each; every step appends the task's letter to
 * the run's order, and finish() appends the run's order to a transcript of
 * the whole exploration.
 */
#define ORD_TASKS	3
#define ORD_STEPS	4

struct ord_world {
	struct sched *s;
	char order[ORD_TASKS * ORD_STEPS + 1];
	size_t n;
	char transcript[8192];
	size_t tn;
	bool always_violate;
};

static struct ord_world ord;

static void ord_task(void *arg)
{
	struct ord_world *w = arg;
	int me = sched_task(w->s);

	for (int j = 0; j < ORD_STEPS; j++) {
		sched_point(w->s, "step");
		sched_touch(w->s, SK_MEM, KEY_X, true);
		if (w->n < sizeof(w->order) - 1)
			w->order[w->n++] = (char)('a' + me);
		sched_log(w->s, "step %d", j);
	}
}

static int ord_start(void *arg, struct sched *s, char *err, size_t errlen)
{
	static const char *const names[ORD_TASKS] = { "t_a", "t_b", "t_c" };
	struct ord_world *w = arg;

	(void)err;
	(void)errlen;
	w->s = s;
	w->n = 0;
	memset(w->order, 0, sizeof(w->order));
	for (int i = 0; i < ORD_TASKS; i++)
		if (sched_spawn(s, names[i], ord_task, w))
			return -1;
	return 0;
}

static bool ord_finish(void *arg, struct sched *s, char *msg, size_t msglen)
{
	struct ord_world *w = arg;

	(void)s;
	w->tn += (size_t)snprintf(w->transcript + w->tn, sizeof(w->transcript) - w->tn,
				  "%s|", w->order);
	if (w->tn >= sizeof(w->transcript))
		w->tn = sizeof(w->transcript) - 1;
	if (w->always_violate)
		snprintf(msg, msglen, "stop here");
	return w->always_violate;
}

static const struct sched_world ord_world = { ord_start, ord_finish, &ord };

/* The transcript of @runs random runs from @seed, malloc'd. */
static char *ord_transcript(unsigned runs, uint64_t seed)
{
	struct sched_opts o = ropts(runs, seed);
	struct sched_result r;

	memset(&ord, 0, sizeof(ord));
	if (sched_explore(&ord_world, &o, &r) || r.violation || r.runs != runs)
		return NULL;
	sched_result_free(&r);
	return strdup(ord.transcript);
}

TEST(sched_random_same_seed_same_orders)
{
	char *a = ord_transcript(30, 77), *b = ord_transcript(30, 77);

	ASSERT_NONNULL(a);
	ASSERT_NONNULL(b);
	ASSERT_EQ(30 * (ORD_TASKS * ORD_STEPS + 1), strlen(a));
	ASSERT_STREQ(a, b);
	free(a);
	free(b);
}

/* Run i of an exploration from seed S is the first run of one from S + i. */
TEST(sched_random_run_i_uses_seed_plus_i)
{
	char *all = ord_transcript(5, 100);
	size_t len = ORD_TASKS * ORD_STEPS + 1;

	ASSERT_NONNULL(all);
	for (unsigned i = 0; i < 5; i++) {
		char *one = ord_transcript(1, 100 + i);

		ASSERT_NONNULL(one);
		ASSERT_EQ(0, strncmp(all + i * len, one, len));
		free(one);
	}
	free(all);
}

TEST(sched_random_seeds_differ)
{
	char *first = NULL;
	unsigned distinct = 0;

	for (uint64_t seed = 1; seed <= 8; seed++) {
		char *t = ord_transcript(1, seed);

		ASSERT_NONNULL(t);
		if (!first)
			first = t;
		else {
			distinct += strcmp(first, t) != 0;
			free(t);
		}
	}
	free(first);
	ASSERT_LT(0u, distinct);
}

/* The step list of a stopped exploration is the same for the same seed. */
TEST(sched_random_same_seed_same_steps)
{
	char *steps[6] = { 0 };
	unsigned distinct = 0;

	for (int i = 0; i < 6; i++) {
		struct sched_opts o = ropts(10, (uint64_t)(i / 2) * 1000 + 5);
		struct sched_result r;

		memset(&ord, 0, sizeof(ord));
		ord.always_violate = true;
		ASSERT_EQ(0, sched_explore(&ord_world, &o, &r));
		ASSERT_TRUE(r.violation);
		ASSERT_EQ(1u, r.runs);
		ASSERT_NONNULL(r.steps);
		ASSERT_NONNULL(strstr(r.steps, "step 3"));
		steps[i] = r.steps;
		r.steps = NULL;
	}
	for (int i = 0; i < 6; i += 2)
		ASSERT_STREQ(steps[i], steps[i + 1]);
	for (int i = 2; i < 6; i += 2)
		distinct += strcmp(steps[0], steps[i]) != 0;
	ASSERT_LT(0u, distinct);
	for (int i = 0; i < 6; i++)
		free(steps[i]);
}

/* ---------------------------------------------------- counting schedules */

/*
 * Two tasks of N scheduling points each. A task runs N + 1 segments
 * (start..point 1, ..., point N..end), so a schedule is an interleaving of
 * two sequences of N + 1 segments, cut into b alternating blocks. The
 * switch after the block that ends the first task to finish is free; every
 * other switch leaves a task at a point where it could go on, so a
 * schedule of b blocks has b - 2 preemptions. Blocks alternate, so the
 * first task runs ceil(b/2) blocks and the other floor(b/2); splitting N+1
 * segments into m non-empty blocks has C(N, m-1) ways. Schedules of b
 * blocks, counting both first tasks:
 *   b = 2m:     2 * C(N, m-1)^2
 *   b = 2m + 1: 2 * C(N, m) * C(N, m-1)
 * N = 2: b = 2..6 gives 2, 4, 8, 4, 2: at most K preemptions (b <= K + 2)
 *   K = 0: 2   K = 1: 6   K = 2: 14   K = 3: 18   K = 4: 20 = C(6,3).
 * N = 3: b = 2..8 gives 2, 6, 18, 18, 18, 6, 2:
 *   K = 0: 2   K = 1: 8   K = 2: 26   K = 3: 44   K = 6: 70 = C(8,4).
 */
struct ind_world {
	struct sched *s;
	int n;
	bool same_key;
	unsigned runs;
	/* With same_key: the order of the writes, and the distinct orders seen. */
	char order[16];
	size_t len;
	char classes[32][16];
	unsigned nclasses;
};

static struct ind_world ind;

static void ind_task(void *arg)
{
	struct ind_world *w = arg;
	int me = sched_task(w->s);

	for (int j = 0; j < w->n; j++) {
		sched_point(w->s, "step");
		sched_touch(w->s, SK_MEM, w->same_key ? KEY_X : (uint64_t)(100 * me + j), true);
		if (w->len < sizeof(w->order) - 1)
			w->order[w->len++] = (char)('a' + me);
	}
}

static int ind_start(void *arg, struct sched *s, char *err, size_t errlen)
{
	struct ind_world *w = arg;

	(void)err;
	(void)errlen;
	w->s = s;
	w->len = 0;
	memset(w->order, 0, sizeof(w->order));
	if (sched_spawn(s, "ind_a", ind_task, w) || sched_spawn(s, "ind_b", ind_task, w))
		return -1;
	return 0;
}

static bool ind_finish(void *arg, struct sched *s, char *msg, size_t msglen)
{
	struct ind_world *w = arg;

	(void)s;
	(void)msg;
	(void)msglen;
	w->runs++;
	for (unsigned i = 0; i < w->nclasses; i++)
		if (!strcmp(w->classes[i], w->order))
			return false;
	if (w->nclasses < sizeof(w->classes) / sizeof(w->classes[0]))
		memcpy(w->classes[w->nclasses++], w->order, sizeof(w->order));
	return false;
}

static const struct sched_world ind_world = { ind_start, ind_finish, &ind };

static struct sched_result ind_explore(int n, bool same_key, int k, bool sleep_sets,
				       unsigned cap)
{
	struct sched_opts o = xopts(k, sleep_sets);
	struct sched_result r;

	memset(&ind, 0, sizeof(ind));
	ind.n = n;
	ind.same_key = same_key;
	if (cap)
		o.runs = cap;
	if (sched_explore(&ind_world, &o, &r))
		memset(&r, 0, sizeof(r));
	return r;
}

static const struct {
	int n, k;
	unsigned runs;
} counts[] = {
	{ 2, 0, 2 }, { 2, 1, 6 }, { 2, 2, 14 }, { 2, 3, 18 }, { 2, 4, 20 }, { 2, 9, 20 },
	{ 3, 0, 2 }, { 3, 1, 8 }, { 3, 2, 26 }, { 3, 3, 44 }, { 3, 6, 70 },
	{ 1, 0, 2 }, { 1, 1, 4 }, { 1, 2, 6 },
};

TEST(sched_exhaustive_counts_without_sleep_sets)
{
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct sched_result r = ind_explore(counts[i].n, false, counts[i].k, false, 0);

		TH_LOG("N=%d K=%d: %u runs", counts[i].n, counts[i].k, r.runs);
		ASSERT_EQ(counts[i].runs, r.runs);
		ASSERT_EQ(counts[i].runs, ind.runs);
		ASSERT_EQ(0u, r.pruned);
		ASSERT_TRUE(r.complete);
		ASSERT_FALSE(r.violation);
		ASSERT_FALSE(r.error);
	}
}

/* Footprints do not matter without sleep sets. */
TEST(sched_exhaustive_counts_same_key_without_sleep_sets)
{
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct sched_result r = ind_explore(counts[i].n, true, counts[i].k, false, 0);

		ASSERT_EQ(counts[i].runs, r.runs);
		ASSERT_TRUE(r.complete);
	}
}

TEST(sched_exhaustive_sleep_sets_prune_independent_steps)
{
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct sched_result r = ind_explore(counts[i].n, false, counts[i].k, true, 0);

		TH_LOG("N=%d K=%d: %u runs, %u pruned", counts[i].n, counts[i].k, r.runs,
		       r.pruned);
		ASSERT_TRUE(r.complete);
		ASSERT_FALSE(r.error);
		ASSERT_LE(r.runs, counts[i].runs);
		ASSERT_LE(1u, r.runs);
		/* Two orders exist at K = 0 already, and they are equivalent. */
		ASSERT_TRUE(r.runs < counts[i].runs || r.pruned > 0);
		/* Every run after the first is cut short: all orders are equivalent. */
		ASSERT_EQ(r.runs - 1, r.pruned);
	}
}

/* Dependent steps: sleep sets may cut less, never more than all. */
TEST(sched_exhaustive_sleep_sets_same_key)
{
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct sched_result r = ind_explore(counts[i].n, true, counts[i].k, true, 0);
		struct sched_result f = ind_explore(counts[i].n, false, counts[i].k, true, 0);

		TH_LOG("N=%d K=%d: %u runs, %u pruned", counts[i].n, counts[i].k, r.runs,
		       r.pruned);
		ASSERT_TRUE(r.complete);
		ASSERT_LE(r.runs, counts[i].runs);
		ASSERT_LE(f.runs - f.pruned, r.runs - r.pruned);
	}
}

/*
 * Two tasks writing the same word twice each: the schedules fall into
 * C(4,2) = 6 classes, the orders of the four writes. Each class has a
 * representative with at most 2 preemptions (abab: [a0 a1][b0 b1][a2][b2]).
 */
TEST(sched_exhaustive_covers_every_write_order)
{
	struct sched_result r = ind_explore(2, true, 2, false, 0);

	ASSERT_TRUE(r.complete);
	ASSERT_EQ(14u, r.runs);
	ASSERT_EQ(6u, ind.nclasses);

	r = ind_explore(2, true, 3, true, 0);
	ASSERT_TRUE(r.complete);
	ASSERT_EQ(6u, ind.nclasses);
	ASSERT_EQ(6u, r.runs - r.pruned);

	/*
	 * docs/checker.md's caveat: with the bound at 2, sleep sets skip
	 * "baba". Its only 2-preemption schedule starts with ind_b, and
	 * ind_a's first step (start..point 1) touches nothing, so ind_a stays
	 * asleep under ind_b; the equivalent schedules starting with ind_a
	 * need 3 preemptions.
	 */
	r = ind_explore(2, true, 2, true, 0);
	ASSERT_TRUE(r.complete);
	for (unsigned i = 0; i < ind.nclasses; i++)
		TH_LOG("sleep sets, K=2: %s", ind.classes[i]);
	ASSERT_LE(5u, ind.nclasses);
}

/* ------------------------------------------------------------ the run cap */

TEST(sched_run_cap_makes_incomplete)
{
	struct sched_result r = ind_explore(2, false, 2, false, 5);

	ASSERT_EQ(5u, r.runs);
	ASSERT_FALSE(r.complete);
	ASSERT_FALSE(r.violation);
	ASSERT_FALSE(r.error);

	r = ind_explore(2, false, 2, false, 13);
	ASSERT_EQ(13u, r.runs);
	ASSERT_FALSE(r.complete);

	/* A cap of exactly the number of schedules covers them all. */
	r = ind_explore(2, false, 2, false, 14);
	ASSERT_EQ(14u, r.runs);
	ASSERT_TRUE(r.complete);
}

/* ------------------------------------------------------ cooperative locks */

TEST(sched_lock_protects_read_modify_write)
{
	for (int ss = 0; ss < 2; ss++)
		for (int k = 0; k <= 2; k++) {
			struct sched_opts o = xopts(k, ss);
			struct sched_result r;

			lu_reset(true);
			ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
			TH_LOG("sleep sets %d, K=%d: %u runs, %u pruned", ss, k, r.runs, r.pruned);
			ASSERT_FALSE(r.violation);
			ASSERT_FALSE(r.error);
			ASSERT_TRUE(r.complete);
			ASSERT_NULL(r.steps);
			ASSERT_EQ(r.runs, lu.runs);
			if (k > 0)
				ASSERT_LT(2u, r.runs);
			sched_result_free(&r);
		}
	{
		struct sched_opts o = ropts(300, 9);
		struct sched_result r;

		lu_reset(true);
		ASSERT_EQ(0, sched_explore(&lu_world, &o, &r));
		ASSERT_FALSE(r.violation);
		ASSERT_FALSE(r.error);
		ASSERT_EQ(300u, r.runs);
		sched_result_free(&r);
	}
}

/* ---------------------------------------------------------------- deadlock */

struct dl_world {
	struct sched *s;
	void *l1, *l2;
	unsigned runs, finished, abandoned;
};

static struct dl_world dl;

static void dl_a(void *arg)
{
	struct dl_world *w = arg;

	sched_lock(w->s, w->l1);
	sched_point(w->s, "between");
	sched_lock(w->s, w->l2);
	sched_unlock(w->s, w->l2);
	sched_unlock(w->s, w->l1);
	w->finished++;
}

static void dl_b(void *arg)
{
	struct dl_world *w = arg;

	sched_lock(w->s, w->l2);
	sched_point(w->s, "between");
	sched_lock(w->s, w->l1);
	sched_unlock(w->s, w->l1);
	sched_unlock(w->s, w->l2);
	w->finished++;
}

static int dl_start(void *arg, struct sched *s, char *err, size_t errlen)
{
	struct dl_world *w = arg;

	(void)err;
	(void)errlen;
	w->s = s;
	w->finished = 0;
	w->l1 = sched_lock_new(s);
	w->l2 = sched_lock_new(s);
	if (!w->l1 || !w->l2)
		return -1;
	if (sched_spawn(s, "lock12", dl_a, w) || sched_spawn(s, "lock21", dl_b, w))
		return -1;
	return 0;
}

static bool dl_finish(void *arg, struct sched *s, char *msg, size_t msglen)
{
	struct dl_world *w = arg;

	(void)msg;
	(void)msglen;
	w->runs++;
	w->abandoned += sched_abandoned(s);
	sched_lock_free(s, w->l1);
	sched_lock_free(s, w->l2);
	w->l1 = w->l2 = NULL;
	return false;
}

static const struct sched_world dl_world = { dl_start, dl_finish, &dl };

TEST(sched_deadlock_reported)
{
	for (int ss = 0; ss < 2; ss++)
		for (int k = 1; k <= 3; k++) {
			struct sched_opts o = xopts(k, ss);
			struct sched_result r;

			memset(&dl, 0, sizeof(dl));
			ASSERT_EQ(-1, sched_explore(&dl_world, &o, &r));
			ASSERT_TRUE(r.error);
			ASSERT_FALSE(r.violation);
			ASSERT_FALSE(r.complete);
			ASSERT_NONNULL(strstr(r.msg, "deadlock"));
			ASSERT_NE(0, r.token[0]);
			ASSERT_NONNULL(r.steps);
			/*
			 * The deadlocked run was abandoned: finish() saw it, and
			 * neither task ran on past its blocked lock.
			 */
			ASSERT_EQ(r.runs, dl.runs);
			ASSERT_EQ(1u, dl.abandoned);
			ASSERT_EQ(0u, dl.finished);

			/* Its token reproduces it. */
			{
				struct sched_opts ro = { .replay = r.token, .preemptions = -1 };
				struct sched_result rr;

				memset(&dl, 0, sizeof(dl));
				ASSERT_EQ(-1, sched_explore(&dl_world, &ro, &rr));
				ASSERT_TRUE(rr.error);
				ASSERT_EQ(1u, rr.runs);
				ASSERT_NONNULL(strstr(rr.msg, "deadlock"));
				sched_result_free(&rr);
			}
			sched_result_free(&r);
		}
}

TEST(sched_deadlock_needs_a_preemption)
{
	struct sched_opts o = xopts(0, true);
	struct sched_result r;

	memset(&dl, 0, sizeof(dl));
	ASSERT_EQ(0, sched_explore(&dl_world, &o, &r));
	ASSERT_FALSE(r.error);
	ASSERT_TRUE(r.complete);
	ASSERT_EQ(2u, r.runs);
	sched_result_free(&r);
}

TEST(sched_deadlock_random)
{
	struct sched_opts o = ropts(1000, 3);
	struct sched_result r;

	memset(&dl, 0, sizeof(dl));
	ASSERT_EQ(-1, sched_explore(&dl_world, &o, &r));
	ASSERT_TRUE(r.error);
	ASSERT_NONNULL(strstr(r.msg, "deadlock"));
	sched_result_free(&r);
}

/* ------------------------------------------------------------------- polls */

#define SPIN_LIMIT	1000

struct spin_world {
	struct sched *s;
	int flag;
	unsigned spins, max_spins, runs;
	bool starved;
};

static struct spin_world sp;

static void spin_poller(void *arg)
{
	struct spin_world *w = arg;
	unsigned n = 0;

	sched_point(w->s, "poll start");
	for (;;) {
		sched_touch(w->s, SK_MEM, KEY_F, false);
		if (w->flag)
			break;
		if (++n > SPIN_LIMIT) {
			w->starved = true;	/* never hang the test */
			break;
		}
		w->spins++;
		sched_spin(w->s);
	}
	if (n > w->max_spins)
		w->max_spins = n;
}

static void spin_setter(void *arg)
{
	struct spin_world *w = arg;

	for (int j = 0; j < 3; j++) {
		sched_point(w->s, "work");
		sched_touch(w->s, SK_MEM, KEY_X, true);
	}
	sched_point(w->s, "set flag");
	sched_touch(w->s, SK_MEM, KEY_F, true);
	w->flag = 1;
}

static int spin_start(void *arg, struct sched *s, char *err, size_t errlen)
{
	struct spin_world *w = arg;

	(void)err;
	(void)errlen;
	w->s = s;
	w->flag = 0;
	/* The poller first, so a plain schedule would let it spin first. */
	if (sched_spawn(s, "poller", spin_poller, w) || sched_spawn(s, "setter", spin_setter, w))
		return -1;
	return 0;
}

static bool spin_finish(void *arg, struct sched *s, char *msg, size_t msglen)
{
	struct spin_world *w = arg;

	(void)s;
	w->runs++;
	if (w->starved) {
		snprintf(msg, msglen, "the poller starved the setter");
		return true;
	}
	return false;
}

static const struct sched_world spin_world = { spin_start, spin_finish, &sp };

TEST(sched_spin_never_starves_the_setter)
{
	struct sched_opts modes[] = { xopts(0, true), xopts(2, true), xopts(3, false),
				      ropts(200, 11) };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct sched_result r;

		memset(&sp, 0, sizeof(sp));
		ASSERT_EQ(0, sched_explore(&spin_world, &modes[i], &r));
		TH_LOG("mode %zu: %u runs, %u spins, at most %u in a run", i, r.runs, sp.spins,
		       sp.max_spins);
		ASSERT_FALSE(r.violation);
		ASSERT_FALSE(r.error);
		ASSERT_FALSE(sp.starved);
		ASSERT_EQ(r.runs, sp.runs);
		if (modes[i].preemptions >= 0)
			ASSERT_TRUE(r.complete);
		/* The poller did poll: it found the flag clear at least once. */
		ASSERT_LT(0u, sp.spins);
		/* Each turn of the loop lets the setter run all it can. */
		ASSERT_LE(sp.max_spins, 1u);
		sched_result_free(&r);
	}
}

/* ------------------------------------------------------ drains and accesses */

struct drain_world {
	struct sched *s;
	bool inside;
	char order[8];
	size_t n;
	unsigned runs, waited, before, after;
};

static struct drain_world dr;

static void drain_rec(struct drain_world *w, char c)
{
	if (w->n < sizeof(w->order) - 1)
		w->order[w->n++] = c;
}

static void drain_access(void *arg)
{
	struct drain_world *w = arg;

	sched_point(w->s, "before access");
	sched_access(w->s, true);
	w->inside = true;
	drain_rec(w, '[');
	sched_point(w->s, "inside 1");
	sched_touch(w->s, SK_MEM, KEY_X, true);
	sched_point(w->s, "inside 2");
	sched_touch(w->s, SK_MEM, KEY_X, true);
	w->inside = false;
	drain_rec(w, ']');
	sched_access(w->s, false);
	sched_point(w->s, "after access");
}

static void drain_descriptor(void *arg)
{
	struct drain_world *w = arg;

	sched_point(w->s, "descriptor");
	if (w->inside)
		w->waited++;
	sched_drain(w->s);
	drain_rec(w, 'D');
	sched_touch(w->s, SK_MEM, KEY_X, true);
	sched_point(w->s, "after descriptor");
}

static int drain_start(void *arg, struct sched *s, char *err, size_t errlen)
{
	struct drain_world *w = arg;

	(void)err;
	(void)errlen;
	w->s = s;
	w->inside = false;
	w->n = 0;
	memset(w->order, 0, sizeof(w->order));
	if (sched_spawn(s, "device", drain_access, w) ||
	    sched_spawn(s, "unit", drain_descriptor, w))
		return -1;
	return 0;
}

static bool drain_finish(void *arg, struct sched *s, char *msg, size_t msglen)
{
	struct drain_world *w = arg;
	const char *d;

	(void)s;
	w->runs++;
	if (strlen(w->order) != 3 || !(d = strchr(w->order, 'D'))) {
		snprintf(msg, msglen, "bad order '%s'", w->order);
		return true;
	}
	if (!strcmp(w->order, "D[]"))
		w->before++;
	else if (!strcmp(w->order, "[]D"))
		w->after++;
	else {
		snprintf(msg, msglen, "the descriptor ran inside an access: '%s'", w->order);
		return true;
	}
	return false;
}

static const struct sched_world drain_world = { drain_start, drain_finish, &dr };

TEST(sched_drain_waits_for_accesses)
{
	struct sched_opts modes[] = { xopts(1, false), xopts(2, false), xopts(4, false),
				      xopts(4, true), ropts(300, 21) };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct sched_result r;

		memset(&dr, 0, sizeof(dr));
		ASSERT_EQ(0, sched_explore(&drain_world, &modes[i], &r));
		TH_LOG("mode %zu: %u runs: %u before, %u after, %u waited: %s", i, r.runs,
		       dr.before, dr.after, dr.waited, r.msg);
		ASSERT_FALSE(r.violation);
		ASSERT_FALSE(r.error);
		if (modes[i].preemptions >= 0)
			ASSERT_TRUE(r.complete);
		/* Both orders happen, and the descriptor did arrive mid-access. */
		ASSERT_LT(0u, dr.before);
		ASSERT_LT(0u, dr.after);
		ASSERT_LT(0u, dr.waited);
		sched_result_free(&r);
	}
}

/* -------------------------------------------------------- runaway runs */

static void long_task(void *arg)
{
	struct ind_world *w = arg;

	for (int j = 0; j < w->n; j++)
		sched_point(w->s, "step");
}

static int long_start(void *arg, struct sched *s, char *err, size_t errlen)
{
	struct ind_world *w = arg;

	(void)err;
	(void)errlen;
	w->s = s;
	return sched_spawn(s, "long", long_task, w);
}

static const struct sched_world long_world = { long_start, ind_finish, &ind };

TEST(sched_max_steps_reports_runaway_run)
{
	struct sched_opts o = xopts(1, true);
	struct sched_result r;

	memset(&ind, 0, sizeof(ind));
	ind.n = 50;
	o.max_steps = 10;
	ASSERT_EQ(-1, sched_explore(&long_world, &o, &r));
	ASSERT_TRUE(r.error);
	ASSERT_NONNULL(strstr(r.msg, "more than 10 scheduling points"));
	ASSERT_EQ(1u, r.runs);
	ASSERT_EQ(1u, ind.runs);
	sched_result_free(&r);

	/* Under the cap: one task, one schedule. */
	o.max_steps = 100;
	memset(&ind, 0, sizeof(ind));
	ind.n = 50;
	ASSERT_EQ(0, sched_explore(&long_world, &o, &r));
	ASSERT_TRUE(r.complete);
	ASSERT_EQ(1u, r.runs);
	ASSERT_EQ(51u, r.max_depth);
	sched_result_free(&r);
}

/* ------------------------------------------------------ a world that fails */

static int fail_start(void *arg, struct sched *s, char *err, size_t errlen)
{
	(void)arg;
	(void)s;
	snprintf(err, errlen, "no world today");
	return -1;
}

static const struct sched_world fail_world = { fail_start, ind_finish, &ind };

TEST(sched_world_start_failure_is_an_error)
{
	struct sched_opts o = xopts(1, true);
	struct sched_result r;

	memset(&ind, 0, sizeof(ind));
	ASSERT_EQ(-1, sched_explore(&fail_world, &o, &r));
	ASSERT_TRUE(r.error);
	ASSERT_FALSE(r.violation);
	ASSERT_STREQ("no world today", r.msg);
	ASSERT_EQ(1u, r.runs);
	sched_result_free(&r);
}

/* Outside a run the task calls do nothing. */
TEST(sched_calls_outside_a_run)
{
	ASSERT_EQ(-1, sched_task(NULL));
	sched_point(NULL, "nothing");
	sched_touch(NULL, SK_MEM, 1, true);
	sched_log(NULL, "nothing %d", 1);
}
