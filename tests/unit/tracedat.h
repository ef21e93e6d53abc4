/*
 * tracedat.h — a trace-cmd trace.dat (file format version 6) writer for the
 * tests: typed ftrace events (trace.h) written as the binary file that
 * `trace-cmd record` would have made of them, so that readers of trace.dat
 * can be tested on the real captures. Bytes written by hand; no library.
 */
#ifndef VTD_TESTS_TRACEDAT_H
#define VTD_TESTS_TRACEDAT_H

#include <stddef.h>
#include "bench/trace.h"

/*
 * Write the @n events of @evs (as trace_parse_line fills them) to @path as
 * a little-endian trace.dat v6 with 8-byte longs and 4K pages, one CPU
 * buffer per CPU up to the highest ev->cpu, records in the given order.
 * Fields an event's tracepoint does not have are not written (the ref of
 * a range flush, the range of the other cache-tag events).
 *
 * Returns 0; -EINVAL, with nothing written, for a QEMU event or a kind
 * other than MAP, UNMAP, ATTACH, GROUP, QI_SUBMIT, TAG_* and MARK, a cpu
 * outside 0..1023, a value the tracepoint cannot carry (a map or unmap end
 * other than iova + size, a qi_submit type other than 1..9 in qw0[3:0], a
 * tag type not in the kernel's list, did above 0xffff, a group, pasid, ref
 * or pid above INT_MAX, an unterminated name), a time going back on one
 * CPU, a pid with two task names or pid 0 not named "<idle>"; -ENOMEM; or
 * the errno of a failed write.
 */
int tracedat_write(const char *path, const struct trace_event *evs, size_t n);

#endif
