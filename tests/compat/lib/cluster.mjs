// A whole cluster from `dotnet` processes on loopback: PostgreSQL (lib/postgres.mjs), the schema migration, N
// standalone silos and M gateways as Orleans clients, with failure detection and leases tuned short so kill tests
// finish in seconds. Stopped (and its directories removed unless a test failed) after the test file.
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { buildConfiguration, freePorts, launch, makeTempDir, REPO_ROOT, removeDir, start, waitForLog } from './gateway.mjs'
import { postgres } from './postgres.mjs'

const siloCommand = (extra = []) => ({ command: 'dotnet', args: ['run', '--no-build', '--no-launch-profile', ...buildConfiguration(), '--project', 'src/Silo', ...extra], cwd: REPO_ROOT })

/** Failure detection and leases of a test cluster: a dead silo is declared dead in a few seconds. */
export const fastFailureDetection = {
  Vault__Cluster__Membership__ProbeTimeout: '00:00:01',
  Vault__Cluster__Membership__NumMissedProbesLimit: '2',
  Vault__Cluster__Membership__NumVotesForDeathDeclaration: '1',
  Vault__Cluster__Membership__TableRefreshTimeout: '00:00:02',
  Vault__Cluster__Membership__IAmAliveTablePublishTimeout: '00:00:05',
  Vault__Cluster__Membership__DeathVoteExpirationTimeout: '00:00:10',
  Vault__Cluster__ResponseTimeout: '00:00:05',
  Vault__Channels__FeedLease: '00:00:04',
  Vault__Objects__FeedLease: '00:00:04',
  Vault__WebSockets__FeedRenewInterval: '00:00:01',
  Vault__Cluster__RoutingRefresh: '00:00:01'
}

/**
 * The topology scripts/cluster.mjs starts for people and the cluster tests start for themselves. `onCleanup`
 * registers the teardown (node:test's `after` in tests); `workDir` keeps logs and data in a known place; `timings`
 * replaces the short failure detection and leases (`{}`: the production defaults, for benchmarks).
 */
export async function cluster (name, { env = {}, onCleanup, workDir: givenDir, timings = fastFailureDetection } = {}) {
  const pg = await postgres({ onCleanup })
  const database = pg.createDatabase()
  const workDir = givenDir ?? makeTempDir(`orleansvault-${name}-`)
  mkdirSync(workDir, { recursive: true })
  const common = {
    Vault__Cluster__Enabled: 'true',
    Vault__Cluster__ConnectionString: database,
    Vault__MasterKey: randomBytes(32).toString('base64'),
    Vault__Silo__ClusterId: `${name}-${randomBytes(3).toString('hex')}`,
    ...timings,
    ...env
  }
  const migrated = spawnSync(siloCommand().command, [...siloCommand().args, 'migrate'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...common } })
  if (migrated.status !== 0) throw new Error(`migrate failed: ${migrated.stdout} ${migrated.stderr}`)

  const silos = []
  const gateways = []
  const proxies = []
  let failed = false
  // Numbers the processes' logs and data directories, taken before any await: processes started together differ.
  let launched = 0
  const self = {
    database,
    pg,
    workDir,
    env: common,
    silos,
    gateways,
    migrateOutput: migrated.stdout,
    markFailed () { failed = true },
    /** Starts a silo; resolves once it logged that it joined the cluster. */
    async startSilo () {
      const index = launched++
      const [siloPort, gatewayPort] = await freePorts(2)
      const logFile = join(workDir, `silo-${index}.log`)
      const service = launch(siloCommand(), {
        ...common,
        Vault__DataDirectory: join(workDir, `silo-${index}-data`),
        Vault__Silo__SiloPort: String(siloPort),
        Vault__Silo__GatewayPort: String(gatewayPort)
      }, logFile)
      await waitForLog(logFile, 'Silo ready:', 90_000, service.exited)
      const silo = { ...service, logFile, siloPort, gatewayPort }
      silos.push(silo)
      return silo
    },
    /**
     * Resolves once every silo started so far logs that it sees all of them active: objects are placed on their owner
     * among the silos a silo sees, and gateways route by the same rule, so a benchmark starts its gateways after this.
     */
    async waitForView (timeoutMs = 60_000) {
      await Promise.all(silos.map((s) => waitForLog(s.logFile, `Cluster view: ${silos.length} active silos`, timeoutMs, s.exited)))
    },
    /** Starts the reverse proxy (src/Proxy) in front of the given gateways: the cluster's one URL. */
    async startProxy (gateways = self.gateways) {
      const [port] = await freePorts(1)
      const baseUrl = `http://127.0.0.1:${port}`
      const logFile = join(workDir, 'proxy.log')
      const service = launch({ command: 'dotnet', args: ['run', '--no-build', '--no-launch-profile', ...buildConfiguration(), '--project', 'src/Proxy'], cwd: REPO_ROOT }, {
        ASPNETCORE_URLS: baseUrl,
        Vault__Proxy__Gateways: gateways.map((g) => g.baseUrl).join(','),
        Vault__Proxy__HealthInterval: '00:00:01'
      }, logFile)
      const deadline = Date.now() + 60_000
      for (;;) {
        if (service.exited()) throw new Error(`proxy exited; log ${logFile}`)
        try {
          if ((await fetch(`${baseUrl}/proxy/health`)).status === 200) break
        } catch {}
        if (Date.now() > deadline) throw new Error(`proxy not ready; log ${logFile}`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      const proxy = { ...service, baseUrl, logFile }
      proxies.push(proxy)
      return proxy
    },
    /**
     * Starts a node that is a gateway and a silo of the cluster in one process (Vault:Cluster:HostSilo); it counts as
     * both. Resolves once it is ready.
     */
    async startNode () {
      const index = launched++
      const logFile = join(workDir, `node-${index}.log`)
      const node = await start(join(workDir, `node-${index}-data`), { ...common, Vault__Cluster__HostSilo: 'true' }, { logFile, readyTimeoutMs: 90_000 })
      gateways.push(node)
      silos.push(node)
      return node
    },
    /** Starts a gateway (an Orleans client of the cluster); resolves once it is ready. */
    async startGateway () {
      const index = launched++
      const gateway = await start(join(workDir, `gateway-${index}-data`), common, { logFile: join(workDir, `gateway-${index}.log`), readyTimeoutMs: 90_000 })
      gateways.push(gateway)
      return gateway
    }
  }
  self.stopAll = async () => {
    await Promise.all(proxies.map((p) => p.stop()))
    await Promise.all(gateways.map((g) => g.stop()))
    await Promise.all(silos.filter((s) => !gateways.includes(s)).map((s) => s.stop()))
  }
  onCleanup?.(async () => {
    await self.stopAll()
    if (failed) console.error(`${name}: cluster logs kept in ${workDir}`)
    else if (!givenDir) removeDir(workDir)
  })
  return self
}
