/*
 * authcache: the key's first byte picks the shard and the next two the
 * slot, so entries spread evenly and no lookup ever scans.
 *
 * A slot holds an entry when it was written in its shard's present
 * generation: emptying the cache moves each shard to a new generation
 * instead of writing over the slots, so the 4 MB table (zeroed memory,
 * not part of the binary) costs memory only for the slots tokens use.
 */
#include "authcache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

struct slot {
    uint64_t tag; /* its shard's gen + 1 when written; 0: never written */
    unsigned char key[AUTHCACHE_KEY];
    struct principal p;
};

struct shard {
    pthread_mutex_t lock;
    uint64_t gen;
    struct slot slots[AUTHCACHE_SLOTS];
};

#define SHARD_INIT                                                             \
    {                                                                          \
        .lock = PTHREAD_MUTEX_INITIALIZER                                      \
    }

static struct shard shards[AUTHCACHE_SHARDS] = {
    SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT,
    SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT,
    SHARD_INIT, SHARD_INIT, SHARD_INIT, SHARD_INIT,
};

_Static_assert(AUTHCACHE_SHARDS == 16, "one initializer per shard");

static EVP_MD *sha256;

void
authcache_init(void)
{
    if (sha256 == NULL)
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
authcache_shutdown(void)
{
    authcache_clear();
    EVP_MD_free(sha256);
    sha256 = NULL;
}

void
authcache_key(const char *token, size_t len, unsigned char key[AUTHCACHE_KEY])
{
    EVP_Digest(token, len, key, NULL, sha256 ? sha256 : EVP_sha256(), NULL);
}

static struct shard *
shard_of(const unsigned char *key)
{
    return &shards[key[0] % AUTHCACHE_SHARDS];
}

/* Whether e was written since s was last emptied; s's lock is held. */
static int
live(const struct shard *s, const struct slot *e)
{
    return e->tag == s->gen + 1;
}

static struct slot *
slot_of(struct shard *s, const unsigned char *key)
{
    return &s->slots[((unsigned)key[1] << 8 | key[2]) % AUTHCACHE_SLOTS];
}

int
authcache_get(const unsigned char key[AUTHCACHE_KEY], struct principal *out)
{
    struct shard *s = shard_of(key);
    struct slot *e;
    int hit = 0;

    pthread_mutex_lock(&s->lock);
    e = slot_of(s, key);
    if (live(s, e) && CRYPTO_memcmp(e->key, key, AUTHCACHE_KEY) == 0) {
        *out = e->p;
        hit = 1;
    }
    pthread_mutex_unlock(&s->lock);
    return hit;
}

void
authcache_put(const unsigned char key[AUTHCACHE_KEY], const struct principal *p)
{
    struct shard *s = shard_of(key);
    struct slot *e;

    pthread_mutex_lock(&s->lock);
    e = slot_of(s, key);
    memcpy(e->key, key, AUTHCACHE_KEY);
    e->p = *p;
    e->tag = s->gen + 1;
    pthread_mutex_unlock(&s->lock);
}

void
authcache_clear(void)
{
    for (size_t i = 0; i < AUTHCACHE_SHARDS; i++) {
        pthread_mutex_lock(&shards[i].lock);
        shards[i].gen++;
        pthread_mutex_unlock(&shards[i].lock);
    }
}

size_t
authcache_size(void)
{
    size_t n = 0;

    for (size_t i = 0; i < AUTHCACHE_SHARDS; i++) {
        pthread_mutex_lock(&shards[i].lock);
        for (size_t j = 0; j < AUTHCACHE_SLOTS; j++)
            n += live(&shards[i], &shards[i].slots[j]);
        pthread_mutex_unlock(&shards[i].lock);
    }
    return n;
}
