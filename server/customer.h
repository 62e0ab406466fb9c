/*
 * customer: the Bank API's customers (/api/customers).
 *
 * Customers live in the store as the JSON the API returns, plus the
 * underscore fields _created_ms, _updated_ms and _organization_guid (the
 * organization of the customer's bank, for organization tokens). PII
 * (name, address, aliases, website, date of birth, phone, email,
 * identification numbers) leaves the mock only on a GET with
 * include_pii=true by a token holding customers:pii:read; otherwise those
 * fields are null. A token reaches the customers of its organization,
 * of its bank, or (a customer token) itself; others answer 404.
 */
#ifndef CYBRID_CUSTOMER_H
#define CYBRID_CUSTOMER_H

#include "check.h"
#include "http.h"
#include "scenario.h"

/* The customer routes; *n receives their count. */
const struct http_route *customer_routes(size_t *n);

/*
 * Checks a POST /api/customers body and builds the customer it asks for
 * in bank_guid (caller frees; a new guid, state unverified), without the
 * store: the caller adds the organization and the creation time. c
 * receives the first problem; the object is then only to be freed.
 */
cJSON *customer_from_body(struct check *c, const cJSON *body,
                          const char *bank_guid);

/* Inserts the scenario's customers into the store (after bank_load). */
void customer_load(const struct scenario *sc);

#endif
