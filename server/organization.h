/*
 * organization: the Organization API (organizations, webhook
 * subscriptions, subscription events and deliveries) and the loading of
 * its fixtures.
 *
 * Every route takes an organization token only and reaches only that
 * organization's objects; another organization's guid answers 404. A
 * subscription's signing_key is made here (32 random bytes, hex) and is
 * returned on create and get, never logged.
 */
#ifndef CYBRID_ORGANIZATION_H
#define CYBRID_ORGANIZATION_H

#include "scenario.h"

#include <cjson/cJSON.h>

/*
 * Puts the scenario's organizations and subscriptions into the store
 * (after store_reset). A subscription without a signing_key gets a new
 * one. Keeps the scenario's allow_http switch for url checks.
 */
void organization_load(const struct scenario *sc);

/*
 * A new stored-form subscription (caller frees): state completed, a fresh
 * signing_key unless key is given, created_at now.
 */
cJSON *organization_subscription_new(const char *guid,
                                     const char *organization_guid,
                                     const char *name, const char *url,
                                     const char *key);

#endif
