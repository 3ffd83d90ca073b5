export {
  isModelViolationError,
  ReadModelPoisonError,
  ReadModelTarget,
  type ReadModelTargetOptions,
} from './read-model-target';
