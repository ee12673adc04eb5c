/**
 * The Data API at /rest/v1: the subset of PostgREST (v12) that supabase-js clients use. Tables
 * (read with select, embedding one level through foreign keys, filters, order, ranges and counts;
 * insert, upsert, update, delete) and functions (`/rpc/<name>`), in the `public` schema only.
 * Every request is one transaction under the caller's role and JWT claims, so grants and row
 * level security decide what it sees and changes, and Postgres renders every JSON body.
 * Anything outside the subset answers 501 naming the feature (rest/errors.ts).
 */
import type postgres from "postgres";
import {
  type ApiContext,
  ApiError,
  type Caller,
  callerOf,
  decodePathSegment,
  json,
  requireApiKey,
  runAs,
  type Service,
} from "./context.ts";
import { fromPostgresError, parseError, pgrstError, unsupported } from "./rest/errors.ts";
import {
  isObject,
  negotiate,
  readBody,
  readResponse,
  requireSingleRow,
  type RestRequest,
  topLevelRange,
} from "./rest/http.ts";
import { parseColumnList, parsePreferences } from "./rest/parse.ts";
import { planRead, type ReadPlan, requireColumn } from "./rest/plan.ts";
import { callRoutine } from "./rest/rpc.ts";
import { type Column, SCHEMA, type SchemaCache, type Table, withSchema } from "./rest/schema.ts";
import {
  filtersSql,
  insertValuesSql,
  join,
  MAX_ROWS,
  type ReadResult,
  readSql,
  returningSql,
  text,
  typedColumns,
} from "./rest/sql.ts";

type Sql = postgres.Sql;
type Fragment = postgres.Fragment;

const PREFIX = "/rest/v1";

export const rest: Service = async (req, ctx) => {
  const url = new URL(req.url);
  if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return null;
  requireApiKey(req);
  const caller = await callerOf(req);
  try {
    return await handle(req, url, ctx, caller);
  } catch (error) {
    const apiError = error instanceof ApiError ? error : fromPostgresError(error, caller.role !== "anon");
    if (!apiError) throw error;
    // As PostgREST: a 401 tells the client to authenticate.
    return json(
      apiError.body,
      apiError.status,
      apiError.status === 401 ? { "WWW-Authenticate": "Bearer" } : {},
    );
  }
};

async function handle(req: Request, url: URL, ctx: ApiContext, caller: Caller): Promise<Response> {
  const readMethod = req.method === "GET" || req.method === "HEAD";
  const profile = req.headers.get(readMethod ? "Accept-Profile" : "Content-Profile");
  if (profile !== null && profile !== SCHEMA) {
    throw pgrstError(406, "PGRST106", `The schema must be one of the following: ${SCHEMA}`);
  }
  const path = url.pathname.slice(PREFIX.length + 1);
  if (path === "") throw unsupported("The OpenAPI description at /rest/v1/");
  const segments = path.split("/").map((segment) =>
    decodePathSegment(segment, () => parseError("path", segment, "invalid percent-encoding"))
  );
  const request: RestRequest = {
    req,
    url,
    ctx,
    caller,
    accept: negotiate(req.headers.get("Accept")),
    prefs: parsePreferences(req.headers.get("Prefer")),
  };
  if (segments.length === 2 && segments[0] === "rpc") return await callRoutine(request, segments[1]);
  if (segments.length !== 1) return json({}, 404);

  const name = segments[0];
  switch (req.method) {
    case "GET":
    case "HEAD":
      return await read(request, name);
    case "POST":
      return await insert(request, name);
    case "PATCH":
      return await update(request, name);
    case "DELETE":
      return await remove(request, name);
    case "PUT":
      throw unsupported("PUT (single-row upsert)");
    default:
      throw pgrstError(405, "PGRST117", `Unsupported HTTP method: ${req.method}`);
  }
}

