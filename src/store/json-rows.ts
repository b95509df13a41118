// The rows of a JSON array parameter as a FROM item, for statements that join them to a
// table. jsonb_to_recordset tells the planner nothing of its size, so it plans for 100
// rows whatever the array holds; below a few tens of thousands of rows in the table it
// joins to, it then reads the whole table into a hash instead of looking up the few keys
// (an UPDATE or DELETE cannot take a LATERAL key lookup instead). The LIMIT of the array's
// length keeps every row: planned for the values (a custom plan), it is folded to the
// array's length; in a generic plan the planner takes a tenth of its guess.

const PARAM = /^\$\d+$/
const NAME = /^[a-z_][a-z0-9_]*$/

/**
 * `(SELECT r.a, r.b FROM jsonb_to_recordset($1::jsonb) AS r(a text, b uuid) LIMIT …) AS x`.
 * `param` is a statement parameter (`$1`: it is read twice); `columns` is the record's
 * definition, its names plain lower-case identifiers, selected by name (a `*` would keep the
 * statement from being prepared, see pg.ts).
 */
export function jsonRows(param: string, columns: string, alias = 'x'): string {
  if (!PARAM.test(param)) throw new Error(`jsonRows: ${param} is not a statement parameter like $1`)
  const names: string[] = []
  let depth = 0
  let start = 0
  // Split on the commas between columns, not those of a type's modifiers (numeric(10, 2)).
  for (let i = 0; i <= columns.length; i++) {
    const ch = columns[i]
    if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (i === columns.length || (ch === ',' && depth === 0)) {
      const name = columns.slice(start, i).trim().split(/\s+/)[0] ?? ''
      if (!NAME.test(name)) throw new Error(`jsonRows: "${name}" in "${columns}" is not a plain column name`)
      names.push(`r.${name}`)
      start = i + 1
    }
  }
  return `(SELECT ${names.join(', ')} FROM jsonb_to_recordset(${param}::jsonb) AS r(${columns})
     LIMIT jsonb_array_length(${param}::jsonb)) AS ${alias}`
}
