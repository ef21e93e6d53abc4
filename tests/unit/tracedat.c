/*
 * tracedat.c — the trace.dat writer of tracedat.h. The file layout is that
 * of man 5 trace-cmd.dat.v6; the CPU data is the kernel's ring buffer as
 * its header_page and header_event files describe it (page: u64 timestamp,
 * u64 commit, 4080 data bytes; record: 5-bit type_len, 27-bit time delta,
 * kernel/trace/ring_buffer.c). Each event's fields and print format are
 * those of its tracepoint: include/trace/events/iommu.h, and for qi_submit
 * and cache_tag_* drivers/iommu/intel/trace.h of Linux 6.12; the marker is
 * ftrace's "print" event (kernel/trace/trace_entries.h, ID 5 = TRACE_PRINT).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracedat.h"

enum {
	TD_PAGE = 4096,
	TD_PAGE_HDR = 16,		/* u64 timestamp, u64 commit */
	TD_SMALL_MAX = 28 * 4,		/* "data max type_len == 28": longer data has type_len 0 */
	TD_TIME_EXTEND = 30,		/* "time_extend : type == 30" */
	TD_DELTA_BITS = 27,		/* "time_delta : 27 bits" */
	TD_MAX_CPUS = 1024,
	TD_REC_MAX = 256,		/* the longest record: a marker of TRACE_MARK_LEN */
};

/* The ip of a marker write, inside tracing_mark_write of the kallsyms below. */
#define TD_MARK_IP	0xffffffff81234040ull
#define TD_KALLSYMS	"ffffffff81234000 t tracing_mark_write\n" \
			"ffffffff81234400 t tracing_mark_raw_write\n"

/* ---- the format files, as tracefs prints them ---- */

#define F(decl, off, size, sgn)						\
	"\tfield:" decl ";\toffset:" #off ";\tsize:" #size ";\tsigned:" #sgn ";\n"

#define COMMON_FIELDS							\
	F("unsigned short common_type", 0, 2, 0)			\
	F("unsigned char common_flags", 2, 1, 0)			\
	F("unsigned char common_preempt_count", 3, 1, 0)		\
	F("int common_pid", 4, 4, 1)

#define TAG_LOG_FIELDS							\
	F("__data_loc char[] iommu", 8, 4, 1)				\
	F("__data_loc char[] dev", 12, 4, 1)				\
	F("u16 type", 16, 2, 0) F("u16 domain_id", 18, 2, 0)		\
	F("u32 pasid", 20, 4, 0) F("u32 users", 24, 4, 0)

#define TAG_FLUSH_FIELDS						\
	F("__data_loc char[] iommu", 8, 4, 1)				\
	F("__data_loc char[] dev", 12, 4, 1)				\
	F("u16 type", 16, 2, 0) F("u16 domain_id", 18, 2, 0)		\
	F("u32 pasid", 20, 4, 0)					\
	F("unsigned long start", 24, 8, 0) F("unsigned long end", 32, 8, 0) \
	F("unsigned long addr", 40, 8, 0) F("unsigned long pages", 48, 8, 0) \
	F("unsigned long mask", 56, 8, 0)

/*
 * enum cache_tag_type (drivers/iommu/intel/iommu.h) by value: the kernel's
 * file shows the enumerator names (trace.h has no TRACE_DEFINE_ENUM), which
 * no reader can evaluate; the values are what a reader needs.
 */
static const char *const tag_types[] = { "iotlb", "devtlb", "nesting_iotlb", "nesting_devtlb" };

#define TAG_TYPE_SYM							\
	"__print_symbolic(REC->type, { 0, \"iotlb\" }, { 1, \"devtlb\" }, "	\
	"{ 2, \"nesting_iotlb\" }, { 3, \"nesting_devtlb\" })"

#define TAG_LOG_FMT							\
	"\"%s/%s type %s did %d pasid %d ref %d\", __get_str(iommu), "	\
	"__get_str(dev), " TAG_TYPE_SYM ", REC->domain_id, REC->pasid, REC->users"

#define TAG_FLUSH_FMT							\
	"\"%s %s[%d] type %s did %d [0x%lx-0x%lx] addr 0x%lx pages 0x%lx mask 0x%lx\", " \
	"__get_str(iommu), __get_str(dev), REC->pasid, " TAG_TYPE_SYM ", "	\
	"REC->domain_id, REC->start, REC->end, REC->addr, REC->pages, REC->mask"

