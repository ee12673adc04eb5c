/*
 * A safeupdate-compatible guard for the local stack (hosted Supabase loads pg-safeupdate for its
 * client roles; Debian does not package it). Loaded with session_preload_libraries = 'safeupdate',
 * it refuses an UPDATE or DELETE without a WHERE clause, also inside functions and data-modifying
 * CTEs, with safeupdate's messages, while the session acts as a client role (its login role or the
 * role set with SET ROLE is anon, authenticated, service_role or authenticator). Any WHERE will do,
 * `where true` too. safeupdate.enabled = off turns it off, as with safeupdate.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static bool guard_enabled = true;
static post_parse_analyze_hook_type previous_hook = NULL;

static const char *const client_roles[] = {"anon", "authenticated", "service_role", "authenticator"};

static bool
acting_as_client(void)
{
	const char *name = GetUserNameFromId(GetOuterUserId(), true);

	if (name == NULL)
		return false;
	for (int i = 0; i < (int) lengthof(client_roles); i++)
	{
		if (strcmp(name, client_roles[i]) == 0)
			return true;
	}
	return false;
}

static void
check_query(Query *query)
{
	ListCell   *cell;

	if ((query->commandType == CMD_UPDATE || query->commandType == CMD_DELETE) &&
		query->jointree != NULL && query->jointree->quals == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("%s requires a WHERE clause",
						query->commandType == CMD_UPDATE ? "UPDATE" : "DELETE")));

	foreach(cell, query->cteList)
	{
		CommonTableExpr *cte = lfirst_node(CommonTableExpr, cell);

		if (cte->ctequery != NULL && IsA(cte->ctequery, Query))
			check_query((Query *) cte->ctequery);
	}
}

static void
guard(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (previous_hook != NULL)
		previous_hook(pstate, query, jstate);
	if (guard_enabled && acting_as_client())
		check_query(query);
}

void
_PG_init(void)
{
	DefineCustomBoolVariable("safeupdate.enabled",
							 "Refuses UPDATE and DELETE statements without a WHERE clause.",
							 NULL, &guard_enabled, true, PGC_USERSET, 0, NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("safeupdate");
#endif
	previous_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = guard;
}
