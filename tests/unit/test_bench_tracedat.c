/*
 * test_bench_tracedat.c — the tests' trace.dat writer (tracedat.h): the
 * file walked byte by byte as man 5 trace-cmd.dat.v6 and the kernel's
 * header_page/header_event describe it (pages, time deltas, time-extend
 * records), the events it refuses, and round trips through the real
 * `trace-cmd report`: synthetic events of every kind on two CPUs, then
 * every capture in ../shared/traces; and the captures as trace.dat through
 * vtdkit's own reader (libtracecmd) and replay. Those skip without
 * trace-cmd, libtracecmd or the captures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tracedat.h"
#include "bench/replay.h"
#include "bench/tracedat.h"

#define TRACES_DIR "../shared/traces/"

/* ---- helpers ---- */

/* A fresh temporary file name (the file exists, empty). */
static void tmp_path(char *path)
{
	int fd;

	strcpy(path, "/tmp/vtdkit-tracedat-XXXXXX");
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	close(fd);
}

static bool have_trace_cmd(void)
{
	return !system("command -v trace-cmd >/dev/null 2>&1");
}

/* One line (a trace line with "\r" or "\n" removed) into @ev; false if no event. */
static bool parse(char *line, unsigned long lineno, struct trace_event *ev)
{
	struct trace_diag d;

	line[strcspn(line, "\r\n")] = '\0';
	return trace_parse_line(line, lineno, ev, &d) == TRACE_LINE_EVENT && !ev->qemu;
}

/* Append @line's event to @evs (grown as needed); it must be one. */
static void add(struct trace_event **evs, size_t *n, size_t *cap, const char *line)
{
	char buf[512];
	bool ok;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*evs = realloc(*evs, *cap * sizeof(**evs));
		ASSERT_NONNULL(*evs);
	}
	snprintf(buf, sizeof(buf), "%s", line);
	ok = parse(buf, *n + 1, &(*evs)[*n]);
	if (!ok)
		TH_LOG("not an event: %s", line);
	ASSERT_TRUE(ok);
	(*n)++;
}

/* The first field in which @a and @b differ, or NULL. */
static const char *ev_diff(const struct trace_event *a, const struct trace_event *b)
{
	if (a->kind != b->kind)
		return "kind";
	if (a->ts_ns != b->ts_ns)
		return "ts_ns";
	if (a->pid != b->pid || a->cpu != b->cpu || strcmp(a->task, b->task))
		return "pid, cpu or task";
	switch (a->kind) {
	case TEV_MAP:
		return memcmp(&a->map, &b->map, sizeof(a->map)) ? "map" : NULL;
	case TEV_UNMAP:
		return memcmp(&a->unmap, &b->unmap, sizeof(a->unmap)) ? "unmap" : NULL;
	case TEV_ATTACH:
	case TEV_GROUP:
		return strcmp(a->dev.dev, b->dev.dev) || a->dev.group != b->dev.group ? "dev" : NULL;
	case TEV_QI_SUBMIT:	/* the decoded fields are a function of the qwords */
		return strcmp(a->desc.unit, b->desc.unit) ||
		       memcmp(&a->desc.d, &b->desc.d, sizeof(a->desc.d)) ? "desc" : NULL;
	case TEV_MARK:
		return strcmp(a->mark, b->mark) ? "mark" : NULL;
	default:		/* TAG_* */
		return strcmp(a->tag.unit, b->tag.unit) || strcmp(a->tag.dev, b->tag.dev) ||
		       strcmp(a->tag.type, b->tag.type) || a->tag.did != b->tag.did ||
		       a->tag.pasid != b->tag.pasid || a->tag.ref != b->tag.ref ||
		       a->tag.start != b->tag.start || a->tag.last != b->tag.last ||
		       a->tag.addr != b->tag.addr || a->tag.pages != b->tag.pages ||
		       a->tag.mask != b->tag.mask ? "tag" : NULL;
	}
}

