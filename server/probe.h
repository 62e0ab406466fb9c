/*
 * probe: the --probe mode, a health check that needs no curl binary.
 *
 * It GETs a URL (normally https://127.0.0.1:8443/__admin/health) with
 * libcurl, trusting the CA in the TLS directory, and succeeds only on a
 * 200 whose JSON body says {"status": "ok"}. Container HEALTHCHECKs and
 * scripts use it; it prints one line and exits.
 */
#ifndef CYBRID_PROBE_H
#define CYBRID_PROBE_H

/*
 * Checks url, trusting ca_file when it exists (else the system's CAs).
 * Returns 0 when healthy, 1 otherwise, after printing one line to
 * stdout ("healthy URL") or stderr (the reason).
 */
int probe_run(const char *url, const char *ca_file);

#endif
