import { invalidArgument } from '../errors'

export type OptimizerOptions =
  | { kind: 'sgd'; lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }
  | { kind: 'adam' | 'adamW'; lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }

export const OPTIMIZER_KINDS = ['sgd', 'adam', 'adamW'] as const

/** The seed's optimizer: plain SGD with lr 0.05. */
export function seedOptimizer(): OptimizerOptions {
  return { kind: 'sgd', lr: 0.05 }
}

export function checkOptimizer(context: string, options: OptimizerOptions): OptimizerOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument(context, 'optimizer', options, 'an object such as { kind: "sgd", lr: 0.05 }')
  if (!OPTIMIZER_KINDS.includes(options.kind)) throw invalidArgument(context, 'optimizer.kind', options.kind, `one of ${OPTIMIZER_KINDS.map((k) => `'${k}'`).join(', ')}`)
  if (typeof options.lr !== 'number' || !Number.isFinite(options.lr) || options.lr <= 0) {
    throw invalidArgument(context, 'optimizer.lr', options.lr, 'a finite number > 0')
  }
  return options
}
