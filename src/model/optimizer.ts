import { invalidArgument } from '../errors'
import { FLOAT32_MAX } from './float32'

export type OptimizerOptions =
  | { kind: 'sgd'; lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }
  | { kind: 'adam' | 'adamW'; lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }

export const OPTIMIZER_KINDS = ['sgd', 'adam', 'adamW'] as const

/** Each kind's settings besides lr (their ranges are the core's rule). */
const OPTIMIZER_FIELDS: Record<OptimizerOptions['kind'], readonly string[]> = {
  sgd: ['momentum', 'dampening', 'weightDecay', 'nesterov'],
  adam: ['beta1', 'beta2', 'eps', 'weightDecay'],
  adamW: ['beta1', 'beta2', 'eps', 'weightDecay'],
}

/** A learning rate the float32 optimizer can hold: in (0, 3.4e38]. */
export function checkLearningRate(context: string, field: string, lr: unknown): number {
  if (typeof lr !== 'number' || !(lr > 0 && lr <= FLOAT32_MAX)) throw invalidArgument(context, field, lr, 'a number in (0, 3.4e38] (a float32)')
  return lr
}

/** The seed's optimizer: plain SGD with lr 0.05. */
export function seedOptimizer(): OptimizerOptions {
  return { kind: 'sgd', lr: 0.05 }
}

export function checkOptimizer(context: string, options: OptimizerOptions): OptimizerOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument(context, 'optimizer', options, 'an object such as { kind: "sgd", lr: 0.05 }')
  if (!OPTIMIZER_KINDS.includes(options.kind)) throw invalidArgument(context, 'optimizer.kind', options.kind, `one of ${OPTIMIZER_KINDS.map((k) => `'${k}'`).join(', ')}`)
  checkLearningRate(context, 'optimizer.lr', options.lr)
  const fields = OPTIMIZER_FIELDS[options.kind]
  const extra = Object.keys(options).find((key) => key !== 'kind' && key !== 'lr' && !fields.includes(key))
  if (extra !== undefined) throw invalidArgument(context, `optimizer.${extra}`, (options as Record<string, unknown>)[extra], `left out: '${options.kind}' takes lr, ${fields.join(', ')}`)
  for (const field of fields) {
    const value = (options as Record<string, unknown>)[field]
    if (value === undefined) continue
    if (field === 'nesterov' ? typeof value !== 'boolean' : typeof value !== 'number') {
      throw invalidArgument(context, `optimizer.${field}`, value, field === 'nesterov' ? 'true or false' : 'a number')
    }
  }
  return options
}
