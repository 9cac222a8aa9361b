import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { smallMnistDir } from './helpers/small-mnist'

const cli = join(__dirname, '..', 'src', 'cli', 'main.js')
const ESC = '\x1b'
// util-linux `script` gives the command a pseudo-terminal and copies what it draws to stdout.
const hasScript = spawnSync('script', ['--version']).status === 0
const terminalEnv = (extra: Record<string, string> = {}) => {
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', ...extra }
  for (const name of ['CI', 'NO_COLOR']) if (!(name in extra)) delete env[name]
  return env
}
const shellQuote = (args: string[]) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')

/** Runs convtorch on a pseudo-terminal; `onOutput` may answer with keys to type (Ctrl-C is \x03). */
function onTerminal(args: string[], env: NodeJS.ProcessEnv, onOutput?: (all: string) => string | undefined): Promise<{ code: number | null; output: string }> {
  const child = spawn('script', ['-qfec', shellQuote([process.execPath, cli, ...args]), '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  let typed = false
  child.stdout.on('data', (chunk) => {
    output += chunk
    const keys = typed ? undefined : onOutput?.(output)
    if (keys !== undefined) {
      typed = true
      child.stdin.write(keys)
    }
  })
  child.stderr.on('data', (chunk) => (output += chunk))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })))
}

const lines = (text: string) => text.split(/\r?\n/).filter((l) => l.trim() !== '')

test('on a terminal, train draws a live bar and a summary line per epoch, and ends on clean lines', async (t) => {
  if (!hasScript) return t.log('skipped: util-linux `script` is not installed (no pseudo-terminal to draw on)')
  const dir = await smallMnistDir(1_600, 200)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-bar-'))
  const { code, output } = await onTerminal(['train', '--data', dir, '--epochs', '2', '--device', 'cpu', '--batch-size', '16', '--no-report', '--out', out], terminalEnv())
  t.is(code, 0, output)
  t.regex(output, /Epoch 001\/002 [█░]{24} \d+\/100 \| loss \d\.\d{4} \| \d+ img\/s \| \d+s \| ETA \d+:\d\d/)
  t.regex(output.replaceAll(`${ESC}[2K`, '<clear line>'), /<clear line>Epoch 002\/002 \| train loss \d\.\d{4} acc \d+\.\d\d% \| test loss \d\.\d{4} acc \d+\.\d\d% \| lr 0\.05000 \| \d+\.\d s\r?\n/)
  t.notRegex(output, /Batch 000\/100 \| Cost/, 'no seed log lines under the bar')
  // Line wrapping, switched off while the bar is drawn, is switched back on every time.
  t.is(output.split(`${ESC}[?7l`).length, output.split(`${ESC}[?7h`).length)
  const end = output.slice(output.lastIndexOf('Epoch 002/002 | train loss'))
  t.false(end.includes(ESC), JSON.stringify(end))
  const last = lines(end).slice(1)
  t.is(last.length, 3, JSON.stringify(last))
  t.regex(last[0], /^Total Training Time: \d+\.\d\d min$/)
  t.regex(last[1], /^Test accuracy: \d+\.\d\d%$/)
  t.is(last[2], `Saved: ${out}/checkpoint`)
})

// Serial: a concurrent test's spawnSync would block this worker, and Ctrl-C would come too late.
test.serial('Ctrl-C on a terminal takes the bar down before the message and leaves clean lines', async (t) => {
  if (!hasScript) return t.log('skipped: util-linux `script` is not installed (no pseudo-terminal to draw on)')
  const dir = await smallMnistDir(1_600, 200)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-bar-int-'))
  const args = ['train', '--data', dir, '--epochs', '8', '--device', 'cpu', '--batch-size', '16', '--no-report', '--out', out]
  // Typed once the second epoch's bar is drawn: the terminal turns \x03 into SIGINT.
  const { code, output } = await onTerminal(args, terminalEnv(), (all) => (/Epoch 002\/008 [█░]{24} [1-9]/.test(all) ? '\x03' : undefined))
  t.is(code, 130, output)
  const message = output.indexOf('convtorch: SIGINT: stopping after the current batches')
  t.true(message > 0, output)
  t.is(output.split(`${ESC}[?7l`).length, output.split(`${ESC}[?7h`).length)
  const after = output.slice(message)
  t.false(after.includes(ESC), JSON.stringify(after))
  t.regex(lines(after).at(-1)!, /^convtorch: train\(\): aborted in epoch \d after \d+ batches; checkpoint saved in /)
})

test('without a terminal, or with NO_COLOR or TERM=dumb, train prints the seed lines; --quiet only the final ones', async (t) => {
  const dir = await smallMnistDir(600, 100)
  const out = await mkdtemp(join(tmpdir(), 'convtorch-plain-'))
  const base = ['train', '--data', dir, '--epochs', '1', '--device', 'cpu', '--no-report', '--out', out]
  const seedLines = /^Epoch: 001\/001 \| Batch 000\/005 \| Cost: 2\.30\d\d\r?$/m
  const piped = spawnSync(process.execPath, [cli, ...base], { encoding: 'utf8', env: terminalEnv() })
  t.is(piped.status, 0, piped.stderr)
  t.regex(piped.stdout, seedLines)
  t.false(piped.stdout.includes(ESC))
  if (hasScript) {
    const cases: Array<Record<string, string>> = [{ NO_COLOR: '1' }, { TERM: 'dumb' }, { CI: 'true' }]
    for (const extra of cases) {
      const { code, output } = await onTerminal(base, terminalEnv(extra))
      t.is(code, 0, output)
      t.regex(output, seedLines, JSON.stringify(extra))
      t.false(output.includes(ESC), JSON.stringify(extra))
    }
  } else t.log('terminal cases skipped: util-linux `script` is not installed')
  const quiet = spawnSync(process.execPath, [cli, ...base, '--quiet'], { encoding: 'utf8' })
  t.is(quiet.status, 0, quiet.stderr)
  t.deepEqual(quiet.stdout.trim().split('\n').map((l) => l.replace(/\d/g, '0')), ['Total Training Time: 0.00 min', 'Test accuracy: 00.00%', `Saved: ${out.replace(/\d/g, '0')}/checkpoint`])
  const both = spawnSync(process.execPath, [cli, ...base, '--quiet', '--json'], { encoding: 'utf8' })
  t.is(both.status, 2)
  t.regex(both.stderr, /--quiet and --json exclude each other/)
})
