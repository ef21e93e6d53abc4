/*
 * demo.c — `vtdkit demo`: what a VT-d driver does, done by hand on the
 * bare model (registers, memory, DMA; no driver), to show why an IOTLB
 * invalidation is needed. Every step checks what the specification says
 * must happen; the first surprise ends the demo with exit status 1.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "fmt/desc.h"
#include "fmt/entry.h"
#include "fmt/fault.h"
#include "fmt/pte.h"
#include "fmt/regs.h"
#include "model/model.h"
#include "demo.h"

/* Guest-physical layout: tables, the queue, the status word, two pages. */
#define ROOT	0x10000ULL
#define CTX	0x11000ULL
#define PML4	0x12000ULL
#define PDPT	0x13000ULL
#define PD	0x14000ULL
#define PT	0x15000ULL
#define IQ	0x20000ULL
#define STATUS	0x21000ULL
#define PAGE_A	0x100000ULL
#define PAGE_B	0x101000ULL
#define IOVA	0xabc000ULL
#define SID	0x0008		/* 00:01.0 */
#define DID	1
#define POLLS	1000		/* handshake and wait polls before giving up */
/* GCMD bits that are one-shot commands, not state to preserve (10.4.4). */
#define GCMD_ONESHOT	(GCMD_SRTP | GCMD_SFL | GCMD_WBF | GCMD_SIRTP)

struct demo {
	struct vtdm *m;
	FILE *out;
	uint64_t base;		/* the unit's registers */
	unsigned tail;		/* next free queue slot */
	uint32_t token;		/* last wait status value */
	bool ok;
};

static bool check(struct demo *d, bool cond, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool check(struct demo *d, bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond || !d->ok)
		return cond && d->ok;
	fputs("    FAILED: ", d->out);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	fputc('\n', d->out);
	d->ok = false;
	return false;
}

static uint64_t rd64(struct demo *d, uint64_t addr)
{
	uint64_t v = 0;

	check(d, vtdm_read64(d->m, addr, &v) == 0, "read of 0x%" PRIx64 " failed", addr);
	return v;
}

static uint32_t rd32(struct demo *d, uint64_t addr)
{
	uint32_t v = 0;

	check(d, vtdm_read32(d->m, addr, &v) == 0, "read of 0x%" PRIx64 " failed", addr);
	return v;
}

static void wr64(struct demo *d, uint64_t addr, uint64_t v)
{
	check(d, vtdm_write64(d->m, addr, v) == 0, "write of 0x%" PRIx64 " failed", addr);
}

static uint64_t counter(struct demo *d, const char *name)
{
	uint64_t v = 0;

	check(d, vtdm_stat(d->m, name, &v) == 0, "no counter '%s'", name);
	return v;
}

/*
 * Set one GCMD bit, keeping the enables already on, and poll GSTS until
 * the unit reports it (10.4.4).
 */
static void gcmd(struct demo *d, uint32_t bit, const char *what)
{
	uint32_t sts = rd32(d, d->base + DMAR_GSTS_REG) & ~(uint32_t)GCMD_ONESHOT;
	int i;

	check(d, vtdm_write32(d->m, d->base + DMAR_GCMD_REG, sts | bit) == 0,
	      "GCMD write failed");
	for (i = 0; i < POLLS && !(rd32(d, d->base + DMAR_GSTS_REG) & bit); i++)
		vtdm_clock_step(d->m, 100);
	check(d, i < POLLS, "GSTS never reported %s", what);
}

static void qi_push(struct demo *d, const struct vtd_desc_fields *f)
{
	struct vtd_desc desc = vtd_desc_encode(f);
	char text[160];

	vtd_desc_format(text, sizeof(text), &desc);
	fprintf(d->out, "      queue[%u]: %s\n", d->tail, text);
	wr64(d, IQ + 16 * d->tail, desc.qw[0]);
	wr64(d, IQ + 16 * d->tail + 8, desc.qw[1]);
	d->tail = (d->tail + 1) % 256;
}

/* Append a wait descriptor, move IQT, and poll its status write (6.5.2.8). */
static void qi_sync(struct demo *d)
{
	struct vtd_desc_fields w = { .type = DESC_WAIT, .sw = true, .sdata = ++d->token,
				     .addr = STATUS };
	int i;

	qi_push(d, &w);
	wr64(d, d->base + DMAR_IQT_REG, FIELD_PREP(IQ_PTR, d->tail));
	for (i = 0; i < POLLS && rd32(d, STATUS) != d->token; i++)
		vtdm_clock_step(d->m, 100);
	check(d, i < POLLS, "the wait never wrote its status 0x%x", d->token);
	check(d, !(rd32(d, d->base + DMAR_FSTS_REG) & FSTS_IQE), "FSTS.IQE: a descriptor was refused");
	fprintf(d->out, "      status word 0x%" PRIx64 " = %u after %d polls\n",
		(uint64_t)STATUS, d->token, i);
}

