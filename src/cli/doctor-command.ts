import { parseArgs } from 'node:util'
import { runtimeInfo } from '../runtime'

const VERSION: string = require('../../../package.json').version

export function doctorCommand(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, strict: true })
  let report: Record<string, unknown>
  let usable = true
  try {
    const info = runtimeInfo()
    usable = info.torchVersion.startsWith('2.11.')
    report = { convtorch: VERSION, node: process.version, usable, ...info }
  } catch (error) {
    usable = false
    report = { convtorch: VERSION, node: process.version, usable, error: (error as Error).message }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`)
  } else {
    for (const [key, value] of Object.entries(report)) process.stdout.write(`${key.padEnd(20)} ${value ?? '-'}\n`)
  }
  return usable ? 0 : 1
}
