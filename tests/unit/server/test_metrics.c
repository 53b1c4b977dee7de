/*
 * test_metrics.c: the consistency of the table of figures (server/metrics_defs.c) with the views
 * rendered from it. Every INFO name of the table is one of INFO's figures (resp_server_info_set takes
 * it) and comes out of INFO, through the real RESP session, with the value the table gave it; every
 * INFO figure the protocol expects from the table is named by exactly one entry (else INFO would
 * show a stale 0); memcached and Prometheus names are unique, and metric_by_mc_name finds each.
 * (That every memcached name is a line of `stats` or `stats clients`, and every line a figure, is
 * checked against the real server by tests/integration/test_metrics.)
 */
#include "config.h"

#include "tests/unit/protocol/resp_test.h"

#include <inttypes.h>

#include "server/metrics.h"

TestSuite(metrics_table);

/* The value the test gives entry i: distinct, and not one INFO prints elsewhere by chance. */
static uint64_t value_of(size_t i)
{
    return 7770001 + 13 * (uint64_t)i;
}

Test(metrics_table, every_info_name_is_a_figure_of_info)
{
    struct rt *t = rt_new();
    struct resp_server_info filled;

    memset(&filled, 0, sizeof(filled));
    for (size_t i = 0; i < metric_ndefs; i++)
        if (metric_defs[i].info_name != NULL)
            cr_expect(resp_server_info_set(&filled, metric_defs[i].info_name, value_of(i)),
                      "%s: INFO name %s is not one of RESP_INFO_FIGURES", metric_defs[i].name,
                      metric_defs[i].info_name);
            /* the INFO figures' fields as the table filled them; the rest of the fake server's info stays */
#define COPY_FIGURE(f, n) t->info.f = filled.f;
    RESP_INFO_FIGURES(COPY_FIGURE)
#undef COPY_FIGURE
    char *all = cmd(t, "INFO", "everything", NULL);
    for (size_t i = 0; i < metric_ndefs; i++) {
        const char *info = metric_defs[i].info_name;
        if (info == NULL)
            continue;
        char line[128], field[128];
        snprintf(line, sizeof(line), "\r\n%s:%" PRIu64 "\r\n", info, value_of(i));
        snprintf(field, sizeof(field), "%s=%" PRIu64 ",", info, value_of(i)); /* the db0 line's */
        cr_expect(strstr(all, line) != NULL || strstr(all, field) != NULL,
                  "INFO lacks %s (%s) = %" PRIu64 ":\n%s", info, metric_defs[i].name, value_of(i), all);
    }
    free(all);
    rt_free(t);
}

Test(metrics_table, every_info_figure_is_named_once)
{
    static const char *const figures[] = {
#define FIGURE_NAME(f, n) n,
        RESP_INFO_FIGURES(FIGURE_NAME)
#undef FIGURE_NAME
    };
    for (size_t f = 0; f < sizeof(figures) / sizeof(figures[0]); f++) {
        int named = 0;
        for (size_t i = 0; i < metric_ndefs; i++)
            if (metric_defs[i].info_name != NULL && strcmp(metric_defs[i].info_name, figures[f]) == 0)
                named++;
        cr_expect_eq(named, 1, "INFO's %s is named by %d entries of the table, not one", figures[f], named);
    }
}

Test(metrics_table, names_are_unique_and_found)
{
    for (size_t i = 0; i < metric_ndefs; i++) {
        const struct metric_def *d = &metric_defs[i];
        cr_expect(d->help != NULL && d->help[0] != '\0', "%s has no help", d->name);
        cr_expect(d->offset + sizeof(uint64_t) <= sizeof(struct metric_values), "%s lies outside", d->name);
        for (size_t j = i + 1; j < metric_ndefs; j++) {
            cr_expect(strcmp(d->name, metric_defs[j].name) != 0, "two entries named %s", d->name);
            cr_expect(d->mc_name == NULL || metric_defs[j].mc_name == NULL ||
                          strcmp(d->mc_name, metric_defs[j].mc_name) != 0,
                      "two entries with the `stats` name %s", d->mc_name);
        }
        if (d->mc_name != NULL)
            cr_expect_eq(metric_by_mc_name(d->mc_name), d, "metric_by_mc_name(%s)", d->mc_name);
    }
    cr_expect_null(metric_by_mc_name("pid"), "pid is not a figure of the table");
}

/* A counter's field in its struct is the word its table entry points at (the X-macro lists make
 * both): every word of the three blocks is named by exactly one entry. */
Test(metrics_table, every_counter_word_has_one_entry)
{
    static const struct {
        size_t off, size;
    } blocks[] = {
        {offsetof(struct metric_values, mc), sizeof(struct mc_stats)},
        {offsetof(struct metric_values, ws), sizeof(struct worker_stats)},
        {offsetof(struct metric_values, resp), sizeof(struct resp_stats)},
    };
    for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++)
        for (size_t off = blocks[b].off; off < blocks[b].off + blocks[b].size; off += sizeof(uint64_t)) {
            int n = 0;
            for (size_t i = 0; i < metric_ndefs; i++)
                n += metric_defs[i].offset == off;
            cr_expect_eq(n, 1, "the counter at offset %zu has %d entries", off, n);
        }
}