/*
 * Write @evs, print the file with `trace-cmd report`, and parse its lines
 * back: every event must come back equal and in order, and nothing but the
 * "cpus=N" header may be printed besides. Returns that N.
 */
static int round_trip(const struct trace_event *evs, size_t n)
{
	char path[64], cmd[128], *line = NULL;
	size_t cap = 0, got = 0, other = 0, differ = 0;
	unsigned long lineno = 0;
	struct trace_event ev;
	int cpus = -1;
	FILE *p;

	tmp_path(path);
	ASSERT_EQ(0, tracedat_write(path, evs, n));
	/* -N: no plugins; -t: the full nanoseconds */
	snprintf(cmd, sizeof(cmd), "trace-cmd report -N -t %s 2>&1", path);
	p = popen(cmd, "r");
	ASSERT_NONNULL(p);
	while (getline(&line, &cap, p) > 0) {
		const char *why;

		lineno++;
		if (!parse(line, lineno, &ev)) {
			if (sscanf(line, "cpus=%d", &cpus) != 1 && !other++)
				TH_LOG("line %lu is no event: %s", lineno, line);
			continue;
		}
		if (got >= n) {
			if (!differ++)
				TH_LOG("one event too many: %s", line);
		} else if ((why = ev_diff(&evs[got], &ev)) && !differ++) {
			TH_LOG("event %zu (input line %lu) differs in %s: %s", got, evs[got].line,
			       why, line);
		}
		got++;
	}
	free(line);
	EXPECT_EQ(0, pclose(p));
	unlink(path);
	EXPECT_EQ(n, got);
	EXPECT_EQ(0, other);
	EXPECT_EQ(0, differ);
	return cpus;
}

/* ---- synthetic events ---- */

#define L(task, cpu, ts, body) "  " task " [" cpu "] ..... " ts ": " body

static const char *const every_kind[] = {
	L("<idle>-0", "000", "0.000001000", "qi_submit: iec_inv dmar0: 0x4 0x0 0x0 0x0"),
	L("init-1", "001", "0.000001500", "add_device_to_group: IOMMU: groupID=4 device=0000:01:00.0"),
	L("init-1", "001", "0.000002000", "attach_device_to_domain: IOMMU: device=0000:01:00.0"),
	L("init-1", "000", "0.000002001", "cache_tag_assign: dmar0/dmar0 type iotlb did 2 pasid 0 ref 1"),
	L("init-1", "000", "0.000002002", "cache_tag_assign: dmar0/0000:01:00.0 type devtlb did 6 pasid 0 ref 1"),
	L("init-1", "000", "0.000002003", "cache_tag_unassign: dmar1/dmar1 type nesting_iotlb did 65535 pasid 2147483647 ref 0"),
	L("kworker/0:1H-12", "001", "0.100000000", "map: IOMMU: iova=0x00000000ffffa000 - 0x00000000ffffb000 paddr=0x0000000001000000 size=4096"),
	/* a gap of 5 s: a delta beyond 27 bits, so a time-extend record */
	L("kworker/0:1H-12", "001", "5.100000007", "unmap: IOMMU: iova=0x00000000ffffa000 - 0x00000000ffffb000 size=4096 unmapped_size=4096"),
	L("kworker/0:1H-12", "001", "5.100000008", "cache_tag_flush_range: dmar0 dmar0[0] type iotlb did 6 [0xffffa000-0xffffafff] addr 0xffffa000 pages 0x1 mask 0x0"),
	L("kworker/0:1H-12", "001", "5.100000009", "cache_tag_flush_range_np: dmar0 0000:01:00.0[3] type devtlb did 6 [0xfffe8000-0xfffe9fff] addr 0xfffe8000 pages 0x2 mask 0x1"),
	L("kworker/0:1H-12", "001", "5.100000010", "qi_submit: iotlb_inv dmar0: 0x600f2 0xffffa000 0x0 0x0"),
	L("kworker/0:1H-12", "001", "5.100000011", "qi_submit: dev_tlb_inv dmar0: 0x10000000003 0x7ffffffffffff001 0x0 0x0"),
	L("kworker/0:1H-12", "001", "5.100000012", "qi_submit: p_iotlb_inv dmar0: 0x6000000006 0xffffa000 0x1 0xffffffffffffffff"),
	L("wget-222", "000", "5.200000000", "cache_tag_flush_all: dmar0/dmar0 type iotlb did 7 pasid 0 ref 1"),
	L("wget-222", "000", "5.200000001", "qi_submit: cc_inv dmar0: 0x11 0x0 0x0 0x0"),
	L("init-1", "000", "5.300000000", "tracing_mark_write: INIT: WL net done"),
	/* data longer than 28 words: a record with its length in array[0] */
	L("init-1", "000", "5.300000001", "tracing_mark_write: INIT: a marker long enough that its record is longer than 112 bytes, which the ring buffer gives a length word"),
};

