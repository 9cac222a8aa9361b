import test from 'ava'
import { InvalidArgumentError, runtimeInfo, setNumThreads, torchVersion } from '../src/index'

test('torchVersion() reports the libtorch 2.11 the addon runs on', (t) => {
  t.regex(torchVersion(), /^2\.11\.\d/)
  t.is(runtimeInfo().torchVersion, torchVersion())
})

test('setNumThreads() changes the threads that libtorch computes with, and refuses 0', (t) => {
  const before = runtimeInfo().threads
  t.teardown(() => setNumThreads(before))
  setNumThreads(1)
  t.is(runtimeInfo().threads, 1)
  t.throws(() => setNumThreads(0), { instanceOf: InvalidArgumentError, message: /threads must be a positive integer, got 0/ })
})
