/*
 * test_fmt_traces.c — golden tests for invalidation descriptors (src/fmt/
 * desc.[ch]): encode, decode, the printer and the hardware checks, for
 * every type. The qwords come from real Linux 6.1/6.12 runs on QEMU's
 * intel-iommu (/work/shared/traces: `qi_submit` lines and QEMU's
 * vtd_inv_desc log) or are assembled by hand from the spec layouts; the
 * reserved-bit masks are QEMU's (checked against VirtualBox's spec-derived
 * header). Nothing expected is computed with the code under test.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "fmt/desc.h"
#include "fmt/regs.h"

/* The traced QEMU unit: "cap d2008c22260286 ecap f00f4e" (MAMV 18, DT, no SMTS). */
#define QEMU_CAP	0x00d2008c22260286ULL
#define QEMU_ECAP	0x0000000000f00f4eULL

/* A scalable-mode unit with device TLBs; the _FULL one adds DIT and PDS. */
#define SM_ECAP		(ECAP_QI | ECAP_DT | ECAP_SMTS | ECAP_PASID)
#define SM_ECAP_FULL	(SM_ECAP | ECAP_DIT | ECAP_PDS)

enum { NEEDS_DIT = 1, NEEDS_PDS = 2 };

struct golden {
	const char *what;
	uint64_t qw0, qw1;
	struct vtd_desc_fields f;
	unsigned needs;
};

static struct vtd_desc golden_desc(const struct golden *g)
{
	return (struct vtd_desc){ { g->qw0, g->qw1, 0, 0 } };
}

static void expect_fields(const struct vtd_desc_fields *want,
			  const struct vtd_desc_fields *seen, const char *what)
{
	bool failed_before = th_test_failed();

	EXPECT_EQ(want->type, seen->type);
	EXPECT_EQ(want->g, seen->g);
	EXPECT_EQ(want->did, seen->did);
	EXPECT_EQ(want->sid, seen->sid);
	EXPECT_EQ(want->pfsid, seen->pfsid);
	EXPECT_EQ(want->pasid, seen->pasid);
	EXPECT_EQ(want->addr, seen->addr);
	EXPECT_EQ(want->am, seen->am);
	EXPECT_EQ(want->ih, seen->ih);
	EXPECT_EQ(want->dr, seen->dr);
	EXPECT_EQ(want->dw, seen->dw);
	EXPECT_EQ(want->s, seen->s);
	EXPECT_EQ(want->qdep, seen->qdep);
	EXPECT_EQ(want->fm, seen->fm);
	EXPECT_EQ(want->iidx, seen->iidx);
	EXPECT_EQ(want->im, seen->im);
	EXPECT_EQ(want->iflag, seen->iflag);
	EXPECT_EQ(want->sw, seen->sw);
	EXPECT_EQ(want->fn, seen->fn);
	EXPECT_EQ(want->pd, seen->pd);
	EXPECT_EQ(want->sdata, seen->sdata);
	if (!failed_before && th_test_failed())
		TH_LOG("in row \"%s\"", what);
}

/* ------------------------------------------------------------ golden rows */

static const struct golden cc_rows[] = {
	{ "trace: cc_inv 0x11 (global)", 0x11, 0,
	  { .type = 1, .g = 1 } },
	{ "trace: cc_inv 0x800000031 (device 00:01.0, DID 0)", 0x800000031ULL, 0,
	  { .type = 1, .g = 3, .sid = 0x0008 } },
	{ "trace: cc_inv 0xfb00000031 (device 00:1f.3)", 0xfb00000031ULL, 0,
	  { .type = 1, .g = 3, .sid = 0x00fb } },
	{ "trace: cc_inv 0x20000000031 (device 02:00.0)", 0x20000000031ULL, 0,
	  { .type = 1, .g = 3, .sid = 0x0200 } },
	{ "hand: domain-selective DID 0x1234", 0x0000000012340021ULL, 0,
	  { .type = 1, .g = 2, .did = 0x1234 } },
	{ "hand: device ab:19.5, DID 0x55, FM 3", 0x0003abcd00550031ULL, 0,
	  { .type = 1, .g = 3, .did = 0x55, .sid = 0xabcd, .fm = 3 } },
};

