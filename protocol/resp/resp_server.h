/*
 * resp_server.h: what the two files of the server commands share (resp_server.c: CLIENT, CONFIG,
 * INFO, OBJECT, MEMORY, persistence, TIME and every subcommand table; resp_command.c: COMMAND and the
 * command documentation it serves). Internal to protocol/resp/.
 */
#ifndef CAIRN_PROTOCOL_RESP_SERVER_H
#define CAIRN_PROTOCOL_RESP_SERVER_H

#include "protocol/resp/resp_internal.h"

/* The version reported as redis_version (INFO) and by COMMAND DOCS's "since" fields: the Redis release
 * whose behaviour the protocol follows. Client libraries gate features on it; cairn's own version is
 * reported beside it (INFO's cairn_version). */
#define RESP_REDIS_VERSION "7.0.15"

/* Redis's addReplyHelp: "<CONTAINER> <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", the
 * NULL-terminated lines, then "HELP" and "    Prints this help.", each as a simple string. */
void resp_add_help(struct outq *out, const char *container, const char *const *lines);

/* Checks a client name as Redis does (printable ASCII, no space; "" clears it) and stores it, or replies
 * the error and returns false (resp_conn.c: HELLO's SETNAME and CLIENT SETNAME share it). */
bool resp_set_client_name(struct resp_session *s, const char *p, size_t n, struct outq *out);

/* COMMAND's subcommands (resp_command.c). */
enum proto_status resp_cmd_command_count(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_command_docs(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_command_getkeys(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_command_help(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_command_info(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_command_list(struct resp_session *, const struct resp_args *, struct outq *);

/* For the unit test: whether COMMAND's documentation rows are sorted and their argument syntax
 * parses; *bad names the first row that is not. */
bool resp_docs_check(const char **bad);

#endif
