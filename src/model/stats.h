/*
 * stats.h — the model's counters, declared once. Each X(ENUM, "name")
 * row generates an enum index and the printed name; a unit keeps one
 * array, "dmar0.<name>", and the machine sums them as "<name>".
 */
#ifndef VTD_MODEL_STATS_H
#define VTD_MODEL_STATS_H

#define VTDM_CACHE_STATS(X, P, N)				\
	X(P##_HIT, N ".hit") X(P##_MISS, N ".miss")		\
	X(P##_FILL, N ".fill") X(P##_INV, N ".inv")		\
	X(P##_EVICT, N ".evict")

#define VTDM_UNIT_STATS(X)						\
	VTDM_CACHE_STATS(X, ST_CTX, "ctx")				\
	VTDM_CACHE_STATS(X, ST_PASID, "pasid")				\
	VTDM_CACHE_STATS(X, ST_IOTLB, "iotlb")				\
	VTDM_CACHE_STATS(X, ST_PSCS, "psc.ss")				\
	VTDM_CACHE_STATS(X, ST_PSCF, "psc.fs")				\
	X(ST_IOTLB_PREFETCH, "iotlb.prefetch")				\
	X(ST_IOTLB_NEG_HIT, "iotlb.neg_hit")				\
	X(ST_CTX_NEG_HIT, "ctx.neg_hit")				\
	X(ST_DESC, "desc")						\
	X(ST_DESC_CC_GLOBAL, "desc.cc.global")				\
	X(ST_DESC_CC_DOMAIN, "desc.cc.domain")				\
	X(ST_DESC_CC_DEVICE, "desc.cc.device")				\
	X(ST_DESC_IOTLB_GLOBAL, "desc.iotlb.global")			\
	X(ST_DESC_IOTLB_DSI, "desc.iotlb.dsi")				\
	X(ST_DESC_IOTLB_PSI, "desc.iotlb.psi")				\
	X(ST_DESC_DEVTLB, "desc.devtlb")				\
	X(ST_DESC_IEC, "desc.iec")					\
	X(ST_DESC_WAIT, "desc.wait")					\
	X(ST_DESC_PIOTLB_PASID, "desc.piotlb.pasid")			\
	X(ST_DESC_PIOTLB_PSI, "desc.piotlb.psi")			\
	X(ST_DESC_PC, "desc.pc")					\
	X(ST_DESC_PDEVTLB, "desc.pdevtlb")				\
	X(ST_PSI_MISALIGNED, "desc.psi_misaligned")			\
	X(ST_WAIT_DONE, "wait.done")					\
	X(ST_WAIT_ABORT, "wait.abort")					\
	X(ST_IQE, "iqe")						\
	X(ST_ITE, "ite")						\
	X(ST_ICE, "ice")						\
	X(ST_REGINV_CC, "reginv.cc")					\
	X(ST_REGINV_IOTLB, "reginv.iotlb")				\
	X(ST_REGINV_IGNORED, "reginv.ignored")				\
	X(ST_WBF, "wbf")						\
	X(ST_STALE_READ, "walk.stale_read")				\
	X(ST_WALK, "walk")						\
	X(ST_WALK_ACCESS, "walk.access")				\
	X(ST_FAULT, "fault")						\
	X(ST_FAULT_RECORDED, "fault.recorded")				\
	X(ST_FAULT_OVERFLOW, "fault.overflow")				\
	X(ST_FAULT_IRQ, "fault.irq")					\
	X(ST_INV_IRQ, "inv.irq")					\
	X(ST_DMA_READ, "dma.read")					\
	X(ST_DMA_WRITE, "dma.write")					\
	X(ST_DMA_FAULT, "dma.fault")					\
	X(ST_DMA_BYTES, "dma.bytes")					\
	X(ST_ATS_REQ, "ats.req")					\
	X(ST_ATS_TRANSLATED, "ats.translated")				\
	X(ST_GCMD_REFUSED, "gcmd.refused")

#define VTDM_DEV_STATS(X)						\
	VTDM_CACHE_STATS(X, SD_ATC, "atc")				\
	X(SD_INV_REQ, "inv.req")					\
	X(SD_INV_DROPPED, "inv.dropped")

#define VTDM_ENUM(e, n) e,
enum vtdm_unit_stat { VTDM_UNIT_STATS(VTDM_ENUM) ST_NR };
enum vtdm_dev_stat { VTDM_DEV_STATS(VTDM_ENUM) SD_NR };
#undef VTDM_ENUM

extern const char *const vtdm_unit_stat_names[ST_NR];
extern const char *const vtdm_dev_stat_names[SD_NR];

#endif
