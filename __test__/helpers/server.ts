// A local HTTP server for download tests: serves in-memory files, honours Range requests and
// can cut a response short once, to simulate an interrupted transfer.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TestServer {
  url: string
  requests: { path: string; range: string | undefined }[]
  /** The next response for this path stops after this many bytes. */
  cutNext(path: string, bytes: number): void
  close(): Promise<void>
}

export async function serveFiles(files: Record<string, Uint8Array>): Promise<TestServer> {
  const requests: TestServer['requests'] = []
  const cuts = new Map<string, number>()
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/'
    const range = request.headers.range
    requests.push({ path, range })
    const body = files[path]
    if (!body) {
      response.writeHead(404).end()
      return
    }
    let start = 0
    if (range) {
      start = Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0)
      if (start >= body.length) {
        response.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end()
        return
      }
      response.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` })
    } else {
      response.writeHead(200, { 'Content-Length': body.length })
    }
    const cut = cuts.get(path)
    if (cut !== undefined) {
      cuts.delete(path)
      response.write(body.subarray(start, start + cut), () => response.destroy())
      return
    }
    response.end(body.subarray(start))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutNext: (path, bytes) => cuts.set(path, bytes),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** A server whose every response is left to `handle` (which may never answer): for timeouts. */
export async function stallingServer(handle: (response: import('node:http').ServerResponse) => void): Promise<{ url: string; close(): void }> {
  const server = createServer((_request, response) => handle(response))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}