/*
 * every_kind, @extra qi_submit on CPU 1 from 6 s on (0.9 s after its
 * last: another time extend), then one event after a gap beyond the 59
 * bits a time extend holds (a new page).
 */
static struct trace_event *synthetic(size_t extra, size_t *n)
{
	struct trace_event *evs = NULL;
	size_t cap = 0;
	char line[200];

	*n = 0;
	for (size_t i = 0; i < sizeof(every_kind) / sizeof(every_kind[0]); i++)
		add(&evs, n, &cap, every_kind[i]);
	for (size_t i = 0; i < extra; i++) {
		snprintf(line, sizeof(line), L("kworker/0:1H-12", "001", "6.%09zu",
					       "qi_submit: iotlb_inv dmar0: 0x600f2 %#zx 0x0 0x0"),
			 i * 1000, 0x100000 + (i << 12));
		add(&evs, n, &cap, line);
	}
	add(&evs, n, &cap, L("init-1", "000", "700000000.000000001",
			     "print: tracing_mark_write: the end"));
	return evs;
}

/* ---- the file as bytes ---- */

struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;		/* read past the end */
};

static uint64_t rd_le(struct rd *r, unsigned bytes)
{
	uint64_t v = 0;

	if (r->bad || bytes > r->len - r->off) {
		r->bad = true;
		return 0;
	}
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += bytes;
	return v;
}

/* The next @n bytes are @s. */
static bool rd_is(struct rd *r, const char *s, size_t n)
{
	if (r->bad || n > r->len - r->off || memcmp(r->p + r->off, s, n))
		return false;
	r->off += n;
	return true;
}

/* Skip a section of a @sizelen-byte size; true if it contains @needle. */
static bool rd_section(struct rd *r, unsigned sizelen, const char *needle)
{
	uint64_t n = rd_le(r, sizelen);
	bool found;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return false;
	}
	found = needle && memmem(r->p + r->off, n, needle, strlen(needle));
	r->off += n;
	return found;
}

static uint8_t *read_file_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long n;

	ASSERT_NONNULL(f);
	ASSERT_EQ(0, fseek(f, 0, SEEK_END));
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	ASSERT_NONNULL(p);
	ASSERT_EQ(n, fread(p, 1, (size_t)n, f));
	fclose(f);
	*len = (size_t)n;
	return p;
}

struct cpu_walk {
	size_t records, pages, extends, long_records;
	size_t differ;		/* records whose time or pid is not the event's */
};

/*
 * Walk one CPU's pages: every data record's time (page time plus deltas)
 * and pid must be those of the next event of @cpu in @evs.
 */
