// The condition language in one import: types, schema, evaluation, history, recheck
// times and explanations.
export * from './compare.ts'
export * from './describe.ts'
export * from './duration.ts'
export * from './evaluate.ts'
export * from './explain.ts'
export * from './history.ts'
export * from './paths.ts'
export * from './recheck.ts'
export * from './references.ts'
export * from './schema.ts'
export type * from './types.ts'
