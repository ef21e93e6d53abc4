/*
 * test_bench_trace.c — the trace reader (src/bench/trace.[ch]): every event
 * kind from small inline texts, the error policy (unknown, malformed,
 * truncated, CRLF), and the counts of the real captures in ../shared/traces
 * pinned to the table of its README (checked there with grep -c, not
 * computed by the reader). The captures' tests skip when the directory is
 * missing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "bench/trace.h"
#include "bench/tracedat.h"

#define TRACES_DIR "../shared/traces/"

/* ---- helpers: _op() returns a status, op() asserts it ---- */

static int read_bytes_op(const char *text, size_t len, struct trace_summary *s)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int rc;

	if (!f)
		return -errno;
	rc = trace_read(f, s);
	fclose(f);
	return rc;
}

static void read_text(const char *text, struct trace_summary *s)
{
	ASSERT_EQ(0, read_bytes_op(text, strlen(text), s));
}

/* Parse one line that must be an event of @kind. */
static void parse_event(const char *line, enum trace_ev kind, struct trace_event *ev)
{
	struct trace_diag d;
	enum trace_line rc = trace_parse_line(line, 7, ev, &d);

	if (rc != TRACE_LINE_EVENT)
		TH_LOG("line \"%s\": %s", line, d.msg);
	ASSERT_EQ(TRACE_LINE_EVENT, rc);
	ASSERT_EQ(kind, ev->kind);
	EXPECT_EQ(7, ev->line);
}

/* Parse one line that must be malformed; return its message. */
static const char *parse_malformed(const char *line, struct trace_diag *d)
{
	struct trace_event ev;

	ASSERT_EQ(TRACE_LINE_MALFORMED, trace_parse_line(line, 1, &ev, d));
	return d->msg;
}

#define PFX "          insmod-143     [000] d..1.     6.222144: "

/* ---- every event kind, with its fields ---- */

TEST(trace_map_fields)
{
	struct trace_event ev;

	parse_event(PFX "map: IOMMU: iova=0x00000000ffffe000 - 0x0000000100000000 "
		    "paddr=0x0000000036795000 size=8192", TEV_MAP, &ev);
	EXPECT_EQ(0xffffe000ULL, ev.map.iova);
	EXPECT_EQ(0x100000000ULL, ev.map.end);
	EXPECT_EQ(0x36795000ULL, ev.map.paddr);
	EXPECT_EQ(8192, ev.map.size);
	EXPECT_STREQ("insmod", ev.task);
	EXPECT_EQ(143, ev.pid);
	EXPECT_EQ(0, ev.cpu);
	EXPECT_EQ(6222144000ULL, ev.ts_ns);
	EXPECT_FALSE(ev.qemu);
}

TEST(trace_unmap_fields)
{
	struct trace_event ev;

	parse_event(PFX "unmap: IOMMU: iova=0x00000000ffffa000 - 0x00000000ffffb000 "
		    "size=4096 unmapped_size=4096", TEV_UNMAP, &ev);
	EXPECT_EQ(0xffffa000ULL, ev.unmap.iova);
	EXPECT_EQ(0xffffb000ULL, ev.unmap.end);
	EXPECT_EQ(4096, ev.unmap.size);
	EXPECT_EQ(4096, ev.unmap.unmapped);
}

TEST(trace_attach_and_group_fields)
{
	struct trace_event ev;

	parse_event("            init-1       [000] .N...     2.423473: attach_device_to_domain: "
		    "IOMMU: device=0000:00:01.0", TEV_ATTACH, &ev);
	EXPECT_STREQ("0000:00:01.0", ev.dev.dev);
	EXPECT_STREQ("init", ev.task);
	EXPECT_EQ(1, ev.pid);
	parse_event("            init-1       [000] .....     2.436942: add_device_to_group: "
		    "IOMMU: groupID=12 device=0000:02:00.0", TEV_GROUP, &ev);
	EXPECT_EQ(12, ev.dev.group);
	EXPECT_STREQ("0000:02:00.0", ev.dev.dev);
}

