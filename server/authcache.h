/*
 * authcache: verified tokens, so each token's RSA signature is checked
 * once rather than on every request.
 *
 * A token is keyed by its SHA-256 digest (a hit needs all 32 bytes to
 * match, so no other token can reach a cached principal). The cache is
 * bounded (AUTHCACHE_SHARDS x AUTHCACHE_SLOTS entries, direct-mapped: a
 * new token takes its slot from whatever held it) and split into shards
 * with a mutex each, held only to copy one entry in or out. The cache
 * does not judge expiry: the caller compares the principal's expires_at
 * with the virtual clock on every hit, so a token is served from here
 * until it expires, and an expired one that keeps coming back is refused
 * without another RSA verification until a newer token takes its slot.
 */
#ifndef CYBRID_AUTHCACHE_H
#define CYBRID_AUTHCACHE_H

#include "identity.h"

#include <stddef.h>
#include <stdint.h>

#define AUTHCACHE_SHARDS 16
#define AUTHCACHE_SLOTS 256 /* per shard */
#define AUTHCACHE_KEY 32

/*
 * Fetches the SHA-256 implementation once (OpenSSL 3's implicit fetch on
 * every call takes a global lock). Call before serving; NULL-safe to skip
 * (keys are then made with the implicit fetch).
 */
void authcache_init(void);

/* Empties the cache and releases what authcache_init fetched. */
void authcache_shutdown(void);

/* The cache key of a token: SHA-256 of its text. */
void authcache_key(const char *token, size_t len,
                   unsigned char key[AUTHCACHE_KEY]);

/* Copies the principal cached under key into out and returns 1, or 0. */
int authcache_get(const unsigned char key[AUTHCACHE_KEY],
                  struct principal *out);

/* Caches p under key (replacing whatever held its slot). */
void authcache_put(const unsigned char key[AUTHCACHE_KEY],
                   const struct principal *p);

/* Empties the cache. */
void authcache_clear(void);

/* How many entries are held (for tests and metrics). */
size_t authcache_size(void);

#endif
