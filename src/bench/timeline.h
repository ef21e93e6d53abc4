/*
 * timeline.h — a writer of Chrome/Perfetto trace-event JSON, so that a run
 * of vtdkit can be looked at in ui.perfetto.dev or chrome://tracing: spans,
 * instants and counters on named tracks, in virtual nanoseconds.
 *
 * Facts about the format this writer relies on:
 *  - "Trace Event Format" (Google document, docs.google.com/document/d/
 *    1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU): the JSON Object Format
 *    is {"traceEvents":[...], "displayTimeUnit":"ms"|"ns"}; events need not
 *    be sorted; "ts" and "dur" are in microseconds and may be fractional;
 *    "ph" is "X" for a complete event (with "dur"), "i" for an instant
 *    (scope "s": "g", "p" or "t"), "C" for a counter (each member of
 *    "args" is one series), "M" for metadata ("process_name" and
 *    "thread_name" with args {"name": ...}).
 *  - Perfetto's JSON importer (trace_processor, importers/json): it reads
 *    "ts" from the number's decimal text into integer nanoseconds, so
 *    three decimals of microseconds are exact; "dur" went through a double
 *    in the versions read (value * 1000, truncated), so a duration may show
 *    1 ns short there. A counter event becomes the process-scoped track
 *    "NAME KEY" for each numeric arg KEY. X events on one thread must nest;
 *    overlapping ones go to an overflow track
 *    (perfetto.dev/docs/getting-started/other-formats). "ts" is in
 *    microseconds whatever "displayTimeUnit" says, which only picks the
 *    unit shown (github.com/google/perfetto/issues/274, 2022; older
 *    Perfetto read "ns" traces as nanoseconds).
 *
 * A track is a (group, lane) pair, written as a Chrome (pid, tid): spans
 * that may overlap belong on different lanes. The writer never prints
 * except to the stream it writes, never aborts, and remembers the first
 * error for tl_close(). One struct tl is used by one thread at a time.
 */
#ifndef VTD_BENCH_TIMELINE_H
#define VTD_BENCH_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct tl;

/*
 * Open @path for writing ("-" is stdout, flushed but not closed by
 * tl_close). NULL on failure, with "PATH: strerror" (or "out of memory")
 * in @err (may be NULL).
 */
struct tl *tl_open(const char *path, char *err, size_t errlen);

/* Write to an already open stream, flushed but not closed by tl_close. NULL: !f or no memory. */
struct tl *tl_open_stream(FILE *f);

/*
 * Finish the JSON (closing brackets), flush, close. Returns 0, or the
 * negative errno of the first error: a failed write (-EIO if the C library
 * gave no errno) or an event dropped for want of memory (-ENOMEM). Frees
 * @t. NULL is a no-op returning 0.
 */
int tl_close(struct tl *t);

/*
 * The track for lane @name of group @group (Chrome "process" and "thread":
 * "CPU threads"/"t0", "devices"/"dev 01:00.0", "units"/"dmar0"). Returns an
 * id >= 0, the same for the same (group, name) pair; the first time, emits
 * the group's process_name (once per group) and the lane's thread_name
 * metadata events. -ENOMEM on failure, -EINVAL for a NULL t, group or name.
 */
int tl_track(struct tl *t, const char *group, const char *name);

/* Arguments shown in the UI's detail pane. */
enum tl_arg_kind {
	TL_U64,		/* @u as a JSON number (viewers in JavaScript round it above 2^53) */
	TL_HEX,		/* @u as a string "0x1f" (JSON has no hex numbers) */
	TL_STR,		/* @s as a string; NULL is written as null */
	TL_F64,		/* @f as a number; NaN and infinities are written as null */
};

struct tl_arg {
	const char *key;	/* an arg with a NULL key is left out */
	enum tl_arg_kind kind;
	uint64_t u;
	const char *s;
	double f;
};

/*
 * A complete event ("ph":"X") on @track from @ts_ns lasting @dur_ns
 * (virtual ns; written as microseconds with three decimals). @cat may be
 * NULL (no "cat"); a NULL @name is written as "". A bad track id is
 * ignored.
 */
void tl_span(struct tl *t, int track, const char *name, const char *cat, uint64_t ts_ns,
	     uint64_t dur_ns, const struct tl_arg *args, unsigned nargs);

/* An instant event ("ph":"i", "s":"t", thread scope) at @ts_ns; as tl_span otherwise. */
void tl_instant(struct tl *t, int track, const char *name, const char *cat, uint64_t ts_ns,
		const struct tl_arg *args, unsigned nargs);

struct vtd_desc;

/*
 * A queued-invalidation descriptor as an instant named by its type
 * ("iotlb_inv", "inv_wait", ...; fmt/desc.h) in category "qi", with its
 * granularity and, by type, did, addr, am, sid and s as args.
 */
void tl_desc(struct tl *t, int track, const struct vtd_desc *d, uint64_t ts_ns);

/*
 * A sample of counter @name ("ph":"C", args {"value": @value}) in @group,
 * which gets its process_name like a track's group. Perfetto shows it as
 * the track "NAME value". A NaN or infinite @value has no JSON form and
 * the sample is dropped.
 */
void tl_counter(struct tl *t, const char *group, const char *name, uint64_t ts_ns, double value);

/* Events written so far, metadata included; dropped ones are not counted. */
unsigned long tl_events(const struct tl *t);

#endif
