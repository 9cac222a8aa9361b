// Contender C: convtorch's train(), timed like the PyTorch contenders; with --augment, contender
// C+aug: the same with on-device augmentation of every batch; with --net cifar, the CIFAR-sized
// net on the synthetic IDX files in --data. Prints one JSON line, with the scheduler counters
// of each epoch (bench/epoch-counters.ts).
import { join } from 'node:path'
import { Dataset, parseAugment, setNumThreads, torchVersion, train, type Device, type TrainOptions } from '../src/index'
import { CIFAR_FILES, cifarNetSpec } from './cifar-net'
import { epochCounters } from './epoch-counters'

async function cifarOptions(dir: string): Promise<TrainOptions> {
  const [trainSet, testSet] = await Promise.all([
    Dataset.fromIdx(join(dir, CIFAR_FILES.trainImages), join(dir, CIFAR_FILES.trainLabels)),
    Dataset.fromIdx(join(dir, CIFAR_FILES.testImages), join(dir, CIFAR_FILES.testLabels)),
  ])
  // PyTorch's default init, as CifarNet has; convtorch's own seeded order (the data is synthetic).
  return { data: { train: trainSet, test: testSet }, model: cifarNetSpec(), init: 'default', shuffle: 'seeded' }
}

async function main(): Promise<void> {
  const args = new Map<string, string>()
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1])
  const threads = Number(args.get('threads') ?? 0)
  if (threads > 0) setNumThreads(threads)
  const augment = args.has('augment') ? parseAugment(args.get('augment')!) : null
  const net = args.get('net') ?? 'seed'
  const netOptions = net === 'cifar' ? await cifarOptions(args.get('data')!) : {}
  const counters = epochCounters()
  // On CUDA, C is convtorch at its best: steps captured in a CUDA graph.
  const device = (args.get('device') ?? 'cpu') as Device
  const result = await train({ ...netOptions, epochs: Number(args.get('epochs') ?? 3), device, evaluateEachEpoch: false, augment: augment ?? undefined, callbacks: counters, cudaGraph: device.startsWith('cuda') })
  const epochs = result.history.epochs.map((e) => ({ train: e.seconds.train, seed: e.seconds.train + e.seconds.trainEval, trainAccuracy: e.trainAccuracy }))
  const report = {
    contender: augment ? `C+aug: convtorch, ${args.get('augment')}` : 'C: convtorch',
    device: result.model.device,
    threads: threads > 0 ? threads : null,
    torch: torchVersion(),
    epochs,
    testAccuracy: result.test.accuracy,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    counters: counters.epochs,
  }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
