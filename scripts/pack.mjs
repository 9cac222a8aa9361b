#!/usr/bin/env node
// Packs both npm tarballs: convtorch and convtorch-linux-x64-gnu (the portable addon).
// Usage: node scripts/pack.mjs [--out DIR]
import { mkdirSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { buildPortableAddon, platformDir, root, run } from './build-portable.mjs'

const outIndex = process.argv.indexOf('--out')
const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : join(root, 'dist', 'packages'))
mkdirSync(out, { recursive: true })
buildPortableAddon()
// --ignore-scripts: `prepare` would rebuild the clone's own (non-portable) addon.
run('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { cwd: platformDir, stdio: ['ignore', 'ignore', 'inherit'] })
run('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { stdio: ['ignore', 'ignore', 'inherit'] })
for (const file of readdirSync(out).filter((f) => f.endsWith('.tgz'))) process.stdout.write(`${join(out, file)}\n`)
