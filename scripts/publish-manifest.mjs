// The package.json that goes into the convtorch tarball: the clone's, less what only a clone
// uses. `prepare` builds libtorch and the addon in a clone (npm install runs it there); in a
// published package it would make npm warn, and the addon comes prebuilt in its own package.
// The test runner's settings and the dev dependencies are the clone's too.
export function publishManifest(manifest) {
  const { scripts: _scripts, devDependencies: _devDependencies, ava: _ava, ...published } = manifest
  // dist/binding.d.ts: see stagePackage() in pack.mjs.
  return { ...published, files: [...manifest.files, 'dist/binding.d.ts'] }
}
