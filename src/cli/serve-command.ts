import { parseArgs } from 'node:util'
import { serveModel } from '../serve/server'
import { integerFlag, UsageError } from './args'

export const SERVE_HELP = `Usage: convtorch serve --model RUN_DIR|CHECKPOINT_DIR [--port 8080] [--host 127.0.0.1]

Serves a page where you draw a digit (mouse or finger) or drop an image file and see the
predicted class and every class's probability, live. The model runs in the page, exported to
ONNX and run by ONNX Runtime Web; the page loads nothing from outside this server.

  --model DIR         a run or checkpoint directory of a 1x28x28 model
  --port N            the port (8080; 0: any free one)
  --host H            the address to listen on (127.0.0.1, this machine only; 0.0.0.0: the
                      network, e.g. to draw on a phone)
`

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { model: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', default: false } },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(SERVE_HELP)
    return 0
  }
  if (values.model === undefined) throw new UsageError('convtorch serve: --model is required (a run or checkpoint directory)')
  const port = integerFlag('serve', 'port', values.port, 0)
  if (port !== undefined && port > 65535) throw new UsageError(`convtorch serve: --port must be an integer in [0, 65535], got '${values.port}'`)
  const server = await serveModel({ model: values.model, port, host: values.host })
  process.stdout.write(`Serving ${values.model} at ${server.url} (model.onnx: ${server.onnxBytes} bytes); Ctrl-C stops\n`)
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await server.close()
  return 0
}