static void walk_cpu(const uint8_t *data, size_t size, const struct trace_event *evs, size_t n,
		     int cpu, struct cpu_walk *w)
{
	size_t next = 0;

	ASSERT_EQ(0, size % 4096);
	for (size_t page = 0; page < size; page += 4096) {
		struct rd r = { data + page, 4096, 0, false };
		uint64_t ts = rd_le(&r, 8), commit = rd_le(&r, 8);

		w->pages++;
		ASSERT_GE(4080, commit);
		ASSERT_LT(0, commit);
		while (r.off < 16 + commit) {
			uint32_t word = (uint32_t)rd_le(&r, 4);
			unsigned type_len = word & 31;
			uint64_t len;

			ts += word >> 5;
			if (type_len == 30) {		/* time extend: bits 27 and up */
				ts += rd_le(&r, 4) << 27;
				w->extends++;
				continue;
			}
			ASSERT_GE(28, type_len);	/* no padding or absolute time */
			if (type_len) {
				len = type_len * 4;
			} else {
				len = rd_le(&r, 4) - 4;
				w->long_records++;
			}
			ASSERT_LE(8, len);		/* the common fields at least */
			ASSERT_GE(r.len - r.off, len);
			while (next < n && evs[next].cpu != cpu)
				next++;
			ASSERT_GT(n, next);
			if (evs[next].ts_ns != ts || evs[next].pid != (r.p[r.off + 4] |
			    r.p[r.off + 5] << 8 | r.p[r.off + 6] << 16 | (uint32_t)r.p[r.off + 7] << 24)) {
				if (!w->differ++)
					TH_LOG("CPU %d record %zu: time %llu, want %llu", cpu,
					       w->records, (unsigned long long)ts,
					       (unsigned long long)evs[next].ts_ns);
			}
			r.off += len;
			ASSERT_FALSE(r.bad);
			w->records++;
			next++;
		}
		ASSERT_EQ(16 + commit, r.off);
	}
	while (next < n && evs[next].cpu != cpu)
		next++;
	EXPECT_EQ(n, next);
}

TEST(bench_tracedat_layout)
{
	size_t n, len, cpu0 = 0, cpu1;
	struct trace_event *evs = synthetic(400, &n);
	struct cpu_walk w[2] = { { 0 } };
	char path[64];
	uint8_t *file;
	struct rd r;

	tmp_path(path);
	ASSERT_EQ(0, tracedat_write(path, evs, n));
	file = read_file_all(path, &len);
	unlink(path);
	r = (struct rd){ file, len, 0, false };

	ASSERT_TRUE(rd_is(&r, "\x17\x08\x44" "tracing" "6", 12));
	EXPECT_EQ(0, rd_le(&r, 1));			/* little endian */
	EXPECT_EQ(8, rd_le(&r, 1));			/* long size */
	EXPECT_EQ(4096, rd_le(&r, 4));
	ASSERT_TRUE(rd_is(&r, "header_page", 12));
	EXPECT_TRUE(rd_section(&r, 8, "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"));
	ASSERT_TRUE(rd_is(&r, "header_event", 13));
	EXPECT_TRUE(rd_section(&r, 8, "\ttime_extend : type == 30\n"));
	EXPECT_EQ(1, rd_le(&r, 4));			/* ftrace formats: print */
	EXPECT_TRUE(rd_section(&r, 8, "print fmt: \"%ps: %s\", (void *)REC->ip, REC->buf\n"));
	EXPECT_EQ(2, rd_le(&r, 4));			/* systems */
	ASSERT_TRUE(rd_is(&r, "iommu", 6));
	EXPECT_EQ(4, rd_le(&r, 4));
	EXPECT_TRUE(rd_section(&r, 8, "name: map\n"));
	EXPECT_TRUE(rd_section(&r, 8, "\tfield:u64 iova;\toffset:8;\tsize:8;\tsigned:0;\n"));
	EXPECT_TRUE(rd_section(&r, 8, "name: attach_device_to_domain\n"));
	EXPECT_TRUE(rd_section(&r, 8, "\tfield:int gid;\toffset:8;\tsize:4;\tsigned:1;\n"));
	ASSERT_TRUE(rd_is(&r, "intel_iommu", 12));
	EXPECT_EQ(6, rd_le(&r, 4));
	for (int i = 0; i < 6; i++)
		EXPECT_TRUE(rd_section(&r, 8, "\tfield:__data_loc char[] iommu;"));
	EXPECT_TRUE(rd_section(&r, 4, " tracing_mark_write\n"));	/* kallsyms */
	EXPECT_FALSE(rd_section(&r, 4, NULL));			/* printk formats */
	EXPECT_TRUE(rd_section(&r, 8, "\n12 kworker/0:1H\n"));	/* cmdlines */
	EXPECT_EQ(2, rd_le(&r, 4));				/* CPUs */
	ASSERT_TRUE(rd_is(&r, "options  ", 10));
	EXPECT_EQ(0, rd_le(&r, 2));
	ASSERT_TRUE(rd_is(&r, "flyrecord", 10));
	for (int cpu = 0; cpu < 2; cpu++) {
		uint64_t off = rd_le(&r, 8), size = rd_le(&r, 8);

		ASSERT_FALSE(r.bad);
		EXPECT_EQ(0, off % 4096);
		ASSERT_GE(len, off);
		ASSERT_GE(len - off, size);
		walk_cpu(file + off, size, evs, n, cpu, &w[cpu]);
	}
	for (size_t i = 0; i < n; i++)
		cpu0 += evs[i].cpu == 0;
	cpu1 = n - cpu0;
	EXPECT_EQ(cpu0, w[0].records);
	EXPECT_EQ(cpu1, w[1].records);
	EXPECT_EQ(0, w[0].differ + w[1].differ);
	EXPECT_EQ(2, w[0].pages);		/* the 59-bit gap starts one */
	EXPECT_EQ(1, w[0].long_records);	/* the long marker */
	EXPECT_EQ(1, w[0].extends);		/* 0.000002 s to 5.2 s */
	EXPECT_LE(5, w[1].pages);		/* 400 records of 56 bytes */
	EXPECT_EQ(2, w[1].extends);		/* the 5 s and 0.9 s gaps */
	free(file);
	free(evs);
}

