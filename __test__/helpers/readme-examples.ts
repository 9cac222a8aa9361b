// The examples of README.md, read from the README itself so that the test of them cannot drift
// from what a user reads: every ```ts block (a whole program each) and every command line of
// the ```sh blocks that runs convtorch (`convtorch ...` or `npx convtorch ...`).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface ReadmeExamples {
  typescript: string[]
  commands: string[]
}

export function readmeExamples(markdown: string): ReadmeExamples {
  const blocks = [...markdown.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map(([, lang, body]) => ({ lang, body }))
  const commands = blocks
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.body.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => /^(npx )?convtorch /.test(line))
  return { typescript: blocks.filter((b) => b.lang === 'ts').map((b) => b.body), commands }
}

export function readme(root: string): ReadmeExamples {
  return readmeExamples(readFileSync(join(root, 'README.md'), 'utf8'))
}

/** Few epochs, so that the README's runs take seconds: 1 and 2 stay, larger counts are cut tenfold (10 -> 1, 15 -> 2). */
export function fewer(epochs: number): number {
  return epochs <= 2 ? epochs : Math.ceil(epochs / 10)
}

/** A TypeScript example with `epochs: N` cut by fewer(). */
export function withFewerEpochs(source: string): string {
  return source.replace(/\bepochs: (\d+)/g, (_, n: string) => `epochs: ${fewer(Number(n))}`)
}

/** A command with `--epochs N` cut by fewer(); a fresh `train` without --epochs gets `--epochs 1`. */
export function commandWithFewerEpochs(command: string): string {
  const cut = command.replace(/--epochs (\d+)/g, (_, n: string) => `--epochs ${fewer(Number(n))}`)
  return / train /.test(`${cut} `) && !/--epochs|--resume/.test(cut) ? `${cut} --epochs 1` : cut
}
