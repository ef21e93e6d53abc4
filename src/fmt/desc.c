/*
 * desc.c — encode, decode, check and print invalidation descriptors
 * (VT-d 6.5.2). The layouts live in desc.h; this file only moves fields.
 */
#include <stdio.h>
#include "fmt/desc.h"
#include "fmt/regs.h"

static uint64_t type_bits(unsigned type)
{
	return FIELD_PREP(DESC_TYPE_LO, type & 0xf) | FIELD_PREP(DESC_TYPE_HI, type >> 4);
}

struct vtd_desc vtd_desc_encode(const struct vtd_desc_fields *f)
{
	struct vtd_desc d = { { type_bits(f->type), 0, 0, 0 } };
	uint64_t *q0 = &d.qw[0], *q1 = &d.qw[1];

	switch (f->type) {
	case DESC_CC:
		*q0 |= FIELD_PREP(CC_G, f->g) | FIELD_PREP(CC_DID, f->did) |
		       FIELD_PREP(CC_SID, f->sid) | FIELD_PREP(CC_FM, f->fm);
		break;
	case DESC_IOTLB:
		*q0 |= FIELD_PREP(IOTLBD_G, f->g) | FIELD_PREP(IOTLBD_DID, f->did) |
		       (f->dw ? IOTLBD_DW : 0) | (f->dr ? IOTLBD_DR : 0);
		*q1 = (f->addr & INV_ADDR) | FIELD_PREP(INV_AM, f->am) | (f->ih ? INV_IH : 0);
		break;
	case DESC_DEVTLB:
		*q0 |= FIELD_PREP(DEVTLB_SID, f->sid) | FIELD_PREP(DEVTLB_MIP, f->qdep) |
		       FIELD_PREP(DEVTLB_PFSID_LO, f->pfsid & 0xf) |
		       FIELD_PREP(DEVTLB_PFSID_HI, f->pfsid >> 4);
		*q1 = (f->addr & DEVTLB_ADDR) | (f->s ? DEVTLB_S : 0);
		break;
	case DESC_IEC:
		*q0 |= (f->g ? IEC_G : 0) | FIELD_PREP(IEC_IM, f->im) |
		       FIELD_PREP(IEC_IIDX, f->iidx);
		break;
	case DESC_WAIT:
		*q0 |= (f->iflag ? WAIT_IF : 0) | (f->sw ? WAIT_SW : 0) |
		       (f->fn ? WAIT_FN : 0) | (f->pd ? WAIT_PD : 0) |
		       FIELD_PREP(WAIT_SDATA, f->sdata);
		*q1 = f->addr & WAIT_SADDR;
		break;
	case DESC_PIOTLB:
		*q0 |= FIELD_PREP(PIOTLB_G, f->g) | FIELD_PREP(PIOTLB_DID, f->did) |
		       FIELD_PREP(PIOTLB_PASID, f->pasid);
		*q1 = (f->addr & INV_ADDR) | FIELD_PREP(INV_AM, f->am) | (f->ih ? INV_IH : 0);
		break;
	case DESC_PC:
		*q0 |= FIELD_PREP(PC_G, f->g) | FIELD_PREP(PC_DID, f->did) |
		       FIELD_PREP(PC_PASID, f->pasid);
		break;
	case DESC_PDEVTLB:
		*q0 |= FIELD_PREP(PDEVTLB_MIP, f->qdep) | FIELD_PREP(PDEVTLB_SID, f->sid) |
		       FIELD_PREP(PDEVTLB_PASID, f->pasid) |
		       FIELD_PREP(PDEVTLB_PFSID_LO, f->pfsid & 0xf) |
		       FIELD_PREP(PDEVTLB_PFSID_HI, f->pfsid >> 4);
		*q1 = (f->addr & PDEVTLB_ADDR) | (f->s ? PDEVTLB_S : 0) |
		      (f->g ? PDEVTLB_G : 0);
		break;
	default:
		break;
	}
	return d;
}