static const struct golden iotlb_rows[] = {
	{ "trace: iotlb_inv 0xd2 (global, DR, DW)", 0xd2, 0,
	  { .type = 2, .g = 1, .dr = true, .dw = true } },
	{ "trace: iotlb_inv 0x200e2 (DSI DID 2, DR, DW)", 0x200e2, 0,
	  { .type = 2, .g = 2, .did = 2, .dr = true, .dw = true } },
	{ "trace: iotlb_inv 0x700f2 0xffffe001 (PSI DID 7, AM 1)", 0x700f2, 0xffffe001ULL,
	  { .type = 2, .g = 3, .did = 7, .dr = true, .dw = true, .addr = 0xffffe000ULL,
	    .am = 1 } },
	{ "trace 6.12: iotlb_inv 0x600f2 0xffffd040 (PSI DID 6, IH)", 0x600f2, 0xffffd040ULL,
	  { .type = 2, .g = 3, .did = 6, .dr = true, .dw = true, .addr = 0xffffd000ULL,
	    .ih = true } },
	{ "hand: PSI DID 0xffff, 1G at the top, AM 18 = MAMV, IH", 0x00000000ffff0032ULL,
	  0xffffffffc0000052ULL,
	  { .type = 2, .g = 3, .did = 0xffff, .addr = 0xffffffffc0000000ULL, .am = 18,
	    .ih = true } },
};

static const struct golden devtlb_rows[] = {
	{ "trace: dev_tlb_inv 0x10000000003 0xffffa000 (01:00.0, one page)",
	  0x10000000003ULL, 0xffffa000ULL,
	  { .type = 3, .sid = 0x0100, .addr = 0xffffa000ULL } },
	{ "trace: dev_tlb_inv 0x10000000003 0xffff2001 (8K)", 0x10000000003ULL, 0xffff2001ULL,
	  { .type = 3, .sid = 0x0100, .addr = 0xffff2000ULL, .s = true } },
	{ "trace: dev_tlb_inv 0x20000000003 0x7ffffffffffff001 (02:00.0, all)",
	  0x20000000003ULL, 0x7ffffffffffff001ULL,
	  { .type = 3, .sid = 0x0200, .addr = 0x7ffffffffffff000ULL, .s = true } },
	{ "hand: 02:02.0, PFSID 0xabcd, MIP 31, 64K", 0xabc00210001fd003ULL, 0x12347001ULL,
	  { .type = 3, .sid = 0x0210, .pfsid = 0xabcd, .qdep = 31, .addr = 0x12347000ULL,
	    .s = true }, NEEDS_DIT },
};

static const struct golden iec_rows[] = {
	{ "trace: iec_inv 0x4 (global)", 0x4, 0,
	  { .type = 4 } },
	{ "trace: iec_inv 0xb00000014 (index 0xb)", 0xb00000014ULL, 0,
	  { .type = 4, .g = 1, .iidx = 0xb } },
	{ "trace: iec_inv 0x1700000014 (index 0x17)", 0x1700000014ULL, 0,
	  { .type = 4, .g = 1, .iidx = 0x17 } },
	{ "hand: index 0xffff, IM 31", 0x0000fffff8000014ULL, 0,
	  { .type = 4, .g = 1, .iidx = 0xffff, .im = 31 } },
};

static const struct golden wait_rows[] = {
	{ "QEMU log: type wait high 0x5315004 low 0x200000025", 0x200000025ULL, 0x5315004ULL,
	  { .type = 5, .sw = true, .sdata = 2, .addr = 0x5315004ULL } },
	{ "hand: IF only", 0x15, 0,
	  { .type = 5, .iflag = true } },
	{ "hand: IF FN PD, data 0xdeadbeef, top dword", 0xdeadbeef000000d5ULL,
	  0xfffffffffffffffcULL,
	  { .type = 5, .iflag = true, .fn = true, .pd = true, .sdata = 0xdeadbeef,
	    .addr = 0xfffffffffffffffcULL }, NEEDS_PDS },
};

static const struct golden piotlb_rows[] = {
	{ "hand: all of PASID 0xfffff in DID 0x12", 0x000fffff00120026ULL, 0,
	  { .type = 6, .g = 2, .did = 0x12, .pasid = 0xfffff } },
	{ "hand: PSI PASID 5 DID 1, 2M, IH", 0x0000000500010036ULL, 0x00007fffffe00049ULL,
	  { .type = 6, .g = 3, .did = 1, .pasid = 5, .addr = 0x7fffffe00000ULL, .am = 9,
	    .ih = true } },
};