function tableOf(cache: SchemaCache, name: string): Table {
  const table = cache.tables.get(name);
  if (!table) {
    throw pgrstError(404, "PGRST205", `Could not find the table '${SCHEMA}.${name}' in the schema cache`);
  }
  return table;
}

async function read(request: RestRequest, name: string): Promise<Response> {
  const { ctx, caller, accept, prefs } = request;
  const { table, plan } = await withSchema(ctx, (cache) => {
    const table = tableOf(cache, name);
    return { table, plan: planRead(table, request.url.searchParams, cache) };
  });
  const range = topLevelRange(request.req, plan);
  const result = await runAs(ctx.sql, caller, async (tx) => {
    const sql = readSql(tx, { ...plan, offset: range.offset, limit: range.limit }, {
      from: tx`${tx(SCHEMA)}.${tx(table.name)} as ${tx(table.name)}`,
      alias: table.name,
      singular: accept.singular,
      stripNulls: accept.stripNulls,
      count: prefs.count,
      maxRows: MAX_ROWS,
    });
    const [row] = await tx<ReadResult[]>`${sql}`;
    if (accept.singular && row.page_total !== 1) requireSingleRow(row.page_total);
    return row;
  }, { readOnly: true });
  return readResponse(request, result, range.offset);
}

/** The columns a payload writes, checked against the table (PGRST204 for an unknown one). */
function payloadColumns(table: Table, names: string[]): Column[] {
  return names.map((name) => {
    const found = table.columns.get(name);
    if (!found) {
      throw pgrstError(
        400,
        "PGRST204",
        `Could not find the '${name}' column of '${table.name}' in the schema cache`,
      );
    }
    return found;
  });
}

/**
 * Runs `mutation` (which RETURNs what `plan` reads) as the CTE pgrst_source and reads its rows
 * back: the representation, or only their number with `return=minimal`.
 */
async function mutate(
  request: RestRequest,
  table: Table,
  plan: ReadPlan,
  mutation: (tx: Sql, returning: Fragment) => Fragment,
): Promise<ReadResult> {
  const { ctx, caller, accept, prefs } = request;
  const representation = prefs.return === "representation";
  return await runAs(ctx.sql, caller, async (tx) => {
    const returned = mutation(tx, returningSql(tx, table.name, representation ? plan : undefined));
    const readBack = representation
      ? readSql(tx, { ...plan, conditions: [], limit: undefined, offset: 0 }, {
        from: tx`pgrst_source as ${tx(table.name)}`,
        alias: table.name,
        singular: accept.singular,
        stripNulls: accept.stripNulls,
        count: false,
      })
      : tx`select ''::text as body, count(*)::int as page_total from pgrst_source`;
    const [row] = await tx<ReadResult[]>`with pgrst_source as (${returned}) ${readBack}`;
    // As PostgREST, a singular request that changed other than one row changes nothing.
    if (accept.singular && row.page_total !== 1) requireSingleRow(row.page_total);
    return row;
  });
}

function mutationResponse(request: RestRequest, result: ReadResult, status: number, range: string): Response {
  const total = request.prefs.count ? String(result.page_total) : "*";
  const headers: Record<string, string> = { "Content-Range": `${range}/${total}` };
  if (request.prefs.return !== "representation") return new Response(null, { status, headers });
  headers["Content-Type"] = request.accept.contentType;
  return new Response(result.body, { status: status === 204 ? 200 : status, headers });
}

/** Update and delete: the rows are chosen by filters only (an ordered limit is not supported). */
async function filteredMutation(request: RestRequest, name: string, payload?: Record<string, unknown>) {
  const planned = await withSchema(request.ctx, (cache) => {
    const table = tableOf(cache, name);
    const columns = payloadColumns(table, Object.keys(payload ?? {}));
    return { table, columns, plan: planRead(table, request.url.searchParams, cache) };
  });
  if (planned.plan.limit !== undefined || planned.plan.offset > 0) {
    throw unsupported("limit/offset on an update or delete");
  }
  return planned;
}

