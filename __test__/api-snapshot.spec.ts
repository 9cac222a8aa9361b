import test from 'ava'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(__dirname, '..', '..')

// The generated binding is the native API; a change to it shows up here, in review.
// After an intended change: cp binding.d.ts __test__/snapshots/binding.d.ts
test('the generated binding.d.ts matches its reviewed snapshot', (t) => {
  const generated = readFileSync(join(root, 'binding.d.ts'), 'utf8')
  const snapshot = readFileSync(join(root, '__test__', 'snapshots', 'binding.d.ts'), 'utf8')
  t.is(generated, snapshot)
})