static const struct golden pc_rows[] = {
	{ "hand: global", 0x37, 0,
	  { .type = 7, .g = 3 } },
	{ "hand: all PASIDs of DID 5", 0x00050007ULL, 0,
	  { .type = 7, .g = 0, .did = 5 } },
	{ "hand: PASID 0x12345 of DID 0xffff", 0x00012345ffff0017ULL, 0,
	  { .type = 7, .g = 1, .did = 0xffff, .pasid = 0x12345 } },
};

static const struct golden pdevtlb_rows[] = {
	{ "hand: 02:00.0 PASID 1, one page", 0x0000000102000008ULL, 0xffffe000ULL,
	  { .type = 8, .sid = 0x0200, .pasid = 1, .addr = 0xffffe000ULL } },
	{ "hand: 01:00.0 PASID 0xabcde, all PASIDs, PFSID 0x1234, MIP 31, 32K",
	  0x123abcde010041f8ULL, 0x43801ULL,
	  { .type = 8, .sid = 0x0100, .pasid = 0xabcde, .g = 1, .pfsid = 0x1234, .qdep = 31,
	    .addr = 0x43000ULL, .s = true }, NEEDS_DIT },
};

/* -------------------------------------------------- per-type fixture */

FIXTURE(fmt_desc) {
	uint64_t ecap;		/* a unit that supports the type */
};

FIXTURE_VARIANT(fmt_desc) {
	unsigned type;
	const char *name;	/* Linux's qi_submit name */
	const struct golden *rows;
	size_t n;
	bool wide_only;
	/* QEMU's reserved masks of qw0/qw1: without, and with, ECAP.DIT and PDS */
	uint64_t rsvd[2][2];
	/* Every field the printer must name */
	const char *fields[9];
};

FIXTURE_VARIANT_ADD(fmt_desc, cc) {
	.type = 1, .name = "cc_inv", .rows = cc_rows, .n = ARRAY_SIZE(cc_rows),
	.rsvd = { { 0xfffc00000000f1c0ULL, ~0ULL }, { 0xfffc00000000f1c0ULL, ~0ULL } },
	.fields = { "g=", "did=", "sid=", "fm=" },
};

FIXTURE_VARIANT_ADD(fmt_desc, iotlb) {
	.type = 2, .name = "iotlb_inv", .rows = iotlb_rows, .n = ARRAY_SIZE(iotlb_rows),
	.rsvd = { { 0xffffffff0000f100ULL, 0xf80ULL }, { 0xffffffff0000f100ULL, 0xf80ULL } },
	.fields = { "g=", "did=", "dr=", "dw=", "addr=", "am=", "ih=" },
};

FIXTURE_VARIANT_ADD(fmt_desc, devtlb) {
	.type = 3, .name = "dev_tlb_inv", .rows = devtlb_rows, .n = ARRAY_SIZE(devtlb_rows),
	.rsvd = { { 0xffff0000ffe0f1f0ULL, 0xffeULL }, { 0x000f0000ffe001f0ULL, 0xffeULL } },
	.fields = { "sid=", "pfsid=", "qdep=", "addr=", "s=", "range=" },
};

FIXTURE_VARIANT_ADD(fmt_desc, iec) {
	.type = 4, .name = "iec_inv", .rows = iec_rows, .n = ARRAY_SIZE(iec_rows),
	.rsvd = { { 0xffff000007fff1e0ULL, ~0ULL }, { 0xffff000007fff1e0ULL, ~0ULL } },
	.fields = { "g=", "iidx=", "im=" },
};

FIXTURE_VARIANT_ADD(fmt_desc, wait) {
	.type = 5, .name = "inv_wait", .rows = wait_rows, .n = ARRAY_SIZE(wait_rows),
	.rsvd = { { 0x00000000fffff180ULL, 0x3ULL }, { 0x00000000fffff100ULL, 0x3ULL } },
	.fields = { "if=", "sw=", "fn=", "pd=", "sdata=", "saddr=" },
};

FIXTURE_VARIANT_ADD(fmt_desc, piotlb) {
	.type = 6, .name = "p_iotlb_inv", .rows = piotlb_rows, .n = ARRAY_SIZE(piotlb_rows),
	.wide_only = true,
	.rsvd = { { 0xfff000000000f1c0ULL, 0xf80ULL }, { 0xfff000000000f1c0ULL, 0xf80ULL } },
	.fields = { "g=", "did=", "pasid=", "addr=", "am=", "ih=" },
};

FIXTURE_VARIANT_ADD(fmt_desc, pc) {
	.type = 7, .name = "pc_inv", .rows = pc_rows, .n = ARRAY_SIZE(pc_rows),
	.wide_only = true,
	.rsvd = { { 0xfff000000000f1c0ULL, ~0ULL }, { 0xfff000000000f1c0ULL, ~0ULL } },
	.fields = { "g=", "did=", "pasid=" },
};