/* One qi_submit line per type Linux wrote in the captures, decoded. */
TEST(trace_qi_submit_every_type)
{
	struct trace_event ev;

	parse_event(PFX "qi_submit: iotlb_inv dmar0: 0x700f2 0xffffe001 0x0 0x0",
		    TEV_QI_SUBMIT, &ev);
	EXPECT_STREQ("dmar0", ev.desc.unit);
	EXPECT_EQ(0x700f2, ev.desc.d.qw[0]);
	EXPECT_EQ(0xffffe001ULL, ev.desc.d.qw[1]);
	EXPECT_EQ(DESC_IOTLB, ev.desc.f.type);
	EXPECT_EQ(IOTLB_G_PSI, ev.desc.f.g);
	EXPECT_EQ(7, ev.desc.f.did);
	EXPECT_EQ(1, ev.desc.f.am);
	EXPECT_EQ(0xffffe000ULL, ev.desc.f.addr);

	parse_event(PFX "qi_submit: iotlb_inv dmar0: 0x200e2 0x0 0x0 0x0", TEV_QI_SUBMIT, &ev);
	EXPECT_EQ(IOTLB_G_DSI, ev.desc.f.g);
	EXPECT_EQ(2, ev.desc.f.did);
	parse_event(PFX "qi_submit: iotlb_inv dmar0: 0xd2 0x0 0x0 0x0", TEV_QI_SUBMIT, &ev);
	EXPECT_EQ(IOTLB_G_GLOBAL, ev.desc.f.g);

	parse_event(PFX "qi_submit: dev_tlb_inv dmar0: 0x10000000003 0xffff2001 0x0 0x0",
		    TEV_QI_SUBMIT, &ev);
	EXPECT_EQ(DESC_DEVTLB, ev.desc.f.type);
	EXPECT_EQ(0x0100, ev.desc.f.sid);
	EXPECT_TRUE(ev.desc.f.s);

	parse_event(PFX "qi_submit: cc_inv dmar0: 0x800000031 0x0 0x0 0x0", TEV_QI_SUBMIT, &ev);
	EXPECT_EQ(DESC_CC, ev.desc.f.type);
	EXPECT_EQ(CC_G_DEVICE, ev.desc.f.g);
	EXPECT_EQ(0x0008, ev.desc.f.sid);

	parse_event(PFX "qi_submit: iec_inv dmar0: 0xb00000014 0x0 0x0 0x0", TEV_QI_SUBMIT, &ev);
	EXPECT_EQ(DESC_IEC, ev.desc.f.type);
	EXPECT_EQ(1, ev.desc.f.g);
	EXPECT_EQ(0xb, ev.desc.f.iidx);
}

TEST(trace_cache_tag_fields)
{
	struct trace_event ev;

	parse_event(PFX "cache_tag_assign: dmar0/dmar0 type iotlb did 2 pasid 0 ref 1",
		    TEV_TAG_ASSIGN, &ev);
	EXPECT_STREQ("dmar0", ev.tag.unit);
	EXPECT_STREQ("dmar0", ev.tag.dev);
	EXPECT_STREQ("iotlb", ev.tag.type);
	EXPECT_EQ(2, ev.tag.did);
	EXPECT_EQ(0, ev.tag.pasid);
	EXPECT_EQ(1, ev.tag.ref);
	parse_event(PFX "cache_tag_unassign: dmar0/0000:01:00.0 type devtlb did 6 pasid 3 ref 0",
		    TEV_TAG_UNASSIGN, &ev);
	EXPECT_STREQ("0000:01:00.0", ev.tag.dev);
	EXPECT_STREQ("devtlb", ev.tag.type);
	EXPECT_EQ(3, ev.tag.pasid);
	EXPECT_EQ(0, ev.tag.ref);
	parse_event(PFX "cache_tag_flush_all: dmar0/0000:01:00.0 type devtlb did 6 pasid 0 ref 1",
		    TEV_TAG_FLUSH_ALL, &ev);
	EXPECT_EQ(6, ev.tag.did);

	parse_event(PFX "cache_tag_flush_range: dmar0 0000:01:00.0[0] type devtlb did 6 "
		    "[0xffffa000-0xffffafff] addr 0xffffa000 pages 0x1 mask 0x0",
		    TEV_TAG_FLUSH_RANGE, &ev);
	EXPECT_STREQ("dmar0", ev.tag.unit);
	EXPECT_STREQ("0000:01:00.0", ev.tag.dev);
	EXPECT_EQ(0, ev.tag.pasid);
	EXPECT_EQ(0xffffa000ULL, ev.tag.start);
	EXPECT_EQ(0xffffafffULL, ev.tag.last);
	EXPECT_EQ(0xffffa000ULL, ev.tag.addr);
	EXPECT_EQ(1, ev.tag.pages);
	EXPECT_EQ(0, ev.tag.mask);
	parse_event(PFX "cache_tag_flush_range_np: dmar0 dmar0[0] type iotlb did 7 "
		    "[0xffffe000-0xffffffff] addr 0xffffe000 pages 0x2 mask 0x1",
		    TEV_TAG_FLUSH_RANGE_NP, &ev);
	EXPECT_STREQ("iotlb", ev.tag.type);
	EXPECT_EQ(2, ev.tag.pages);
	EXPECT_EQ(1, ev.tag.mask);
}

TEST(trace_mark_text)
{
	struct trace_event ev;

	parse_event("            init-1       [000] .....     5.923127: tracing_mark_write: "
		    "INIT: init start kernel 6.12.117+deb12-amd64", TEV_MARK, &ev);
	EXPECT_STREQ("INIT: init start kernel 6.12.117+deb12-amd64", ev.mark);
}

