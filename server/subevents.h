/*
 * subevents: the Organization API's subscription events and subscription
 * deliveries: GET lists and single objects, and POST
 * /api/subscription_deliveries, which delivers a stored event again.
 *
 * Organization tokens only; a caller sees its own organization's events
 * and deliveries and gets 404 for any other guid.
 */
#ifndef CYBRID_SUBEVENTS_H
#define CYBRID_SUBEVENTS_H

#include "http.h"

#include <stddef.h>
#include <stdint.h>

/* The routes; *n receives their count. */
const struct http_route *subevents_routes(size_t *n);

/*
 * Parses an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SS, optional .fraction,
 * then Z or +00:00) into epoch milliseconds. 0 or MOCK_EINVAL.
 */
int subevents_parse_time(const char *s, int64_t *out_ms);

#endif