FIXTURE_VARIANT_ADD(fmt_desc, pdevtlb) {
	.type = 8, .name = "p_dev_tlb_inv", .rows = pdevtlb_rows, .n = ARRAY_SIZE(pdevtlb_rows),
	.wide_only = true,
	.rsvd = { { 0xfff000000000f000ULL, 0x7feULL }, { 0, 0x7feULL } },
	.fields = { "sid=", "pasid=", "g=", "pfsid=", "qdep=", "addr=", "s=", "range=" },
};

FIXTURE_SETUP(fmt_desc)
{
	self->ecap = SM_ECAP;
}

FIXTURE_TEARDOWN(fmt_desc)
{
}

/* The ECAP a golden row needs on top of @ecap. */
static uint64_t row_ecap(const struct golden *g, uint64_t ecap)
{
	return ecap | ((g->needs & NEEDS_DIT) ? ECAP_DIT : 0) |
	       ((g->needs & NEEDS_PDS) ? ECAP_PDS : 0);
}

TEST_F(fmt_desc, decode)
{
	for (size_t i = 0; i < variant->n; i++) {
		const struct golden *g = &variant->rows[i];
		struct vtd_desc d = golden_desc(g);
		struct vtd_desc_fields f;

		memset(&f, 0xa5, sizeof(f));
		vtd_desc_decode(&d, &f);
		expect_fields(&g->f, &f, g->what);
		EXPECT_EQ(variant->type, desc_type(&d));
	}
}

TEST_F(fmt_desc, encode)
{
	for (size_t i = 0; i < variant->n; i++) {
		const struct golden *g = &variant->rows[i];
		struct vtd_desc d = vtd_desc_encode(&g->f);

		EXPECT_EQ(g->qw0, d.qw[0]);
		EXPECT_EQ(g->qw1, d.qw[1]);
		EXPECT_EQ(0ULL, d.qw[2]);
		EXPECT_EQ(0ULL, d.qw[3]);
		if (th_test_failed()) {
			TH_LOG("in row \"%s\"", g->what);
			return;
		}
	}
}

TEST_F(fmt_desc, names)
{
	EXPECT_STREQ(variant->name, vtd_desc_type_name(variant->type));
	EXPECT_EQ(variant->wide_only, desc_type_wide_only(variant->type));
}

TEST_F(fmt_desc, format_names_every_field)
{
	for (size_t i = 0; i < variant->n; i++) {
		const struct golden *g = &variant->rows[i];
		struct vtd_desc d = golden_desc(g);
		char buf[256];
		int n = vtd_desc_format(buf, sizeof(buf), &d);

		ASSERT_GT(n, 0);
		ASSERT_LT(n, (int)sizeof(buf));
		EXPECT_EQ((size_t)n, strlen(buf));
		/* Starts with the type's name and a space. */
		EXPECT_EQ(0, strncmp(buf, variant->name, strlen(variant->name)));
		EXPECT_EQ(' ', buf[strlen(variant->name)]);
		for (size_t k = 0; k < ARRAY_SIZE(variant->fields) && variant->fields[k]; k++) {
			char key[16];

			snprintf(key, sizeof(key), " %s", variant->fields[k]);
			EXPECT_NONNULL(strstr(buf, key));
			if (th_test_failed()) {
				TH_LOG("\"%s\" lacks \"%s\"", buf, variant->fields[k]);
				return;
			}
		}
	}
}

TEST_F(fmt_desc, rsvd_masks)
{
	uint64_t base = self->ecap, full = self->ecap | ECAP_DIT | ECAP_PDS;

	EXPECT_EQ(variant->rsvd[0][0], vtd_desc_rsvd(variant->type, 0, base));
	EXPECT_EQ(variant->rsvd[0][1], vtd_desc_rsvd(variant->type, 1, base));
	EXPECT_EQ(variant->rsvd[1][0], vtd_desc_rsvd(variant->type, 0, full));
	EXPECT_EQ(variant->rsvd[1][1], vtd_desc_rsvd(variant->type, 1, full));
	/* In a 256-bit queue the upper half of every type is reserved. */
	for (int qw = 2; qw < 4; qw++) {
		EXPECT_EQ(~0ULL, vtd_desc_rsvd(variant->type, qw, base));
		EXPECT_EQ(~0ULL, vtd_desc_rsvd(variant->type, qw, full));
	}
}