TEST(trace_qemu_desc_and_wait)
{
	struct trace_event ev;

	parse_event("6933@1795319197.965617:vtd_inv_desc invalidate desc type wait "
		    "high 0x52fb404 low 0x200000025", TEV_QEMU_DESC, &ev);
	EXPECT_TRUE(ev.qemu);
	EXPECT_EQ(6933, ev.pid);
	EXPECT_EQ(-1, ev.cpu);
	EXPECT_EQ(1795319197965617000ULL, ev.ts_ns);
	EXPECT_EQ(0x200000025ULL, ev.desc.d.qw[0]);
	EXPECT_EQ(0x52fb404ULL, ev.desc.d.qw[1]);
	EXPECT_EQ(DESC_WAIT, ev.desc.f.type);
	EXPECT_TRUE(ev.desc.f.sw);
	EXPECT_EQ(2, ev.desc.f.sdata);
	EXPECT_EQ(0x52fb404ULL, ev.desc.f.addr);

	parse_event("6933@1795319197.980770:vtd_inv_desc invalidate desc type iotlb "
		    "high 0xffffa000 low 0x600f2", TEV_QEMU_DESC, &ev);
	EXPECT_EQ(DESC_IOTLB, ev.desc.f.type);
	EXPECT_EQ(IOTLB_G_PSI, ev.desc.f.g);
	EXPECT_EQ(6, ev.desc.f.did);
	parse_event("1@1.5:vtd_inv_desc invalidate desc type context-cache high 0x0 low 0x11",
		    TEV_QEMU_DESC, &ev);
	EXPECT_EQ(DESC_CC, ev.desc.f.type);
	EXPECT_EQ(CC_G_GLOBAL, ev.desc.f.g);
	EXPECT_EQ(1500000000ULL, ev.ts_ns);
}

/* ---- the error policy ---- */

TEST(trace_unknown_lines_counted_not_fatal)
{
	struct trace_summary s;

	read_text("# tracer: nop\n"
		  "\n"
		  "          <idle>-0       [000] d..2.     0.1: sched_switch: prev_comm=swapper\n"
		  "random console noise\n"
		  PFX "map: IOMMU: iova=0x1000 - 0x2000 paddr=0x5000 size=4096\n"
		  "7@1.000001:vtd_inv_desc_iotlb_pages iotlb invalidate domain 0x6 addr 0x0 mask 0x0\n"
		  "7@1.000002:vtd_fault_ignored whatever\n", &s);
	EXPECT_EQ(7, s.lines);
	EXPECT_EQ(1, trace_summary_events(&s));
	EXPECT_EQ(1, s.events[TEV_MAP]);
	EXPECT_EQ(4096, s.bytes_mapped);
	EXPECT_EQ(1, s.skipped[TSKIP_COMMENT]);
	EXPECT_EQ(1, s.skipped[TSKIP_BLANK]);
	EXPECT_EQ(2, s.skipped[TSKIP_UNKNOWN_EVENT]);
	EXPECT_EQ(3, s.first_skip[TSKIP_UNKNOWN_EVENT]);
	EXPECT_EQ(1, s.skipped[TSKIP_NOT_TRACE]);
	EXPECT_EQ(4, s.first_skip[TSKIP_NOT_TRACE]);
	EXPECT_EQ(1, s.skipped[TSKIP_DETAIL]);
	EXPECT_EQ(0, s.malformed);
	EXPECT_EQ(0, s.truncated_line);
}

TEST(trace_malformed_qi_submit_names_line_and_field)
{
	struct trace_summary s;

	read_text("# tracer: nop\n"
		  PFX "qi_submit: iotlb_inv dmar0: 0x200e2 0x0 0x0 0x0\n"
		  PFX "qi_submit: iotlb_inv dmar0: 0x200e2 0xzz 0x0 0x0\n"
		  PFX "qi_submit: dev_tlb_inv dmar0: 0x10000000003 0xffffa000 0x0 0x0\n", &s);
	EXPECT_EQ(2, s.events[TEV_QI_SUBMIT]);
	EXPECT_EQ(1, s.desc[DESC_IOTLB]);
	EXPECT_EQ(1, s.desc[DESC_DEVTLB]);
	EXPECT_EQ(1, s.malformed);
	ASSERT_EQ(1, s.nr_errors);
	EXPECT_EQ(3, s.errors[0].line);
	EXPECT_STREQ("qi_submit: qw1 is not a hex number: '0xzz'", s.errors[0].msg);
}