void vtd_desc_decode(const struct vtd_desc *d, struct vtd_desc_fields *f)
{
	uint64_t q0 = d->qw[0], q1 = d->qw[1];

	*f = (struct vtd_desc_fields){ .type = desc_type(d) };
	switch (f->type) {
	case DESC_CC:
		f->g = (unsigned)FIELD_GET(CC_G, q0);
		f->did = (uint16_t)FIELD_GET(CC_DID, q0);
		f->sid = (uint16_t)FIELD_GET(CC_SID, q0);
		f->fm = (unsigned)FIELD_GET(CC_FM, q0);
		break;
	case DESC_IOTLB:
		f->g = (unsigned)FIELD_GET(IOTLBD_G, q0);
		f->did = (uint16_t)FIELD_GET(IOTLBD_DID, q0);
		f->dw = q0 & IOTLBD_DW;
		f->dr = q0 & IOTLBD_DR;
		f->addr = q1 & INV_ADDR;
		f->am = (unsigned)FIELD_GET(INV_AM, q1);
		f->ih = q1 & INV_IH;
		break;
	case DESC_DEVTLB:
		f->sid = (uint16_t)FIELD_GET(DEVTLB_SID, q0);
		f->qdep = (unsigned)FIELD_GET(DEVTLB_MIP, q0);
		f->pfsid = (uint16_t)(FIELD_GET(DEVTLB_PFSID_LO, q0) |
				      FIELD_GET(DEVTLB_PFSID_HI, q0) << 4);
		f->addr = q1 & DEVTLB_ADDR;
		f->s = q1 & DEVTLB_S;
		break;
	case DESC_IEC:
		f->g = (q0 & IEC_G) != 0;
		f->im = (unsigned)FIELD_GET(IEC_IM, q0);
		f->iidx = (unsigned)FIELD_GET(IEC_IIDX, q0);
		break;
	case DESC_WAIT:
		f->iflag = q0 & WAIT_IF;
		f->sw = q0 & WAIT_SW;
		f->fn = q0 & WAIT_FN;
		f->pd = q0 & WAIT_PD;
		f->sdata = (uint32_t)FIELD_GET(WAIT_SDATA, q0);
		f->addr = q1 & WAIT_SADDR;
		break;
	case DESC_PIOTLB:
		f->g = (unsigned)FIELD_GET(PIOTLB_G, q0);
		f->did = (uint16_t)FIELD_GET(PIOTLB_DID, q0);
		f->pasid = (uint32_t)FIELD_GET(PIOTLB_PASID, q0);
		f->addr = q1 & INV_ADDR;
		f->am = (unsigned)FIELD_GET(INV_AM, q1);
		f->ih = q1 & INV_IH;
		break;
	case DESC_PC:
		f->g = (unsigned)FIELD_GET(PC_G, q0);
		f->did = (uint16_t)FIELD_GET(PC_DID, q0);
		f->pasid = (uint32_t)FIELD_GET(PC_PASID, q0);
		break;
	case DESC_PDEVTLB:
		f->qdep = (unsigned)FIELD_GET(PDEVTLB_MIP, q0);
		f->sid = (uint16_t)FIELD_GET(PDEVTLB_SID, q0);
		f->pasid = (uint32_t)FIELD_GET(PDEVTLB_PASID, q0);
		f->pfsid = (uint16_t)(FIELD_GET(PDEVTLB_PFSID_LO, q0) |
				      FIELD_GET(PDEVTLB_PFSID_HI, q0) << 4);
		f->g = (q1 & PDEVTLB_G) != 0;
		f->s = q1 & PDEVTLB_S;
		f->addr = q1 & PDEVTLB_ADDR;
		break;
	default:
		break;
	}
}