/* Events the file cannot carry so that they come back unchanged. */
TEST(bench_tracedat_refuses)
{
	static const char *const bad[] = {
		/* map: the kernel prints iova + size as the end */
		L("t-1", "000", "1.0", "map: IOMMU: iova=0x1000 - 0x3000 paddr=0x0 size=4096"),
		L("t-1", "000", "1.0", "cache_tag_flush_all: dmar0/dmar0 type other did 7 pasid 0 ref 1"),
		L("t-1", "000", "1.0", "cache_tag_flush_all: dmar0/dmar0 type iotlb did 65536 pasid 0 ref 1"),
		/* type 0xa has no name in qi_submit's table */
		L("t-1", "000", "1.0", "qi_submit: page_strm_resp dmar0: 0xa 0x0 0x0 0x0"),
		L("sh-0", "000", "1.0", "attach_device_to_domain: IOMMU: device=0000:01:00.0"),
	};
	struct trace_event evs[2];
	char path[64], line[200];
	int rc;

	tmp_path(path);
	unlink(path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		ASSERT_TRUE(parse(line, 1, &evs[0]));
		rc = tracedat_write(path, evs, 1);
		if (rc != -EINVAL)
			TH_LOG("%d for %s", rc, bad[i]);
		EXPECT_EQ(-EINVAL, rc);
		EXPECT_NE(0, access(path, F_OK));	/* nothing written */
	}

	snprintf(line, sizeof(line), L("t-1", "000", "2.0", "attach_device_to_domain: IOMMU: device=a"));
	ASSERT_TRUE(parse(line, 1, &evs[0]));
	evs[1] = evs[0];
	evs[1].ts_ns--;				/* time going back on one CPU */
	EXPECT_EQ(-EINVAL, tracedat_write(path, evs, 2));
	evs[1].cpu = 1;				/* on another one: fine */
	EXPECT_EQ(0, tracedat_write(path, evs, 2));
	snprintf(evs[1].task, sizeof(evs[1].task), "u");	/* pid 1 named twice */
	EXPECT_EQ(-EINVAL, tracedat_write(path, evs, 2));
	evs[1] = evs[0];
	evs[1].cpu = -1;
	EXPECT_EQ(-EINVAL, tracedat_write(path, evs, 2));
	evs[1] = evs[0];
	evs[1].kind = TEV_QEMU_DESC;
	EXPECT_EQ(-EINVAL, tracedat_write(path, evs, 2));
	evs[1] = evs[0];
	evs[1].qemu = true;
	EXPECT_EQ(-EINVAL, tracedat_write(path, evs, 2));
	unlink(path);
	EXPECT_EQ(-ENOENT, tracedat_write("/nonexistent/x.dat", evs, 1));
}