TEST(trace_malformed_known_events)
{
	struct trace_diag d;

	EXPECT_STREQ("map: missing 'size='",
		     parse_malformed(PFX "map: IOMMU: iova=0x1000 - 0x2000 paddr=0x5000", &d));
	EXPECT_STREQ("unmap: size is not a decimal number: '4k'",
		     parse_malformed(PFX "unmap: IOMMU: iova=0x1000 - 0x2000 size=4k "
				     "unmapped_size=4096", &d));
	EXPECT_STREQ("qi_submit: qw3 is not a 0x hex number: '0'",
		     parse_malformed(PFX "qi_submit: iec_inv dmar0: 0x4 0x0 0x0 0", &d));
	EXPECT_STREQ("qi_submit: missing qw3",
		     parse_malformed(PFX "qi_submit: iec_inv dmar0: 0x4 0x0 0x0", &d));
	EXPECT_STREQ("qi_submit: qw0 out of range: '0x10000000000000000'",
		     parse_malformed(PFX "qi_submit: iec_inv dmar0: 0x10000000000000000 "
				     "0x0 0x0 0x0", &d));
	/* The printed type name must be qw0's: iotlb_inv is type 2, 0x4 is iec_inv. */
	EXPECT_STREQ("qi_submit: type 'iotlb_inv' but qw0 0x4 is type 4 (iec_inv)",
		     parse_malformed(PFX "qi_submit: iotlb_inv dmar0: 0x4 0x0 0x0 0x0", &d));
	EXPECT_STREQ("cache_tag_assign: expected 'pasid', found 'ref'",
		     parse_malformed(PFX "cache_tag_assign: dmar0/dmar0 type iotlb did 2 ref 1",
				     &d));
	EXPECT_STREQ("attach_device_to_domain: unexpected 'extra' at the end",
		     parse_malformed(PFX "attach_device_to_domain: IOMMU: device=0000:00:01.0 "
				     "extra", &d));
	EXPECT_STREQ("vtd_inv_desc: low (qw0) is not a 0x hex number: 'zz'",
		     parse_malformed("1@2.3:vtd_inv_desc invalidate desc type iec high 0x0 low zz",
				     &d));
	EXPECT_STREQ("vtd_inv_desc: type 'wait' but low 0x4 is type 4 (iec_inv)",
		     parse_malformed("1@2.3:vtd_inv_desc invalidate desc type wait high 0x0 "
				     "low 0x4", &d));
}

TEST(trace_truncated_last_line)
{
	struct trace_summary s;

	read_text(PFX "map: IOMMU: iova=0x1000 - 0x2000 paddr=0x5000 size=4096\n"
		  PFX "map: IOMMU: iova=0x1000 - 0x2000 paddr=0x50", &s);
	EXPECT_EQ(1, s.events[TEV_MAP]);
	EXPECT_EQ(2, s.truncated_line);
	EXPECT_FALSE(s.truncated_kept);
	EXPECT_STREQ("map: missing 'size='", s.truncated_why);
	EXPECT_EQ(0, s.malformed);

	/* Cut inside the prefix: not a trace line either, still the truncated one. */
	read_text(PFX "unmap: IOMMU: iova=0x1000 - 0x2000 size=4096 unmapped_size=4096\n"
		  "          insmod-143     [00", &s);
	EXPECT_EQ(1, s.events[TEV_UNMAP]);
	EXPECT_EQ(2, s.truncated_line);
	EXPECT_FALSE(s.truncated_kept);
	EXPECT_EQ(0, s.skipped[TSKIP_NOT_TRACE]);

	/* A whole last line without its line end is counted, and noted. */
	read_text(PFX "map: IOMMU: iova=0x1000 - 0x2000 paddr=0x5000 size=4096", &s);
	EXPECT_EQ(1, s.events[TEV_MAP]);
	EXPECT_EQ(1, s.truncated_line);
	EXPECT_TRUE(s.truncated_kept);
}

TEST(trace_crlf_lines)
{
	struct trace_summary s;

	read_text("# tracer: nop\r\n"
		  "\r\n"
		  PFX "map: IOMMU: iova=0x1000 - 0x2000 paddr=0x5000 size=4096\r\n"
		  PFX "attach_device_to_domain: IOMMU: device=0000:00:01.0\r\n"
		  PFX "qi_submit: iec_inv dmar0: 0x4 0x0 0x0 0x0\r\n"
		  PFX "tracing_mark_write: INIT: done\r\n"
		  "6@1.1:vtd_inv_desc invalidate desc type wait high 0x1000 low 0x200000025\r\n", &s);
	EXPECT_EQ(0, s.malformed);
	EXPECT_EQ(0, s.truncated_line);
	EXPECT_EQ(1, s.skipped[TSKIP_COMMENT]);
	EXPECT_EQ(1, s.skipped[TSKIP_BLANK]);
	EXPECT_EQ(1, s.events[TEV_MAP]);
	EXPECT_EQ(1, s.events[TEV_ATTACH]);
	EXPECT_EQ(1, s.desc[DESC_IEC]);
	EXPECT_EQ(1, s.desc[DESC_WAIT]);
	EXPECT_EQ(1, s.events[TEV_MARK]);
}

