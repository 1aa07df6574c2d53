// A gateway of a test file's own: own project credentials, data directory, port and log directory, stopped after
// the file. When a test failed (the test calls markFailed) the directories are kept and named on stderr.
import { after } from 'node:test'
import { join } from 'node:path'
import { bootstrapEnv, makeTempDir, randomSecret, removeDir, start } from './gateway.mjs'
import { disconnectAll } from './sdk.mjs'

export function ownGateway (name) {
  const own = {
    creds: { projectId: `${name}-project`, apiKey: `${name}-key`, apiSecret: randomSecret() },
    dataDir: makeTempDir(`orleansvault-${name}-`),
    logDir: makeTempDir(`orleansvault-${name}-log-`),
    gateway: undefined,
    failed: false,
    /** Starts (or, after a stop, starts again over the same data) with extra environment. */
    async start (env = {}, logName = 'gateway.log') {
      own.gateway = await start(own.dataDir, { ...bootstrapEnv(own.creds), ...env }, { logFile: join(own.logDir, logName) })
      return own.gateway
    },
    markFailed () { own.failed = true }
  }
  after(async () => {
    await disconnectAll()
    await own.gateway?.stop()
    if (own.failed) {
      console.error(`${name} test: data directory kept at ${own.dataDir}, gateway logs in ${own.logDir}`)
    } else {
      removeDir(own.dataDir)
      removeDir(own.logDir)
    }
  })
  return own
}
