// `convtorch serve`: a local HTTP server for the draw-a-digit page. Everything the page loads
// comes from here: the page, its script, convtorch's preprocessing module, the model exported
// to ONNX at start-up, and onnxruntime-web's files from node_modules.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename, resolve } from 'node:path'
import { invalidArgument } from '../errors'
import { encodeOnnx } from '../export/onnx-model'
import { MNIST_SIZE } from '../image/mnist-preprocess'
import { Model } from '../model/model'
import { browserModules } from './browser-modules'
import { readOrtFiles, ortVersion } from './ort-files'
import { pageHtml } from './page'
import { PAGE_SCRIPT } from './page-script'

export interface ServeOptions {
  /** A run or checkpoint directory. */
  model: string
  /** Default 8080; 0 picks a free port. */
  port?: number
  /** Default 127.0.0.1 (loopback only); '0.0.0.0' opens it to the network, e.g. for a phone. */
  host?: string
}

export interface ModelServer {
  url: string
  /** The exported model's size in bytes. */
  onnxBytes: number
  close(): Promise<void>
}

interface Route {
  type: string
  body: Buffer | string
}

const CONTEXT = 'serveModel()'

// 'self' only: the page can reach no other origin. wasm-unsafe-eval lets it compile the
// WebAssembly runtime; inline styles are the page's own stylesheet.
const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'"

async function buildRoutes(modelDir: string): Promise<{ routes: Map<string, Route>; onnxBytes: number }> {
  const model = await Model.load(modelDir, { device: 'cpu' })
  let onnx: Uint8Array
  let info: Record<string, unknown>
  try {
    const [c, h, w] = model.spec.input
    if (c !== 1 || h !== MNIST_SIZE || w !== MNIST_SIZE) {
      throw invalidArgument(CONTEXT, 'model', `a ${c}x${h}x${w} model`, 'a 1x28x28 model (the page draws digits and prepares them as MNIST)')
    }
    onnx = encodeOnnx({ spec: model.spec, parameter: (name) => model.parameter(name), normalise: model.normalise, classNames: model.classNames })
    const classNames = model.classNames ?? Array.from({ length: model.classes }, (_, i) => String(i))
    const parameters = model.layers.reduce((sum, layer) => sum + layer.parameters, 0)
    const description = `${basename(resolve(modelDir))}: ${model.spec.layers.length} layers, ${parameters.toLocaleString('en')} parameters, ${onnx.length.toLocaleString('en')} bytes of ONNX, run in the page by ONNX Runtime Web ${ortVersion()} (wasm)`
    info = { classNames, input: model.spec.input, description }
  } finally {
    model.dispose()
  }
  const table = new Map<string, Route>([
    ['/', { type: 'text/html; charset=utf-8', body: pageHtml(basename(resolve(modelDir))) }],
    ['/app.js', { type: 'text/javascript; charset=utf-8', body: PAGE_SCRIPT }],
    ['/modules.js', { type: 'text/javascript; charset=utf-8', body: browserModules(['image/mnist-preprocess', 'image/srgb-grey']) }],
    ['/model.onnx', { type: 'application/octet-stream', body: Buffer.from(onnx) }],
    ['/model.json', { type: 'application/json', body: JSON.stringify(info) }],
  ])
  for (const [path, file] of readOrtFiles()) table.set(path, file)
  return { routes: table, onnxBytes: onnx.length }
}

function respond(table: Map<string, Route>, request: IncomingMessage, response: ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD' }).end()
    return
  }
  const route = table.get(path)
  if (!route) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`)
    return
  }
  const body = typeof route.body === 'string' ? Buffer.from(route.body) : route.body
  response.writeHead(200, { 'Content-Type': route.type, 'Content-Length': body.length, 'Content-Security-Policy': POLICY, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' })
  response.end(request.method === 'HEAD' ? undefined : body)
}

function checkPort(port: unknown): number {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) throw invalidArgument(CONTEXT, 'port', port, 'an integer in [0, 65535]')
  return port as number
}

/** Exports the model, then listens; resolves once the server accepts connections. */
export async function serveModel(options: ServeOptions): Promise<ModelServer> {
  if (typeof options?.model !== 'string' || options.model === '') throw invalidArgument(CONTEXT, 'model', options?.model, 'a run or checkpoint directory')
  const port = checkPort(options.port ?? 8080)
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host === '') throw invalidArgument(CONTEXT, 'host', host, 'an address such as 127.0.0.1')
  const { routes: table, onnxBytes } = await buildRoutes(options.model)
  const server = createServer((request, response) => respond(table, request, response))
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(invalidArgument(CONTEXT, 'port', port, `a free port (${host}:${port} is in use)`))
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(invalidArgument(CONTEXT, 'host', host, 'an address of this machine'))
      else reject(error)
    })
    server.listen(port, host, () => resolveListen())
  })
  const { port: bound } = server.address() as AddressInfo
  const shown = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${shown}:${bound}/`,
    onnxBytes,
    close: () =>
      new Promise((resolveClose) => {
        server.close(() => resolveClose())
        // A browser keeps its connections open: they would hold close() for minutes.
        server.closeAllConnections()
      }),
  }
}