/* trace-cmd report: a cpus= header, no flags column, padded and system:event names. */
TEST(trace_cmd_report_lines)
{
	struct trace_summary s;
	struct trace_event ev;

	read_text("cpus=1\n"
		  "            init-1     [000]     2.487624: map:                  IOMMU: "
		  "iova=0x0000000000000000 - 0x0000000001000000 paddr=0x0000000000000000 "
		  "size=16777216\n"
		  "     kworker/0:1-12    [000]     6.3: iommu:unmap: IOMMU: iova=0x1000 - 0x2000 "
		  "size=4096 unmapped_size=4096\n"
		  "          <idle>-0     [000] d..2.  0.633571: intel_iommu:qi_submit:  iec_inv "
		  "dmar0: 0x4 0x0 0x0 0x0\n"
		  "            init-1     [000]     5.5: print:                tracing_mark_write: "
		  "INIT: go\n", &s);
	EXPECT_EQ(1, s.skipped[TSKIP_HEADER]);
	EXPECT_EQ(0, s.malformed);
	EXPECT_EQ(0, s.skipped[TSKIP_NOT_TRACE]);
	EXPECT_EQ(1, s.events[TEV_MAP]);
	EXPECT_EQ(16777216, s.bytes_mapped);
	EXPECT_EQ(1, s.events[TEV_UNMAP]);
	EXPECT_EQ(1, s.desc[DESC_IEC]);
	EXPECT_EQ(1, s.events[TEV_MARK]);

	parse_event("     kworker/0:1-12    [000]     6.3: iommu:unmap: IOMMU: iova=0x1000 - "
		    "0x2000 size=4096 unmapped_size=4096", TEV_UNMAP, &ev);
	EXPECT_STREQ("kworker/0:1", ev.task);
	EXPECT_EQ(12, ev.pid);
	parse_event("  my-task [x]-42  [003]     1.000000001: iommu:map: IOMMU: iova=0x1000 - "
		    "0x2000 paddr=0x0 size=0x1000", TEV_MAP, &ev);
	EXPECT_STREQ("my-task [x]", ev.task);
	EXPECT_EQ(42, ev.pid);
	EXPECT_EQ(3, ev.cpu);
	EXPECT_EQ(1000000001ULL, ev.ts_ns);
	EXPECT_EQ(0x1000, ev.map.size);
}

TEST(trace_granularity_and_am_counts)
{
	struct trace_summary s;

	read_text(PFX "qi_submit: iotlb_inv dmar0: 0x700f2 0xffffe001 0x0 0x0\n"
		  PFX "qi_submit: iotlb_inv dmar0: 0x700f2 0xffffe000 0x0 0x0\n"
		  PFX "qi_submit: iotlb_inv dmar0: 0x700f2 0xffffd040 0x0 0x0\n"
		  PFX "qi_submit: iotlb_inv dmar0: 0x200e2 0x0 0x0 0x0\n"
		  PFX "qi_submit: iotlb_inv dmar0: 0xd2 0x0 0x0 0x0\n"
		  PFX "qi_submit: cc_inv dmar0: 0x11 0x0 0x0 0x0\n"
		  PFX "qi_submit: iec_inv dmar0: 0x4 0x0 0x0 0x0\n", &s);
	EXPECT_EQ(5, s.desc[DESC_IOTLB]);
	EXPECT_EQ(3, s.gran[DESC_IOTLB][IOTLB_G_PSI]);
	EXPECT_EQ(1, s.gran[DESC_IOTLB][IOTLB_G_DSI]);
	EXPECT_EQ(1, s.gran[DESC_IOTLB][IOTLB_G_GLOBAL]);
	EXPECT_EQ(2, s.psi_am[0]);
	EXPECT_EQ(1, s.psi_am[1]);
	EXPECT_EQ(1, s.gran[DESC_CC][CC_G_GLOBAL]);
	EXPECT_EQ(1, s.gran[DESC_IEC][0]);
}

/* The table and the JSON carry the same keys. */
TEST(trace_print_table_and_json)
{
	struct trace_summary s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	read_text(PFX "map: IOMMU: iova=0x1000 - 0x2000 paddr=0x5000 size=4096\n"
		  PFX "qi_submit: iotlb_inv dmar0: 0x700f2 0xffffe001 0x0 0x0\n"
		  PFX "qi_submit: iotlb_inv dmar0: 0x700f2 0xzz 0x0 0x0\n"
		  "6@1.1:vtd_inv_desc invalidate desc type wait high 0x1000 low 0x200000025\n", &s);
	f = open_memstream(&buf, &len);
	ASSERT_NONNULL(f);
	trace_summary_print(f, &s, "x.trace", false);
	fflush(f);
	EXPECT_NONNULL(strstr(buf, "format                       mixed\n"));
	EXPECT_NONNULL(strstr(buf, "\nmap                                     1\n"));
	EXPECT_NONNULL(strstr(buf, "\niotlb_inv.psi.am1                       1\n"));
	EXPECT_NONNULL(strstr(buf, "\ninv_wait                                1\n"));
	EXPECT_NONNULL(strstr(buf, "\nmalformed                               1\n"));
	rewind(f);
	trace_summary_print(f, &s, "x\"y", true);
	fputc('\0', f);
	fclose(f);
	EXPECT_EQ('{', buf[0]);
	EXPECT_NONNULL(strstr(buf, "\"file\": \"x\\\"y\""));
	EXPECT_NONNULL(strstr(buf, ", \"map\": 1,"));
	EXPECT_NONNULL(strstr(buf, ", \"iotlb_inv.psi\": 1,"));
	EXPECT_NONNULL(strstr(buf, ", \"inv_wait\": 1,"));
	EXPECT_NONNULL(strstr(buf, "\"errors\": [{\"line\": 3, \"message\": "
			       "\"qi_submit: qw1 is not a hex number: '0xzz'\"}]}\n"));
	free(buf);
}

