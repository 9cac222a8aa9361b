// Copies the runtime dependencies of the package at `root`, as npm installed them, into a
// node_modules folder: `dependencies` recursively, plus each package's `optionalDependencies`
// that npm installed for this platform (sharp's prebuilt libvips comes that way).
import { cpSync, existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

// Node's own lookup, walking up from `from`; not require.resolve('x/package.json'), which
// fails for packages whose `exports` do not list their package.json (sharp).
function installedDir(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dirname(dir) === dir) return null
  }
}

/**
 * `only` names, per package, the files to keep (relative paths) where a package ships far more
 * than convtorch uses: onnxruntime-web's dist holds 136 MB of builds, the page loads three files.
 */
export function copyDependencies(root, destination, only = {}) {
  const copied = new Set()
  const copy = (name, from, optional) => {
    if (copied.has(name)) return
    const dir = installedDir(name, from)
    if (!dir) {
      if (optional) return
      throw new Error(`${name} is not installed beside ${from}; run npm install first`)
    }
    copied.add(name)
    if (only[name]) {
      for (const file of only[name]) cpSync(join(dir, file), join(destination, name, file))
    } else {
      cpSync(dir, join(destination, name), { recursive: true })
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    for (const dependency of Object.keys(manifest.dependencies ?? {})) copy(dependency, dir, false)
    for (const dependency of Object.keys(manifest.optionalDependencies ?? {})) copy(dependency, dir, true)
  }
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  for (const dependency of Object.keys(manifest.dependencies ?? {})) copy(dependency, root, false)
  return [...copied]
}