/* The bits each type defines, per qword; everything else is reserved. */
static uint64_t defined_bits(unsigned type, int qw, uint64_t ecap)
{
	const uint64_t ty = DESC_TYPE_LO | DESC_TYPE_HI;
	uint64_t pfsid = (ecap & ECAP_DIT) ? 1 : 0;

	switch (type) {
	case DESC_CC:
		return qw == 0 ? ty | CC_G | CC_DID | CC_SID | CC_FM : 0;
	case DESC_IOTLB:
		return qw == 0 ? ty | IOTLBD_G | IOTLBD_DW | IOTLBD_DR | IOTLBD_DID :
		       qw == 1 ? INV_AM | INV_IH | INV_ADDR : 0;
	case DESC_DEVTLB:
		return qw == 0 ? ty | DEVTLB_MIP | DEVTLB_SID |
				 (pfsid ? DEVTLB_PFSID_LO | DEVTLB_PFSID_HI : 0) :
		       qw == 1 ? DEVTLB_S | DEVTLB_ADDR : 0;
	case DESC_IEC:
		return qw == 0 ? ty | IEC_G | IEC_IM | IEC_IIDX : 0;
	case DESC_WAIT:
		return qw == 0 ? ty | WAIT_IF | WAIT_SW | WAIT_FN | WAIT_SDATA |
				 ((ecap & ECAP_PDS) ? WAIT_PD : 0) :
		       qw == 1 ? WAIT_SADDR : 0;
	case DESC_PIOTLB:
		return qw == 0 ? ty | PIOTLB_G | PIOTLB_DID | PIOTLB_PASID :
		       qw == 1 ? INV_AM | INV_IH | INV_ADDR : 0;
	case DESC_PC:
		return qw == 0 ? ty | PC_G | PC_DID | PC_PASID : 0;
	case DESC_PDEVTLB:
		return qw == 0 ? ty | PDEVTLB_MIP | PDEVTLB_SID | PDEVTLB_PASID |
				 (pfsid ? PDEVTLB_PFSID_LO | PDEVTLB_PFSID_HI : 0) :
		       qw == 1 ? PDEVTLB_G | PDEVTLB_S | PDEVTLB_ADDR : 0;
	default:
		return qw == 0 ? ty : 0;
	}
}

uint64_t vtd_desc_rsvd(unsigned type, int qw, uint64_t ecap)
{
	return ~defined_bits(type, qw, ecap);
}

static bool gran_valid(const struct vtd_desc_fields *f)
{
	switch (f->type) {
	case DESC_CC:
		return f->g != 0;
	case DESC_IOTLB:
		return f->g != 0;
	case DESC_PIOTLB:
		return f->g == PIOTLB_G_PASID || f->g == PIOTLB_G_PSI;
	case DESC_PC:
		return f->g != 2;
	default:
		return true;
	}
}

enum iqei vtd_desc_check(const struct vtd_desc *d, bool wide, uint64_t cap,
			 uint64_t ecap)
{
	struct vtd_desc_fields f;
	unsigned type = desc_type(d);
	int nqw = wide ? 4 : 2;

	switch (type) {
	case DESC_CC: case DESC_IOTLB: case DESC_IEC: case DESC_WAIT:
		break;
	case DESC_DEVTLB:
		if (!(ecap & ECAP_DT))
			return IQEI_TYPE;
		break;
	case DESC_PIOTLB: case DESC_PC:
		if (!(ecap & ECAP_SMTS))
			return IQEI_TYPE;
		break;
	case DESC_PDEVTLB:
		if (!(ecap & ECAP_SMTS) || !(ecap & ECAP_DT))
			return IQEI_TYPE;
		break;
	default:
		/* Page responses need ECAP.PRS, which the model never reports. */
		return IQEI_TYPE;
	}
	if (!wide && desc_type_wide_only(type))
		return IQEI_TYPE;
	for (int i = 0; i < nqw; i++)
		if (d->qw[i] & vtd_desc_rsvd(type, i, ecap))
			return IQEI_RSVD;
	vtd_desc_decode(d, &f);
	if (!gran_valid(&f))
		return IQEI_RSVD;
	/* An IOTLB PSI may not ask for more than 2^MAMV pages (10.4.2 MAMV). */
	if (type == DESC_IOTLB && f.g == IOTLB_G_PSI && f.am > FIELD_GET(CAP_MAMV, cap))
		return IQEI_RSVD;
	return IQEI_NONE;
}

static const char *const type_names[DESC_NR_TYPES] = {
	[DESC_CC] = "cc_inv",
	[DESC_IOTLB] = "iotlb_inv",
	[DESC_DEVTLB] = "dev_tlb_inv",
	[DESC_IEC] = "iec_inv",
	[DESC_WAIT] = "inv_wait",
	[DESC_PIOTLB] = "p_iotlb_inv",
	[DESC_PC] = "pc_inv",
	[DESC_PDEVTLB] = "p_dev_tlb_inv",
	[DESC_PGRP_RESP] = "page_grp_resp",
	[DESC_PSTRM_RESP] = "page_strm_resp",
};

