// Learning-rate schedules, with PyTorch's formulas (torch.optim.lr_scheduler), applied per
// epoch or per step. A schedule is a pure function of the position, so resuming is exact.
import { invalidArgument } from '../errors'
import { FLOAT32_MAX } from '../model/float32'

export type SchedulePer = 'epoch' | 'step'

export type ScheduleOptions =
  | { kind: 'constant' }
  /** StepLR: lr * gamma^floor(t / stepSize). */
  | { kind: 'step'; stepSize: number; gamma?: number; per?: SchedulePer }
  /** ExponentialLR: lr * gamma^t. */
  | { kind: 'exponential'; gamma: number; per?: SchedulePer }
  /** CosineAnnealingLR over the whole run: minLr + (lr - minLr)(1 + cos(pi t / T)) / 2. */
  | { kind: 'cosine'; minLr?: number; per?: SchedulePer }
  /** OneCycleLR (cosine annealing, two phases), always per step; momentum is not cycled. */
  | { kind: 'oneCycle'; maxLr: number; pctStart?: number; divFactor?: number; finalDivFactor?: number }

export const SCHEDULE_KINDS = ['constant', 'step', 'exponential', 'cosine', 'oneCycle'] as const

/** The fields each kind takes: any other is a typo (`minLR`), refused rather than ignored. */
const SCHEDULE_FIELDS: Record<ScheduleOptions['kind'], readonly string[]> = {
  constant: [],
  step: ['stepSize', 'gamma', 'per'],
  exponential: ['gamma', 'per'],
  cosine: ['minLr', 'per'],
  oneCycle: ['maxLr', 'pctStart', 'divFactor', 'finalDivFactor'],
}

export function schedulePer(schedule: ScheduleOptions): SchedulePer {
  if (schedule.kind === 'oneCycle') return 'step'
  if (schedule.kind === 'constant') return 'epoch'
  return schedule.per ?? 'epoch'
}

function cosineBetween(start: number, end: number, fraction: number): number {
  return end + ((start - end) * (1 + Math.cos(Math.PI * fraction))) / 2
}

/** The learning rate at position t (0-based epoch or step) of `total`. */
export function learningRateAt(schedule: ScheduleOptions, baseLr: number, t: number, total: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr
    case 'step':
      return baseLr * (schedule.gamma ?? 0.1) ** Math.floor(t / schedule.stepSize)
    case 'exponential':
      return baseLr * schedule.gamma ** t
    case 'cosine': {
      const minLr = schedule.minLr ?? 0
      return cosineBetween(baseLr, minLr, Math.min(t, total) / total)
    }
    case 'oneCycle': {
      const initial = schedule.maxLr / (schedule.divFactor ?? 25)
      const final = initial / (schedule.finalDivFactor ?? 1e4)
      const peakStep = (schedule.pctStart ?? 0.3) * total - 1
      const lastStep = total - 1
      if (t <= peakStep) return cosineBetween(initial, schedule.maxLr, t / peakStep)
      return cosineBetween(schedule.maxLr, final, (t - peakStep) / (lastStep - peakStep))
    }
  }
}

export function checkSchedule(context: string, schedule: ScheduleOptions): ScheduleOptions {
  if (typeof schedule !== 'object' || schedule === null || !SCHEDULE_KINDS.includes(schedule.kind)) {
    throw invalidArgument(context, 'schedule.kind', (schedule as { kind?: unknown } | null)?.kind, `one of ${SCHEDULE_KINDS.map((k) => `'${k}'`).join(', ')}`)
  }
  const fields = SCHEDULE_FIELDS[schedule.kind]
  const extra = Object.keys(schedule).find((key) => key !== 'kind' && !fields.includes(key))
  if (extra !== undefined) {
    throw invalidArgument(context, `schedule.${extra}`, (schedule as Record<string, unknown>)[extra], `left out: a '${schedule.kind}' schedule ${fields.length ? `takes ${fields.join(', ')}` : 'takes no fields'}`)
  }
  const positive = (field: string, value: unknown) => {
    if (typeof value !== 'number' || !(value > 0 && value <= FLOAT32_MAX)) throw invalidArgument(context, `schedule.${field}`, value, 'a number in (0, 3.4e38] (a float32)')
  }
  if ('per' in schedule && schedule.per !== undefined && schedule.per !== 'epoch' && schedule.per !== 'step') {
    throw invalidArgument(context, 'schedule.per', schedule.per, "'epoch' or 'step'")
  }
  switch (schedule.kind) {
    case 'step':
      if (!Number.isInteger(schedule.stepSize) || schedule.stepSize < 1) throw invalidArgument(context, 'schedule.stepSize', schedule.stepSize, 'a positive integer')
      if (schedule.gamma !== undefined) positive('gamma', schedule.gamma)
      break
    case 'exponential':
      positive('gamma', schedule.gamma)
      break
    case 'cosine':
      if (schedule.minLr !== undefined && !(typeof schedule.minLr === 'number' && schedule.minLr >= 0 && schedule.minLr <= FLOAT32_MAX)) {
        throw invalidArgument(context, 'schedule.minLr', schedule.minLr, 'a number in [0, 3.4e38] (a float32)')
      }
      break
    case 'oneCycle': {
      positive('maxLr', schedule.maxLr)
      const pct = schedule.pctStart ?? 0.3
      if (!(pct > 0 && pct < 1)) throw invalidArgument(context, 'schedule.pctStart', pct, 'a number in (0, 1)')
      if (schedule.divFactor !== undefined) positive('divFactor', schedule.divFactor)
      if (schedule.finalDivFactor !== undefined) positive('finalDivFactor', schedule.finalDivFactor)
      break
    }
  }
  return schedule
}

/** "cosine", "step:stepSize=3,gamma=0.1", "oneCycle:maxLr=0.1": the CLI's --schedule syntax. */
export function parseSchedule(text: string): ScheduleOptions {
  const colon = text.indexOf(':')
  const kind = colon < 0 ? text : text.slice(0, colon)
  const rest = colon < 0 ? '' : text.slice(colon + 1)
  const fields: Record<string, string | number> = { kind: kind === 'one-cycle' ? 'oneCycle' : kind }
  for (const pair of rest === '' ? [] : rest.split(',')) {
    const equals = pair.indexOf('=')
    const key = pair.slice(0, equals)
    const value = pair.slice(equals + 1)
    if (equals <= 0 || value === '' || /[:=]/.test(value)) throw invalidArgument('--schedule', 'each setting', pair, "key=value, settings separated by ',' (step:stepSize=3,gamma=0.5)")
    if (Object.hasOwn(fields, key)) throw invalidArgument('--schedule', key, pair, 'given once')
    fields[key] = key === 'per' ? value : Number(value)
  }
  if (colon >= 0 && rest === '') throw invalidArgument('--schedule', 'settings', text, "settings after ':' (step:stepSize=3)")
  return checkSchedule('--schedule', fields as unknown as ScheduleOptions)
}
