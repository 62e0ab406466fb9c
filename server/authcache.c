/*
 * authcache: the key's first byte picks the shard and the next two the
 * slot, so entries spread evenly and no lookup ever scans.
 */
#include "authcache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

struct slot {
    int used;
    unsigned char key[AUTHCACHE_KEY];
    struct principal p;
};

struct shard {
    pthread_mutex_t lock;
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
    if (e->used && CRYPTO_memcmp(e->key, key, AUTHCACHE_KEY) == 0) {
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
    e->used = 1;
    pthread_mutex_unlock(&s->lock);
}

void
authcache_clear(void)
{
    for (size_t i = 0; i < AUTHCACHE_SHARDS; i++) {
        pthread_mutex_lock(&shards[i].lock);
        memset(shards[i].slots, 0, sizeof(shards[i].slots));
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
            n += shards[i].slots[j].used != 0;
        pthread_mutex_unlock(&shards[i].lock);
    }
    return n;
}
