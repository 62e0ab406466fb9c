/*
 * organization: the Organization API's organizations and webhook
 * subscriptions, the loading of their fixtures, and the helpers the
 * subscription event and delivery routes (subevents) share.
 *
 * Every route takes an organization token only (a bank or customer token
 * gets 403 from the authenticate step) and reaches only that
 * organization's objects; another organization's guid answers 404. A
 * subscription's signing_key is made here (32 random bytes, hex) and is
 * returned on create and get, never in lists and never logged.
 */
#ifndef CYBRID_ORGANIZATION_H
#define CYBRID_ORGANIZATION_H

#include "check.h"
#include "http.h"
#include "scenario.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define ORGANIZATION_URL_MAX 1024

/*
 * Puts the scenario's organizations and subscriptions into the store
 * (after store_reset). A subscription without a signing_key gets a new
 * one. Keeps the scenario's allow_http switch for url checks.
 */
void organization_load(const struct scenario *sc);

/* The routes of organizations and subscriptions; *n gets their count. */
const struct http_route *organization_routes(size_t *n);

/*
 * A new stored-form subscription (caller frees): state completed, a fresh
 * signing_key unless key is given, created_at now.
 */
cJSON *organization_subscription_new(const char *guid,
                                     const char *organization_guid,
                                     const char *name, const char *url,
                                     const char *key);

/*
 * NULL when url is an acceptable subscription url (https://, or http://
 * when allow_http, with a host, at most ORGANIZATION_URL_MAX bytes),
 * otherwise why not.
 */
const char *organization_url_problem(const char *url, int allow_http);

/*
 * Checks a POST /api/subscriptions body (a JSON object) without touching
 * the store; c receives the first problem (status 0 when it is fine).
 */
void organization_subscription_check(struct check *c, const cJSON *body);

/*
 * The organization guid of the request's token, or NULL after replying
 * 403 (the authenticate step lets only organization tokens through; this
 * is the handler's own guard).
 */
const char *organization_caller(struct http_request *req);

/* Removes (wiping it) the signing_key of every object of a list. */
void organization_strip_keys(cJSON *objects);

/* Wipes an object's signing_key, if any, then frees it. NULL-safe. */
void organization_json_free(cJSON *obj);

#endif
