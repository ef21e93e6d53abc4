/*
 * sched.c — the cooperative scheduler and the explorer (sched.h).
 *
 * A run is a sequence of decisions: at each scheduling point the task
 * that reached it, or another enabled one, gets the baton. Exhaustive
 * exploration is a depth-first search over those decisions by
 * re-execution: run, then backtrack to the deepest decision with an
 * untried task whose choice stays within the preemption bound (switching
 * away from a task that could have gone on is one preemption), replay
 * the prefix and take it. Sleep sets prune a task whose next step is
 * independent of the steps taken since it was last tried from an earlier
 * state (Godefroid 1996): two steps are independent when their
 * footprints (what each touched, sched_touch) share no key that one of
 * them writes.
 *
 * Tasks are ucontext fibers on the explorer's own OS thread, each on its
 * own mmap'd stack. A switch saves one context and loads the other, and
 * is announced to the address and thread sanitizers through their fiber
 * interfaces; stacks are registered with valgrind when its header is
 * installed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include "check/sched.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define ASAN_FIBERS 1
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#include <sanitizer/tsan_interface.h>
#define TSAN_FIBERS 1
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define VALGRIND_STACKS 1
#endif
#endif

#define STACK_SIZE	(1u << 20)	/* per task; sanitizers need room */

#define FP_MAX		12
#define DEFAULT_STEPS	200000

struct fp {
	uint64_t key[FP_MAX];
	uint8_t write[FP_MAX];
	unsigned n;
	bool all;		/* overflowed: dependent with everything */
};

struct task {
	struct sched *s;
	int idx;
	char name[24];
	void (*fn)(void *arg);
	void *arg;
	ucontext_t uc;
	void *stack;		/* STACK_SIZE bytes, kept across runs */
	unsigned vg_stack;	/* valgrind's id for it */
	void *tsan_fiber;
	bool finished;
	struct lock_obj *blocked_on;
	bool spin, drain_wait, in_access;
	const char *what;	/* the step it is about to run */
};

struct lock_obj {
	int owner;		/* task index; -1 free; -2 the set-up thread */
	uint64_t id;		/* creator and its count: the same in every run */
};

struct decision {
	uint32_t en, sleep, done;
	int cur, chosen, basic;
	bool cur_en;
	unsigned preempt;	/* preemptions before this decision */
	struct fp chosen_fp;
	struct fp sleep_fp[SCHED_MAX_TASKS];
	struct fp done_fp[SCHED_MAX_TASKS];
};

struct forced {
	uint64_t at;
	int task;
};

struct sched {
	struct task tasks[SCHED_MAX_TASKS];
	int ntasks;
	int running;		/* the task running; -1: the explorer */
	bool in_run;
	ucontext_t main_uc;	/* the explorer's context */
	void *tsan_main;
	const void *main_stack;	/* its stack, as the address sanitizer saw it */
	size_t main_stack_size;
	int switch_from;	/* the context the last switch left */
	uint32_t nlocks[SCHED_MAX_TASKS + 1];	/* locks made, per creator (set-up last) */

	/* The exploration. */
	const struct sched_opts *o;
	bool exhaustive;
	uint64_t rng;
	struct decision *dec;
	size_t ndec, deccap, prefix;
	uint64_t depth;		/* decisions taken in this run */
	struct fp cur_fp;	/* footprint of the step running now */
	bool pruned;		/* this run's tail is redundant: no more records */
	bool aborted;		/* given up, its tasks suspended where they are */
	char abort_msg[256];
	struct forced *forced;
	size_t nforced;

	char *log;
	size_t loglen, logcap;
};

/* The sched whose task is starting on this OS thread (makecontext takes ints). */
static _Thread_local struct sched *starting;

/* The task running now, or NULL (the explorer, or no run). */
static struct task *current(const struct sched *s)
{
	return s && s->in_run && s->running >= 0 ? (struct task *)&s->tasks[s->running] : NULL;
}

/* ---- Footprints ---- */

static uint64_t key_of(enum sched_key_class cls, uint64_t id)
{
	return (uint64_t)cls << 58 | (id & ((1ULL << 58) - 1));
}

static void fp_add(struct fp *f, uint64_t key, bool write)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->key[i] == key) {
			f->write[i] |= write;
			return;
		}
	if (f->n == FP_MAX) {
		f->all = true;
		return;
	}
	f->key[f->n] = key;
	f->write[f->n++] = write;
}

