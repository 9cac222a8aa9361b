// Contender C: convtorch's train(), timed like the PyTorch contenders. Prints one JSON line.
import { setNumThreads, torchVersion, train } from '../src/index'

async function main(): Promise<void> {
  const args = new Map<string, string>()
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
  const threads = Number(args.get('threads') ?? 0)
  if (threads > 0) setNumThreads(threads)
  const result = await train({ epochs: Number(args.get('epochs') ?? 3), device: args.get('device') ?? 'cpu', evaluateEachEpoch: false })
  const epochs = result.history.epochs.map((e) => ({ train: e.seconds.train, seed: e.seconds.train + e.seconds.trainEval, trainAccuracy: e.trainAccuracy }))
  const report = {
    contender: 'C: convtorch',
    device: result.model.device,
    threads: threads > 0 ? threads : null,
    torch: torchVersion(),
    epochs,
    testAccuracy: result.test.accuracy,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
