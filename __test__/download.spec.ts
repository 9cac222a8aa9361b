import test from 'ava'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { DatasetError, download, encodeIdx, MNIST_FILES, resolveData } from '../src/index'
import { serveFiles, stallingServer } from './helpers/server'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const content = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251)

async function tempDir() {
  return mkdtemp(join(tmpdir(), 'convtorch-download-'))
}

test('download() fetches, verifies and renames into place; a second call uses the cache', async (t) => {
  const server = await serveFiles({ '/file': content })
  t.teardown(() => server.close())
  const dest = join(await tempDir(), 'sub', 'file')
  const first = await download({ url: `${server.url}/file`, dest, sha256: sha256(content) })
  t.is(first.outcome, 'downloaded')
  t.deepEqual(new Uint8Array(await readFile(dest)), content)
  const second = await download({ url: `${server.url}/file`, dest, sha256: sha256(content) })
  t.is(second.outcome, 'cache')
  t.is(server.requests.length, 1)
})

test('a checksum mismatch is refused and leaves nothing behind', async (t) => {
  const server = await serveFiles({ '/file': content })
  t.teardown(() => server.close())
  const dir = await tempDir()
  const wrong = '0'.repeat(64)
  await t.throwsAsync(download({ url: `${server.url}/file`, dest: join(dir, 'file'), sha256: wrong }), {
    instanceOf: DatasetError,
    message: new RegExp(`sha256 mismatch, expected ${wrong}, got ${sha256(content)}`),
  })
  t.deepEqual(await readdir(dir), [])
})

test('an interrupted download keeps its partial file and resumes with a Range request', async (t) => {
  const server = await serveFiles({ '/file': content })
  t.teardown(() => server.close())
  const dest = join(await tempDir(), 'file')
  server.cutNext('/file', 50_000)
  await t.throwsAsync(download({ url: `${server.url}/file`, dest, sha256: sha256(content) }), { instanceOf: DatasetError, message: /interrupted/ })
  t.false(existsSync(dest), 'nothing is published before verification')
  t.true(existsSync(`${dest}.partial`))
  const resumed = await download({ url: `${server.url}/file`, dest, sha256: sha256(content) })
  t.is(resumed.outcome, 'resumed')
  t.regex(server.requests[1].range ?? '', /^bytes=\d+-$/)
  t.deepEqual(new Uint8Array(await readFile(dest)), content)
  t.false(existsSync(`${dest}.partial`))
})

test('an HTTP error names the URL and the status', async (t) => {
  const server = await serveFiles({})
  t.teardown(() => server.close())
  await t.throwsAsync(download({ url: `${server.url}/missing`, dest: join(await tempDir(), 'f'), sha256: 'x' }), { instanceOf: DatasetError, message: /GET http:\/\/127\.0\.0\.1:\d+\/missing: HTTP 404/ })
})

test('resolveData() loads MNIST-named IDX files from a mirror, gzipped, verified by checksum', async (t) => {
  const imagesA = Uint8Array.from({ length: 4 * 28 * 28 }, (_, i) => i % 256)
  const labelsA = Uint8Array.of(1, 2, 3, 4)
  const imagesB = imagesA.subarray(0, 2 * 28 * 28)
  const labelsB = Uint8Array.of(5, 6)
  const raw = {
    [MNIST_FILES.trainImages]: encodeIdx([4, 28, 28], imagesA),
    [MNIST_FILES.trainLabels]: encodeIdx([4], labelsA),
    [MNIST_FILES.testImages]: encodeIdx([2, 28, 28], imagesB),
    [MNIST_FILES.testLabels]: encodeIdx([2], labelsB),
  }
  const served: Record<string, Uint8Array> = {}
  for (const [name, bytes] of Object.entries(raw)) served[`/mnist/${name}.gz`] = gzipSync(bytes)
  const server = await serveFiles(served)
  t.teardown(() => server.close())
  const checksums = Object.fromEntries(Object.entries(raw).map(([name, bytes]) => [name, sha256(bytes)]))
  const cacheDir = await tempDir()
  const data = await resolveData(`${server.url}/mnist/`, { cacheDir, checksums })
  t.is(data.train.count, 4)
  t.is(data.test.count, 2)
  t.deepEqual(Array.from(data.test.labels), [5, 6])
  // Real MNIST checksums refuse these files.
  await t.throwsAsync(resolveData(`${server.url}/mnist`, { cacheDir: await tempDir() }), { instanceOf: DatasetError, message: /sha256 mismatch/ })
})

test('a mirror that never answers fails after timeoutMs instead of waiting minutes', async (t) => {
  const server = await stallingServer(() => undefined)
  t.teardown(() => server.close())
  const dest = join(await tempDir(), 'file')
  await t.throwsAsync(download({ url: `${server.url}/file`, dest, sha256: sha256(content), timeoutMs: 300 }), {
    instanceOf: DatasetError,
    message: /^GET http:\/\/127\.0\.0\.1:\d+\/file: the server sent nothing for 0\.3 s; gave up \(timeoutMs\)$/,
  })
})

test('a body that stalls half-way fails after timeoutMs and keeps its partial bytes for a resume', async (t) => {
  const server = await stallingServer((response) => {
    response.writeHead(200, { 'Content-Length': content.length })
    response.write(content.subarray(0, 1000))
  })
  t.teardown(() => server.close())
  const dest = join(await tempDir(), 'file')
  await t.throwsAsync(download({ url: `${server.url}/file`, dest, sha256: sha256(content), timeoutMs: 300 }), { instanceOf: DatasetError, message: /the server sent nothing for 0\.3 s/ })
  t.is((await readFile(`${dest}.partial`)).length, 1000)
})