static void psi(struct demo *d)
{
	struct vtd_desc_fields f = { .type = DESC_IOTLB, .g = IOTLB_G_PSI, .did = DID,
				     .addr = IOVA, .am = 0, .dr = true, .dw = true };
	qi_push(d, &f);
	qi_sync(d);
}

/* A 32-byte DMA read by the device; returns vtdm_dma's result. */
static int dma(struct demo *d, char *buf, struct vtdm_xlate *x)
{
	memset(buf, 0, 33);
	memset(x, 0, sizeof(*x));
	return vtdm_dma(d->m, SID, VTD_NO_PASID, IOVA, buf, 32, false, x);
}

static void show_counters(void *ctx, const char *name, uint64_t val)
{
	/* Machine-wide sums only; the per-unit copies repeat them. */
	if (val && strncmp(name, "dmar", 4) && strncmp(name, "dev.", 4))
		fprintf(ctx, "    %-20s %" PRIu64 "\n", name, val);
}

static void run(struct demo *d)
{
	uint64_t cap, ecap, miss, fill, hit, pte = PT + 8 * pt_index(IOVA, 1);
	struct vtdm_xlate x;
	char buf[33];

	fprintf(d->out, "[1] The unit's registers at 0x%" PRIx64 ":\n", d->base);
	cap = rd64(d, d->base + DMAR_CAP_REG);
	ecap = rd64(d, d->base + DMAR_ECAP_REG);
	fprintf(d->out, "    VER 0x%x  CAP 0x%" PRIx64 "  ECAP 0x%" PRIx64 "\n",
		rd32(d, d->base + DMAR_VER_REG), cap, ecap);
	if (!check(d, (ecap & ECAP_QI) && (cap & CAP_PSI) && (FIELD_GET(CAP_SAGAW, cap) & SAGAW_4LVL),
		   "the unit lacks QI, PSI or 4-level tables"))
		return;

	fputs("[2] Queued invalidation: IQA = 0x20000 (256 slots), GCMD.QIE, poll GSTS.QIES\n",
	      d->out);
	wr64(d, d->base + DMAR_IQA_REG, IQ | FIELD_PREP(IQA_QS, 0));
	gcmd(d, GCMD_QIE, "QIES");

	fputs("[3] Tables in memory: root[0] -> context[00:01.0] (domain 1, 4-level)\n"
	      "    -> PML4 -> PDPT -> PD -> PT; IOVA 0xabc000 -> page A 0x100000, read/write\n",
	      d->out);
	check(d, vtdm_write(d->m, PAGE_A, "page A: the page first mapped", 30) == 0 &&
		 vtdm_write(d->m, PAGE_B, "page B: the page mapped later", 30) == 0,
	      "cannot write the data pages");
	wr64(d, ROOT, CTX | ROOT_P);
	wr64(d, CTX + 16 * (SID & 0xff), PML4 | CTX_P);
	wr64(d, CTX + 16 * (SID & 0xff) + 8,
	     FIELD_PREP(CTX_AW, levels_to_aw(4)) | FIELD_PREP(CTX_DID, DID));
	wr64(d, PML4 + 8 * pt_index(IOVA, 4), PDPT | SSPTE_R | SSPTE_W);
	wr64(d, PDPT + 8 * pt_index(IOVA, 3), PD | SSPTE_R | SSPTE_W);
	wr64(d, PD + 8 * pt_index(IOVA, 2), PT | SSPTE_R | SSPTE_W);
	wr64(d, pte, PAGE_A | SSPTE_R | SSPTE_W);

	fputs("[4] RTADDR, GCMD.SRTP; global context-cache and IOTLB invalidation; GCMD.TE\n",
	      d->out);
	wr64(d, d->base + DMAR_RTADDR_REG, ROOT);
	gcmd(d, GCMD_SRTP, "RTPS");
	qi_push(d, &(struct vtd_desc_fields){ .type = DESC_CC, .g = CC_G_GLOBAL });
	qi_push(d, &(struct vtd_desc_fields){ .type = DESC_IOTLB, .g = IOTLB_G_GLOBAL,
					      .dr = true, .dw = true });
	qi_sync(d);
	gcmd(d, GCMD_TE, "TES");
	if (!d->ok)
		return;

	fputs("[5] The device reads 32 bytes at IOVA 0xabc000: a walk fills the IOTLB\n", d->out);
	miss = counter(d, "iotlb.miss");
	fill = counter(d, "iotlb.fill");
	if (!check(d, dma(d, buf, &x) == 0, "DMA faulted, reason 0x%02x", x.fault))
		return;
	fprintf(d->out, "    read \"%s\" from 0x%" PRIx64 "; iotlb.miss +%" PRIu64
		", iotlb.fill +%" PRIu64 "\n", buf, x.pa, counter(d, "iotlb.miss") - miss,
		counter(d, "iotlb.fill") - fill);
	if (!check(d, x.pa == PAGE_A && !strncmp(buf, "page A", 6), "expected page A") ||
	    !check(d, counter(d, "iotlb.fill") > fill, "the IOTLB was not filled"))
		return;

	fputs("[6] Software points the PTE at page B 0x101000 and does not invalidate.\n"
	      "    The IOTLB may keep the old translation until it is invalidated (VT-d 6.5),\n"
	      "    and the adversarial profile does:\n", d->out);
	wr64(d, pte, PAGE_B | SSPTE_R | SSPTE_W);
	hit = counter(d, "iotlb.hit");
	if (!check(d, dma(d, buf, &x) == 0, "DMA faulted, reason 0x%02x", x.fault))
		return;
	fprintf(d->out, "    read \"%s\" from 0x%" PRIx64 "; iotlb.hit +%" PRIu64 "%s\n",
		buf, x.pa, counter(d, "iotlb.hit") - hit, x.pa == PAGE_A ? "  <- stale" : "");
	if (!check(d, x.pa == PAGE_A && !strncmp(buf, "page A", 6),
		   "adversarial caching should still translate to page A"))
		return;

	fputs("[7] Page-selective IOTLB invalidation of that page, then a wait:\n", d->out);
	psi(d);
	if (!check(d, dma(d, buf, &x) == 0, "DMA faulted, reason 0x%02x", x.fault))
		return;
	fprintf(d->out, "    read \"%s\" from 0x%" PRIx64 "%s\n", buf, x.pa,
		x.pa == PAGE_B ? "  <- the new page" : "");
	if (!check(d, x.pa == PAGE_B && !strncmp(buf, "page B", 6), "expected page B"))
		return;

	fputs("[8] Unmap: clear the PTE, invalidate the page again, and retry:\n", d->out);
	wr64(d, pte, 0);
	psi(d);
	if (!check(d, dma(d, buf, &x) == 1, "the DMA through a cleared PTE did not fault"))
		return;
	fprintf(d->out, "    fault reason 0x%02x (%s),\n    %s; FSTS 0x%x\n", x.fault,
		vtd_fault_name((unsigned)x.fault) ? vtd_fault_name((unsigned)x.fault) : "?",
		x.recorded ? "recorded in a fault-recording register" : "not recorded",
		rd32(d, d->base + DMAR_FSTS_REG));
	check(d, x.fault == FR_READ && x.recorded,
	      "expected a recorded fault 0x%02x (read without read permission)", FR_READ);
}

