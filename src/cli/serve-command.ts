// convtorch serve: a page to draw a digit on and see the model's prediction, run in the browser.
import { Option, type Command } from '@commander-js/extra-typings'
import { serveModel } from '../serve/server'
import { parseInteger, UsageError } from './flags'

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description("a page to draw a digit on (or drop an image) and see the model's prediction, run in the browser by ONNX Runtime Web")
    .option('--model <dir>', 'a run or checkpoint directory of a 1x28x28 model')
    .addOption(
      new Option('--port <n>', 'the port (0: any free one)').default(8080).argParser((raw) => {
        const port = parseInteger('--port', raw, 0)
        if (port > 65535) throw new UsageError(`--port must be an integer in [0, 65535], got '${raw}'`)
        return port
      }),
    )
    .addOption(new Option('--host <h>', 'the address to listen on (127.0.0.1: this machine only; 0.0.0.0: the network, e.g. to draw on a phone)').default('127.0.0.1'))
    .addHelpText('after', '\nThe page loads nothing from outside this server.\n\nExample:\n  convtorch serve --model runs/latest --port 8080')
    .action(async (options) => {
      if (options.model === undefined) throw new UsageError('--model is required (a run or checkpoint directory)')
      const server = await serveModel({ model: options.model, port: options.port, host: options.host })
      process.stdout.write(`Serving ${options.model} at ${server.url} (model.onnx: ${server.onnxBytes} bytes); Ctrl-C stops\n`)
      await new Promise<void>((resolve) => {
        const stop = () => resolve()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      await server.close()
    })
}
