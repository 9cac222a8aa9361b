// The one module that owns a TensorBoard event file: TFRecord framing (length, masked CRC-32C
// of the length, data, masked CRC-32C of the data), one file per writer, records appended
// whole so a crash leaves at most one torn record at the end (the reader stops there).
import { crc32c } from '@node-rs/crc32'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { encodeEvent, type SummaryValue } from './event-proto'

/** TFRecord's masked CRC: rotate right by 15, add a constant (crc32c.h's Mask). */
export function maskedCrc(data: Uint8Array): number {
  const crc = crc32c(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0
}

export function frameRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12)
  header.writeBigUInt64LE(BigInt(data.length), 0)
  header.writeUInt32LE(maskedCrc(header.subarray(0, 8)), 8)
  const footer = Buffer.alloc(4)
  footer.writeUInt32LE(maskedCrc(data), 0)
  return Buffer.concat([header, data, footer])
}

export class EventFile {
  readonly path: string
  private pending: Buffer[] = []

  /** Starts a new file in `dir` (TensorBoard reads every events file of a directory, in name order). */
  constructor(dir: string, now = Date.now()) {
    mkdirSync(dir, { recursive: true })
    this.path = join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}.convtorch`)
    writeFileSync(this.path, frameRecord(encodeEvent({ wallTime: now / 1000, step: 0, fileVersion: 'brain.Event:2' })))
  }

  /** Queues one event of summary values at `step`; flush() writes what is queued. */
  add(step: number, values: SummaryValue[], wallTime = Date.now() / 1000): void {
    this.pending.push(frameRecord(encodeEvent({ wallTime, step, values })))
  }

  flush(): void {
    if (this.pending.length === 0) return
    appendFileSync(this.path, Buffer.concat(this.pending))
    this.pending = []
  }
}
