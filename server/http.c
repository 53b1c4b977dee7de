/*
 * http.c: --metrics-port, an HTTP server on the listener thread's event loop (libevent's evhttp),
 * never on a worker: GET /metrics (Prometheus text exposition, server/metrics.c) and GET /healthz
 * (200 "ok" while serving, 503 once a stop began) for load balancers and service managers; GET / is
 * the operators' status page and GET /stats.json the figures and history it polls (server/status.c).
 *
 * It listens on every -l address (127.0.0.1 by default) at the metrics port. It has no
 * authentication: the figures hold no key or value, but on a network address put it behind a
 * firewall as one would a Prometheus exporter.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "server/metrics.h"
#include "server/server_internal.h"
#include "server/status.h"

/* Sends the reply with body b (emptied). A HEAD request gets the headers alone, with the length the
 * body would have had: evhttp would send the body after them, which a client that keeps the
 * connection reads as the start of its next answer. */
static void send_reply(struct evhttp_request *req, int code, const char *reason, struct evbuffer *b)
{
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char len[32];
        snprintf(len, sizeof(len), "%zu", evbuffer_get_length(b));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", len);
        evbuffer_drain(b, evbuffer_get_length(b));
    }
    evhttp_send_reply(req, code, reason, b);
}

/* Answers body with status code (and its reason), as text. */
static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *type, const char *body)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evbuffer_add(b, body, strlen(body));
    send_reply(req, code, reason, b);
    evbuffer_free(b);
}

static bool is_get(struct evhttp_request *req)
{
    enum evhttp_cmd_type t = evhttp_request_get_command(req);
    if (t == EVHTTP_REQ_GET || t == EVHTTP_REQ_HEAD)
        return true;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
    reply_text(req, 405, "Method Not Allowed", "text/plain; charset=utf-8", "only GET and HEAD\n");
    return false;
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
    struct server *srv = arg;
    if (!is_get(req))
        return;
    struct evbuffer *b = evbuffer_new();
    if (b == NULL || metrics_prometheus(srv, b) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
    struct server *srv = arg;
    if (!is_get(req))
        return;
    if (srv->stopping)
        reply_text(req, 503, "Service Unavailable", "text/plain; charset=utf-8", "stopping\n");
    else
        reply_text(req, HTTP_OK, "OK", "text/plain; charset=utf-8", "ok\n");
}

/* The page's own policy: nothing from elsewhere, scripts and styles only its inline ones, requests only
 * back to this server. */
#define PAGE_CSP                                                                                             \
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "        \
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* GET /: the status page, built into the binary. */
static void on_page(struct evhttp_request *req, void *arg)
{
    (void)arg;
    if (!is_get(req))
        return;
    struct evbuffer *b = evbuffer_new();
    if (b == NULL || evbuffer_add_reference(b, status_page_html, status_page_html_len, NULL, NULL) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
    evhttp_add_header(h, "Content-Security-Policy", PAGE_CSP);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
}

/* GET /stats.json: what the page shows. */
static void on_stats_json(struct evhttp_request *req, void *arg)
{
    struct server *srv = arg;
    if (!is_get(req))
        return;
    struct evbuffer *b = evbuffer_new();
    if (b == NULL || status_json(srv->status, b) != 0) {
        if (b != NULL)
            evbuffer_free(b);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Cache-Control", "no-store");
    send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply_text(req, HTTP_NOTFOUND, "Not Found", "text/plain; charset=utf-8",
               "not found: try /, /stats.json, /metrics or /healthz\n");
}

/* See server_internal.h. */
bool http_open(struct server *srv)
{
    const struct settings *s = srv->settings;
    if (s->metrics_port < 0)
        return true;
    srv->http = evhttp_new(srv->base);
    srv->status = status_create(srv);
    if (srv->http == NULL || srv->status == NULL) {
        fprintf(stderr, "failed to start the metrics server: out of memory\n");
        return false;
    }
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                              EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
    evhttp_set_timeout(srv->http, 10);
    evhttp_set_max_headers_size(srv->http, 16 * 1024);
    evhttp_set_max_body_size(srv->http, 4096);
    evhttp_set_cb(srv->http, "/metrics", on_metrics, srv);
    evhttp_set_cb(srv->http, "/healthz", on_healthz, srv);
    evhttp_set_cb(srv->http, "/", on_page, srv);
    evhttp_set_cb(srv->http, "/stats.json", on_stats_json, srv);
    evhttp_set_gencb(srv->http, on_other, srv);
    for (size_t i = 0; i < s->nlisten; i++) {
        char host[CONN_ADDR_MAX];
        listen_host_of(s->listen[i], host, sizeof(host));
        if (evhttp_bind_socket(srv->http, host, (ev_uint16_t)s->metrics_port) != 0) {
            fprintf(stderr, "failed to listen on the metrics port %s:%d\n", host, s->metrics_port);
            return false;
        }
    }
    return true;
}

/* See server_internal.h. */
void http_close(struct server *srv)
{
    if (srv->http != NULL)
        evhttp_free(srv->http);
    srv->http = NULL;
    status_destroy(&srv->status);
}
