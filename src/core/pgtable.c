/*
 * pgtable.c — a domain's I/O page tables in second-stage (VT-d 9.8) or
 * first-stage IA-32e (VT-d 9.7) format: map, unmap with superpage split
 * and table unlinking, software lookup, and the gather's page freelist.
 * Table memory is reached only through the host's mem_read64/mem_write64.
 */
#include <errno.h>
#include <stdlib.h>
#include "core/internal.h"
#include "fmt/pte.h"

/* Both formats keep the next table or page frame in bits 51:12. */
#define PTE_ADDR	SSPTE_ADDR
/* Largest physical address an entry can hold (bits 51:12). */
#define PA_LIMIT	(1ULL << 52)

static uint64_t pte_read(struct vtd_domain *dom, uint64_t pa)
{
	return dom->v->ops->mem_read64(dom->v->ctx, pa);
}

/* Address of the entry of @table that @iova's walk reads at @level. */
static uint64_t pte_slot(uint64_t table, uint64_t iova, int level)
{
	return table + 8 * (uint64_t)pt_index(iova, level);
}

static bool pte_present(const struct vtd_domain *dom, uint64_t pte)
{
	if (dom->stage == VTD_STAGE_FIRST)
		return pte & FSPTE_P;
	return sspte_present(pte);
}

/* Level 1 entries are always leaves; PS makes a 2M/1G leaf (9.7, 9.8). */
static bool pte_leaf(uint64_t pte, int level)
{
	return level == 1 || (pte & SSPTE_PS);
}

/* Frame of a leaf: bit 12 of a first-stage superpage is PAT, not address. */
static uint64_t pte_leaf_pa(uint64_t pte, int level)
{
	return pte & PTE_ADDR & ~(pt_level_size(level) - 1);
}

static unsigned pte_perm(const struct vtd_domain *dom, uint64_t pte)
{
	if (dom->stage == VTD_STAGE_FIRST)	/* present means readable */
		return VTD_PERM_R | (pte & FSPTE_RW ? VTD_PERM_W : 0);
	return (pte & SSPTE_R ? VTD_PERM_R : 0) | (pte & SSPTE_W ? VTD_PERM_W : 0);
}

/*
 * A non-leaf entry grants everything, so that only leaves restrict. US is
 * set on first-stage entries because DMA requests without a privilege
 * level are user requests (9.7).
 */
static uint64_t pte_mk_table(const struct vtd_domain *dom, uint64_t table)
{
	if (dom->stage == VTD_STAGE_FIRST)
		return table | FSPTE_P | FSPTE_RW | FSPTE_US;
	return table | SSPTE_R | SSPTE_W;
}