/* ---- through trace-cmd report ---- */

TEST(bench_tracedat_report_synthetic)
{
	size_t n;
	struct trace_event *evs;

	if (!have_trace_cmd())
		SKIP(return, "trace-cmd is not installed");
	evs = synthetic(400, &n);
	EXPECT_EQ(2, round_trip(evs, n));
	free(evs);
}

/* Events on CPU 3 only: CPUs 0 to 2 have empty buffers. */
TEST(bench_tracedat_report_empty_cpus)
{
	struct trace_event *evs = NULL;
	size_t n = 0, cap = 0;

	if (!have_trace_cmd())
		SKIP(return, "trace-cmd is not installed");
	add(&evs, &n, &cap, L("ip-7", "003", "3.000000001", "map: IOMMU: iova=0x0000000000000000 - 0x0000000001000000 paddr=0x0000000000000000 size=16777216"));
	add(&evs, &n, &cap, L("ip-7", "003", "3.000000002", "tracing_mark_write: x"));
	EXPECT_EQ(4, round_trip(evs, n));
	EXPECT_EQ(1, round_trip(evs, 0));
	free(evs);
}

/* Every capture (the xz one through xz), each event back unchanged. */
static const char *const captures[] = {
	"linux-6.1-cm0-strict-virtio.trace", "linux-6.1-cm1-strict-virtio.trace",
	"linux-6.12-cm0-lazy-virtio.trace", "linux-6.12-cm1-strict-virtio.trace",
	"linux-6.1-cm1-strict-virtio-big.trace.xz",
};

/* The ftrace events of capture @name, or NULL if it (or xz for it) is missing. */
static struct trace_event *load_capture(const char *name, size_t *np)
{
	bool xz = strstr(name, ".xz");
	struct trace_event *evs = NULL;
	size_t n = 0, cap = 0, lcap = 0;
	unsigned long lineno = 0;
	char path[256], cmd[300], *line = NULL;
	FILE *f;

	snprintf(path, sizeof(path), TRACES_DIR "%s", name);
	snprintf(cmd, sizeof(cmd), "xz -dc %s", path);
	if (access(path, R_OK) || (xz && system("xz --version >/dev/null 2>&1")))
		return NULL;
	f = xz ? popen(cmd, "r") : fopen(path, "r");
	if (!f)
		return NULL;
	while (getline(&line, &lcap, f) > 0) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			evs = realloc(evs, cap * sizeof(*evs));
			if (!evs)
				break;
		}
		n += parse(line, ++lineno, &evs[n]);
	}
	free(line);
	if (xz)
		EXPECT_EQ(0, pclose(f));
	else
		fclose(f);
	*np = n;
	return evs;
}

TEST(bench_tracedat_report_captures)
{
	unsigned seen = 0;

	if (!have_trace_cmd())
		SKIP(return, "trace-cmd is not installed");
	for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		size_t n = 0;
		struct trace_event *evs = load_capture(captures[i], &n);

		if (!evs)
			continue;
		TH_LOG("%s: %zu events", captures[i], n);
		EXPECT_LT(1000, n);
		EXPECT_EQ(1, round_trip(evs, n));
		free(evs);
		seen++;
	}
	if (!seen)
		SKIP(return, "the captures are not in " TRACES_DIR);
}

