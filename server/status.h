/*
 * status.h: the operators' status page of --metrics-port. GET / is one self-contained HTML file
 * (server/status_page.html, built into the binary as status_page_html); the page polls GET
 * /stats.json, which status_json() writes: every figure of the metrics table, the last minutes of a
 * history sampled once a second on the listener thread, and memory by slab class.
 *
 * Threads: everything here runs on the listener thread (its event base), as the HTTP server does.
 */
#ifndef CAIRN_SERVER_STATUS_H
#define CAIRN_SERVER_STATUS_H

#include <stddef.h>

struct server;
struct evbuffer;
struct status;

/* The history's length: one sample a second, five minutes. */
#define STATUS_HISTORY 300

/* The page's bytes (generated at build time from server/status_page.html; no NUL at the end). */
extern const unsigned char status_page_html[];
extern const size_t status_page_html_len;

/* Starts the once-a-second sampling on srv->base; NULL on no memory. */
struct status *status_create(struct server *srv);

/* Stops the sampling and frees the history (nothing when *st is NULL); sets *st to NULL. */
void status_destroy(struct status **st);

/* Appends the /stats.json document to buf; -1 on no memory. Only figures and numbers are shown, never
 * a key or a value; every string is escaped. */
int status_json(struct status *st, struct evbuffer *buf);

#endif
