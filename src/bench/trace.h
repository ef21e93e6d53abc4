/*
 * trace.h — a reader for real VT-d traces (docs/replay.md): a Linux
 * guest's ftrace text (tracefs `trace`, `trace-cmd report`) and QEMU's
 * `-trace vtd_inv_desc*` log. Each line becomes one typed event;
 * descriptors decode through fmt/desc.h. Lines the reader does not know
 * are counted by reason; a malformed line of a known event is reported
 * with its line number and skipped. Nothing here is fatal but a read error.
 */
#ifndef VTD_BENCH_TRACE_H
#define VTD_BENCH_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "fmt/desc.h"

/*
 * The events the reader knows, by their name in the trace: ftrace event
 * names (a "system:" prefix such as "iommu:" is accepted and dropped),
 * then QEMU's one-line-per-descriptor event.
 */
#define TRACE_EVENTS(X)							\
	X(MAP,			"map")					\
	X(UNMAP,		"unmap")				\
	X(ATTACH,		"attach_device_to_domain")		\
	X(GROUP,		"add_device_to_group")			\
	X(QI_SUBMIT,		"qi_submit")				\
	X(TAG_ASSIGN,		"cache_tag_assign")			\
	X(TAG_UNASSIGN,		"cache_tag_unassign")			\
	X(TAG_FLUSH_ALL,	"cache_tag_flush_all")			\
	X(TAG_FLUSH_RANGE,	"cache_tag_flush_range")		\
	X(TAG_FLUSH_RANGE_NP,	"cache_tag_flush_range_np")		\
	X(MARK,			"tracing_mark_write")			\
	X(QEMU_DESC,		"vtd_inv_desc")

enum trace_ev {
#define TRACE_EV_ENUM(e, name) TEV_##e,
	TRACE_EVENTS(TRACE_EV_ENUM)
#undef TRACE_EV_ENUM
	TEV_NR,
};

/* Why a line carried no event (counted, never an error). */
#define TRACE_SKIPS(X)							\
	X(BLANK,		"blank")				\
	X(COMMENT,		"comment")	/* "# tracer: nop", ... */	\
	X(HEADER,		"header")	/* trace-cmd's "cpus=1" */	\
	X(DETAIL,		"qemu_detail")	/* vtd_inv_desc_iotlb_pages, ... */ \
	X(UNKNOWN_EVENT,	"unknown_event")	/* a well-formed line of another event */ \
	X(NOT_TRACE,		"not_trace")	/* no task-pid [cpu] ts: or pid@ts: prefix */

enum trace_skip {
#define TRACE_SKIP_ENUM(e, name) TSKIP_##e,
	TRACE_SKIPS(TRACE_SKIP_ENUM)
#undef TRACE_SKIP_ENUM
	TSKIP_NR,
};

const char *trace_ev_name(enum trace_ev ev);
const char *trace_skip_name(enum trace_skip skip);

/* Names are cut to these sizes (NUL included). */
enum { TRACE_NAME_LEN = 32, TRACE_MARK_LEN = 128, TRACE_MSG_LEN = 160 };

struct trace_event {
	enum trace_ev kind;
	unsigned long line;		/* 1-based line of the file */
	bool qemu;			/* from a QEMU log (no task, cpu -1) */
	uint64_t ts_ns;			/* ftrace: since boot; QEMU: since the epoch */
	unsigned pid;
	int cpu;
	char task[TRACE_NAME_LEN];
	union {
		struct {		/* MAP: [iova, end) -> paddr */
			uint64_t iova, end, paddr, size;
		} map;
		struct {		/* UNMAP */
			uint64_t iova, end, size, unmapped;
		} unmap;
		struct {		/* ATTACH, GROUP (group only for GROUP) */
			char dev[TRACE_NAME_LEN];
			unsigned group;
		} dev;
		struct {		/* QI_SUBMIT, QEMU_DESC (qw2, qw3 zero) */
			char unit[TRACE_NAME_LEN];	/* "dmar0"; QEMU: "" */
			struct vtd_desc d;
			struct vtd_desc_fields f;	/* vtd_desc_decode(&d) */
		} desc;
		struct {		/* TAG_*: Linux 6.12 cache tags */
			char unit[TRACE_NAME_LEN];
			char dev[TRACE_NAME_LEN];	/* unit name for an IOTLB tag */
			char type[TRACE_NAME_LEN];	/* "iotlb", "devtlb", ... */
			unsigned did, pasid, ref;	/* ref: assign/unassign/flush_all */
			uint64_t start, last, addr, pages, mask; /* flush_range[_np] */
		} tag;
		char mark[TRACE_MARK_LEN];	/* MARK: the text written */
	};
};

enum trace_line {
	TRACE_LINE_EVENT,	/* *ev filled in */
	TRACE_LINE_SKIP,	/* diag->skip says why */
	TRACE_LINE_MALFORMED,	/* a known event, badly formed: diag->msg */
};

struct trace_diag {
	enum trace_skip skip;
	char msg[TRACE_MSG_LEN];	/* "map: missing 'size='" */
};