TEST(trace_no_events)
{
	static const char xz[] = "\xfd" "7zXZ\0\0\x04garbage\n";
	struct trace_summary s;

	read_text("", &s);
	EXPECT_EQ(0, s.lines);
	EXPECT_EQ(0, trace_summary_events(&s));
	ASSERT_EQ(0, read_bytes_op(xz, sizeof(xz) - 1, &s));
	EXPECT_EQ(0, trace_summary_events(&s));
	EXPECT_STREQ("xz", s.binary);
	EXPECT_EQ(-ENOENT, trace_read_file(TRACES_DIR "no-such-file.trace", &s));
}

/* ---- the real captures (README table; hand-checked with grep -c) ---- */

FIXTURE(trace_capture) {
	struct trace_summary s;
};

FIXTURE_VARIANT(trace_capture) {
	const char *file;
	unsigned long map, unmap, iotlb, devtlb, cc, iec, waits;
	bool qemu;
};

FIXTURE_VARIANT_ADD(trace_capture, linux_6_1_cm1_strict) {
	"linux-6.1-cm1-strict-virtio.trace", 917, 670, 1594, 670, 9, 39, 0, false };
FIXTURE_VARIANT_ADD(trace_capture, linux_6_12_cm1_strict) {
	"linux-6.12-cm1-strict-virtio.trace", 917, 670, 1594, 670, 9, 39, 0, false };
FIXTURE_VARIANT_ADD(trace_capture, linux_6_1_cm0_strict) {
	"linux-6.1-cm0-strict-virtio.trace", 901, 653, 654, 653, 1, 39, 0, false };
FIXTURE_VARIANT_ADD(trace_capture, linux_6_12_cm0_lazy) {
	"linux-6.12-cm0-lazy-virtio.trace", 888, 641, 33, 32, 1, 39, 0, false };
/* QEMU's side: the same non-wait descriptors plus 7 iec_inv at power-off. */
FIXTURE_VARIANT_ADD(trace_capture, qemu_6_1_cm1_strict) {
	"linux-6.1-cm1-strict-virtio.qemu-vtd.log", 0, 0, 1594, 670, 9, 46, 2319, true };
FIXTURE_VARIANT_ADD(trace_capture, qemu_6_12_cm1_strict) {
	"linux-6.12-cm1-strict-virtio.qemu-vtd.log", 0, 0, 1594, 670, 9, 46, 1649, true };
FIXTURE_VARIANT_ADD(trace_capture, qemu_6_1_cm0_strict) {
	"linux-6.1-cm0-strict-virtio.qemu-vtd.log", 0, 0, 654, 653, 1, 46, 1354, true };
FIXTURE_VARIANT_ADD(trace_capture, qemu_6_12_cm0_lazy) {
	"linux-6.12-cm0-lazy-virtio.qemu-vtd.log", 0, 0, 33, 32, 1, 46, 80, true };

FIXTURE_SETUP(trace_capture)
{
	char path[256];
	int rc;

	snprintf(path, sizeof(path), TRACES_DIR "%s", variant->file);
	rc = trace_read_file(path, &self->s);
	if (rc == -ENOENT)
		SKIP(return, "%s not found (run from the repository root with ../shared "
		     "beside it)", path);
	ASSERT_EQ(0, rc);
}

FIXTURE_TEARDOWN(trace_capture)
{
}

TEST_F(trace_capture, counts)
{
	const struct trace_summary *s = &self->s;

	EXPECT_EQ(variant->map, s->events[TEV_MAP]);
	EXPECT_EQ(variant->unmap, s->events[TEV_UNMAP]);
	EXPECT_EQ(variant->iotlb, s->desc[DESC_IOTLB]);
	EXPECT_EQ(variant->devtlb, s->desc[DESC_DEVTLB]);
	EXPECT_EQ(variant->cc, s->desc[DESC_CC]);
	EXPECT_EQ(variant->iec, s->desc[DESC_IEC]);
	EXPECT_EQ(variant->waits, s->desc[DESC_WAIT]);
	EXPECT_EQ(0, s->desc_unknown);
	if (variant->qemu) {
		EXPECT_EQ(0, s->ftrace_events);
		EXPECT_EQ(s->qemu_events, s->events[TEV_QEMU_DESC]);
	} else {
		EXPECT_EQ(0, s->qemu_events);
		EXPECT_EQ(8, s->events[TEV_ATTACH]);
		EXPECT_EQ(8, s->events[TEV_GROUP]);
		EXPECT_EQ(8, s->events[TEV_MARK]);
		EXPECT_EQ(12, s->skipped[TSKIP_COMMENT]);	/* the "# tracer:" header */
	}
}

