/*
 * app: the request path and the routing table of the whole mock.
 *
 * Every request reads as one line: route -> (rate limit, faults,
 * authentication and scope checks as those modules join) -> handler ->
 * access log. Each service module contributes a table of routes; this
 * module joins them and owns the order of the steps.
 */
#ifndef CYBRID_APP_H
#define CYBRID_APP_H

#include "http.h"

/* Prepares the routing table; call once before serving. */
void app_init(void);

/* The http module's dispatch function. */
void app_dispatch(struct http_request *req);

#endif
