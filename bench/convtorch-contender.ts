// Contender C: convtorch's train(), timed like the PyTorch contenders; with --augment, contender
// C+aug: the same with on-device augmentation of every batch. Prints one JSON line.
import { parseAugment, setNumThreads, torchVersion, train, type Device } from '../src/index'

async function main(): Promise<void> {
  const args = new Map<string, string>()
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
  const threads = Number(args.get('threads') ?? 0)
  if (threads > 0) setNumThreads(threads)
  const augment = args.has('augment') ? parseAugment(args.get('augment')!) : null
  const result = await train({ epochs: Number(args.get('epochs') ?? 3), device: (args.get('device') ?? 'cpu') as Device, evaluateEachEpoch: false, augment: augment ?? undefined })
  const epochs = result.history.epochs.map((e) => ({ train: e.seconds.train, seed: e.seconds.train + e.seconds.trainEval, trainAccuracy: e.trainAccuracy }))
  const report = {
    contender: augment ? `C+aug: convtorch, ${args.get('augment')}` : 'C: convtorch',
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
