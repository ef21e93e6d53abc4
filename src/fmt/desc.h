/*
 * desc.h — invalidation descriptors (VT-d 6.5.2): field layouts, encode
 * and decode, the reserved-bit masks hardware checks, and a printer that
 * names every field. A descriptor is 128 bits (qw0, qw1) in a legacy
 * queue and 256 bits (qw0..qw3) when IQA.DW=1; the type is qw0[3:0] with
 * Type[6:4] in qw0[11:9].
 */
#ifndef VTD_FMT_DESC_H
#define VTD_FMT_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include "fmt/bits.h"

struct vtd_desc {
	uint64_t qw[4];
};

enum desc_type {
	DESC_CC		= 1,	/* context-cache (6.5.2.1) */
	DESC_IOTLB	= 2,	/* IOTLB (6.5.2.3) */
	DESC_DEVTLB	= 3,	/* device-TLB (6.5.2.5) */
	DESC_IEC	= 4,	/* interrupt entry cache (6.5.2.7) */
	DESC_WAIT	= 5,	/* invalidation wait (6.5.2.8) */
	DESC_PIOTLB	= 6,	/* PASID-based IOTLB (6.5.2.4), 256-bit only */
	DESC_PC		= 7,	/* PASID-cache (6.5.2.2), 256-bit only */
	DESC_PDEVTLB	= 8,	/* PASID-based device-TLB (6.5.2.6), 256-bit only */
	DESC_PGRP_RESP	= 9,	/* page group response (7.7.1), needs ECAP.PRS */
	DESC_PSTRM_RESP	= 10,	/* page stream response, needs ECAP.PRS */
	DESC_NR_TYPES,
};

/* Every type: qw0 */
#define DESC_TYPE_LO		GENMASK_ULL(3, 0)
#define DESC_TYPE_HI		GENMASK_ULL(11, 9)	/* Type[6:4] */

/* Context-cache, qw0 (qw1 reserved) */
#define CC_G			GENMASK_ULL(5, 4)	/* 1 global, 2 domain, 3 device */
#define CC_DID			GENMASK_ULL(31, 16)
#define CC_SID			GENMASK_ULL(47, 32)
#define CC_FM			GENMASK_ULL(49, 48)	/* function mask */

/* IOTLB, qw0 */
#define IOTLBD_G		GENMASK_ULL(5, 4)	/* 1 global, 2 DSI, 3 PSI */
#define IOTLBD_DW		BIT_ULL(6)		/* drain writes */
#define IOTLBD_DR		BIT_ULL(7)		/* drain reads */
#define IOTLBD_DID		GENMASK_ULL(31, 16)
/* IOTLB and PASID-IOTLB, qw1 */
#define INV_AM			GENMASK_ULL(5, 0)	/* 2^AM pages */
#define INV_IH			BIT_ULL(6)		/* invalidation hint: leaves only */
#define INV_ADDR		GENMASK_ULL(63, 12)

/* Device-TLB, qw0 */
#define DEVTLB_PFSID_LO		GENMASK_ULL(15, 12)	/* PFSID[3:0] (ECAP.DIT) */
#define DEVTLB_MIP		GENMASK_ULL(20, 16)	/* max invalidations pending (qdep) */
#define DEVTLB_SID		GENMASK_ULL(47, 32)
#define DEVTLB_PFSID_HI		GENMASK_ULL(63, 52)	/* PFSID[15:4] */
/* Device-TLB, qw1 */
#define DEVTLB_S		BIT_ULL(0)		/* size: range encoded in ADDR */
#define DEVTLB_ADDR		GENMASK_ULL(63, 12)

/* Interrupt entry cache, qw0 (qw1 reserved) */
#define IEC_G			BIT_ULL(4)		/* 0 global, 1 index-selective */
#define IEC_IM			GENMASK_ULL(31, 27)	/* index mask */
#define IEC_IIDX		GENMASK_ULL(47, 32)	/* interrupt index */

/* Invalidation wait, qw0 */
#define WAIT_IF			BIT_ULL(4)		/* interrupt: set ICS.IWC */
#define WAIT_SW			BIT_ULL(5)		/* status write */
#define WAIT_FN			BIT_ULL(6)		/* fence */
#define WAIT_PD			BIT_ULL(7)		/* page-request drain (ECAP.PDS) */
#define WAIT_SDATA		GENMASK_ULL(63, 32)	/* status data */
/* Invalidation wait, qw1 */
#define WAIT_SADDR		GENMASK_ULL(63, 2)	/* status address, dword aligned */

/* PASID-based IOTLB, qw0 (qw1 as IOTLB: AM, IH, ADDR) */
#define PIOTLB_G		GENMASK_ULL(5, 4)	/* 2 all of a PASID, 3 page-selective */
#define PIOTLB_DID		GENMASK_ULL(31, 16)
#define PIOTLB_PASID		GENMASK_ULL(51, 32)

/* PASID-cache, qw0 */
#define PC_G			GENMASK_ULL(5, 4)	/* 0 domain, 1 PASID, 3 global */
#define PC_DID			GENMASK_ULL(31, 16)
#define PC_PASID		GENMASK_ULL(51, 32)

/* PASID-based device-TLB, qw0 */
#define PDEVTLB_MIP		GENMASK_ULL(8, 4)
#define PDEVTLB_PFSID_LO	GENMASK_ULL(15, 12)
#define PDEVTLB_SID		GENMASK_ULL(31, 16)
#define PDEVTLB_PASID		GENMASK_ULL(51, 32)
#define PDEVTLB_PFSID_HI	GENMASK_ULL(63, 52)
/* PASID-based device-TLB, qw1 */
#define PDEVTLB_G		BIT_ULL(0)		/* all PASIDs */
#define PDEVTLB_S		BIT_ULL(11)
#define PDEVTLB_ADDR		GENMASK_ULL(63, 12)