const char *vtd_desc_type_name(unsigned type)
{
	if (type < DESC_NR_TYPES && type_names[type])
		return type_names[type];
	return "unknown";
}

static const char *gran_name(const struct vtd_desc_fields *f)
{
	static const char *const cc[] = { "rsvd0", "global", "domain", "device" };
	static const char *const iotlb[] = { "rsvd0", "global", "dsi", "psi" };
	static const char *const piotlb[] = { "rsvd0", "rsvd1", "pasid", "psi" };
	static const char *const pc[] = { "domain", "pasid", "rsvd2", "global" };

	switch (f->type) {
	case DESC_CC: return cc[f->g & 3];
	case DESC_IOTLB: return iotlb[f->g & 3];
	case DESC_PIOTLB: return piotlb[f->g & 3];
	case DESC_PC: return pc[f->g & 3];
	case DESC_IEC: return f->g ? "index" : "global";
	default: return "";
	}
}

int vtd_desc_format(char *buf, size_t len, const struct vtd_desc *d)
{
	struct vtd_desc_fields f;
	const char *name;

	vtd_desc_decode(d, &f);
	name = vtd_desc_type_name(f.type);
	switch (f.type) {
	case DESC_CC:
		return snprintf(buf, len, "%s g=%s did=%#x sid=%02x:%02x.%x fm=%u", name,
				gran_name(&f), f.did, f.sid >> 8, (f.sid >> 3) & 0x1f,
				f.sid & 7, f.fm);
	case DESC_IOTLB:
		return snprintf(buf, len, "%s g=%s did=%#x dr=%d dw=%d addr=%#llx am=%u ih=%d",
				name, gran_name(&f), f.did, f.dr, f.dw,
				(unsigned long long)f.addr, f.am, f.ih);
	case DESC_DEVTLB:
	case DESC_PDEVTLB: {
		uint64_t base, size;

		devtlb_range_decode(f.addr, f.s, &base, &size);
		if (f.type == DESC_DEVTLB)
			return snprintf(buf, len,
					"%s sid=%02x:%02x.%x pfsid=%#x qdep=%u addr=%#llx s=%d range=%#llx+%#llx",
					name, f.sid >> 8, (f.sid >> 3) & 0x1f, f.sid & 7, f.pfsid,
					f.qdep, (unsigned long long)f.addr, f.s,
					(unsigned long long)base, (unsigned long long)size);
		return snprintf(buf, len,
				"%s sid=%02x:%02x.%x pasid=%#x g=%u pfsid=%#x qdep=%u addr=%#llx s=%d range=%#llx+%#llx",
				name, f.sid >> 8, (f.sid >> 3) & 0x1f, f.sid & 7, f.pasid, f.g,
				f.pfsid, f.qdep, (unsigned long long)f.addr, f.s,
				(unsigned long long)base, (unsigned long long)size);
	}
	case DESC_IEC:
		return snprintf(buf, len, "%s g=%s iidx=%#x im=%u", name, gran_name(&f),
				f.iidx, f.im);
	case DESC_WAIT:
		return snprintf(buf, len, "%s if=%d sw=%d fn=%d pd=%d sdata=%#x saddr=%#llx",
				name, f.iflag, f.sw, f.fn, f.pd, f.sdata,
				(unsigned long long)f.addr);
	case DESC_PIOTLB:
		return snprintf(buf, len, "%s g=%s did=%#x pasid=%#x addr=%#llx am=%u ih=%d",
				name, gran_name(&f), f.did, f.pasid,
				(unsigned long long)f.addr, f.am, f.ih);
	case DESC_PC:
		return snprintf(buf, len, "%s g=%s did=%#x pasid=%#x", name, gran_name(&f),
				f.did, f.pasid);
	default:
		return snprintf(buf, len, "%s type=%u qw0=%#llx qw1=%#llx", name, f.type,
				(unsigned long long)d->qw[0], (unsigned long long)d->qw[1]);
	}
}
