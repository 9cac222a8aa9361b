// Runs the CLI and sends it a signal once its stdout matches `when`, as a user's Ctrl-C or a
// service manager's SIGTERM would arrive mid-run.
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const cli = join(__dirname, '..', '..', 'src', 'cli', 'main.js')

export async function signalledRun(args: string[], when: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (when.test(stdout) && !child.killed) child.kill(signal)
    })
    child.on('exit', resolve)
  })
  return { code, stdout, stderr }
}
