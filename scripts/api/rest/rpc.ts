/**
 * `/rest/v1/rpc/<name>`: calls `public.<name>(arg => value, ...)` with named arguments from the
 * JSON body (POST) or the query string (GET/HEAD), each converted to its declared type by
 * json_to_record as PostgREST does (so a JSON array becomes a `vector`, an object a `jsonb`).
 * Rows from set- and table-returning functions take select, filters, order and ranges.
 */
import type postgres from "postgres";
import { runAs } from "../context.ts";
import { pgrstError, unsupported } from "./errors.ts";
import {
  isObject,
  readBody,
  readResponse,
  requireSingleRow,
  type RestRequest,
  topLevelRange,
} from "./http.ts";
import { planRead, RESERVED_PARAMS } from "./plan.ts";
import { type Routine, SCHEMA, withSchema } from "./schema.ts";
import { join, MAX_ROWS, type ReadResult, readSql, scalarReadSql, text, typedColumns } from "./sql.ts";

export async function callRoutine(request: RestRequest, name: string): Promise<Response> {
  const { req, url, ctx, caller, accept, prefs } = request;
  if (!["GET", "HEAD", "POST"].includes(req.method)) {
    throw pgrstError(405, "PGRST101", `Cannot use the ${req.method} method on RPC`);
  }
  let body: Record<string, unknown> | undefined;
  if (req.method === "POST") {
    const parsed = await readBody(req, {});
    if (Array.isArray(parsed)) throw unsupported("Calling a function once per object of an array body");
    if (!isObject(parsed)) throw pgrstError(400, "PGRST102", "Empty or invalid json");
    body = parsed;
  }
  const { routine, args, given, plan } = await withSchema(ctx, (cache) => {
    const overloads = cache.routines.get(name) ?? [];
    // With GET, query parameters naming a parameter of the function are arguments; others filter its rows.
    const paramNames = new Set(overloads.flatMap((r) => r.params.map((p) => p.name)));
    const args = body ?? Object.fromEntries(
      [...url.searchParams].filter(([key]) => !RESERVED_PARAMS.has(key) && paramNames.has(key)),
    );
    const routine = chooseOverload(name, overloads, Object.keys(args), req.method === "POST");
    const given = routine.params.filter((p) => p.name in args);
    const source = { name, columns: routine.columns ?? new Map() };
    const argumentParams = new Set(body ? [] : given.map((p) => p.name));
    return { routine, args, given, plan: planRead(source, url.searchParams, null, argumentParams) };
  });
  if (given.some((p) => p.variadic)) throw unsupported("VARIADIC function parameters");
  const range = topLevelRange(req, plan);
  const untypedResult = routine.returns !== "composite" || !routine.columns;
  if (
    untypedResult &&
    (plan.conditions.length > 0 || plan.order.length > 0 || plan.items.some((i) => i.kind !== "star"))
  ) {
    throw unsupported(
      "select, filters or order on the result of a function returning scalars or untyped records",
    );
  }

  const result = await runAs(ctx.sql, caller, async (tx) => {
    const call = tx`${tx(SCHEMA)}.${tx(name)}(${
      join(tx, given.map((p) => tx`${tx(p.name)} => pgrst_args.${tx(p.name)}`), tx`, `)
    })`;
    const givenArgs = Object.fromEntries(given.map((p) => [p.name, args[p.name]]));
    const argsFrom = given.length === 0
      ? tx``
      : tx`json_to_record(${text(tx, JSON.stringify(givenArgs))}::json)
      as pgrst_args(${
        typedColumns(tx, given.map((p) => ({ name: p.name, type: p.type, baseType: p.type })))
      }),
      lateral`;
    // A single row (not setof) answers as an object or a scalar, not an array.
    const options = {
      singular: accept.singular || !routine.returnsSet,
      stripNulls: accept.stripNulls,
      count: prefs.count,
      alias: "pgrst_call",
    };
    const ranged = { ...plan, offset: range.offset, limit: range.limit };
    // The function runs once: the page and the count both read its materialized rows.
    const callOnce = (rows: postgres.Fragment) =>
      tx`with pgrst_result as materialized (select pgrst_call.* from ${argsFrom} ${rows})`;
    const from = tx`pgrst_result as pgrst_call`;
    const sql = routine.returns === "composite"
      ? tx`${callOnce(tx`${call} as pgrst_call`)} ${
        readSql(tx, ranged, { ...options, from, maxRows: MAX_ROWS })
      }`
      : routine.returns === "scalar"
      ? tx`${callOnce(tx`(select ${call} as pgrst_scalar) as pgrst_call`)} ${
        scalarReadSql(tx, ranged, { ...options, from })
      }`
      : tx`select ''::text as body, count(*)::int as page_total from ${argsFrom} (select ${call}) as pgrst_call`;
    const [row] = await tx<ReadResult[]>`${sql}`;
    if (accept.singular && row.page_total !== 1) requireSingleRow(row.page_total);
    return row;
  }, { readOnly: request.req.method !== "POST" });
  if (routine.returns === "void") return new Response(null, { status: 204 });
  return readResponse(request, result, range.offset);
}

/** The one overload whose named parameters fit the arguments given (PGRST202 / PGRST203 otherwise). */
function chooseOverload(name: string, overloads: Routine[], keys: string[], isPost: boolean): Routine {
  const fits = overloads.filter((routine) =>
    keys.every((key) => routine.params.some((p) => p.name === key)) &&
    routine.params.every((p) => p.hasDefault || keys.includes(p.name))
  );
  if (fits.length === 1) return fits[0];
  const qualified = `${SCHEMA}.${name}`;
  if (fits.length > 1) {
    const candidates = fits.map((r) =>
      `${qualified}(${r.params.map((p) => `${p.name} => ${p.type}`).join(", ")})`
    );
    throw pgrstError(
      300,
      "PGRST203",
      `Could not choose the best candidate function between: ${candidates.join(", ")}`,
      null,
      "Try renaming the parameters or the function itself in the database so function overloading can be resolved",
    );
  }
  if (overloads.some((r) => r.params.length === 1 && r.params[0].name === "")) {
    throw unsupported("Functions with a single unnamed parameter");
  }
  const list = keys.join(", ");
  const withParams = keys.length === 0
    ? " without parameters"
    : ` with parameter${keys.length > 1 ? "s" : ""} ${list}`;
  throw pgrstError(
    404,
    "PGRST202",
    `Could not find the function ${qualified}${
      keys.length === 0 ? " without parameters" : `(${list})`
    } in the schema cache`,
    `Searched for the function ${qualified}${withParams}${
      isPost ? " or with a single unnamed json/jsonb parameter" : ""
    }, but no matches were found in the schema cache.`,
  );
}
