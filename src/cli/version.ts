// The package's version, read from its package.json (three levels above dist/src/cli/).
export const VERSION: string = require('../../../package.json').version