/*
 * Parse one line (NUL-terminated, without its line end) of either format;
 * which one is decided by the line's prefix. @lineno goes into ev->line.
 */
enum trace_line trace_parse_line(const char *line, unsigned long lineno,
				 struct trace_event *ev, struct trace_diag *diag);

/* Malformed lines whose message is kept; the rest are only counted. */
enum { TRACE_MAX_ERRORS = 16 };

struct trace_error {
	unsigned long line;
	char msg[TRACE_MSG_LEN];
};

/*
 * Counts over a whole file. Descriptors are counted by type (fmt/desc.h
 * numbering, index 0 unused) and granularity (vtd_desc_fields.g); the
 * page-selective IOTLB ones also by address mask.
 */
struct trace_summary {
	unsigned long lines;
	unsigned long ftrace_events, qemu_events;
	unsigned long events[TEV_NR];
	unsigned long desc[DESC_NR_TYPES];
	unsigned long desc_unknown;		/* type 0 or 11 and up */
	unsigned long gran[DESC_NR_TYPES][4];
	unsigned long psi_am[64];
	uint64_t bytes_mapped, bytes_unmapped;	/* map size, unmap unmapped_size */
	unsigned long skipped[TSKIP_NR];
	unsigned long first_skip[TSKIP_NR];	/* line of the first; 0: none */
	unsigned long malformed;
	struct trace_error errors[TRACE_MAX_ERRORS];	/* the first ones */
	unsigned nr_errors;
	/*
	 * The last line had no line end: @truncated_line is its number. If it
	 * still parsed, it was counted (@truncated_kept); otherwise it is
	 * reported in @truncated_why, and counted neither as malformed nor
	 * as skipped.
	 */
	unsigned long truncated_line;
	bool truncated_kept;
	char truncated_why[TRACE_MSG_LEN];
	const char *binary;	/* "xz", "gzip", "trace.dat": read as text, undecoded */
	const char *via;	/* "xz", "libtracecmd": decoded on the way; NULL: as it is */
	char decode_err[TRACE_MSG_LEN];	/* the decoder failed: why; else "" */
};

/*
 * What to do about a file that was read undecoded (@binary as in
 * trace_summary): "it is xz-compressed: decompress it first", ...
 */
const char *trace_binary_hint(const char *binary);

/* Count one parsed event into @s. */
void trace_summary_add(struct trace_summary *s, const struct trace_event *ev);

/*
 * A line-by-line reader over @f. trace_reader_next() returns 1 with the
 * next event in @ev (already counted into @sum), 0 at the end of the file,
 * or -EIO on a read error. Skipped, malformed and truncated lines are
 * recorded in @sum on the way. Release frees the line buffer, not @f.
 */
struct trace_reader {
	FILE *f;
	struct trace_summary *sum;
	char *buf;
	size_t cap;
	unsigned long line;
};

void trace_reader_init(struct trace_reader *r, FILE *f, struct trace_summary *sum);
int trace_reader_next(struct trace_reader *r, struct trace_event *ev);
void trace_reader_release(struct trace_reader *r);

/* Read all of @f into @sum (zeroed first). 0, or -EIO. */
int trace_read(FILE *f, struct trace_summary *sum);

/*
 * Open a trace for reading, told by its first bytes:
 * - xz-compressed: through `xz -dc` when xz is installed;
 * - trace-cmd's trace.dat: through libtracecmd when the build has it
 *   (tracedat.h; one line per record, in time order, in a child process
 *   so that a corrupt file cannot take the caller down);
 * - else, or when the decoder is missing, the file as it is (the reader
 *   then reports it in trace_summary.binary).
 * NULL with errno set if it cannot be opened. trace_close() closes it and
 * reaps the decoder: -EIO if the decoder failed (a corrupt file), with the
 * reason in @err.
 */
struct trace_file {
	FILE *f;
	int pid;		/* the decoder's, or -1 */
	const char *via;	/* "xz", "libtracecmd", or NULL */
	char err[TRACE_MSG_LEN];
};

FILE *trace_open(const char *path, struct trace_file *tf);
int trace_close(struct trace_file *tf);

/*
 * Open @path (trace_open) and read it all. 0, or a negative errno (open or
 * read); a decoder's failure is -EIO with its reason in sum->decode_err.
 */
int trace_read_file(const char *path, struct trace_summary *sum);

/* Events recognised, of both formats. */
static inline unsigned long trace_summary_events(const struct trace_summary *s)
{
	return s->ftrace_events + s->qemu_events;
}

/*
 * The counts as an aligned table, or (@json) as one JSON object with the
 * same keys, "file": @name, "format" and the first malformed lines. The
 * library prints only to the FILE* it is handed.
 */
void trace_summary_print(FILE *out, const struct trace_summary *s, const char *name,
			 bool json);

/* "NAME:LINE: message" per kept malformed line, and the truncated line. */
void trace_summary_print_errors(FILE *out, const struct trace_summary *s,
				const char *name);

#endif
