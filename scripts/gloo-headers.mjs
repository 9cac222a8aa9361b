#!/usr/bin/env node
// Data-parallel training compiles torch's ProcessGroupGloo.hpp, which includes gloo's headers;
// the torch wheel ships none and Debian's libgloo-dev does (declarations only: the symbols come
// from libtorch_cpu). A fresh clone installs the package itself where it can (root with
// apt-get), as .ci/run does; elsewhere the build stops with a message naming the package.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const include = process.env.CONVTORCH_GLOO_INCLUDE ?? '/usr/include'
if (existsSync(join(include, 'gloo', 'algorithm.h'))) process.exit(0)

const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0
if (!canInstall) {
  process.stderr.write('gloo-headers: gloo\'s headers are missing; install them with `sudo apt-get install libgloo-dev` (or set CONVTORCH_GLOO_INCLUDE)\n')
  process.exit(0)
}
process.stderr.write('gloo-headers: installing Debian\'s libgloo-dev (headers for data-parallel training)\n')
const apt = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status
if (apt(['install', '-y', '-qq', 'libgloo-dev']) !== 0 && (apt(['update', '-qq']) !== 0 || apt(['install', '-y', '-qq', 'libgloo-dev']) !== 0)) {
  process.stderr.write('gloo-headers: apt-get could not install libgloo-dev\n')
}
