/*
 * admin: the JSON admin API under /__admin/ that tests and CI drive:
 * health, the virtual clock, and (as the engine grows) scenarios, the
 * journal, webhooks and findings. It is never rate limited.
 */
#ifndef CYBRID_ADMIN_H
#define CYBRID_ADMIN_H

#include "http.h"

#include <stddef.h>

/* The admin routes; *n receives their count. */
const struct http_route *admin_routes(size_t *n);

/* Records the start time reported as uptime by /__admin/health. */
void admin_mark_start(void);

#endif
