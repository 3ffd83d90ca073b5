export { checksum, type TableDigest, tableDigests } from './checksum';
export {
  assertGeneration,
  type GenerationRing,
  type Queryable,
  READ_MODEL_PROJECTION,
  readGeneration,
  readGenerationRing,
  readModelName,
  readRingSize,
  schemaFor,
  switchGeneration,
} from './generations';
export { ReadModelStatements } from './projection';
export {
  createGenerationSchema,
  dropGeneration,
  dropGenerationSchema,
  ensureGeneration,
  generationDdl,
  generationExists,
  READ_MODEL_TABLES,
  type ReadModelTable,
} from './schema';
export { ModelViolation, type PlannedEvent, type RouteKind } from './statement';
