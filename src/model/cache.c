/*
 * cache.c — hashed, optionally set-associative translation cache. A
 * bounded cache hashes a key to one set and keeps at most @ways entries
 * there, evicting the least recently used; an unbounded one doubles its
 * bucket array as it fills. Invalidation is by predicate over all entries.
 */
#include <errno.h>
#include <stdlib.h>
#include "model/cache.h"

static uint64_t hash_key(const uint64_t k[3])
{
	uint64_t h = k[0] * 0x9e3779b97f4a7c15ULL;

	h ^= (k[1] + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;
	h ^= (k[2] + 0x94d049bb133111ebULL) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static bool key_eq(const uint64_t a[3], const uint64_t b[3])
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

int cache_init(struct cache *c, unsigned entries, unsigned ways, uint64_t *stat)
{
	*c = (struct cache){ .stat = stat };
	if (entries) {
		c->ways = ways ? ways : 1;
		if (c->ways > entries)
			c->ways = entries;
		c->nbuckets = entries / c->ways;
	} else {
		c->nbuckets = 64;
	}
	c->bucket = calloc(c->nbuckets, sizeof(*c->bucket));
	return c->bucket ? 0 : -ENOMEM;
}

void cache_fini(struct cache *c)
{
	cache_clear(c);
	free(c->bucket);
	c->bucket = NULL;
}

static size_t slot(const struct cache *c, const uint64_t key[3])
{
	return hash_key(key) % c->nbuckets;
}

struct cache_entry *cache_get(struct cache *c, const uint64_t key[3])
{
	for (struct cache_entry *e = c->bucket[slot(c, key)]; e; e = e->next) {
		if (key_eq(e->key, key)) {
			e->stamp = ++c->clock;
			return e;
		}
	}
	return NULL;
}

struct cache_entry *cache_lookup(struct cache *c, const uint64_t key[3])
{
	struct cache_entry *e = cache_get(c, key);

	c->stat[e ? CST_HIT : CST_MISS]++;
	return e;
}

/* Unbounded caches keep chains short by doubling at load factor 1. */
static void grow(struct cache *c)
{
	size_t n = c->nbuckets * 2;
	struct cache_entry **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;		/* keep working with longer chains */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct cache_entry *e = c->bucket[i], *next;

		for (; e; e = next) {
			size_t s = hash_key(e->key) % n;

			next = e->next;
			e->next = nb[s];
			nb[s] = e;
		}
	}
	free(c->bucket);
	c->bucket = nb;
	c->nbuckets = n;
}

static void unlink_entry(struct cache *c, struct cache_entry *victim)
{
	struct cache_entry **pp = &c->bucket[slot(c, victim->key)];

	while (*pp != victim)
		pp = &(*pp)->next;
	*pp = victim->next;
	c->count--;
	free(victim);
}

struct cache_entry *cache_insert(struct cache *c, const uint64_t key[3],
				 const uint64_t val[4])
{
	size_t s = slot(c, key);
	struct cache_entry *e, *lru = NULL;
	unsigned n = 0;

	for (e = c->bucket[s]; e; e = e->next) {
		if (key_eq(e->key, key))
			goto fill;
		if (!lru || e->stamp < lru->stamp)
			lru = e;
		n++;
	}
	if (c->ways && n >= c->ways) {
		unlink_entry(c, lru);
		c->stat[CST_EVICT]++;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;	/* a cache may always decline to cache */
	for (int i = 0; i < 3; i++)
		e->key[i] = key[i];
	e->next = c->bucket[s];
	c->bucket[s] = e;
	c->count++;
fill:
	for (int i = 0; i < 4; i++)
		e->val[i] = val[i];
	e->stamp = ++c->clock;
	c->stat[CST_FILL]++;
	if (!c->ways && c->count > c->nbuckets)
		grow(c);
	return e;
}

void cache_remove(struct cache *c, struct cache_entry *e)
{
	unlink_entry(c, e);
	c->stat[CST_INV]++;
}

size_t cache_remove_if(struct cache *c,
		       bool (*match)(struct cache_entry *e, const void *arg),
		       const void *arg)
{
	size_t removed = 0;

	for (size_t i = 0; i < c->nbuckets; i++) {
		struct cache_entry **pp = &c->bucket[i];

		while (*pp) {
			struct cache_entry *e = *pp;

			if (match(e, arg)) {
				*pp = e->next;
				free(e);
				c->count--;
				removed++;
			} else {
				pp = &e->next;
			}
		}
	}
	c->stat[CST_INV] += removed;
	return removed;
}

static bool match_all(struct cache_entry *e, const void *arg)
{
	(void)e;
	(void)arg;
	return true;
}

size_t cache_clear(struct cache *c)
{
	return cache_remove_if(c, match_all, NULL);
}

void cache_foreach(struct cache *c, void (*fn)(const struct cache_entry *e, void *arg),
		   void *arg)
{
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct cache_entry *e = c->bucket[i]; e; e = e->next)
			fn(e, arg);
}
