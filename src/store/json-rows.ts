// The rows of a JSON array parameter as a FROM item, for statements that join them to a
// table. jsonb_to_recordset tells the planner nothing of its size, so it plans for 100
// rows whatever the array holds; below a few tens of thousands of rows in the table it
// joins to, it then reads the whole table into a hash instead of looking up the few keys
// (an UPDATE or DELETE cannot take a LATERAL key lookup instead). The LIMIT of the array's
// length keeps every row: planned for the values (a custom plan), it is folded to the
// array's length; in a generic plan the planner takes a tenth of its guess.

/**
 * `(SELECT a, b FROM jsonb_to_recordset($1::jsonb) AS x(a text, b uuid) LIMIT …) AS x`.
 * `columns` is the record's definition; its names are selected by name (a `*` would keep
 * the statement from being prepared, see pg.ts).
 */
export function jsonRows(param: string, columns: string, alias = 'x'): string {
  const names = columns
    .split(',')
    .map((c) => c.trim().split(/\s+/)[0])
    .join(', ')
  return `(SELECT ${names} FROM jsonb_to_recordset(${param}::jsonb) AS r(${columns})
     LIMIT jsonb_array_length(${param}::jsonb)) AS ${alias}`
}
