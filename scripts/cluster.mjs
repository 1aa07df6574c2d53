#!/usr/bin/env node
// Runs the cluster topology of docker-compose.yml from `dotnet` processes on this machine: PostgreSQL (started from
// the machine's binaries unless VAULT_TEST_POSTGRES names one), the schema migration, N silos, M gateways and the
// reverse proxy in front of them as one URL. The cluster tests start the same topology (tests/compat/lib/cluster.mjs).
// `--nodes K` adds K nodes that are each a gateway hosting a silo (Vault:Cluster:HostSilo); `--silos 0 --gateways 0
// --nodes 2` is a cluster of two such nodes.
//
//   dotnet build OrleansVault.sln && node scripts/cluster.mjs [--silos 2] [--gateways 2] [--nodes 0] [--dir ./cluster-data]
//
// Credentials (API key secret, Pusher secret, master key) go to <dir>/credentials.json, readable by this user only;
// logs to <dir>/*.log. Ctrl-C stops everything. Loopback only.
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { cluster } from '../tests/compat/lib/cluster.mjs'

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback
}
const silos = Number(option('silos', '2'))
const gatewayCount = Number(option('gateways', '2'))
const nodes = Number(option('nodes', '0'))
if (![silos, gatewayCount, nodes].every((n) => Number.isInteger(n) && n >= 0) || silos + nodes < 1 || gatewayCount + nodes < 1) {
  console.error('cluster: --silos, --gateways and --nodes are counts; the cluster needs a silo and a gateway (a node is both)')
  process.exit(2)
}
const dir = resolve(option('dir', './cluster-data'))
mkdirSync(dir, { recursive: true })

const credentials = {
  projectId: 'myapp',
  apiKey: 'web',
  apiSecret: randomBytes(24).toString('base64url'),
  pusher: { appId: '1', key: 'app-key', secret: randomBytes(24).toString('hex') }
}
writeFileSync(resolve(dir, 'credentials.json'), JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 })

const cleanups = []
const c = await cluster('local', {
  workDir: dir,
  onCleanup: (fn) => cleanups.unshift(fn),
  env: {
    Vault__Bootstrap__ProjectId: credentials.projectId,
    Vault__Bootstrap__ApiKey: credentials.apiKey,
    Vault__Bootstrap__ApiSecret: credentials.apiSecret,
    Vault__Bootstrap__Pusher__AppId: credentials.pusher.appId,
    Vault__Bootstrap__Pusher__Key: credentials.pusher.key,
    Vault__Bootstrap__Pusher__Secret: credentials.pusher.secret
  }
})
let stopping = false
async function stop () {
  if (stopping) return
  stopping = true
  console.log('stopping the cluster…')
  for (const fn of cleanups) await fn()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

console.log(`schema: ${c.migrateOutput.trim()}`)
for (let i = 0; i < silos; i++) console.log(`silo ${i} ready (log ${(await c.startSilo()).logFile})`)
for (let i = 0; i < nodes; i++) console.log(`node ${i} (gateway and silo) ready at ${(await c.startNode()).baseUrl}`)
for (let i = 0; i < gatewayCount; i++) console.log(`gateway ${i} ready at ${(await c.startGateway()).baseUrl}`)
const proxy = await c.startProxy()
console.log(`\ncluster ready at ${proxy.baseUrl}  (credentials in ${resolve(dir, 'credentials.json')}; Ctrl-C stops it)`)
await new Promise(() => {})