TEST_F(fmt_desc, golden_rows_valid)
{
	for (size_t i = 0; i < variant->n; i++) {
		const struct golden *g = &variant->rows[i];
		struct vtd_desc d = golden_desc(g);

		/* Wide queue, scalable unit with whatever the row needs */
		EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, true, QEMU_CAP, row_ecap(g, self->ecap)));
		if (!variant->wide_only) {
			EXPECT_EQ(IQEI_NONE,
				  vtd_desc_check(&d, false, QEMU_CAP, row_ecap(g, self->ecap)));
			/* and on the traced QEMU unit, which lacks DIT and PDS */
			EXPECT_EQ(g->needs ? IQEI_RSVD : IQEI_NONE,
				  vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
		}
		if (th_test_failed()) {
			TH_LOG("in row \"%s\"", g->what);
			return;
		}
	}
}

/* Every reserved bit of qw0 and qw1, one at a time, on a valid descriptor. */
TEST_F(fmt_desc, rsvd_bits_refused)
{
	const struct golden *g = &variant->rows[0];
	unsigned tried[2] = { 0, 0 };

	ASSERT_EQ(0u, g->needs);
	for (int dit_pds = 0; dit_pds < 2; dit_pds++) {
		uint64_t ecap = self->ecap | (dit_pds ? ECAP_DIT | ECAP_PDS : 0);

		for (int qw = 0; qw < 2; qw++) {
			uint64_t mask = variant->rsvd[dit_pds][qw];

			for (unsigned b = 0; b < 64; b++) {
				struct vtd_desc d = golden_desc(g);

				if (!(mask & (1ULL << b)))
					continue;
				d.qw[qw] |= 1ULL << b;
				tried[qw]++;
				EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, true, QEMU_CAP, ecap));
				if (!variant->wide_only)
					EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, ecap));
				if (th_test_failed()) {
					TH_LOG("qw%d bit %u (ecap %#llx)", qw, b,
					       (unsigned long long)ecap);
					return;
				}
			}
		}
	}
	/* Every type has reserved bits in qw1 at least. */
	EXPECT_GT(tried[1], 0u);
}

TEST_F(fmt_desc, upper_qwords)
{
	const struct golden *g = &variant->rows[0];

	for (int qw = 2; qw < 4; qw++) {
		static const uint64_t bits[] = { 0x1ULL, 0x8000000000000000ULL, 0x1000ULL };

		for (size_t k = 0; k < ARRAY_SIZE(bits); k++) {
			struct vtd_desc d = golden_desc(g);

			d.qw[qw] = bits[k];
			EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, true, QEMU_CAP, self->ecap));
			/* A 128-bit queue never looks past qw1. */
			if (!variant->wide_only)
				EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, false, QEMU_CAP, self->ecap));
		}
	}
}

/* ----------------------------------------------------- single-rule tests */

static struct vtd_desc desc2(uint64_t qw0, uint64_t qw1)
{
	return (struct vtd_desc){ { qw0, qw1, 0, 0 } };
}

TEST(fmt_desc_type_values)
{
	EXPECT_EQ(1, DESC_CC);
	EXPECT_EQ(2, DESC_IOTLB);
	EXPECT_EQ(3, DESC_DEVTLB);
	EXPECT_EQ(4, DESC_IEC);
	EXPECT_EQ(5, DESC_WAIT);
	EXPECT_EQ(6, DESC_PIOTLB);
	EXPECT_EQ(7, DESC_PC);
	EXPECT_EQ(8, DESC_PDEVTLB);
	EXPECT_EQ(9, DESC_PGRP_RESP);
	EXPECT_EQ(1, CC_G_GLOBAL);
	EXPECT_EQ(3, CC_G_DEVICE);
	EXPECT_EQ(2, IOTLB_G_DSI);
	EXPECT_EQ(3, IOTLB_G_PSI);
	EXPECT_EQ(2, PIOTLB_G_PASID);
	EXPECT_EQ(3, PIOTLB_G_PSI);
	EXPECT_EQ(0, PC_G_DOMAIN);
	EXPECT_EQ(1, PC_G_PASID);
	EXPECT_EQ(3, PC_G_GLOBAL);
	/* Type is qw0[3:0] with Type[6:4] in qw0[11:9] (QEMU VTD_INV_DESC_TYPE). */
	EXPECT_EQ(0x0000000000000e0fULL, DESC_TYPE_LO | DESC_TYPE_HI);
	struct vtd_desc d = desc2(0x202, 0);

	EXPECT_EQ(0x12u, desc_type(&d));
	d = desc2(0xe05, 0);
	EXPECT_EQ(0x75u, desc_type(&d));
	d = desc2(0xfffffffffffff1f2ULL, 0);
	EXPECT_EQ(0x02u, desc_type(&d));
}

