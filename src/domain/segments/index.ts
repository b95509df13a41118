// Segments in one import: definition, schema, membership, order, affected segments and
// their evaluation.
export * from './affected.ts'
export * from './evaluate.ts'
export * from './membership.ts'
export * from './order.ts'
export * from './schema.ts'
export * from './types.ts'