int demo_run(FILE *out)
{
	struct vtdm_machine_cfg mcfg;
	struct vtdm_unit_cfg ucfg;
	struct vtdm_dev_cfg dcfg;
	struct demo d = { .out = out, .base = vtdm_unit_base(0), .ok = true };

	vtdm_machine_cfg_default(&mcfg);
	vtdm_unit_cfg_default(&ucfg);
	ucfg.caching = VTDM_ADVERSARIAL;
	vtdm_dev_cfg_default(&dcfg);
	dcfg.sid = SID;
	dcfg.unit = 0;
	fputs("vtdkit demo: one VT-d remapping unit (legacy mode, adversarial caching) and\n"
	      "one device, 00:01.0, programmed by hand through registers and memory.\n\n", out);
	d.m = vtdm_create(&mcfg);
	if (!d.m || vtdm_add_unit(d.m, &ucfg) < 0 || vtdm_add_device(d.m, &dcfg) < 0) {
		fputs("FAILED: cannot build the machine\n", out);
		vtdm_destroy(d.m);
		return 1;
	}
	run(&d);
	fputs("\nCounters (all units):\n", out);
	vtdm_stats_foreach(d.m, show_counters, out);
	fprintf(out, "\n%s\n", d.ok ? "Every step behaved as the specification says."
				    : "The demo stopped at the failed step above.");
	vtdm_destroy(d.m);
	return d.ok ? 0 : 1;
}