static bool key_conflict(uint64_t a, uint64_t b)
{
	uint64_t ca = a >> 58, cb = b >> 58;

	if (a == b)
		return true;
	return (ca == SK_MEM_ALL && cb == SK_MEM) || (cb == SK_MEM_ALL && ca == SK_MEM);
}

static bool fp_dependent(const struct fp *a, const struct fp *b)
{
	if (a->all || b->all)
		return true;
	for (unsigned i = 0; i < a->n; i++)
		for (unsigned j = 0; j < b->n; j++)
			if ((a->write[i] || b->write[j]) && key_conflict(a->key[i], b->key[j]))
				return true;
	return false;
}

void sched_touch(struct sched *s, enum sched_key_class cls, uint64_t id, bool write)
{
	if (!current(s))
		return;
	fp_add(&s->cur_fp, key_of(cls, id), write);
}

/* ---- Log ---- */

static void log_vadd(struct sched *s, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if (s->loglen + (size_t)n + 1 > s->logcap) {
		size_t cap = s->logcap ? s->logcap : 4096;
		char *p;

		while (cap < s->loglen + (size_t)n + 1)
			cap *= 2;
		p = realloc(s->log, cap);
		if (!p)
			return;
		s->log = p;
		s->logcap = cap;
	}
	vsnprintf(s->log + s->loglen, (size_t)n + 1, fmt, ap);
	s->loglen += (size_t)n;
}

