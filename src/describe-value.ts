// How an error message shows a value the user passed: in at most ~80 characters, whatever its
// size. A message that embedded a whole dataset was 110 MB and took seconds to build; a user
// needs the value's type, its length and its first few items to recognise it.

const MAX_LENGTH = 80
const FIRST_ITEMS = 4

function cut(text: string, max = MAX_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function typeName(value: object): string {
  const name = Object.getPrototypeOf(value)?.constructor?.name
  return typeof name === 'string' && name !== '' ? name : 'Object'
}

function item(value: unknown, depth: number): string {
  if (typeof value === 'string') return `'${cut(value, 24)}'`
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`
  if (typeof value !== 'object' || value === null) return String(value)
  if (depth >= 2) return Array.isArray(value) ? `[Array(${value.length})]` : `[${typeName(value)}]`
  return compound(value, depth + 1)
}

function listed(items: string[], total: number): string {
  const more = total > items.length ? `, … ${total - items.length} more` : ''
  return `${items.join(', ')}${more}`
}

function compound(value: object, depth: number): string {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const array = value as unknown as ArrayLike<number | bigint>
    const first = Array.from({ length: Math.min(array.length, FIRST_ITEMS) }, (_, i) => item(array[i], depth))
    return `${typeName(value)}(${array.length}) [${listed(first, array.length)}]`
  }
  if (Array.isArray(value)) {
    const first = value.slice(0, FIRST_ITEMS).map((v) => item(v, depth))
    return value.length <= FIRST_ITEMS ? `[${first.join(', ')}]` : `Array(${value.length}) [${listed(first, value.length)}]`
  }
  if (value instanceof Error) return `${value.name}: ${cut(value.message, 40)}`
  const keys = Object.keys(value)
  const first = keys.slice(0, FIRST_ITEMS).map((key) => `${key}: ${item((value as Record<string, unknown>)[key], depth)}`)
  const name = typeName(value)
  return `${name === 'Object' ? '' : `${name} `}{ ${listed(first, keys.length)} }`.replace('{  }', '{}')
}

/** The value as a message shows it: `'text'`, `3`, `Float32Array(784) [0, 0, 0, 0, … 780 more]`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return value.length <= MAX_LENGTH - 2 ? `'${value}'` : `'${value.slice(0, MAX_LENGTH - 24)}…' (${value.length} characters)`
  if (typeof value !== 'object' || value === null) return cut(item(value, 0))
  try {
    return cut(compound(value, 0))
  } catch {
    // A getter that throws, a revoked proxy: the type is still worth saying.
    return `[${typeof value}]`
  }
}