TEST(fmt_desc_type_names)
{
	/* Linux's qi_submit tracepoint names */
	EXPECT_STREQ("cc_inv", vtd_desc_type_name(1));
	EXPECT_STREQ("iotlb_inv", vtd_desc_type_name(2));
	EXPECT_STREQ("dev_tlb_inv", vtd_desc_type_name(3));
	EXPECT_STREQ("iec_inv", vtd_desc_type_name(4));
	EXPECT_STREQ("inv_wait", vtd_desc_type_name(5));
	EXPECT_STREQ("p_iotlb_inv", vtd_desc_type_name(6));
	EXPECT_STREQ("pc_inv", vtd_desc_type_name(7));
	EXPECT_STREQ("p_dev_tlb_inv", vtd_desc_type_name(8));
	EXPECT_STREQ("page_grp_resp", vtd_desc_type_name(9));
	EXPECT_STREQ("unknown", vtd_desc_type_name(0));
	EXPECT_STREQ("unknown", vtd_desc_type_name(11));
	EXPECT_STREQ("unknown", vtd_desc_type_name(0x12));
	EXPECT_STREQ("unknown", vtd_desc_type_name(~0u));
	for (unsigned t = 1; t <= 5; t++)
		EXPECT_FALSE(desc_type_wide_only(t));
}

