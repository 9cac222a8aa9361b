// The page runs convtorch's own compiled modules (the MNIST preprocessing of predict), not a
// copy: their CommonJS output is wrapped into one script that defines `convtorchModules.require`.
// Only modules whose imports are all relative (convtorch's, no Node built-ins, no packages) can
// go; anything else is refused here, when the server starts, not in the browser.
import { readFileSync } from 'node:fs'
import { dirname, join, posix } from 'node:path'
import { InternalError } from '../errors'

/** dist/src: the compiled modules, addressed by ids such as "image/mnist-preprocess". */
const SOURCE_ROOT = dirname(__dirname)

interface BrowserModule {
  id: string
  source: string
  /** Each require() string in the source, and the id it names. */
  requires: Record<string, string>
}

function readModule(id: string): BrowserModule {
  const file = join(SOURCE_ROOT, `${id}.js`)
  let source: string
  try {
    source = readFileSync(file, 'utf8')
  } catch (error) {
    throw new InternalError(`browser module ${id}: ${file} cannot be read (is convtorch compiled?)`, { cause: error })
  }
  const requires: Record<string, string> = {}
  for (const [, request] of source.matchAll(/\brequire\("([^"]+)"\)/g)) {
    if (!request.startsWith('.')) throw new InternalError(`browser module ${id} requires '${request}', which a browser cannot load`)
    requires[request] = posix.normalize(posix.join(posix.dirname(id), request))
  }
  // The page asks for no source maps: they are not served.
  return { id, source: source.replace(/^\/\/# sourceMappingURL=.*$/m, ''), requires }
}

/** Every module reachable from `entries`, each once, dependencies first. */
function collect(entries: readonly string[]): BrowserModule[] {
  const seen = new Map<string, BrowserModule>()
  const visit = (id: string) => {
    if (seen.has(id)) return
    const module = readModule(id)
    seen.set(id, module)
    Object.values(module.requires).forEach(visit)
  }
  entries.forEach(visit)
  return [...seen.values()]
}

/** One classic script defining `window.convtorchModules.require(id)` for `entries` and their imports. */
export function browserModules(entries: readonly string[]): string {
  const factories = collect(entries).map(
    (m) => `${JSON.stringify(m.id)}: { requires: ${JSON.stringify(m.requires)}, factory: function (exports, require, module) {\n${m.source}\n} }`,
  )
  return `// convtorch's compiled modules, wrapped for the browser by convtorch serve.
(function () {
  'use strict';
  var modules = {
${factories.join(',\n')}
  };
  var cache = {};
  function load(id) {
    if (cache[id]) return cache[id].exports;
    var entry = modules[id];
    if (!entry) throw new Error('convtorchModules: no module ' + id);
    var module = { exports: {} };
    cache[id] = module;
    entry.factory.call(module.exports, module.exports, function (request) { return load(entry.requires[request]); }, module);
    return module.exports;
  }
  window.convtorchModules = { require: load };
})();
`
}
