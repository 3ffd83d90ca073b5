export {
  ModelViolation,
  type PlannedEvent,
  ReadModelStatements,
  type RouteKind,
} from './apply-events';
export { checksum, type TableDigest, tableDigests } from './checksum';
export {
  assertGeneration,
  type Queryable,
  READ_MODEL_PROJECTION,
  readGeneration,
  readModelName,
  schemaFor,
  switchGeneration,
} from './generations';
export {
  isModelViolationError,
  ReadModelPoisonError,
  ReadModelTarget,
  type ReadModelTargetOptions,
} from './read-model-target';
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
