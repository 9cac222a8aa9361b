// Copies the runtime dependencies of the package at `root`, as npm installed them, into a
// node_modules folder: `dependencies` recursively, plus each package's `optionalDependencies`
// that npm installed for this platform (sharp's prebuilt libvips comes that way).
import { cpSync, existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

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
 * `names`: the packages to start from (default: the `dependencies` of root's package.json).
 */
export function copyDependencies(root, destination, only = {}, names = undefined) {
  // Each installed directory keeps its place in npm's tree (a nested copy stays nested), so every
  // package resolves the same version it does here; deduplicated by directory, not by name.
  const modules = join(root, 'node_modules')
  const copied = new Set()
  const copy = (name, from, optional) => {
    const dir = installedDir(name, from)
    if (!dir) {
      if (optional) return
      throw new Error(`${name} is not installed beside ${from}; run npm install first`)
    }
    if (copied.has(dir)) return
    copied.add(dir)
    const target = join(destination, relative(modules, dir))
    if (only[name]) {
      for (const file of only[name]) cpSync(join(dir, file), join(target, file))
    } else {
      const nested = join(dir, 'node_modules')
      cpSync(dir, target, { recursive: true, filter: (source) => source !== nested && !source.startsWith(`${nested}/`) })
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    for (const dependency of Object.keys(manifest.dependencies ?? {})) copy(dependency, dir, false)
    for (const dependency of Object.keys(manifest.optionalDependencies ?? {})) copy(dependency, dir, true)
  }
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  for (const dependency of names ?? Object.keys(manifest.dependencies ?? {})) copy(dependency, root, false)
  return [...copied].map((dir) => relative(modules, dir))
}