/* First-stage cannot express write-only: a present entry is readable (9.7). */
static uint64_t pte_mk_leaf(const struct vtd_domain *dom, uint64_t pa, int level, unsigned perm)
{
	uint64_t pte = pa;

	if (level > 1)
		pte |= SSPTE_PS;	/* bit 7 in both formats */
	if (dom->stage == VTD_STAGE_FIRST)
		return pte | FSPTE_P | FSPTE_US | (perm & VTD_PERM_W ? FSPTE_RW : 0);
	return pte | (perm & VTD_PERM_R ? SSPTE_R : 0) | (perm & VTD_PERM_W ? SSPTE_W : 0);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* End of the entry at @level that holds @iova. */
static uint64_t entry_end(uint64_t iova, int level)
{
	return (iova & ~(pt_level_size(level) - 1)) + pt_level_size(level);
}

void dom_entry_write(struct vtd_domain *dom, uint64_t pa, uint64_t val)
{
	struct vtd *v = dom->v;

	v->ops->mem_write64(v->ctx, pa, val);
	vtd_yield(v, VTD_Y_ENTRY_WRITE);
	/*
	 * Second-stage tables are snooped only with ECAP.C; first-stage
	 * tables always are (10.4.3).
	 */
	if (dom->stage == VTD_STAGE_SECOND && !dom->coherent)
		v->ops->clflush(v->ctx, pa);
}

void vtd_gather_init(struct vtd_gather *g)
{
	*g = (struct vtd_gather){ .start = UINT64_MAX, .end = 0 };
}

/* Releases the list itself: its pages must have been freed by a sync. */
void vtd_gather_fini(struct vtd_gather *g)
{
	free(g->freelist);
	vtd_gather_init(g);
}

int gather_add_free(struct vtd_gather *g, uint64_t pa)
{
	if (g->nfree == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		uint64_t *n = realloc(g->freelist, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		g->freelist = n;
		g->cap = cap;
	}
	g->freelist[g->nfree++] = pa;
	return 0;
}

/* A table page of this domain: written back when a unit does not snoop SS tables. */
static int pt_page_alloc(struct vtd_domain *dom, uint64_t *pa)
{
	return table_page_alloc(dom->v, !dom->coherent && dom->stage == VTD_STAGE_SECOND, pa);
}

int pt_alloc_root(struct vtd_domain *dom)
{
	return pt_page_alloc(dom, &dom->pgd);
}

static void free_table(struct vtd_domain *dom, uint64_t table, int level)
{
	for (unsigned i = 0; level > 1 && i < VTD_PTES_PER_TABLE; i++) {
		uint64_t pte = pte_read(dom, table + 8 * i);

		if (pte_present(dom, pte) && !pte_leaf(pte, level))
			free_table(dom, pte & PTE_ADDR, level - 1);
	}
	dom->v->ops->page_free(dom->v->ctx, table);
}

void pt_free_all(struct vtd_domain *dom)
{
	if (!dom->pgd)
		return;
	free_table(dom, dom->pgd, dom->levels);
	dom->pgd = 0;
}

int pt_lookup_locked(struct vtd_domain *dom, uint64_t iova, uint64_t *pa, unsigned *perm,
		     uint64_t *pgsize)
{
	uint64_t table = dom->pgd;

	if (iova >> pt_levels_width(dom->levels))
		return -ENOENT;
	for (int level = dom->levels; level >= 1; level--) {
		uint64_t pte = pte_read(dom, pte_slot(table, iova, level));

		if (!pte_present(dom, pte))
			return -ENOENT;
		if (pte_leaf(pte, level)) {
			uint64_t size = pt_level_size(level);

			*pa = pte_leaf_pa(pte, level) | (iova & (size - 1));
			*perm = pte_perm(dom, pte);
			*pgsize = size;
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	return -ENOENT;	/* not reached: level 1 entries are leaves */
}

/* Whether any leaf of @table (at @level) maps a page in [start, end). */
static bool range_has_leaf(struct vtd_domain *dom, uint64_t table, int level, uint64_t start,
			   uint64_t end)
{
	for (uint64_t a = start, next; a < end; a = next) {
		uint64_t pte = pte_read(dom, pte_slot(table, a, level));

		next = min_u64(entry_end(a, level), end);
		if (!pte_present(dom, pte))
			continue;
		if (pte_leaf(pte, level) ||
		    range_has_leaf(dom, pte & PTE_ADDR, level - 1, a, next))
			return true;
	}
	return false;
}

/*
 * Add the pages of the subtree rooted at @table to @g; count the bytes its
 * leaves map into *@bytes and the largest leaf into *@leaf. -ENOMEM leaves
 * part of the subtree in @g: the caller rolls g->nfree back.
 */
static int gather_subtree(struct vtd_domain *dom, uint64_t table, int level,
			  struct vtd_gather *g, uint64_t *bytes, uint64_t *leaf)
{
	int ret = gather_add_free(g, table);

	for (unsigned i = 0; !ret && i < VTD_PTES_PER_TABLE; i++) {
		uint64_t pte = pte_read(dom, table + 8 * i);

		if (!pte_present(dom, pte))
			continue;
		if (pte_leaf(pte, level)) {
			*bytes += pt_level_size(level);
			if (*leaf < pt_level_size(level))
				*leaf = pt_level_size(level);
		} else {
			ret = gather_subtree(dom, pte & PTE_ADDR, level - 1, g, bytes, leaf);
		}
	}
	return ret;
}

/*
 * Map one leaf at @target for @iova below the entry of @table at @level.
 * A missing table is allocated and filled below before the entry that
 * links it is written, so hardware never walks a half-built path; on
 * -ENOMEM the unlinked pages go straight back (hardware never saw them).
 * An empty table where the leaf belongs is replaced and gathered in @freed.
 */
static int map_leaf(struct vtd_domain *dom, uint64_t table, int level, uint64_t iova,
		    uint64_t pa, int target, unsigned perm, struct vtd_gather *freed)
{
	uint64_t slot = pte_slot(table, iova, level);
	uint64_t pte = pte_read(dom, slot);
	struct vtd *v = dom->v;
	uint64_t sub;
	int ret;

	if (level == target) {
		if (pte_present(dom, pte)) {
			/* A table left by unmaps; the caller checked it maps nothing. */
			size_t mark = freed->nfree;
			uint64_t bytes = 0, leaf = 0;

			ret = gather_subtree(dom, pte & PTE_ADDR, level - 1, freed, &bytes, &leaf);
			if (ret) {
				freed->nfree = mark;
				return ret;
			}
		}
		dom_entry_write(dom, slot, pte_mk_leaf(dom, pa, level, perm));
		return 0;
	}
	if (pte_present(dom, pte))
		return map_leaf(dom, pte & PTE_ADDR, level - 1, iova, pa, target, perm, freed);

	ret = pt_page_alloc(dom, &sub);
	if (ret)
		return ret;
	ret = map_leaf(dom, sub, level - 1, iova, pa, target, perm, freed);
	if (ret) {
		v->ops->page_free(v->ctx, sub);
		return ret;
	}
	dom_entry_write(dom, slot, pte_mk_table(dom, sub));
	return 0;
}

/* The level of the largest leaf that fits at @iova -> @pa within @size. */
static int leaf_level(const struct vtd_domain *dom, uint64_t iova, uint64_t pa, uint64_t size)
{
	for (int level = 3; level > 1; level--) {
		uint64_t sz = pt_level_size(level);

		if ((dom->pgsizes & sz) && !((iova | pa) & (sz - 1)) && size >= sz)
			return level;
	}
	return 1;	/* 4K leaves are always supported */
}

/*
 * Clear the leaves in [start, end) below @table (at @level); every leaf
 * there lies wholly inside (the caller split the edges). A table wholly
 * inside is unlinked with one write and its pages go to @g; without @g,
 * or if @g cannot grow, it stays linked and is cleared entry by entry.
 * Returns the bytes the cleared leaves mapped.
 */
static uint64_t clear_range(struct vtd_domain *dom, uint64_t table, int level, uint64_t start,
			    uint64_t end, struct vtd_gather *g, uint64_t *leaf)
{
	uint64_t bytes = 0;

	for (uint64_t a = start, next; a < end; a = next) {
		uint64_t slot = pte_slot(table, a, level);
		uint64_t pte = pte_read(dom, slot);
		uint64_t size = pt_level_size(level);
		bool whole = !(a & (size - 1)) && end - a >= size;

		next = min_u64(entry_end(a, level), end);
		if (!pte_present(dom, pte))
			continue;
		if (pte_leaf(pte, level)) {
			if (!whole)
				continue;	/* not reached: edges were split */
			dom_entry_write(dom, slot, 0);
			bytes += size;
			if (*leaf < size)
				*leaf = size;
			continue;
		}
		if (whole && g) {
			size_t mark = g->nfree;
			uint64_t sub_bytes = 0, sub_leaf = 0;

			if (!gather_subtree(dom, pte & PTE_ADDR, level - 1, g, &sub_bytes,
					    &sub_leaf)) {
				dom_entry_write(dom, slot, 0);
				bytes += sub_bytes;
				if (*leaf < sub_leaf)
					*leaf = sub_leaf;
				continue;
			}
			g->nfree = mark;
		}
		bytes += clear_range(dom, pte & PTE_ADDR, level - 1, a, next, g, leaf);
	}
	return bytes;
}

/*
 * Make @iova the start of a leaf: split every superpage that holds it
 * off its start into a table of the next level that maps the same pages
 * with the same permissions. The table is complete before the entry that
 * links it replaces the superpage, so every walk translates alike.
 */
static int split_at(struct vtd_domain *dom, uint64_t iova)
{
	uint64_t table = dom->pgd;

	if (iova >> pt_levels_width(dom->levels))
		return 0;
	for (int level = dom->levels; level > 1; level--) {
		uint64_t slot = pte_slot(table, iova, level);
		uint64_t pte = pte_read(dom, slot);

		if (!pte_present(dom, pte))
			return 0;
		if (pte_leaf(pte, level)) {
			uint64_t pa = pte_leaf_pa(pte, level), sub, sub_size;
			unsigned perm = pte_perm(dom, pte);
			int ret;

			if (!(iova & (pt_level_size(level) - 1)))
				return 0;
			ret = pt_page_alloc(dom, &sub);
			if (ret)
				return ret;
			sub_size = pt_level_size(level - 1);
			for (unsigned i = 0; i < VTD_PTES_PER_TABLE; i++)
				dom_entry_write(dom, sub + 8 * i,
						pte_mk_leaf(dom, pa + i * sub_size, level - 1, perm));
			pte = pte_mk_table(dom, sub);
			dom_entry_write(dom, slot, pte);
		}
		table = pte & PTE_ADDR;
	}
	return 0;
}

/*
 * Addresses and sizes are whole pages, and the range fits the walk. A
 * first-stage domain uses the lower canonical half only: [2^(w-1), 2^w)
 * is not canonical, and its entries are reached by the sign-extended
 * addresses instead (9.7).
 */
static bool range_ok(const struct vtd_domain *dom, uint64_t iova, uint64_t size)
{
	unsigned width = pt_levels_width(dom->levels) - (dom->stage == VTD_STAGE_FIRST);
	uint64_t limit = 1ULL << width;

	return size && !((iova | size) & (VTD_PAGE_SIZE - 1)) && size <= limit &&
	       iova <= limit - size;
}

int pt_map_locked(struct vtd_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
		  unsigned perm, struct vtd_gather *freed)
{
	uint64_t done, unused = 0;

	if (!range_ok(dom, iova, size) || (pa & (VTD_PAGE_SIZE - 1)) || size > PA_LIMIT ||
	    pa > PA_LIMIT - size || !perm || (perm & ~VTD_PERM_RW))
		return -EINVAL;
	if (range_has_leaf(dom, dom->pgd, dom->levels, iova, iova + size))
		return -EEXIST;

	for (done = 0; done < size;) {
		int level = leaf_level(dom, iova + done, pa + done, size - done);
		int ret = map_leaf(dom, dom->pgd, dom->levels, iova + done, pa + done, level,
				   perm, freed);

		if (ret) {
			/* Take back the leaves of this call; its tables stay, empty. */
			clear_range(dom, dom->pgd, dom->levels, iova, iova + done, NULL, &unused);
			return ret;
		}
		done += pt_level_size(level);
	}
	return 0;
}

uint64_t pt_unmap_locked(struct vtd_domain *dom, uint64_t iova, uint64_t size,
			 struct vtd_gather *g, uint64_t *leaf)
{
	*leaf = 0;
	if (!range_ok(dom, iova, size))
		return 0;
	/* Split first: then nothing is cleared if a split runs out of memory. */
	if (split_at(dom, iova) || split_at(dom, iova + size))
		return 0;
	return clear_range(dom, dom->pgd, dom->levels, iova, iova + size, g, leaf);
}
