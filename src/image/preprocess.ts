// How an image file becomes a model's input: the MNIST convention, or a plain resize.
import { invalidArgument } from '../errors'
import { decodeImage, readImage } from './decode'
import { MNIST_SIZE, preprocessMnist, type MnistInput } from './mnist-preprocess'

/** Decodes `path` as grey and applies `preprocessMnist`. */
export async function mnistInputFromFile(path: string): Promise<MnistInput> {
  return preprocessMnist(await readImage(path, { channels: 1 }))
}

/** 'mnist': see preprocessMnist (1x28x28 models only); 'resize': stretched to the input size, as is. */
export type Preprocess = 'mnist' | 'resize'

/** Refuses a preprocessing the model's input cannot take; the default is 'mnist' for 1x28x28 inputs. */
export function checkPreprocess(context: string, preprocess: unknown, input: readonly [number, number, number]): Preprocess {
  const isMnist = input[0] === 1 && input[1] === MNIST_SIZE && input[2] === MNIST_SIZE
  const chosen = preprocess ?? (isMnist ? 'mnist' : 'resize')
  if (chosen !== 'mnist' && chosen !== 'resize') throw invalidArgument(context, 'preprocess', preprocess, "'mnist' or 'resize'")
  if (chosen === 'mnist' && !isMnist) throw invalidArgument(context, 'preprocess', chosen, `'resize' for a ${input.join('x')} model ('mnist' needs 1x28x28)`)
  return chosen
}

/** The [c, h, w] floats a model with `input` takes, from one image file. */
export async function modelInputFromFile(path: string, preprocess: Preprocess, input: readonly [number, number, number]): Promise<Float32Array> {
  if (preprocess === 'mnist') return (await mnistInputFromFile(path)).pixels
  const [channels, height, width] = input
  if (channels !== 1 && channels !== 3) throw invalidArgument('modelInputFromFile()', 'input', input, 'a model input of 1 or 3 channels')
  return decodeImage(path, { channels, height, width })
}
