// Everything a report shows, gathered by the training callback (from memory) or by
// `convtorch report` (from a run directory's files): one shape for both.
import type { EvaluationReport } from '../evaluation/evaluate'
import type { ModelSpec } from '../model/spec'
import type { BatchRow } from '../training/batches-csv'
import type { EpochEnd } from '../training/callbacks'
import type { ResolvedOptions } from '../training/options'
import type { Timings } from '../training/train'
import type { Environment } from './environment'
import type { Misclassified } from './misclassified'
import type { NetworkView } from './network-view'

export interface ReportInput {
  runDir: string
  /** 'finished', 'stopped: <why>' or 'interrupted in epoch N after B batches'. */
  status: string
  history: EpochEnd[]
  batches: BatchRow[]
  batchesPerEpoch: number
  /** The test set's evaluation, and what it was of (the final model, or a checkpoint). */
  test: { report: EvaluationReport; of: string } | null
  misclassified: Misclassified[]
  /** Whose mistakes they are ('the final model', 'the checkpoint epoch-003-batch-0024'). */
  misclassifiedOf: string
  /** Why there is no grid of misclassified images, where there is none. */
  misclassifiedNote: string | null
  /** Filters, feature maps and Grad-CAM of a few test images; null without convolutions or a test set. */
  network: NetworkView | null
  spec: ModelSpec
  classNames: string[]
  options: ResolvedOptions
  timings: Timings | null
  data: { source: string; trainCount: number; testCount: number }
  environment: Environment | null
  checkpoint: string | null
}

export function classNamesOf(names: string[] | null | undefined, classes: number): string[] {
  return names && names.length === classes ? names : Array.from({ length: classes }, (_, i) => String(i))
}
