// torchvision for the PyTorch contenders that use it (the seed script, ImageFolder), installed
// into the benchmark's torch environment on first use.
import { spawnSync } from 'node:child_process'

/** null when torchvision, numpy and pillow import; else why they could not be installed. */
export function ensureTorchvision(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import torchvision, numpy, PIL'], { encoding: 'utf8' })
  if (probe.status === 0) return null
  process.stderr.write('bench: installing torchvision==0.26.0, numpy and pillow (the PyTorch contenders import them)\n')
  const install = spawnSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', 'torchvision==0.26.0', 'numpy', 'pillow'], { stdio: ['ignore', 'inherit', 'inherit'] })
  return install.status === 0 ? null : 'torchvision could not be installed'
}