struct tp {
	const char *system;	/* "ftrace": the ftrace section */
	const char *name;
	unsigned id;		/* the kernel numbers its tracepoints at boot: any unique one */
	const char *fields;
	const char *fmt;
};

static const struct tp tps[TEV_NR] = {
	[TEV_MAP] = { "iommu", "map", 700,
		F("u64 iova", 8, 8, 0) F("u64 paddr", 16, 8, 0) F("size_t size", 24, 8, 0),
		"\"IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu\", "
		"REC->iova, REC->iova + REC->size, REC->paddr, REC->size" },
	[TEV_UNMAP] = { "iommu", "unmap", 701,
		F("u64 iova", 8, 8, 0) F("size_t size", 16, 8, 0)
		F("size_t unmapped_size", 24, 8, 0),
		"\"IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu\", "
		"REC->iova, REC->iova + REC->size, REC->size, REC->unmapped_size" },
	[TEV_ATTACH] = { "iommu", "attach_device_to_domain", 702,
		F("__data_loc char[] device", 8, 4, 1),
		"\"IOMMU: device=%s\", __get_str(device)" },
	[TEV_GROUP] = { "iommu", "add_device_to_group", 703,
		F("int gid", 8, 4, 1) F("__data_loc char[] device", 12, 4, 1),
		"\"IOMMU: groupID=%d device=%s\", REC->gid, __get_str(device)" },
	/* QI_*_TYPE of drivers/iommu/intel/iommu.h are plain numbers in the file */
	[TEV_QI_SUBMIT] = { "intel_iommu", "qi_submit", 710,
		F("u64 qw0", 8, 8, 0) F("u64 qw1", 16, 8, 0) F("u64 qw2", 24, 8, 0)
		F("u64 qw3", 32, 8, 0) F("__data_loc char[] iommu", 40, 4, 1),
		"\"%s %s: 0x%llx 0x%llx 0x%llx 0x%llx\", __print_symbolic(REC->qw0 & 0xf, "
		"{ 0x1, \"cc_inv\" }, { 0x2, \"iotlb_inv\" }, { 0x3, \"dev_tlb_inv\" }, "
		"{ 0x4, \"iec_inv\" }, { 0x5, \"inv_wait\" }, { 0x6, \"p_iotlb_inv\" }, "
		"{ 0x7, \"pc_inv\" }, { 0x8, \"p_dev_tlb_inv\" }, { 0x9, \"page_grp_resp\" }), "
		"__get_str(iommu), REC->qw0, REC->qw1, REC->qw2, REC->qw3" },
	[TEV_TAG_ASSIGN] = { "intel_iommu", "cache_tag_assign", 711, TAG_LOG_FIELDS, TAG_LOG_FMT },
	[TEV_TAG_UNASSIGN] = { "intel_iommu", "cache_tag_unassign", 712, TAG_LOG_FIELDS,
		TAG_LOG_FMT },
	[TEV_TAG_FLUSH_ALL] = { "intel_iommu", "cache_tag_flush_all", 713, TAG_LOG_FIELDS,
		TAG_LOG_FMT },
	[TEV_TAG_FLUSH_RANGE] = { "intel_iommu", "cache_tag_flush_range", 714,
		TAG_FLUSH_FIELDS, TAG_FLUSH_FMT },
	[TEV_TAG_FLUSH_RANGE_NP] = { "intel_iommu", "cache_tag_flush_range_np", 715,
		TAG_FLUSH_FIELDS, TAG_FLUSH_FMT },
	[TEV_MARK] = { "ftrace", "print", 5,
		F("unsigned long ip", 8, 8, 0) F("char buf[]", 16, 0, 1),
		"\"%ps: %s\", (void *)REC->ip, REC->buf" },
};