TEST(fmt_desc_format_exact)
{
	static const struct {
		uint64_t qw0, qw1;
		const char *text;
	} rows[] = {
		{ 0x700f2, 0xffffe001ULL,
		  "iotlb_inv g=psi did=0x7 dr=1 dw=1 addr=0xffffe000 am=1 ih=0" },
		{ 0x600f2, 0xffffd040ULL,
		  "iotlb_inv g=psi did=0x6 dr=1 dw=1 addr=0xffffd000 am=0 ih=1" },
		{ 0x200e2, 0, "iotlb_inv g=dsi did=0x2 dr=1 dw=1 addr=0 am=0 ih=0" },
		{ 0xd2, 0, "iotlb_inv g=global did=0 dr=1 dw=1 addr=0 am=0 ih=0" },
		{ 0x800000031ULL, 0, "cc_inv g=device did=0 sid=00:01.0 fm=0" },
		{ 0x11, 0, "cc_inv g=global did=0 sid=00:00.0 fm=0" },
		{ 0x0003abcd00550031ULL, 0, "cc_inv g=device did=0x55 sid=ab:19.5 fm=3" },
		{ 0x10000000003ULL, 0xffff2001ULL,
		  "dev_tlb_inv sid=01:00.0 pfsid=0 qdep=0 addr=0xffff2000 s=1 range=0xffff2000+0x2000" },
		{ 0x10000000003ULL, 0xffffa000ULL,
		  "dev_tlb_inv sid=01:00.0 pfsid=0 qdep=0 addr=0xffffa000 s=0 range=0xffffa000+0x1000" },
		{ 0xb00000014ULL, 0, "iec_inv g=index iidx=0xb im=0" },
		{ 0x4, 0, "iec_inv g=global iidx=0 im=0" },
		{ 0x200000025ULL, 0x5315004ULL,
		  "inv_wait if=0 sw=1 fn=0 pd=0 sdata=0x2 saddr=0x5315004" },
		{ 0x0000000500010036ULL, 0x00007fffffe00049ULL,
		  "p_iotlb_inv g=psi did=0x1 pasid=0x5 addr=0x7fffffe00000 am=9 ih=1" },
		{ 0x00012345ffff0017ULL, 0, "pc_inv g=pasid did=0xffff pasid=0x12345" },
		{ 0x123abcde010041f8ULL, 0x43801ULL,
		  "p_dev_tlb_inv sid=01:00.0 pasid=0xabcde g=1 pfsid=0x1234 qdep=31 addr=0x43000 s=1 "
		  "range=0x40000+0x8000" },
		{ 0x9, 0, "page_grp_resp type=9 qw0=0x9 qw1=0" },
		{ 0x0, 0x1234, "unknown type=0 qw0=0 qw1=0x1234" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct vtd_desc d = desc2(rows[i].qw0, rows[i].qw1);
		char buf[256];
		int n = vtd_desc_format(buf, sizeof(buf), &d);

		EXPECT_STREQ(rows[i].text, buf);
		EXPECT_EQ((int)strlen(rows[i].text), n);
	}
}

TEST(fmt_desc_format_truncates)
{
	struct vtd_desc d = desc2(0x700f2, 0xffffe001ULL);
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	/* snprintf semantics: the full length back, a terminated prefix */
	EXPECT_EQ(59, vtd_desc_format(buf, sizeof(buf), &d));
	EXPECT_STREQ("iotlb_i", buf);
	EXPECT_EQ(59, vtd_desc_format(NULL, 0, &d));
}

TEST(fmt_desc_trace_devtlb_by_hand)
{
	/* dev_tlb_inv dmar0: 0x10000000003 0xffff2001 — decoded by hand:
	 * type 3; qw0[20:16] MIP = 0 (Linux sends 0 for a queue depth of 32);
	 * SID = qw0[47:32] = 0x0100 = 01:00.0 (the virtio-blk behind its root
	 * port); PFSID 0 (QEMU has no DIT); qw1 bit 0 S = 1 and ADDR bit 12
	 * clear, so 2 pages: [0xffff2000, 0xffff4000). */
	struct vtd_desc d = desc2(0x10000000003ULL, 0xffff2001ULL);
	struct vtd_desc_fields f;
	uint64_t base, size;

	vtd_desc_decode(&d, &f);
	EXPECT_EQ(3u, f.type);
	EXPECT_EQ(0u, f.qdep);
	EXPECT_EQ(0x0100u, f.sid);
	EXPECT_EQ(0u, f.pfsid);
	EXPECT_TRUE(f.s);
	devtlb_range_decode(f.addr, f.s, &base, &size);
	EXPECT_EQ(0xffff2000ULL, base);
	EXPECT_EQ(0x2000ULL, size);
	EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
}

/* Distinct descriptors of the captured runs; QEMU processed every one. */
TEST(fmt_desc_trace_all_accepted)
{
	static const uint64_t trace[][2] = {
		{ 0x600f2, 0xffffd000 }, { 0x600f2, 0xffffa040 }, { 0x600f2, 0xffff2001 },
		{ 0x700f2, 0xffeb9000 }, { 0x700f2, 0xffeb9040 }, { 0x700f2, 0xffffe001 },
		{ 0x700e2, 0 }, { 0x600e2, 0 }, { 0x500e2, 0 }, { 0x400e2, 0 }, { 0x300e2, 0 },
		{ 0x200e2, 0 }, { 0xd2, 0 },
		{ 0x10000000003, 0xffffd000 }, { 0x10000000003, 0xffff2001 },
		{ 0x20000000003, 0xffeb9000 }, { 0x20000000003, 0x7ffffffffffff001 },
		{ 0x10000000003, 0x7ffffffffffff001 },
		{ 0x4, 0 }, { 0x14, 0 }, { 0xb00000014, 0 }, { 0x1500000014, 0 },
		{ 0x800000014, 0 },
		{ 0x11, 0 }, { 0x31, 0 }, { 0x800000031, 0 }, { 0xf800000031, 0 },
		{ 0xfa00000031, 0 }, { 0xfb00000031, 0 }, { 0x1000000031, 0 },
		{ 0x10000000031, 0 }, { 0x20000000031, 0 },
		{ 0x200000025, 0x5315004 }, { 0x200000025, 0x52fb554 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(trace); i++) {
		struct vtd_desc d = desc2(trace[i][0], trace[i][1]);

		EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
		if (th_test_failed()) {
			TH_LOG("%#llx %#llx", (unsigned long long)trace[i][0],
			       (unsigned long long)trace[i][1]);
			return;
		}
	}
}

TEST(fmt_desc_check_granularity)
{
	/* context-cache G=0, IOTLB G=0: reserved */
	struct vtd_desc d = desc2(0x01, 0);

	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	d = desc2(0x02, 0);
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	d = desc2(0x00020002ULL, 0);	/* G=0 with a DID */
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	for (unsigned g = 1; g <= 3; g++) {
		d = desc2(0x01 | g << 4, 0);
		EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
		d = desc2(0x02 | g << 4, 0);
		EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	}
	/* PASID-IOTLB: only 2 and 3 */
	static const enum iqei piotlb[4] = { IQEI_RSVD, IQEI_RSVD, IQEI_NONE, IQEI_NONE };
	/* PASID-cache: 2 reserved */
	static const enum iqei pc[4] = { IQEI_NONE, IQEI_NONE, IQEI_RSVD, IQEI_NONE };

	for (unsigned g = 0; g <= 3; g++) {
		d = desc2(0x00050006ULL | g << 4, 0);
		EXPECT_EQ(piotlb[g], vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP));
		d = desc2(0x00050007ULL | g << 4, 0);
		EXPECT_EQ(pc[g], vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP));
	}
}