/* Every line of a capture is understood: nothing unknown, malformed or cut. */
TEST_F(trace_capture, every_line_understood)
{
	const struct trace_summary *s = &self->s;

	EXPECT_EQ(0, s->malformed);
	EXPECT_EQ(0, s->truncated_line);
	EXPECT_EQ(0, s->skipped[TSKIP_UNKNOWN_EVENT]);
	EXPECT_EQ(0, s->skipped[TSKIP_NOT_TRACE]);
	EXPECT_EQ(s->lines, trace_summary_events(s) + s->skipped[TSKIP_COMMENT] +
		  s->skipped[TSKIP_DETAIL] + s->skipped[TSKIP_BLANK]);
}

/* Bytes from `grep ' map: ' | sed size=` summed by awk. */
TEST_F(trace_capture, bytes)
{
	static const struct {
		const char *file;
		uint64_t mapped, unmapped;
	} want[] = {
		{ "linux-6.1-cm1-strict-virtio.trace", 20971520, 2945024 },
		{ "linux-6.12-cm1-strict-virtio.trace", 20975616, 2949120 },
		{ "linux-6.1-cm0-strict-virtio.trace", 20971520, 2940928 },
		{ "linux-6.12-cm0-lazy-virtio.trace", 20922368, 2895872 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strcmp(want[i].file, variant->file))
			continue;
		EXPECT_EQ(want[i].mapped, self->s.bytes_mapped);
		EXPECT_EQ(want[i].unmapped, self->s.bytes_unmapped);
		return;
	}
	EXPECT_EQ(0, self->s.bytes_mapped);	/* QEMU logs carry no maps */
}

/*
 * The README's claim: the guest's qi_submit descriptors are QEMU's non-wait
 * ones, one for one and in order, QEMU having a few more at the end.
 */
TEST(trace_guest_descriptors_match_qemu)
{
	static const char *const names[] = {
		"linux-6.1-cm1-strict-virtio", "linux-6.12-cm1-strict-virtio",
		"linux-6.1-cm0-strict-virtio", "linux-6.12-cm0-lazy-virtio",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct trace_summary gs, qs;
		struct trace_reader g, q;
		struct trace_event ge, qe;
		char gpath[256], qpath[256];
		unsigned long matched = 0, extra = 0;
		FILE *gf, *qf;
		int grc, qrc;

		snprintf(gpath, sizeof(gpath), TRACES_DIR "%s.trace", names[i]);
		snprintf(qpath, sizeof(qpath), TRACES_DIR "%s.qemu-vtd.log", names[i]);
		gf = fopen(gpath, "r");
		if (!gf)
			SKIP(return, "%s: %s", gpath, strerror(errno));
		qf = fopen(qpath, "r");
		if (!qf) {
			fclose(gf);
			SKIP(return, "%s: %s", qpath, strerror(errno));
		}
		memset(&gs, 0, sizeof(gs));
		memset(&qs, 0, sizeof(qs));
		trace_reader_init(&g, gf, &gs);
		trace_reader_init(&q, qf, &qs);
		while ((grc = trace_reader_next(&g, &ge)) > 0) {
			if (ge.kind != TEV_QI_SUBMIT)
				continue;
			do
				qrc = trace_reader_next(&q, &qe);
			while (qrc > 0 && qe.desc.f.type == DESC_WAIT);
			if (qrc <= 0 || qe.desc.d.qw[0] != ge.desc.d.qw[0] ||
			    qe.desc.d.qw[1] != ge.desc.d.qw[1]) {
				TH_LOG("%s: guest line %lu (%#llx %#llx) vs QEMU line %lu", names[i],
				       ge.line, (unsigned long long)ge.desc.d.qw[0],
				       (unsigned long long)ge.desc.d.qw[1], qe.line);
				break;
			}
			matched++;
		}
		while ((qrc = trace_reader_next(&q, &qe)) > 0)
			extra += qe.desc.f.type != DESC_WAIT;
		trace_reader_release(&g);
		trace_reader_release(&q);
		fclose(gf);
		fclose(qf);
		EXPECT_EQ(0, grc);
		EXPECT_EQ(0, qrc);
		EXPECT_EQ(gs.events[TEV_QI_SUBMIT], matched);
		EXPECT_EQ(7, extra);	/* the iec_inv at power-off */
	}
}

/* ---- trace-cmd's trace.dat (src/bench/tracedat.[ch]) ---- */

/*
 * A real trace.dat (tests/data/README.md): kernel 6.18's own formats for
 * iommu:* and ftrace:print, four marker writes and three records of an
 * event whose format the file leaves out, all on CPU 1.
 */
#define MARKERS_DAT "tests/data/linux-6.18-markers.dat"

/* Write the first @len bytes of MARKERS_DAT (then @tail) to @path. */
static void cut_copy(const char *path, long len, const char *tail)
{
	FILE *in = fopen(MARKERS_DAT, "rb"), *out;
	char buf[4096];
	long done = 0;

	ASSERT_NONNULL(in);
	out = fopen(path, "wb");
	ASSERT_NONNULL(out);
	while (done < len) {
		size_t want = (size_t)(len - done) < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		size_t got = fread(buf, 1, want, in);

		ASSERT_NE(0, got);
		ASSERT_EQ(got, fwrite(buf, 1, got, out));
		done += (long)got;
	}
	fputs(tail, out);
	fclose(in);
	ASSERT_EQ(0, fclose(out));
}

