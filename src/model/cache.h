/*
 * cache.h — the one cache structure behind every translation cache of the
 * model (context, PASID, IOTLB, paging-structure, device TLB). An entry
 * is a key of three words and a value of four. Bounded caches are
 * set-associative with LRU replacement (profile "exact"); unbounded ones
 * grow and never evict (profile "adversarial").
 */
#ifndef VTD_MODEL_CACHE_H
#define VTD_MODEL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cache_entry {
	uint64_t key[3];
	uint64_t val[4];
	uint64_t stamp;			/* last use, for LRU */
	struct cache_entry *next;	/* bucket chain */
};

struct cache {
	struct cache_entry **bucket;	/* bounded: one bucket per set */
	size_t nbuckets;
	size_t count;
	unsigned ways;			/* 0: unbounded */
	uint64_t clock;
	uint64_t *stat;			/* hit, miss, fill, inv, evict */
};

/* Offsets of the five counters a cache keeps, in the order stats.h declares them. */
enum { CST_HIT, CST_MISS, CST_FILL, CST_INV, CST_EVICT };

/*
 * @entries 0 makes the cache unbounded. Otherwise it has
 * @entries / @ways sets (at least one). @stat points at the cache's five
 * counters. Return 0 or -ENOMEM.
 */
int cache_init(struct cache *c, unsigned entries, unsigned ways, uint64_t *stat);
void cache_fini(struct cache *c);
/* Find @key, counting a hit or a miss. */
struct cache_entry *cache_lookup(struct cache *c, const uint64_t key[3]);
/* Find @key without counting: for callers that probe several keys per access. */
struct cache_entry *cache_get(struct cache *c, const uint64_t key[3]);
/* Insert or refresh; evicts the set's least recently used entry when full. */
struct cache_entry *cache_insert(struct cache *c, const uint64_t key[3],
				 const uint64_t val[4]);
void cache_remove(struct cache *c, struct cache_entry *e);
/*
 * Remove every entry for which @match returns true; return how many.
 * @match may also update an entry it keeps.
 */
size_t cache_remove_if(struct cache *c,
		       bool (*match)(struct cache_entry *e, const void *arg),
		       const void *arg);
size_t cache_clear(struct cache *c);
/* Call @fn on every entry (read-only walk, for tests and prefetch checks). */
void cache_foreach(struct cache *c, void (*fn)(const struct cache_entry *e, void *arg),
		   void *arg);

#endif