TEST(fmt_desc_check_mamv)
{
	/* QEMU's CAP.MAMV is 18: a PSI of 2^18 pages is fine, 2^19 is not. */
	struct vtd_desc d = desc2(0x700f2, 0xc0000012ULL);

	EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	d = desc2(0x700f2, 0x80000013ULL);
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	d = desc2(0x700f2, 0x3fULL);
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
}

TEST(fmt_desc_check_unknown_types)
{
	/* 0, the page responses (no ECAP.PRS), 11..15, and Type[6:4] != 0 */
	static const uint64_t qw0[] = {
		0x0, 0x9, 0xa, 0xb, 0xf, 0x200, 0x202, 0x205, 0xe01, 0x400 | 0x7,
	};

	for (size_t i = 0; i < ARRAY_SIZE(qw0); i++) {
		struct vtd_desc d = desc2(qw0[i], 0);

		EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
		EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP_FULL));
		if (th_test_failed()) {
			TH_LOG("qw0 %#llx", (unsigned long long)qw0[i]);
			return;
		}
	}
}

TEST(fmt_desc_check_wide_type_in_narrow_queue)
{
	/*
	 * A 256-bit type in a 128-bit queue, on a unit that supports it:
	 * refused as an invalid type (desc.h: IQEI_WIDTH is kept for
	 * IQA.DW=1 on a unit without scalable mode).
	 */
	struct vtd_desc d = desc2(0x000fffff00120026ULL, 0);

	EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, false, QEMU_CAP, SM_ECAP_FULL));
	d = desc2(0x37, 0);
	EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, false, QEMU_CAP, SM_ECAP_FULL));
	d = desc2(0x0000000102000008ULL, 0xffffe000ULL);
	EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, false, QEMU_CAP, SM_ECAP_FULL));
	/* The same three in a 256-bit queue */
	EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP_FULL));
}

TEST(fmt_desc_check_needs_dt)
{
	struct vtd_desc d = desc2(0x10000000003ULL, 0xffffa000ULL);

	EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP & ~ECAP_DT));
	EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP_FULL & ~ECAP_DT));
	d = desc2(0x0000000102000008ULL, 0xffffe000ULL);
	EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP_FULL & ~ECAP_DT));
}

TEST(fmt_desc_check_needs_smts)
{
	static const uint64_t qw0[] = {
		0x000fffff00120026ULL, 0x37, 0x0000000102000008ULL,
	};

	for (size_t i = 0; i < ARRAY_SIZE(qw0); i++) {
		struct vtd_desc d = desc2(qw0[i], 0);

		EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, true, QEMU_CAP, QEMU_ECAP));
		EXPECT_EQ(IQEI_TYPE, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP_FULL & ~ECAP_SMTS));
	}
}

TEST(fmt_desc_check_pfsid_needs_dit)
{
	/* PFSID 0x0101 in bits 15:12 and 63:52 (Linux QI_DEV_IOTLB_PFSID) */
	struct vtd_desc d = desc2(0x0100010000001003ULL, 0xffffa000ULL);

	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP));
	EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP | ECAP_DIT));
	EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP | ECAP_DIT));
	/* Only the high part, or only the low part */
	d = desc2(0x0010010000000003ULL, 0);
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	d = desc2(0x0000010000001003ULL, 0);
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	/* PASID-based: same PFSID rule */
	d = desc2(0x0010000102001008ULL, 0);
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP));
	EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP | ECAP_DIT));
}

TEST(fmt_desc_check_pd_needs_pds)
{
	/* the traced wait, plus PD (bit 7) */
	struct vtd_desc d = desc2(0x2000000a5ULL, 0x5315004ULL);

	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP));
	EXPECT_EQ(IQEI_NONE, vtd_desc_check(&d, true, QEMU_CAP, SM_ECAP | ECAP_PDS));
	/* Status address must be dword aligned. */
	d = desc2(0x200000025ULL, 0x5315006ULL);
	EXPECT_EQ(IQEI_RSVD, vtd_desc_check(&d, false, QEMU_CAP, QEMU_ECAP));
}
