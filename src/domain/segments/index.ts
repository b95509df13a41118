// Segments in one import: definition, schema, membership, order and affected segments.
export * from './affected.ts'
export * from './membership.ts'
export * from './order.ts'
export * from './schema.ts'
export * from './types.ts'