async function insert(request: RestRequest, name: string): Promise<Response> {
  const { url, prefs } = request;
  const body = await readBody(request.req);
  const rows = Array.isArray(body) ? body : [body];
  if (!rows.every(isObject)) throw pgrstError(400, "PGRST102", "Empty or invalid json");
  const columnsParam = url.searchParams.get("columns");
  const names = columnsParam === null ? Object.keys(rows[0] ?? {}) : parseColumnList(columnsParam);
  const sameKeys = (row: Record<string, unknown>) =>
    Object.keys(row).length === names.length && names.every((key) => key in row);
  if (columnsParam === null && !rows.every(sameKeys)) {
    throw pgrstError(400, "PGRST102", "All object keys must match");
  }

  const { table, columns, plan, conflictColumns } = await withSchema(request.ctx, (cache) => {
    const table = tableOf(cache, name);
    const onConflict = url.searchParams.get("on_conflict");
    const conflictColumns = prefs.resolution === undefined
      ? []
      : onConflict === null
      ? table.primaryKey
      : parseColumnList(onConflict).map((column) => requireColumn(table, column).name);
    // Filters mean nothing to an insert: the plan only shapes the representation.
    const plan = { ...planRead(table, url.searchParams, cache), conditions: [] };
    return { table, columns: payloadColumns(table, names), plan, conflictColumns };
  });

  const result = await mutate(request, table, plan, (tx, returning) => {
    const columnList = columns.length === 0
      ? tx``
      : tx`(${join(tx, columns.map((c) => tx`${tx(c.name)}`), tx`, `)})`;
    let onConflict = tx``;
    if (conflictColumns.length > 0) {
      const target = join(tx, conflictColumns.map((column) => tx`${tx(column)}`), tx`, `);
      const assignments = join(tx, columns.map((c) => tx`${tx(c.name)} = excluded.${tx(c.name)}`), tx`, `);
      onConflict = prefs.resolution === "merge-duplicates" && columns.length > 0
        ? tx`on conflict (${target}) do update set ${assignments}`
        : tx`on conflict (${target}) do nothing`;
    }
    return tx`insert into ${tx(SCHEMA)}.${tx(table.name)} as ${tx(table.name)} ${columnList}
      ${insertValuesSql(tx, columns, rows, prefs.missingDefault)} ${onConflict} returning ${returning}`;
  });
  return mutationResponse(request, result, 201, "*");
}

async function update(request: RestRequest, name: string): Promise<Response> {
  const body = await readBody(request.req);
  if (!isObject(body)) throw pgrstError(400, "PGRST102", "Empty or invalid json");
  const { table, columns, plan } = await filteredMutation(request, name, body);
  const result = await mutate(request, table, plan, (tx, returning) => {
    const target = tx`${tx(SCHEMA)}.${tx(table.name)} as ${tx(table.name)}`;
    // PostgREST answers an empty patch with no rows.
    if (columns.length === 0) return tx`select ${returning} from ${target} where false`;
    const assignments = join(tx, columns.map((c) => tx`${tx(c.name)} = pgrst_body.${tx(c.name)}`), tx`, `);
    return tx`update ${target} set ${assignments}
      from json_to_record(${text(tx, JSON.stringify(body))}::json) as pgrst_body(${typedColumns(tx, columns)})
      ${filtersSql(tx, table.name, table.columns, plan.conditions)} returning ${returning}`;
  });
  const range = result.page_total > 0 ? `0-${result.page_total - 1}` : "*";
  return mutationResponse(request, result, 204, range);
}

async function remove(request: RestRequest, name: string): Promise<Response> {
  const { table, plan } = await filteredMutation(request, name);
  const result = await mutate(request, table, plan, (tx, returning) => {
    const where = filtersSql(tx, table.name, table.columns, plan.conditions);
    return tx`delete from ${tx(SCHEMA)}.${tx(table.name)} as ${
      tx(table.name)
    } ${where} returning ${returning}`;
  });
  return mutationResponse(request, result, 204, "*");
}