/*
 * vtdkit's own trace.dat path (src/bench/tracedat.c, libtracecmd): each
 * capture written as a trace.dat reads back to the same counts as its
 * text, and replays to the same comparison, Linux's side and vtdkit's.
 */
static struct trace_summary text_sum, dat_sum;
static struct replay_result text_res, dat_res;

TEST(bench_tracedat_reader_captures)
{
	unsigned seen = 0;

	if (!tracedat_supported())
		SKIP(return, "this build has no libtracecmd");
	for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		char text[256], dat[64], qemu[256], console[256], err[300];
		struct replay_opts o = { .mode = -1, .cm = -1, .profile = VTDM_EXACT,
					 .qemu_log = qemu, .console = console };
		size_t n = 0, base;
		struct trace_event *evs = load_capture(captures[i], &n);

		if (!evs)
			continue;
		snprintf(text, sizeof(text), TRACES_DIR "%s", captures[i]);
		base = strstr(text, ".trace") - text;
		snprintf(qemu, sizeof(qemu), "%.*s.qemu-vtd.log", (int)base, text);
		snprintf(console, sizeof(console), "%.*s.console", (int)base, text);
		if (access(qemu, R_OK))
			qemu[0] = '\0';
		tmp_path(dat);
		ASSERT_EQ(0, tracedat_write(dat, evs, n));
		free(evs);

		ASSERT_EQ(0, trace_read_file(text, &text_sum));
		ASSERT_EQ(0, trace_read_file(dat, &dat_sum));
		EXPECT_STREQ("libtracecmd", dat_sum.via);
		EXPECT_EQ(n, trace_summary_events(&dat_sum));
		EXPECT_EQ(0, dat_sum.malformed);
		EXPECT_EQ(0, memcmp(text_sum.events, dat_sum.events, sizeof(text_sum.events)));
		EXPECT_EQ(0, memcmp(text_sum.desc, dat_sum.desc, sizeof(text_sum.desc)));
		EXPECT_EQ(0, memcmp(text_sum.gran, dat_sum.gran, sizeof(text_sum.gran)));
		EXPECT_EQ(0, memcmp(text_sum.psi_am, dat_sum.psi_am, sizeof(text_sum.psi_am)));
		EXPECT_EQ(text_sum.bytes_mapped, dat_sum.bytes_mapped);
		EXPECT_EQ(text_sum.bytes_unmapped, dat_sum.bytes_unmapped);

		ASSERT_EQ(0, replay_run(text, &o, &text_res, err, sizeof(err)));
		ASSERT_EQ(0, replay_run(dat, &o, &dat_res, err, sizeof(err)));
		unlink(dat);
		TH_LOG("%s: %lu maps, %lu unmaps; vtdkit %lu waits", captures[i], dat_res.maps,
		       dat_res.unmaps, dat_res.vtdkit.waits);
		EXPECT_LT(0, dat_res.maps);
		EXPECT_EQ(text_res.maps, dat_res.maps);
		EXPECT_EQ(text_res.unmaps, dat_res.unmaps);
		EXPECT_EQ(text_res.captured_cm, dat_res.captured_cm);
		EXPECT_EQ(0, memcmp(text_res.by_rule, dat_res.by_rule, sizeof(text_res.by_rule)));
		EXPECT_EQ(0, memcmp(&text_res.linux_side, &dat_res.linux_side,
				    sizeof(text_res.linux_side)));
		EXPECT_EQ(0, memcmp(&text_res.vtdkit, &dat_res.vtdkit, sizeof(text_res.vtdkit)));
		EXPECT_EQ(text_res.model_ns, dat_res.model_ns);
		seen++;
	}
	if (!seen)
		SKIP(return, "the captures are not in " TRACES_DIR);
}
