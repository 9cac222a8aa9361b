// TensorFlow's Event and Summary messages (tensorflow/core/util/event.proto, summary.proto),
// only the fields convtorch writes, with their field numbers; encoded by protobufjs.
import * as protobuf from 'protobufjs'

const root = protobuf.Root.fromJSON({
  nested: {
    tensorboard: {
      nested: {
        Event: { fields: { wallTime: { type: 'double', id: 1 }, step: { type: 'int64', id: 2 }, fileVersion: { type: 'string', id: 3 }, summary: { type: 'Summary', id: 5 } } },
        Summary: {
          fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
          nested: {
            Image: { fields: { height: { type: 'int32', id: 1 }, width: { type: 'int32', id: 2 }, colorspace: { type: 'int32', id: 3 }, encodedImageString: { type: 'bytes', id: 4 } } },
            Value: { fields: { tag: { type: 'string', id: 1 }, simpleValue: { type: 'float', id: 2 }, image: { type: 'Image', id: 4 } } },
          },
        },
      },
    },
  },
})
const Event = root.lookupType('tensorboard.Event')

export interface SummaryImage {
  height: number
  width: number
  /** 3: RGB, 4: RGBA. */
  colorspace: number
  png: Buffer
}

export type SummaryValue = { tag: string; scalar: number } | { tag: string; image: SummaryImage }

export function encodeEvent(event: { wallTime: number; step: number; fileVersion?: string; values?: SummaryValue[] }): Uint8Array {
  const message: Record<string, unknown> = { wallTime: event.wallTime, step: event.step }
  if (event.fileVersion !== undefined) message.fileVersion = event.fileVersion
  if (event.values) {
    message.summary = {
      value: event.values.map((v) =>
        'scalar' in v ? { tag: v.tag, simpleValue: v.scalar } : { tag: v.tag, image: { height: v.image.height, width: v.image.width, colorspace: v.image.colorspace, encodedImageString: v.image.png } },
      ),
    }
  }
  return Event.encode(Event.fromObject(message)).finish()
}
