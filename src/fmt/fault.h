/*
 * fault.h — DMA-remapping fault reasons recorded in FRCD.FR (VT-d 7.1.3
 * and its scalable-mode table). Legacy codes are 0x1..0xD; scalable-mode
 * codes are grouped by the structure being walked (root 0x38, context
 * 0x40, PASID directory 0x50, PASID table 0x58, first stage 0x70, second
 * stage 0x78, general 0x80). Sources: docs/faults.md.
 */
#ifndef VTD_FMT_FAULT_H
#define VTD_FMT_FAULT_H

#define VTD_FAULT_REASONS(X)						\
	/* legacy mode (TTM=00) */					\
	X(FR_ROOT_P,		0x01, "LRT.2 root entry not present")	\
	X(FR_CTX_P,		0x02, "LCT.2 context entry not present") \
	X(FR_CTX_INV,		0x03, "LCT.4 invalid context entry programming") \
	X(FR_ADDR_WIDTH,	0x04, "LGN.1 input address above the guest address width") \
	X(FR_WRITE,		0x05, "LGN.2 write to a page without write permission") \
	X(FR_READ,		0x06, "LGN.3 read of a page without read permission") \
	X(FR_PTE_ACCESS,	0x07, "LSL.1 error accessing a second-stage entry") \
	X(FR_ROOT_ACCESS,	0x08, "LRT.1 error accessing the root entry") \
	X(FR_CTX_ACCESS,	0x09, "LCT.1 error accessing the context entry") \
	X(FR_ROOT_RSVD,		0x0a, "LRT.3 reserved field in a root entry") \
	X(FR_CTX_RSVD,		0x0b, "LCT.3 reserved field in a context entry") \
	X(FR_PTE_RSVD,		0x0c, "LSL.2 reserved field in a second-stage entry") \
	X(FR_CTX_TT,		0x0d, "LCT.5 translation or translated request blocked by TT") \
	/* scalable mode (TTM=01) */					\
	X(FR_SM_TTM,		0x30, "RTA.1 invalid translation table mode") \
	X(FR_SM_LEGACY_PASID,	0x31, "RTA.2 request with PASID in legacy mode") \
	X(FR_SM_ROOT_ACCESS,	0x38, "SRT.1 error accessing the root entry") \
	X(FR_SM_ROOT_P,		0x39, "SRT.2 root entry half not present") \
	X(FR_SM_ROOT_RSVD,	0x3a, "SRT.3 reserved field in a root entry") \
	X(FR_SM_CTX_ACCESS,	0x40, "SCT.1 error accessing the context entry") \
	X(FR_SM_CTX_P,		0x41, "SCT.2 context entry not present") \
	X(FR_SM_CTX_RSVD,	0x42, "SCT.3 reserved field in a context entry") \
	X(FR_SM_CTX_INV,	0x43, "SCT.4 invalid context entry programming") \
	X(FR_SM_CTX_DTE,	0x44, "SCT.5 translation or translated request with DTE=0") \
	X(FR_SM_CTX_PASIDE,	0x45, "SCT.6 request with PASID and PASIDE=0") \
	X(FR_SM_PASID_RANGE,	0x46, "SCT.7 PASID beyond the PASID directory") \
	X(FR_SM_PDE_ACCESS,	0x50, "SPD.1 error accessing the PASID directory entry") \
	X(FR_SM_PDE_P,		0x51, "SPD.2 PASID directory entry not present") \
	X(FR_SM_PDE_RSVD,	0x52, "SPD.3 reserved field in a PASID directory entry") \
	X(FR_SM_PTE_ACCESS,	0x58, "SPT.1 error accessing the PASID table entry") \
	X(FR_SM_PTE_P,		0x59, "SPT.2 PASID table entry not present") \
	X(FR_SM_PTE_RSVD,	0x5a, "SPT.3 reserved field in a PASID table entry") \
	X(FR_SM_PTE_INV,	0x5b, "SPT.4 invalid PASID table entry programming") \
	X(FR_SM_SRE,		0x5d, "SPT.6 supervisor request with SRE=0") \
	X(FR_SM_FS_ACCESS,	0x70, "SFS.1 error accessing a first-stage entry") \
	X(FR_SM_FS_P,		0x71, "SFS.2 first-stage entry not present") \
	X(FR_SM_FS_RSVD,	0x72, "SFS.3 reserved field in a first-stage entry") \
	X(FR_SM_FS_ROOT,	0x73, "SFS.4 error accessing the first-stage root table") \
	X(FR_SM_SS_ACCESS,	0x78, "SSS.1 error accessing a second-stage entry") \
	X(FR_SM_SS_PERM,	0x79, "SSS.2 second-stage read/write permission") \
	X(FR_SM_SS_RSVD,	0x7a, "SSS.3 reserved field in a second-stage entry") \
	X(FR_SM_SS_ROOT,	0x7b, "SSS.4 error accessing the second-stage root table") \
	X(FR_SM_NONCANON,	0x80, "SGN.1 non-canonical first-stage input address") \
	X(FR_SM_FS_US,		0x81, "SGN.2 user request to a supervisor page") \
	X(FR_SM_ADDR_WIDTH,	0x83, "SGN.4 input address above the guest address width") \
	X(FR_SM_WRITE,		0x85, "SGN.6 write without write permission") \
	X(FR_SM_READ,		0x86, "SGN.7 read without read permission")

#define VTD_FAULT_ENUM(e, v, s) e = v,
enum vtd_fault_reason { VTD_FAULT_REASONS(VTD_FAULT_ENUM) };
#undef VTD_FAULT_ENUM

/* Spec name and meaning of a fault reason, or NULL if not one of ours. */
static inline const char *vtd_fault_name(unsigned reason)
{
	switch (reason) {
#define VTD_FAULT_CASE(e, v, s) case v: return s;
	VTD_FAULT_REASONS(VTD_FAULT_CASE)
#undef VTD_FAULT_CASE
	default:
		return (const char *)0;
	}
}

#endif
