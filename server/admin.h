/*
 * admin: the JSON admin API under /__admin/ that tests and CI drive:
 * health, the virtual clock, the running scenario (read, replace, reset)
 * and, as the engine grows, the journal, webhooks and findings. It is
 * never rate limited.
 */
#ifndef CYBRID_ADMIN_H
#define CYBRID_ADMIN_H

#include "http.h"

#include <stddef.h>

/* The admin routes; *n receives their count. */
const struct http_route *admin_routes(size_t *n);

/* Records the start time reported as uptime by /__admin/health. */
void admin_mark_start(void);

/*
 * Sets the folder where a scenario sent with PUT /__admin/scenario finds
 * the files its relative `extends` names (the --scenario file's folder);
 * without one only built-in names resolve. Copied; call before serving.
 */
void admin_set_scenario_folder(const char *dir);

/* Frees what admin_set_scenario_folder kept. */
void admin_shutdown(void);

#endif