TEST(tracedat_magic)
{
	static const char dat[] = TRACEDAT_MAGIC "6\0rest";
	FILE *f = fmemopen((void *)dat, sizeof(dat) - 1, "r");

	ASSERT_NONNULL(f);
	EXPECT_TRUE(tracedat_is(f));
	EXPECT_EQ(0, ftell(f));
	fclose(f);
	f = fmemopen((void *)"\x17\x08\x44tracinG6", 10, "r");
	ASSERT_NONNULL(f);
	EXPECT_FALSE(tracedat_is(f));
	fclose(f);
	EXPECT_STREQ("", tracedat_strerror(TRACEDAT_OK));
	EXPECT_NONNULL(strstr(tracedat_strerror(TRACEDAT_ENOSUP), "libtracecmd-dev"));
	EXPECT_NONNULL(strstr(trace_binary_hint("trace.dat"), "trace-cmd report"));
	EXPECT_NONNULL(strstr(trace_binary_hint("xz"), "xz-compressed"));
}

TEST(tracedat_real_file)
{
	struct trace_summary s;
	struct trace_file tf;
	struct trace_reader r;
	struct trace_event ev;
	static const char *const marks[] = {
		"vtdkit fixture marker 1", "vtdkit fixture marker 2", "vtdkit fixture marker 3",
		"vtdkit fixture marker on cpu1",
	};
	unsigned n = 0;
	uint64_t last = 0;
	FILE *f;

	ASSERT_EQ(0, trace_read_file(MARKERS_DAT, &s));
	if (!tracedat_supported()) {
		/* Read undecoded: nothing recognised, and the summary says why. */
		EXPECT_EQ(0, trace_summary_events(&s));
		EXPECT_STREQ("trace.dat", s.binary);
		EXPECT_NULL(s.via);
		SKIP(return, "this build has no libtracecmd");
	}
	EXPECT_STREQ("libtracecmd", s.via);
	EXPECT_NULL(s.binary);
	EXPECT_STREQ("", s.decode_err);
	EXPECT_EQ(7, s.lines);
	EXPECT_EQ(4, s.events[TEV_MARK]);
	EXPECT_EQ(3, s.skipped[TSKIP_UNKNOWN_EVENT]);
	EXPECT_EQ(4, s.first_skip[TSKIP_UNKNOWN_EVENT]);
	EXPECT_EQ(0, s.malformed);

	/* Each record in time order, with its task, pid, CPU and nanoseconds. */
	f = trace_open(MARKERS_DAT, &tf);
	ASSERT_NONNULL(f);
	EXPECT_STREQ("libtracecmd", tf.via);
	memset(&s, 0, sizeof(s));
	trace_reader_init(&r, f, &s);
	while (trace_reader_next(&r, &ev) > 0) {
		ASSERT_LT(n, 4);
		EXPECT_EQ(TEV_MARK, ev.kind);
		EXPECT_STREQ(marks[n], ev.mark);
		EXPECT_EQ(1, ev.cpu);
		EXPECT_GE(ev.ts_ns, last);
		if (!n)
			EXPECT_EQ(24905228802001ULL, ev.ts_ns);
		last = ev.ts_ns;
		if (n < 3) {
			EXPECT_STREQ("bash", ev.task);
			EXPECT_EQ(28624, ev.pid);
		} else {
			EXPECT_STREQ("sh", ev.task);
			EXPECT_EQ(28627, ev.pid);
		}
		n++;
	}
	trace_reader_release(&r);
	EXPECT_EQ(0, trace_close(&tf));
	EXPECT_EQ(4, n);
	/* As `trace-cmd report -t` prints it: 24905.234941538. */
	EXPECT_EQ(24905234941538ULL, last);
}

TEST(tracedat_cut_or_corrupt)
{
	static const struct { long len; const char *tail; } cuts[] = {
		{ 10, "6" },		/* the magic and a version, no more */
		{ 300, "" },		/* inside the header page format */
		{ 5000, "" },		/* inside the option/flyrecord sections */
		{ 10, "7\nnot a header at all\n" },
	};
	char path[64];

	if (!tracedat_supported())
		SKIP(return, "this build has no libtracecmd");
	for (unsigned i = 0; i < ARRAY_SIZE(cuts); i++) {
		struct trace_summary s;

		snprintf(path, sizeof(path), "/tmp/vtdtest-cut-%d-%u.dat", (int)getpid(), i);
		cut_copy(path, cuts[i].len, cuts[i].tail);
		EXPECT_EQ(-EIO, trace_read_file(path, &s));
		EXPECT_NONNULL(strstr(s.decode_err, "libtracecmd could not read its headers"));
		EXPECT_EQ(0, trace_summary_events(&s));
		unlink(path);
	}
}