/* ---- a growing byte buffer, little-endian ---- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;		/* a growth failed: the rest is dropped */
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 65536;
		uint8_t *p;

		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (src)
		memcpy(b->p + b->len, src, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

static void set_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le(struct buf *b, uint64_t v, unsigned bytes)
{
	uint8_t le[8];

	set_le(le, v, bytes);
	put(b, le, bytes);
}

/* Overwrite @bytes at @off, written earlier. */
static void patch_le(struct buf *b, size_t off, uint64_t v, unsigned bytes)
{
	if (!b->oom)
		set_le(b->p + off, v, bytes);
}

/* A @sizelen-byte length, then @text without its NUL. */
static void put_sized(struct buf *b, unsigned sizelen, const char *text)
{
	put_le(b, strlen(text), sizelen);
	put(b, text, strlen(text));
}

static void put_format(struct buf *b, const struct tp *t)
{
	char text[2048];

	snprintf(text, sizeof(text), "name: %s\nID: %u\nformat:\n" COMMON_FIELDS "\n%s\nprint fmt: %s\n",
		 t->name, t->id, t->fields, t->fmt);
	put_sized(b, 8, text);
}

/* ---- records ---- */

/*
 * Append string @s (at most TRACE_NAME_LEN with its NUL) at @at of record
 * @r, with the __data_loc word at @field: length << 16 | offset. Returns the
 * record's new end, or 0 if @s does not fit.
 */
static size_t data_loc(uint8_t *r, size_t field, size_t at, const char *s)
{
	size_t len = strnlen(s, TRACE_NAME_LEN) + 1;

	if (len > TRACE_NAME_LEN)
		return 0;
	memcpy(r + at, s, len);
	set_le(r + field, len << 16 | at, 4);
	return at + len;
}

static int tag_type(const char *name)
{
	for (unsigned i = 0; i < sizeof(tag_types) / sizeof(tag_types[0]); i++)
		if (!strcmp(name, tag_types[i]))
			return (int)i;
	return -1;
}

/* The payload of @ev's record (common fields first) into @r: its length, or 0. */
static size_t encode(const struct trace_event *ev, uint8_t *r)
{
	const struct vtd_desc *d = &ev->desc.d;
	size_t n = 0;
	int type;

	memset(r, 0, TD_REC_MAX);
	set_le(r, tps[ev->kind].id, 2);
	set_le(r + 4, ev->pid, 4);
	switch (ev->kind) {
	case TEV_MAP:		/* the kernel prints iova + size as the end */
		if (ev->map.end != ev->map.iova + ev->map.size)
			return 0;
		set_le(r + 8, ev->map.iova, 8);
		set_le(r + 16, ev->map.paddr, 8);
		set_le(r + 24, ev->map.size, 8);
		return 32;
	case TEV_UNMAP:
		if (ev->unmap.end != ev->unmap.iova + ev->unmap.size)
			return 0;
		set_le(r + 8, ev->unmap.iova, 8);
		set_le(r + 16, ev->unmap.size, 8);
		set_le(r + 24, ev->unmap.unmapped, 8);
		return 32;
	case TEV_ATTACH:
		return data_loc(r, 8, 12, ev->dev.dev);
	case TEV_GROUP:
		if (ev->dev.group > INT32_MAX)
			return 0;
		set_le(r + 8, ev->dev.group, 4);
		return data_loc(r, 12, 16, ev->dev.dev);
	case TEV_QI_SUBMIT:
		/* Named by qw0 & 0xf: the type must have no high bits and a name. */
		if (desc_type(d) != (d->qw[0] & 0xf) || desc_type(d) < 1 || desc_type(d) > 9)
			return 0;
		for (int i = 0; i < 4; i++)
			set_le(r + 8 + 8 * i, d->qw[i], 8);
		return data_loc(r, 40, 44, ev->desc.unit);
	case TEV_TAG_ASSIGN:
	case TEV_TAG_UNASSIGN:
	case TEV_TAG_FLUSH_ALL:
	case TEV_TAG_FLUSH_RANGE:
	case TEV_TAG_FLUSH_RANGE_NP:
		/* did is a u16; pasid and users print with %d */
		type = tag_type(ev->tag.type);
		if (type < 0 || ev->tag.did > UINT16_MAX || ev->tag.pasid > INT32_MAX ||
		    ev->tag.ref > INT32_MAX)
			return 0;
		set_le(r + 16, (unsigned)type, 2);
		set_le(r + 18, ev->tag.did, 2);
		set_le(r + 20, ev->tag.pasid, 4);
		if (ev->kind == TEV_TAG_FLUSH_RANGE || ev->kind == TEV_TAG_FLUSH_RANGE_NP) {
			set_le(r + 24, ev->tag.start, 8);
			set_le(r + 32, ev->tag.last, 8);
			set_le(r + 40, ev->tag.addr, 8);
			set_le(r + 48, ev->tag.pages, 8);
			set_le(r + 56, ev->tag.mask, 8);
			n = 64;
		} else {
			set_le(r + 24, ev->tag.ref, 4);
			n = 28;
		}
		n = data_loc(r, 8, n, ev->tag.unit);
		return n ? data_loc(r, 12, n, ev->tag.dev) : 0;
	case TEV_MARK:
		/* tracing_mark_write() ends the text with '\n' if it has none, then NUL */
		n = strnlen(ev->mark, TRACE_MARK_LEN);
		if (n == TRACE_MARK_LEN)
			return 0;
		set_le(r + 8, TD_MARK_IP, 8);
		memcpy(r + 16, ev->mark, n);
		if (!n || ev->mark[n - 1] != '\n')
			r[16 + n++] = '\n';
		return 16 + n + 1;
	default:
		return 0;
	}
}

/*
 * One CPU's records into whole pages. A record's time is a delta from the
 * one before it on the page (the page header has the first one's); a delta
 * of 27 bits or more goes into a time-extend record before it (the 32-bit
 * array holds the bits above 27), one of 59 bits or more starts a page.
 */
static int put_cpu(struct buf *b, const struct trace_event *evs, size_t n, int cpu)
{
	uint8_t rec[TD_REC_MAX];
	size_t page = 0, used = 0;
	uint64_t last = 0;
	bool open = false;

	for (size_t i = 0; i < n; i++) {
		const struct trace_event *ev = &evs[i];
		size_t len, len4, size, ext;
		uint64_t delta;

		if (ev->cpu != cpu)
			continue;
		len = encode(ev, rec);
		if (!len || (open && ev->ts_ns < last))
			return -EINVAL;
		len4 = (len + 3) & ~(size_t)3;
		size = 4 + (len4 > TD_SMALL_MAX ? 4 : 0) + len4;
		delta = open ? ev->ts_ns - last : 0;
		ext = delta >> TD_DELTA_BITS ? 8 : 0;
		if (!open || delta >> (TD_DELTA_BITS + 32) ||
		    used + ext + size > TD_PAGE - TD_PAGE_HDR) {
			if (open) {
				patch_le(b, page + 8, used, 8);
				put(b, NULL, TD_PAGE - TD_PAGE_HDR - used);
			}
			page = b->len;
			put_le(b, ev->ts_ns, 8);
			put_le(b, 0, 8);
			used = 0;
			delta = 0;
			ext = 0;
			open = true;
		}
		if (ext) {
			put_le(b, TD_TIME_EXTEND | (delta & ((1u << TD_DELTA_BITS) - 1)) << 5, 4);
			put_le(b, delta >> TD_DELTA_BITS, 4);
			delta = 0;
		}
		if (len4 > TD_SMALL_MAX) {
			put_le(b, delta << 5, 4);	/* type_len 0: the length follows */
			put_le(b, len4 + 4, 4);
		} else {
			put_le(b, len4 / 4 | delta << 5, 4);
		}
		put(b, rec, len4);
		used += ext + size;
		last = ev->ts_ns;
	}
	if (open) {
		patch_le(b, page + 8, used, 8);
		put(b, NULL, TD_PAGE - TD_PAGE_HDR - used);
	}
	return 0;
}

/* ---- the file ---- */

struct comm {
	unsigned pid;
	const char *task;
};

/*
 * saved_cmdlines: one name per pid (the reader names records by pid; pid
 * 0 is always "<idle>" there). -EINVAL if a pid has two names.
 */
static int put_cmdlines(struct buf *b, const struct trace_event *evs, size_t n)
{
	struct comm *c = NULL;
	size_t nc = 0, cap = 0;
	struct buf text = { 0 };
	char line[64];
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		const struct trace_event *ev = &evs[i];
		size_t k;

		if (strnlen(ev->task, TRACE_NAME_LEN) == TRACE_NAME_LEN || ev->pid > INT32_MAX ||
		    (!ev->pid && strcmp(ev->task, "<idle>"))) {
			ret = -EINVAL;
			break;
		}
		for (k = 0; k < nc && c[k].pid != ev->pid; k++)
			;
		if (k < nc) {
			if (strcmp(c[k].task, ev->task))
				ret = -EINVAL;
			continue;
		}
		if (nc == cap) {
			struct comm *grown = realloc(c, (cap = cap ? 2 * cap : 64) * sizeof(*c));

			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			c = grown;
		}
		c[nc++] = (struct comm){ ev->pid, ev->task };
	}
	for (size_t k = 0; k < nc && !ret; k++) {
		if (!c[k].pid)
			continue;
		snprintf(line, sizeof(line), "%u %s\n", c[k].pid, c[k].task);
		put(&text, line, strlen(line));
	}
	put(&text, "", 1);
	if (!ret && text.oom)
		ret = -ENOMEM;
	if (!ret)
		put_sized(b, 8, (const char *)text.p);
	free(text.p);
	free(c);
	return ret;
}

