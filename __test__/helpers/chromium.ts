// A page opened in headless Chromium over the DevTools protocol on a pipe (fds 3 and 4, no
// WebSocket, no browser download): every request it makes, its console, a screenshot.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'

export function findChromium(): string | null {
  for (const name of [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome']) {
    if (name && spawnSync(name, ['--version'], { encoding: 'utf8' }).status === 0) return name
  }
  return null
}

export interface PageVisit {
  requests: string[]
  console: string[]
  /** Whatever `probe` returned once `ready` held and the steps had run. */
  probed: unknown
  /** The value of each step with `as`, by that name. */
  results: Record<string, unknown>
  screenshot: Buffer
}

/**
 * After `ready`, in order: a DevTools command to the page (input events), an expression whose
 * (awaited) value is kept under `as`, or steps made from the values kept so far.
 */
export type VisitStep = { send: string; params?: Record<string, unknown> } | { evaluate: string; as?: string } | { expand: (results: Record<string, unknown>) => VisitStep[] }

type Message = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string }

export async function visit(chromium: string, url: string, options: { width: number; height: number; ready: string; probe: string; steps?: VisitStep[]; timeoutMs?: number }): Promise<PageVisit> {
  const profile = await mkdtemp(join(tmpdir(), 'convtorch-chromium-'))
  // Any name but 127.0.0.1 (where a test's own server listens) resolves to nothing, and any
  // proxy is a closed port (loopback bypasses it): a request could not leave the machine.
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', `--user-data-dir=${profile}`, '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--proxy-server=127.0.0.1:9', 'about:blank']
  const child = spawn(chromium, flags, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] })
  const input = child.stdio[3] as Writable
  const output = child.stdio[4] as Readable
  let stderr = ''
  child.stderr!.on('data', (c) => (stderr += c))
  const pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>()
  const listeners: Array<(m: Message) => void> = []
  let buffered = ''
  output.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8')
    for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
      const message = JSON.parse(buffered.slice(0, end)) as Message
      buffered = buffered.slice(end + 1)
      const waiting = message.id === undefined ? undefined : pending.get(message.id)
      if (waiting) {
        pending.delete(message.id!)
        if (message.error) waiting.reject(new Error(message.error.message))
        else waiting.resolve(message)
      } else listeners.forEach((l) => l(message))
    }
  })
  let nextId = 1
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<Message>((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      input.write(`${JSON.stringify({ id, method, params, sessionId })}\0`)
    })
  const requests: string[] = []
  const consoleLines: string[] = []
  listeners.push((m) => {
    if (m.method === 'Network.requestWillBeSent') requests.push(String((m.params!.request as { url: string }).url))
    if (m.method === 'Runtime.consoleAPICalled') consoleLines.push(`${m.params!.type}: ${JSON.stringify(m.params!.args)}`)
    if (m.method === 'Runtime.exceptionThrown') consoleLines.push(`exception: ${JSON.stringify(m.params!.exceptionDetails)}`)
    if (m.method === 'Log.entryAdded') consoleLines.push(`log ${JSON.stringify(m.params!.entry)}`)
  })
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  try {
    const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })).result as { targetId: string }
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })).result as { sessionId: string }
    const page = (method: string, params: Record<string, unknown> = {}) => send(method, params, sessionId)
    for (const domain of ['Network', 'Page', 'Runtime', 'Log']) await page(`${domain}.enable`)
    await page('Emulation.setDeviceMetricsOverride', { width: options.width, height: options.height, deviceScaleFactor: 1, mobile: false })
    const loaded = new Promise<void>((resolve) => listeners.push((m) => m.method === 'Page.loadEventFired' && resolve()))
    await page('Page.navigate', { url })
    await loaded
    const evaluate = async (expression: string) => {
      const answer = (await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })).result as { result: { value: unknown }; exceptionDetails?: { exception?: { description?: string }; text: string } }
      if (answer.exceptionDetails) throw new Error(`${expression.slice(0, 200)} threw: ${answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text}`)
      return answer.result.value
    }
    while (!(await evaluate(options.ready))) {
      if (Date.now() > deadline) throw new Error(`the page was not ready (${options.ready}) in time; console: ${consoleLines.join('\n')}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    const results: Record<string, unknown> = {}
    const run = async (steps: VisitStep[]): Promise<void> => {
      for (const step of steps) {
        if ('send' in step) await page(step.send, step.params ?? {})
        else if ('expand' in step) await run(step.expand(results))
        else {
          const value = await evaluate(step.evaluate)
          if (step.as) results[step.as] = value
        }
      }
    }
    await run(options.steps ?? [])
    const probed = await evaluate(options.probe)
    const shot = (await page('Page.captureScreenshot', { format: 'png' })).result as { data: string }
    return { requests, console: consoleLines, probed, results, screenshot: Buffer.from(shot.data, 'base64') }
  } catch (error) {
    throw new Error(`${(error as Error).message}\nchromium stderr: ${stderr.slice(-2000)}`)
  } finally {
    child.kill('SIGKILL')
  }
}
