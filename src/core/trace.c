/*
 * trace.c — names and line formats of libvtd's trace events, matching
 * the text of Linux's intel_iommu:* and iommu:* events.
 */
#include <stdio.h>
#include "vtd/trace.h"
#include "fmt/desc.h"

static const char *const names[VTD_EV_NR] = {
#define VTD_EV_NAME(e, n) [e] = n,
	VTD_EVENTS(VTD_EV_NAME)
#undef VTD_EV_NAME
};

const char *vtd_event_name(enum vtd_event_type type)
{
	return type < VTD_EV_NR ? names[type] : "unknown";
}

int vtd_event_format(char *buf, size_t len, const struct vtd_event *ev)
{
	const char *name = vtd_event_name(ev->type);
	struct vtd_desc d = { { ev->qw[0], ev->qw[1], ev->qw[2], ev->qw[3] } };

	switch (ev->type) {
	case VTD_EV_QI_SUBMIT:
		return snprintf(buf, len, "%s: %s %s: 0x%llx 0x%llx 0x%llx 0x%llx", name,
				vtd_desc_type_name(desc_type(&d)), ev->unit,
				(unsigned long long)ev->qw[0], (unsigned long long)ev->qw[1],
				(unsigned long long)ev->qw[2], (unsigned long long)ev->qw[3]);
	case VTD_EV_TAG_ASSIGN:
	case VTD_EV_TAG_UNASSIGN:
	case VTD_EV_TAG_FLUSH_ALL:
		return snprintf(buf, len, "%s: %s/%s type %s did %u pasid %u ref %u", name,
				ev->unit, ev->dev, ev->tag_type, ev->did, ev->pasid, ev->users);
	case VTD_EV_TAG_FLUSH_RANGE:
	case VTD_EV_TAG_FLUSH_RANGE_NP:
		return snprintf(buf, len,
				"%s: %s %s[%u] type %s did %u [0x%llx-0x%llx] addr 0x%llx pages 0x%llx mask 0x%x",
				name, ev->unit, ev->dev, ev->pasid, ev->tag_type, ev->did,
				(unsigned long long)ev->start, (unsigned long long)ev->end,
				(unsigned long long)ev->addr, (unsigned long long)ev->pages,
				ev->mask);
	case VTD_EV_MAP:
		return snprintf(buf, len, "%s: IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%llu",
				name, (unsigned long long)ev->iova,
				(unsigned long long)(ev->iova + ev->size), (unsigned long long)ev->pa,
				(unsigned long long)ev->size);
	case VTD_EV_UNMAP:
		return snprintf(buf, len,
				"%s: IOMMU: iova=0x%016llx - 0x%016llx size=%llu unmapped_size=%llu",
				name, (unsigned long long)ev->iova,
				(unsigned long long)(ev->iova + ev->size), (unsigned long long)ev->size,
				(unsigned long long)ev->done);
	case VTD_EV_ATTACH:
		return snprintf(buf, len, "%s: IOMMU: device=%s", name, ev->dev);
	default:
		return snprintf(buf, len, "unknown event %d", (int)ev->type);
	}
}