/* The events of system @sys used in @evs, into @b: how many. */
static unsigned put_system(struct buf *b, const bool *used, const char *sys)
{
	unsigned count = 0;

	for (unsigned k = 0; k < TEV_NR; k++) {
		if (!used[k] || strcmp(tps[k].system, sys))
			continue;
		if (b)
			put_format(b, &tps[k]);
		count++;
	}
	return count;
}

static int build(struct buf *b, const struct trace_event *evs, size_t n)
{
	static const char *const systems[] = { "iommu", "intel_iommu" };
	bool used[TEV_NR] = { false };
	unsigned nsys = 0, count;
	size_t table;
	int cpus = 1, ret;

	for (size_t i = 0; i < n; i++) {
		if (evs[i].qemu || (unsigned)evs[i].kind >= TEV_NR || !tps[evs[i].kind].name ||
		    evs[i].cpu < 0 || evs[i].cpu >= TD_MAX_CPUS)
			return -EINVAL;
		used[evs[i].kind] = true;
		if (evs[i].cpu >= cpus)
			cpus = evs[i].cpu + 1;
	}

	put(b, "\x17\x08\x44" "tracing" "6", 12);	/* magic, version "6\0" */
	put_le(b, 0, 1);				/* little endian */
	put_le(b, 8, 1);				/* long size */
	put_le(b, TD_PAGE, 4);
	put(b, "header_page", 12);
	put_sized(b, 8,
		  "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
		  "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
		  "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
		  "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n");
	put(b, "header_event", 13);
	put_sized(b, 8,
		  "# compressed entry header\n"
		  "\ttype_len    :    5 bits\n"
		  "\ttime_delta  :   27 bits\n"
		  "\tarray       :   32 bits\n"
		  "\n"
		  "\tpadding     : type == 29\n"
		  "\ttime_extend : type == 30\n"
		  "\ttime_stamp : type == 31\n"
		  "\tdata max type_len  == 28\n");

	put_le(b, put_system(NULL, used, "ftrace"), 4);
	put_system(b, used, "ftrace");
	for (unsigned s = 0; s < 2; s++)
		nsys += put_system(NULL, used, systems[s]) > 0;
	put_le(b, nsys, 4);
	for (unsigned s = 0; s < 2; s++) {
		count = put_system(NULL, used, systems[s]);
		if (!count)
			continue;
		put(b, systems[s], strlen(systems[s]) + 1);
		put_le(b, count, 4);
		put_system(b, used, systems[s]);
	}
	put_sized(b, 4, TD_KALLSYMS);
	put_sized(b, 4, "");			/* printk formats */
	ret = put_cmdlines(b, evs, n);
	if (ret)
		return ret;

	put_le(b, (unsigned)cpus, 4);
	put(b, "options  ", 10);
	put_le(b, 0, 2);			/* no options: the end */
	put(b, "flyrecord", 10);
	table = b->len;
	put(b, NULL, 16 * (size_t)cpus);	/* per CPU: u64 offset, u64 size */
	put(b, NULL, (TD_PAGE - b->len % TD_PAGE) % TD_PAGE);
	for (int cpu = 0; cpu < cpus; cpu++) {
		size_t start = b->len;

		ret = put_cpu(b, evs, n, cpu);
		if (ret)
			return ret;
		patch_le(b, table + 16 * (size_t)cpu, start, 8);
		patch_le(b, table + 16 * (size_t)cpu + 8, b->len - start, 8);
	}
	return b->oom ? -ENOMEM : 0;
}

int tracedat_write(const char *path, const struct trace_event *evs, size_t n)
{
	struct buf b = { 0 };
	FILE *f;
	int ret = build(&b, evs, n);

	if (ret)
		goto out;
	f = fopen(path, "wb");
	if (!f) {
		ret = -errno;
		goto out;
	}
	if (fwrite(b.p, 1, b.len, f) != b.len)
		ret = errno ? -errno : -EIO;
	if (fclose(f) && !ret)
		ret = errno ? -errno : -EIO;
out:
	free(b.p);
	return ret;
}
