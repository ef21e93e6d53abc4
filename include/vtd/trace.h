/*
 * trace.h — libvtd's trace events, declared once. Each row of
 * VTD_EVENTS gives the event's enum, its name and its line format; the
 * printed lines are those of Linux's intel_iommu and iommu trace events,
 * so vtdkit's output and a real kernel's ftrace can be compared line by
 * line. A host receives events through vtd_ops.trace; with no hook set,
 * an event costs one branch.
 */
#ifndef VTD_TRACE_H
#define VTD_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define VTD_EVENTS(X)							\
	X(VTD_EV_QI_SUBMIT, "qi_submit")				\
	X(VTD_EV_TAG_ASSIGN, "cache_tag_assign")			\
	X(VTD_EV_TAG_UNASSIGN, "cache_tag_unassign")			\
	X(VTD_EV_TAG_FLUSH_RANGE, "cache_tag_flush_range")		\
	X(VTD_EV_TAG_FLUSH_RANGE_NP, "cache_tag_flush_range_np")	\
	X(VTD_EV_TAG_FLUSH_ALL, "cache_tag_flush_all")			\
	X(VTD_EV_MAP, "map")						\
	X(VTD_EV_UNMAP, "unmap")					\
	X(VTD_EV_ATTACH, "attach_device_to_domain")

#define VTD_EV_ENUM(e, n) e,
enum vtd_event_type { VTD_EVENTS(VTD_EV_ENUM) VTD_EV_NR };
#undef VTD_EV_ENUM

/* One event; only the fields of its type are set. */
struct vtd_event {
	enum vtd_event_type type;
	const char *unit;		/* "dmar0" */
	const char *dev;		/* tag: unit name (IOTLB) or device (DEVTLB); attach: device */
	uint64_t qw[4];			/* qi_submit */
	const char *tag_type;		/* "iotlb", "devtlb", … */
	unsigned did, pasid, users;
	uint64_t start, end;		/* flush range, inclusive */
	uint64_t addr, pages;		/* PSI address and 2^mask pages */
	unsigned mask;
	uint64_t iova, pa, size, done;	/* map / unmap */
};

const char *vtd_event_name(enum vtd_event_type type);
/* "qi_submit: iotlb_inv dmar0: 0x… 0x… 0x0 0x0", without a newline. */
int vtd_event_format(char *buf, size_t len, const struct vtd_event *ev);

#endif
