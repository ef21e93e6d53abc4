/*
 * stress.c — the real-thread stress run (stress.h). Topology: two units
 * (device TLBs on), four devices (two with ATS), two domains, each with a
 * DMA layer in the chosen mode. Mapping threads own slots of one domain:
 * they map a buffer into an empty slot and publish its IOVA, or take a
 * full slot back and unmap it. A mover thread moves two of the devices
 * between the domains. Device threads read slots and DMA to what they
 * find. The oracle judges every access; a DMA racing an unmap or a move
 * is never blamed (its rules use the order events reach it).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/env.h"
#include "check/oracle.h"
#include "check/stress.h"
#include "fmt/entry.h"
#include "host/host.h"

#define NUNITS		2
#define NDEVS		4
#define NDOMS		2
#define SLOTS		16		/* per mapping thread */
#define MAX_CPUS	8
#define POOL_BASE	(256ULL << 20)
#define POOL_SIZE	(256ULL << 20)
#define DATA_BASE	(16ULL << 20)
#define DATA_PAGES	4096

static const uint16_t dev_sid[NDEVS] = { 0x0010, 0x0018, 0x0020, 0x0028 };

struct stress {
	const struct stress_opts *o;
	struct vtdm *m;
	struct vtd_host *h;
	struct chk_env env;
	struct chk *oracle;
	struct vtd *v;
	struct vtd_unit *units[NUNITS];
	struct vtd_device *devs[NDEVS];
	struct vtd_domain *doms[NDOMS];
	struct vtd_dma *dma[NDOMS];
	/* Published mappings: IOVA | pages-1 (low 12 bits), 0 when empty. */
	uint64_t slot[MAX_CPUS][SLOTS];
	int stop;			/* atomic */
	unsigned cpus_done;		/* atomic: mapping threads returned */
	uint64_t ops;			/* atomic: mapping-thread operations so far */
	uint64_t maps, unmaps, moves, dmas, errors;	/* atomic */
	struct timespec t0;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double elapsed(const struct stress *st)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - st->t0.tv_sec) + (double)(t.tv_nsec - st->t0.tv_nsec) / 1e9;
}