/* Granularity values */
enum { CC_G_GLOBAL = 1, CC_G_DOMAIN = 2, CC_G_DEVICE = 3 };
enum { IOTLB_G_GLOBAL = 1, IOTLB_G_DSI = 2, IOTLB_G_PSI = 3 };
enum { PIOTLB_G_PASID = 2, PIOTLB_G_PSI = 3 };
enum { PC_G_DOMAIN = 0, PC_G_PASID = 1, PC_G_GLOBAL = 3 };

/*
 * Invalidation queue error information, IQERCD.IQEI (10.4.33): why the
 * queue stopped with IQH on the offending descriptor.
 */
enum iqei {
	IQEI_NONE	= 0,	/* no information */
	IQEI_TAIL	= 1,	/* IQT beyond the end of the queue */
	IQEI_FETCH	= 2,	/* descriptor fetch hit an address error */
	IQEI_TYPE	= 3,	/* unknown or unsupported type, or 256-bit type in a 128-bit queue */
	IQEI_RSVD	= 4,	/* reserved field set, or reserved field value */
	IQEI_WIDTH	= 5,	/* IQA.DW=1 on a unit without scalable mode */
	IQEI_TAIL_ALIGN	= 6,	/* IQT bit 4 set with IQA.DW=1 */
	IQEI_TTM	= 7,	/* RTADDR.TTM reserved while the queue runs */
};

/*
 * A descriptor decoded into named fields. Only the fields of its type are
 * meaningful; decode leaves the others zero.
 */
struct vtd_desc_fields {
	unsigned type;
	unsigned g;		/* granularity; PASID devTLB: the global bit */
	uint16_t did;
	uint16_t sid;
	uint16_t pfsid;
	uint32_t pasid;
	uint64_t addr;		/* page address; wait: status address */
	unsigned am;		/* IOTLB/PIOTLB address mask */
	bool ih, dr, dw;	/* IOTLB hint and drains */
	bool s;			/* device-TLB size bit */
	unsigned qdep;		/* device-TLB MIP */
	unsigned fm;		/* context-cache function mask */
	unsigned iidx, im;	/* IEC index and mask */
	bool iflag, sw, fn, pd;	/* wait flags (IF, SW, FN, PD) */
	uint32_t sdata;		/* wait status data */
};

static inline unsigned desc_type(const struct vtd_desc *d)
{
	return (unsigned)(FIELD_GET(DESC_TYPE_LO, d->qw[0]) |
			  FIELD_GET(DESC_TYPE_HI, d->qw[0]) << 4);
}

/* Types only a 256-bit queue accepts (6.5.2). */
static inline bool desc_type_wide_only(unsigned type)
{
	return type == DESC_PIOTLB || type == DESC_PC || type == DESC_PDEVTLB;
}

struct vtd_desc vtd_desc_encode(const struct vtd_desc_fields *f);
void vtd_desc_decode(const struct vtd_desc *d, struct vtd_desc_fields *f);

/*
 * Bits of qword @qw (0..3) that must be zero in a descriptor of @type on a
 * unit with extended capabilities @ecap (PFSID needs DIT, PD needs PDS).
 * qw2/qw3 are all reserved for every type in a 256-bit queue.
 */
uint64_t vtd_desc_rsvd(unsigned type, int qw, uint64_t ecap);

/*
 * Check a fetched descriptor as hardware does: a valid type for this
 * unit, the queue width, reserved bits, granularity values, and an IOTLB
 * page-selective mask no larger than CAP.MAMV. Returns
 * IQEI_NONE when the descriptor may be processed.
 */
enum iqei vtd_desc_check(const struct vtd_desc *d, bool wide, uint64_t cap,
			 uint64_t ecap);

/* Linux's qi_submit name for a type ("iotlb_inv", …), or "unknown". */
const char *vtd_desc_type_name(unsigned type);

/* "iotlb_inv g=psi did=0x2 …": every field of the type, by name. */
int vtd_desc_format(char *buf, size_t len, const struct vtd_desc *d);

/*
 * Device-TLB range encoding (6.5.2.5): S=0 is one 4K page; with S=1 the
 * lowest 0 bit of ADDR[63:12] at bit 12+k says the range is 2^(k+1)
 * pages. Encode 2^@order pages at @addr (aligned to the size); an order
 * of 51 or more asks for the whole space (ADDR[62:12] all ones).
 */
static inline void devtlb_range_encode(uint64_t addr, unsigned order,
				       uint64_t *field, bool *s)
{
	if (order >= 51)
		order = 52;
	if (order == 0) {
		*field = addr & DEVTLB_ADDR;
		*s = false;
		return;
	}
	/* Set bits 12 .. 12+order-2 and leave bit 12+order-1 clear. */
	*field = (addr & DEVTLB_ADDR) | GENMASK_ULL(12 + order - 1, 12);
	*field &= ~BIT_ULL(12 + order - 1);
	*s = true;
}

/* Decode to [*base, *base + *size); a size of 0 means the whole space. */
static inline void devtlb_range_decode(uint64_t field, bool s, uint64_t *base,
				       uint64_t *size)
{
	uint64_t pfns = field >> 12;

	if (!s) {
		*base = field & DEVTLB_ADDR;
		*size = 1ULL << 12;
		return;
	}
	unsigned k = (unsigned)__builtin_ctzll(~pfns);

	if (12 + k + 1 >= 64) {
		*base = 0;	/* ADDR[62:12] all ones: the whole space */
		*size = 0;
		return;
	}
	*size = 1ULL << (12 + k + 1);
	*base = field & DEVTLB_ADDR & ~(*size - 1);
}

#endif