static void log_add(struct sched *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_add(struct sched *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vadd(s, fmt, ap);
	va_end(ap);
}

void sched_log(struct sched *s, const char *fmt, ...)
{
	va_list ap;

	if (!s || !s->in_run)
		return;
	log_add(s, "%6" PRIu64 "  %-8s ", s->depth, current(s) ? current(s)->name : "setup");
	va_start(ap, fmt);
	log_vadd(s, fmt, ap);
	va_end(ap);
	log_add(s, "\n");
}

/* ---- Decisions ---- */

static bool someone_else_in_access(struct sched *s, int idx)
{
	for (int i = 0; i < s->ntasks; i++)
		if (i != idx && s->tasks[i].in_access && !s->tasks[i].finished)
			return true;
	return false;
}

static uint32_t enabled_set(struct sched *s)
{
	uint32_t en = 0, spinners = 0;

	for (int i = 0; i < s->ntasks; i++) {
		struct task *t = &s->tasks[i];

		if (t->finished)
			continue;
		if (t->blocked_on && t->blocked_on->owner >= 0)
			continue;
		if (t->drain_wait && someone_else_in_access(s, i))
			continue;
		if (t->spin)
			spinners |= 1u << i;
		else
			en |= 1u << i;
	}
	/* A polling task waits while anyone else can make progress. */
	return en ? en : spinners;
}

static int lowest(uint32_t m)
{
	return m ? __builtin_ctz(m) : -1;
}

static uint64_t rng_next(struct sched *s)
{
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static void do_abort(struct sched *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void do_abort(struct sched *s, const char *fmt, ...)
{
	va_list ap;

	if (s->aborted)
		return;
	/*
	 * The run is abandoned: its tasks stay suspended where they are and
	 * the explorer gets the baton back (the world cannot be torn down
	 * safely in the middle of its calls; sched_abandoned tells it).
	 */
	s->aborted = true;
	va_start(ap, fmt);
	vsnprintf(s->abort_msg, sizeof(s->abort_msg), fmt, ap);
	va_end(ap);
}

static bool is_preempt(const struct decision *d)
{
	return d->cur_en && d->chosen != d->cur;
}

/* Choose the next task at a point reached by @cur (-1: the start). */
static int decide(struct sched *s, int cur)
{
	uint32_t en = enabled_set(s);
	bool cur_en = cur >= 0 && (en >> cur & 1);
	int basic, chosen;

	/* A deadlocked, runaway or diverging run is abandoned (do_abort). */
	if (s->aborted)
		return -1;
	if (!en) {
		for (int i = 0; i < s->ntasks; i++)
			if (!s->tasks[i].finished) {
				do_abort(s, "deadlock: every task left is blocked");
				return -1;
			}
		return -1;
	}
	if (++s->depth > (s->o->max_steps ? s->o->max_steps : DEFAULT_STEPS)) {
		do_abort(s, "a run took more than %u scheduling points",
			 s->o->max_steps ? s->o->max_steps : DEFAULT_STEPS);
		return -1;
	}
	basic = cur_en ? cur : lowest(en);
	/* A schedule token forces its choices; a seed token replays a random run. */
	if ((s->o->replay && s->o->replay[0] == 'x') || s->nforced) {
		chosen = basic;
		for (size_t i = 0; i < s->nforced; i++) {
			if (s->forced[i].at != s->depth - 1)
				continue;
			if (!(en >> s->forced[i].task & 1)) {
				do_abort(s, "the replay token's task %d cannot run at decision %" PRIu64
					 " (a token of another scenario or knob?)", s->forced[i].task,
					 s->depth - 1);
				return -1;
			}
			chosen = s->forced[i].task;
		}
		if (!s->exhaustive)
			return chosen;
	}
	if (!s->exhaustive) {
		if (cur_en && rng_next(s) % 4)
			return cur;
		unsigned n = (unsigned)__builtin_popcount(en), k = (unsigned)(rng_next(s) % n);
		uint32_t m = en;

		while (k--)
			m &= m - 1;
		return lowest(m);
	}

	/* Exhaustive: the previous decision's step is done; record its footprint. */
	size_t i = s->depth - 1;

	if (s->pruned)
		return basic;
	if (i > 0 && i - 1 < s->ndec)
		s->dec[i - 1].chosen_fp = s->cur_fp;
	if (i < s->prefix) {
		struct decision *d = &s->dec[i];

		if (!(en >> d->chosen & 1)) {
			do_abort(s, "replay diverged at decision %zu (a run is not deterministic)", i);
			return -1;
		}
		return d->chosen;
	}
	if (i == s->deccap) {
		size_t cap = s->deccap ? 2 * s->deccap : 1024;
		struct decision *n = realloc(s->dec, cap * sizeof(*n));

		if (!n) {
			s->pruned = true;
			return basic;
		}
		s->dec = n;
		s->deccap = cap;
	}
	struct decision *d = &s->dec[i];

	memset(d, 0, offsetof(struct decision, chosen_fp));
	d->en = en;
	d->cur = cur;
	d->cur_en = cur_en;
	d->basic = basic;
	if (i > 0) {
		const struct decision *p = &s->dec[i - 1];

		d->preempt = p->preempt + is_preempt(p);
		if (s->o->sleep_sets) {
			for (int t = 0; t < s->ntasks; t++) {
				const struct fp *f = NULL;

				if (t == p->chosen)
					continue;
				if (p->sleep >> t & 1)
					f = &p->sleep_fp[t];
				else if (p->done >> t & 1)
					f = &p->done_fp[t];
				if (f && !fp_dependent(f, &p->chosen_fp)) {
					d->sleep |= 1u << t;
					d->sleep_fp[t] = *f;
				}
			}
		}
	}
	uint32_t awake = en & ~d->sleep;

	if (cur_en && (awake >> cur & 1))
		chosen = cur;
	else if (awake && (!cur_en || d->preempt < (unsigned)s->o->preemptions))
		chosen = lowest(awake);
	else {
		/* Everything left is equivalent to a schedule already covered. */
		s->pruned = true;
		return basic;
	}
	d->chosen = chosen;
	s->ndec = i + 1;
	return chosen;
}

/*
 * swapcontext, as getcontext then setcontext: the address sanitizer warns
 * on every process's first swapcontext, and the fiber annotations around
 * the switch already tell it everything it needs.
 */
static __attribute__((noinline)) void save_and_jump(ucontext_t *from, const ucontext_t *to)
{
	volatile bool resumed = false;

	getcontext(from);
	if (resumed)
		return;
	resumed = true;
	setcontext(to);
}

/*
 * Switch from the running context to @next (-1: the explorer). Returns
 * when the caller's context runs again; a task that @dying never does.
 */
static void switch_to(struct sched *s, int next, bool dying)
{
	int prev = s->running;
	ucontext_t *from = prev < 0 ? &s->main_uc : &s->tasks[prev].uc;
	ucontext_t *to = next < 0 ? &s->main_uc : &s->tasks[next].uc;
#ifdef ASAN_FIBERS
	void *fake = NULL;
#endif

	if (next >= 0 && prev >= 0 && next != prev)
		log_add(s, "%6" PRIu64 "  -- switch to %s (%s)\n", s->depth, s->tasks[next].name,
			s->tasks[next].what ? s->tasks[next].what : "start");
	else if (next >= 0 && prev < 0)
		log_add(s, "%6" PRIu64 "  -- start with %s\n", s->depth, s->tasks[next].name);
	s->cur_fp = (struct fp){ 0 };
	if (next == prev)
		return;
	s->running = next;
	s->switch_from = prev;
#ifdef ASAN_FIBERS
	__sanitizer_start_switch_fiber(dying ? NULL : &fake,
				       next < 0 ? s->main_stack : s->tasks[next].stack,
				       next < 0 ? s->main_stack_size : STACK_SIZE);
#endif
#ifdef TSAN_FIBERS
	__tsan_switch_to_fiber(next < 0 ? s->tsan_main : s->tasks[next].tsan_fiber, 0);
#endif
	(void)dying;
	save_and_jump(from, to);
#ifdef ASAN_FIBERS
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* The calling task stops here; the chosen one goes on. */
static void reschedule(struct sched *s, struct task *t)
{
	switch_to(s, decide(s, t->idx), false);
}

void sched_point(struct sched *s, const char *what)
{
	struct task *t = current(s);

	if (!t)
		return;
	t->what = what;
	reschedule(s, t);
}

bool sched_abandoned(const struct sched *s)
{
	return s->aborted;
}

int sched_task(struct sched *s)
{
	return current(s) ? s->running : -1;
}

/* ---- Locks, polls, drains ---- */

/*
 * A footprint names a lock by who created it and how many that creator
 * had made before, never by its address: runs rebuild the world, and the
 * same lock must have the same key in every run for sleep sets to hold.
 */
void *sched_lock_new(struct sched *s)
{
	struct lock_obj *l = malloc(sizeof(*l));
	int creator = current(s) ? s->running : SCHED_MAX_TASKS;

	if (!l)
		return NULL;
	l->owner = -1;
	l->id = (uint64_t)creator << 32 | s->nlocks[creator]++;
	return l;
}

uint64_t sched_lock_id(const void *lock)
{
	return ((const struct lock_obj *)lock)->id;
}

void sched_lock_free(struct sched *s, void *lock)
{
	(void)s;
	free(lock);
}

void sched_lock(struct sched *s, void *lock)
{
	struct lock_obj *l = lock;
	struct task *t = current(s);

	if (!t) {
		l->owner = -2;		/* set-up and tear-down run alone */
		return;
	}
	sched_point(s, "lock");
	sched_touch(s, SK_OBJ, l->id, true);
	while (l->owner >= 0) {
		if (l->owner == t->idx) {
			do_abort(s, "task %s takes a lock it holds", t->name);
			reschedule(s, t);	/* abandoned: never comes back */
		}
		t->blocked_on = l;
		t->what = "lock (blocked)";
		reschedule(s, t);
		sched_touch(s, SK_OBJ, l->id, true);
	}
	t->blocked_on = NULL;
	l->owner = t->idx;
}

void sched_unlock(struct sched *s, void *lock)
{
	struct lock_obj *l = lock;

	sched_touch(s, SK_OBJ, l->id, true);
	l->owner = -1;
}

void sched_spin(struct sched *s)
{
	struct task *t = current(s);

	if (!t)
		return;
	t->spin = true;
	t->what = "poll";
	reschedule(s, t);
	t->spin = false;
}

void sched_access(struct sched *s, bool begin)
{
	struct task *t = current(s);

	if (t)
		t->in_access = begin;
}

void sched_drain(struct sched *s)
{
	struct task *t = current(s);

	if (!t)
		return;
	while (someone_else_in_access(s, t->idx)) {
		t->drain_wait = true;
		t->what = "descriptor (draining device accesses)";
		reschedule(s, t);
	}
	t->drain_wait = false;
}

/* ---- Runs ---- */

int sched_spawn(struct sched *s, const char *name, void (*fn)(void *arg), void *arg)
{
	struct task *t;

	if (s->ntasks == SCHED_MAX_TASKS)
		return -ENOSPC;
	t = &s->tasks[s->ntasks];
	if (!t->stack) {
		void *p = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

		if (p == MAP_FAILED)
			return -ENOMEM;
		t->stack = p;
#ifdef VALGRIND_STACKS
		t->vg_stack = VALGRIND_STACK_REGISTER(p, (char *)p + STACK_SIZE);
#endif
#ifdef TSAN_FIBERS
		t->tsan_fiber = __tsan_create_fiber(0);
#endif
	}
	t->s = s;
	t->idx = s->ntasks++;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->fn = fn;
	t->arg = arg;
	t->finished = false;
	t->blocked_on = NULL;
	t->spin = t->drain_wait = t->in_access = false;
	t->what = NULL;
	return 0;
}

/* A task's first and only entry: run its body, then hand on for good. */
static void task_main(void)
{
	struct sched *s = starting;
	struct task *t = &s->tasks[s->running];

#ifdef ASAN_FIBERS
	const void *from_stack;
	size_t from_size;

	/* A switch from the explorer tells where its stack is. */
	__sanitizer_finish_switch_fiber(NULL, &from_stack, &from_size);
	if (s->switch_from < 0) {
		s->main_stack = from_stack;
		s->main_stack_size = from_size;
	}
#endif
	t->fn(t->arg);
	t->finished = true;
	t->what = "end";
	log_add(s, "%6" PRIu64 "  %-8s (ends)\n", s->depth, t->name);
	switch_to(s, decide(s, t->idx), true);
	abort();	/* a finished task is never switched to */
}

static void free_stacks(struct sched *s)
{
	for (int i = 0; i < SCHED_MAX_TASKS; i++) {
		struct task *t = &s->tasks[i];

		if (!t->stack)
			continue;
#ifdef VALGRIND_STACKS
		VALGRIND_STACK_DEREGISTER(t->vg_stack);
#endif
#ifdef TSAN_FIBERS
		__tsan_destroy_fiber(t->tsan_fiber);
#endif
		munmap(t->stack, STACK_SIZE);
		t->stack = NULL;
	}
}

/* One run: start the world, run its tasks to the end, judge it. */
static int run_once(struct sched *s, const struct sched_world *w, bool *violation,
		    char *msg, size_t msglen)
{
	char err[256] = "";
	int ret = 0;

	s->ntasks = 0;
	memset(s->nlocks, 0, sizeof(s->nlocks));
	s->depth = 0;
	s->pruned = false;
	s->aborted = false;
	s->abort_msg[0] = 0;
	s->loglen = 0;
	if (s->log)
		s->log[0] = 0;
	s->cur_fp = (struct fp){ 0 };
	s->running = -1;
	s->in_run = false;
	if (w->start(w->arg, s, err, sizeof(err))) {
		snprintf(msg, msglen, "%s", err[0] ? err : "the world did not start");
		*violation = false;
		w->finish(w->arg, s, err, sizeof(err));
		return -1;
	}
	for (int i = 0; i < s->ntasks; i++) {
		struct task *t = &s->tasks[i];

		getcontext(&t->uc);
#ifdef ASAN_FIBERS
		/* A task abandoned on this stack may have left its frames poisoned. */
		__asan_unpoison_memory_region(t->stack, STACK_SIZE);
#endif
		t->uc.uc_stack.ss_sp = t->stack;
		t->uc.uc_stack.ss_size = STACK_SIZE;
		t->uc.uc_link = NULL;
		makecontext(&t->uc, task_main, 0);
	}
	starting = s;
	s->in_run = true;
	/* Every task ends by handing on; the last hands back here. */
	switch_to(s, decide(s, -1), false);
	s->in_run = false;
	starting = NULL;
	*violation = w->finish(w->arg, s, msg, msglen);
	if (s->aborted) {
		snprintf(msg, msglen, "%s", s->abort_msg);
		ret = -1;
	}
	return ret;
}

/* The replay token of the run just finished. */
static void make_token(struct sched *s, char *buf, size_t len, uint64_t seed)
{
	size_t n;

	if (s->o->replay) {
		snprintf(buf, len, "%s", s->o->replay);
		return;
	}
	if (!s->exhaustive) {
		snprintf(buf, len, "%" PRIu64, seed);
		return;
	}
	n = (size_t)snprintf(buf, len, "x");
	for (size_t i = 0; i < s->ndec && n < len; i++)
		if (s->dec[i].chosen != s->dec[i].basic)
			n += (size_t)snprintf(buf + n, len - n, ":%zu=%d", i, s->dec[i].chosen);
	if (n >= len)
		snprintf(buf, len, "(schedule too long for a token)");
}

static int parse_token(struct sched *s, const char *tok, uint64_t *seed)
{
	const char *p = tok;
	char *end;

	/* Decimal digits only: no sign, no blanks, no octal or hex. */
	if (*p != 'x') {
		if (!*tok || strspn(tok, "0123456789") != strlen(tok))
			return -1;
		errno = 0;
		*seed = strtoull(tok, &end, 10);
		return errno ? -1 : 0;
	}
	p++;
	while (*p) {
		unsigned long long at;
		long task;
		struct forced *n;

		if (*p != ':' || !(p[1] >= '0' && p[1] <= '9'))
			return -1;
		at = strtoull(p + 1, &end, 10);
		if (*end != '=' || !(end[1] >= '0' && end[1] <= '9'))
			return -1;
		p = end + 1;
		task = strtol(p, &end, 10);
		if (task >= SCHED_MAX_TASKS)
			return -1;
		p = end;
		n = realloc(s->forced, (s->nforced + 1) * sizeof(*n));
		if (!n)
			return -1;
		s->forced = n;
		s->forced[s->nforced++] = (struct forced){ at, (int)task };
	}
	return 0;
}

/* Backtrack to the next schedule within the bound; false when none is left. */
static bool backtrack(struct sched *s)
{
	for (size_t i = s->ndec; i-- > 0;) {
		struct decision *d = &s->dec[i];

		d->done |= 1u << d->chosen;
		d->done_fp[d->chosen] = d->chosen_fp;
		for (uint32_t m = d->en & ~d->done & ~d->sleep; m; m &= m - 1) {
			int t = lowest(m);
			unsigned cost = d->cur_en && t != d->cur;

			if (d->preempt + cost <= (unsigned)s->o->preemptions) {
				d->chosen = t;
				s->ndec = s->prefix = i + 1;
				return true;
			}
		}
	}
	s->ndec = s->prefix = 0;
	return false;
}

int sched_explore(const struct sched_world *w, const struct sched_opts *o,
		  struct sched_result *r)
{
	struct sched *s = calloc(1, sizeof(*s));
	unsigned runs = o->runs ? o->runs : 1000;
	uint64_t seed = o->seed;
	char msg[1024];
	bool viol;

	memset(r, 0, sizeof(*r));
	if (!s) {
		snprintf(r->msg, sizeof(r->msg), "out of memory");
		r->error = true;
		return -1;
	}
	s->o = o;
#ifdef TSAN_FIBERS
	s->tsan_main = __tsan_get_current_fiber();
#endif
	s->exhaustive = o->preemptions >= 0 && !o->replay;
	if (o->replay && parse_token(s, o->replay, &seed)) {
		snprintf(r->msg, sizeof(r->msg), "bad replay token '%s' (want a seed, or x:N=T:...)",
			 o->replay);
		r->error = true;
		goto out;
	}
	if (o->replay)
		runs = 1;
	for (unsigned run = 0; run < runs; run++) {
		uint64_t this_seed = o->replay ? seed : seed + run;
		int rc;

		s->rng = this_seed * 0x9e3779b97f4a7c15ULL + 1;
		if (!s->rng)		/* xorshift never leaves 0 */
			s->rng = 1;
		msg[0] = 0;
		rc = run_once(s, w, &viol, msg, sizeof(msg));
		for (size_t i = 0; o->replay && !rc && i < s->nforced; i++)
			if (s->forced[i].at >= s->depth) {
				snprintf(msg, sizeof(msg), "the replay token names decision %" PRIu64
					 ", past the end of the run (%" PRIu64 " decisions)",
					 s->forced[i].at, s->depth);
				rc = -1;
			}
		r->runs++;
		/* Exhaustive: the cap is no total (the bound usually ends it first). */
		if (o->progress && r->runs < runs)
			o->progress(o->progress_arg, r->runs, s->exhaustive ? 0 : runs);
		r->pruned += s->pruned;
		if (s->depth > r->max_depth)
			r->max_depth = s->depth;
		if (o->verbose && s->log)
			fprintf(stderr, "---- run %u\n%s", run, s->log);
		if (viol || rc) {
			r->violation = viol;
			r->error = rc != 0;
			snprintf(r->msg, sizeof(r->msg), "%s", msg);
			make_token(s, r->token, sizeof(r->token), this_seed);
			r->steps = s->log;
			s->log = NULL;
			s->logcap = 0;
			break;
		}
		if (s->exhaustive && !backtrack(s)) {
			r->complete = true;
			break;
		}
	}
out:
	if (o->progress)
		o->progress(o->progress_arg, 1, 1);
	free_stacks(s);
	free(s->dec);
	free(s->forced);
	free(s->log);
	free(s);
	return r->error ? -1 : 0;
}

void sched_result_free(struct sched_result *r)
{
	free(r->steps);
	r->steps = NULL;
}