static bool stopping(struct stress *st)
{
	if (__atomic_load_n(&st->stop, __ATOMIC_RELAXED))
		return true;
	if (elapsed(st) >= (st->o->seconds > 0 ? st->o->seconds : 2.0)) {
		__atomic_store_n(&st->stop, 1, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

struct cpu_arg {
	struct stress *st;
	unsigned idx;
};

static void *cpu_main(void *arg)
{
	struct cpu_arg *a = arg;
	struct stress *st = a->st;
	struct vtd_dma *d = st->dma[a->idx % NDOMS];
	uint64_t seed = st->o->seed * 7919 + a->idx + 1, n = 0;

	while (!stopping(st) && (!st->o->ops || n < st->o->ops)) {
		unsigned k = (unsigned)(rnd(&seed) % SLOTS);
		uint64_t *slot = &st->slot[a->idx][k];
		uint64_t cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

		n++;
		if (!cur) {
			uint64_t pages = 1 + rnd(&seed) % 16, iova;
			uint64_t pa = DATA_BASE + (rnd(&seed) % (DATA_PAGES - pages)) * 4096;

			if (vtd_dma_map(d, NULL, pa, pages * 4096, VTD_DMA_BIDIRECTIONAL, &iova)) {
				__atomic_add_fetch(&st->errors, 1, __ATOMIC_RELAXED);
				continue;
			}
			__atomic_store_n(slot, iova | (pages - 1), __ATOMIC_RELEASE);
			__atomic_add_fetch(&st->maps, 1, __ATOMIC_RELAXED);
		} else {
			/* Unpublish first: a device that read it may still race the unmap. */
			__atomic_store_n(slot, 0, __ATOMIC_RELEASE);
			if (vtd_dma_unmap(d, NULL, cur & ~0xfffULL, ((cur & 0xfff) + 1) * 4096))
				__atomic_add_fetch(&st->errors, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&st->unmaps, 1, __ATOMIC_RELAXED);
		}
		if (n % 64 == 0)
			vtd_dma_poll(d);
		__atomic_add_fetch(&st->ops, 1, __ATOMIC_RELAXED);
	}
	__atomic_add_fetch(&st->cpus_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Moves devices 1 and 3 between the domains. */
static void *mover_main(void *arg)
{
	struct stress *st = arg;
	uint64_t n = 0;

	while (!stopping(st) && (!st->o->ops || n < st->o->ops / 16 + 1)) {
		unsigned dev = n % 2 ? 3 : 1;

		if (vtd_attach(st->doms[(n / 2 + dev) % NDOMS], st->devs[dev]))
			__atomic_add_fetch(&st->errors, 1, __ATOMIC_RELAXED);
		else
			__atomic_add_fetch(&st->moves, 1, __ATOMIC_RELAXED);
		n++;
		/* Moves are rarer than maps: let the others run. */
		for (int i = 0; i < 8 && !stopping(st); i++)
			sched_yield();
	}
	return NULL;
}

struct dev_arg {
	struct stress *st;
	unsigned idx;
};

static void *dev_main(void *arg)
{
	struct dev_arg *a = arg;
	struct stress *st = a->st;
	uint64_t seed = st->o->seed * 104729 + a->idx + 1, n = 0;
	unsigned cpus = st->o->cpus ? st->o->cpus : 3;
	uint8_t buf[64];

	while (!stopping(st) && (!st->o->ops || n < 2 * st->o->ops)) {
		uint64_t cur = __atomic_load_n(&st->slot[rnd(&seed) % cpus][rnd(&seed) % SLOTS],
					       __ATOMIC_ACQUIRE);
		struct vtdm_xlate x;

		n++;
		if (!cur)
			continue;
		uint64_t iova = (cur & ~0xfffULL) + (rnd(&seed) % ((cur & 0xfff) + 1)) * 4096;

		vtdm_dma(st->m, dev_sid[a->idx], VTD_NO_PASID, iova, buf, sizeof(buf),
			 rnd(&seed) & 1, &x);
		__atomic_add_fetch(&st->dmas, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static uint64_t st_now(void *arg)
{
	return vtdm_now(arg);
}

static int build(struct stress *st, FILE *err)
{
	struct vtdm_machine_cfg mc;
	struct vtdm_hooks hooks;
	int rc;

	vtdm_machine_cfg_default(&mc);
	st->m = vtdm_create(&mc);
	if (!st->m)
		return -ENOMEM;
	for (unsigned i = 0; i < NUNITS; i++) {
		struct vtdm_unit_cfg uc;

		vtdm_unit_cfg_default(&uc);
		uc.dt = true;
		uc.cm = st->o->cm;
		uc.caching = VTDM_ADVERSARIAL;
		rc = vtdm_add_unit(st->m, &uc);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; i < NDEVS; i++) {
		struct vtdm_dev_cfg dc;

		vtdm_dev_cfg_default(&dc);
		dc.sid = dev_sid[i];
		dc.unit = (int)(i / 2);
		dc.ats = i % 2 == 0;
		rc = vtdm_add_device(st->m, &dc);
		if (rc < 0)
			return rc;
	}
	st->h = vtd_host_create(st->m, POOL_BASE, POOL_SIZE);
	st->oracle = chk_create(st_now, st->m);
	if (!st->h || !st->oracle)
		return -ENOMEM;
	st->env = (struct chk_env){ .inner = vtd_host_ops(), .inner_ctx = st->h, .m = st->m,
				    .oracle = st->oracle };
	chk_env_hooks(&st->env, &hooks);
	vtdm_set_hooks(st->m, &hooks);
	st->v = vtd_create(chk_env_ops(), &st->env);
	if (!st->v)
		return -ENOMEM;
	for (int k = 0; k < VTD_KNOB_NR; k++)
		if (st->o->knobs >> k & 1)
			vtd_knob_set(st->v, (enum vtd_knob)k, true);
	for (unsigned i = 0; i < NUNITS; i++) {
		struct vtd_unit_opts uo = { 0 };

		rc = vtd_unit_add(st->v, vtdm_unit_base(i), &uo, &st->units[i]);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < NDEVS; i++) {
		struct vtd_device_opts dopt = { .ats = i % 2 == 0 };

		rc = vtd_device_add(st->v, st->units[i / 2], dev_sid[i], &dopt, &st->devs[i]);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < NDOMS; i++) {
		struct vtd_dma_opts dmo = { .mode = st->o->mode, .force_mode = true };
		char name[8];

		rc = vtd_domain_alloc(st->v, NULL, &st->doms[i]);
		if (rc)
			return rc;
		snprintf(name, sizeof(name), "D%u", i);
		chk_name_domain(st->oracle, st->doms[i], name);
		rc = vtd_dma_create(st->doms[i], &dmo, &st->dma[i]);
		if (rc)
			return rc;
	}
	for (unsigned i = 0; i < NDEVS; i++) {
		rc = vtd_attach(st->doms[i % NDOMS], st->devs[i]);
		if (rc) {
			fprintf(err, "vtdkit stress: attach of device %u failed: %d\n", i, rc);
			return rc;
		}
	}
	return 0;
}

static void teardown(struct stress *st)
{
	for (unsigned i = 0; i < NDOMS; i++)
		if (st->dma[i])
			vtd_dma_destroy(st->dma[i]);
	vtd_destroy(st->v);
	if (st->m)
		vtdm_set_hooks(st->m, &(struct vtdm_hooks){ 0 });
	vtd_host_destroy(st->h);
	if (st->m)
		vtdm_destroy(st->m);
	chk_destroy(st->oracle);
}

static const char *const mode_names[] = { "strict", "lazy", "lazy-ranged" };

int stress_run(const struct stress_opts *o, FILE *out, FILE *err)
{
	struct stress *st = calloc(1, sizeof(*st));
	unsigned cpus = o->cpus ? o->cpus : 3;
	pthread_t cpu_th[MAX_CPUS], dev_th[NDEVS], mover;
	struct cpu_arg ca[MAX_CPUS];
	struct dev_arg da[NDEVS];
	struct chk_exposure ex;
	unsigned ncpu = 0, ndev = 0, nviol;
	bool mover_up = false;
	int rc, ret = 0;

	if (!st)
		return 2;
	st->o = o;
	if (cpus > MAX_CPUS) {
		fprintf(err, "vtdkit stress: at most %d CPU threads\n", MAX_CPUS);
		free(st);
		return 2;
	}
	rc = build(st, err);
	if (rc) {
		fprintf(err, "vtdkit stress: cannot build the machine: %s\n", strerror(-rc));
		teardown(st);
		free(st);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &st->t0);
	for (unsigned i = 0; i < cpus; i++) {
		ca[i] = (struct cpu_arg){ st, i };
		if (pthread_create(&cpu_th[i], NULL, cpu_main, &ca[i]))
			break;
		ncpu++;
	}
	for (unsigned i = 0; i < NDEVS; i++) {
		da[i] = (struct dev_arg){ st, i };
		if (pthread_create(&dev_th[i], NULL, dev_main, &da[i]))
			break;
		ndev++;
	}
	mover_up = !pthread_create(&mover, NULL, mover_main, st);
	while (o->progress && __atomic_load_n(&st->cpus_done, __ATOMIC_ACQUIRE) < ncpu) {
		struct timespec tick = { 0, 100000000 };
		double secs = o->seconds > 0 ? o->seconds : 2.0, t = elapsed(st);
		uint64_t total_ops = o->ops * ncpu, ops = __atomic_load_n(&st->ops,
									   __ATOMIC_RELAXED);

		/* Whichever bound is nearer to ending the run. */
		if (total_ops && (double)ops / (double)total_ops > t / secs)
			o->progress(o->progress_arg, ops, total_ops);
		else
			o->progress(o->progress_arg, (uint64_t)(t * 1000), (uint64_t)(secs * 1000));
		nanosleep(&tick, NULL);
	}
	for (unsigned i = 0; i < ncpu; i++)
		pthread_join(cpu_th[i], NULL);
	if (o->progress)
		o->progress(o->progress_arg, 1, 1);
	__atomic_store_n(&st->stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < ndev; i++)
		pthread_join(dev_th[i], NULL);
	if (mover_up)
		pthread_join(mover, NULL);
	if (ncpu < cpus || ndev < NDEVS || !mover_up) {
		fprintf(err, "vtdkit stress: cannot start every thread\n");
		ret = 2;
	}
	/* Flush every queue: the last exposure windows close. */
	for (unsigned i = 0; i < NDOMS; i++) {
		vtd_dma_destroy(st->dma[i]);
		st->dma[i] = NULL;
	}
	chk_exposure(st->oracle, &ex);
	nviol = chk_nr_violations(st->oracle);
	fprintf(out, "stress: %u CPU threads, 4 devices (2 with ATS), 2 units%s, %s, %.2f s\n",
		cpus, o->cm ? " with caching mode" : "", mode_names[o->mode], elapsed(st));
	fprintf(out, "  maps %" PRIu64 ", unmaps %" PRIu64 ", moves %" PRIu64 ", DMAs %" PRIu64
		" (%" PRIu64 " pages judged), failed calls %" PRIu64 "\n", st->maps, st->unmaps,
		st->moves, st->dmas, chk_judged(st->oracle), st->errors);
	fprintf(out, "  exposure windows (unmap return -> flush complete, virtual ns): %" PRIu64
		" windows, median %" PRIu64 ", p99 %" PRIu64 ", max %" PRIu64 "\n", ex.count,
		ex.median, ex.p99, ex.max);
	for (int k = 0; k < CHK_NR; k++)
		if (chk_count(st->oracle, (enum chk_kind)k))
			fprintf(out, "  %s: %u\n", chk_kind_name((enum chk_kind)k),
				chk_count(st->oracle, (enum chk_kind)k));
	for (unsigned i = 0; i < chk_nr_kept(st->oracle) && i < 5; i++) {
		const struct chk_violation *v = chk_violation(st->oracle, i);

		fprintf(out, "violation: %s: %s\n", chk_kind_name(v->kind), v->msg);
	}
	fprintf(out, "%u violation%s\n", nviol, nviol == 1 ? "" : "s");
	if (!ret && nviol)
		ret = 1;
	teardown(st);
	free(st);
	return ret;
}
