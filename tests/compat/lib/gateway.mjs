// Starts and stops an OrleansVault gateway as a child process, for the harness
// (run.mjs) and for tests that need a gateway of their own (restart.test.mjs).
// The gateway must already be built: this module runs it with `--no-build`.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** How the gateway is launched; VAULT_GATEWAY_RESTART_CMD (JSON) overrides it. */
export function gatewayCommand () {
  if (process.env.VAULT_GATEWAY_RESTART_CMD) return JSON.parse(process.env.VAULT_GATEWAY_RESTART_CMD)
  return {
    command: 'dotnet',
    // --no-launch-profile: a launchSettings.json applicationUrl would override ASPNETCORE_URLS.
    args: ['run', '--no-build', '--no-launch-profile', ...buildConfiguration(), '--project', 'src/Gateway'],
    cwd: REPO_ROOT
  }
}

/** `-c Release` when VAULT_BUILD_CONFIGURATION says so (the benchmarks run Release builds), else Debug. */
export function buildConfiguration () {
  return process.env.VAULT_BUILD_CONFIGURATION ? ['-c', process.env.VAULT_BUILD_CONFIGURATION] : []
}

/** `n` distinct TCP ports that were free a moment ago on 127.0.0.1 (held together, then released). */
export async function freePorts (n) {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => resolve(srv))
  })))
  const ports = servers.map((s) => s.address().port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort () {
  return (await freePorts(1))[0]
}

export function makeTempDir (prefix = 'orleansvault-compat-') {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function randomSecret () {
  return randomBytes(32).toString('base64url') // 43 characters
}

/** Bootstrap credentials the gateway seeds its first project with. */
export function bootstrapEnv ({ projectId, apiKey, apiSecret }) {
  return {
    Vault__Bootstrap__ProjectId: projectId,
    Vault__Bootstrap__ApiKey: apiKey,
    Vault__Bootstrap__ApiSecret: apiSecret
  }
}

function tail (file, lines = 60) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
  } catch {
    return '(no gateway log)'
  }
}

function groupAlive (pgid) {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (e) {
    return e.code === 'EPERM'
  }
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Gateways run in their own process group, so they outlive a killed parent unless the
// parent kills them: on exit (synchronously) and on a terminating signal (then re-raised).
const running = new Set()
let guardsInstalled = false
function installGuards () {
  if (guardsInstalled) return
  guardsInstalled = true
  process.on('exit', () => { for (const g of running) g.killNow() })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      for (const g of running) g.killNow()
      process.kill(process.pid, sig)
    })
  }
}

/**
 * Start a gateway on a fresh loopback port.
 * @param {string} dataDir  Vault:DataDirectory (reuse it to restart over the same data)
 * @param {Record<string,string>} env  extra environment (bootstrap credentials etc.)
 * @param {{readyTimeoutMs?: number, logFile?: string, onSpawn?: Function, guardSignals?: boolean}} [opts]
 *   onSpawn receives {pid, stop, killNow} as soon as the process exists (for signal handlers);
 *   guardSignals: false leaves signal handling to the caller (default: kill the gateway on
 *   exit/SIGINT/SIGTERM/SIGHUP of this process)
 * @returns {Promise<{baseUrl: string, port: number, dataDir: string, logFile: string, pid: number,
 *   stop: (signal?: string) => Promise<number|null>, killNow: () => void}>}
 */
export async function start (dataDir, env = {}, opts = {}) {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000
  // The co-hosted silo listens too (Vault:Silo, defaults 11111/30000): give every gateway its
  // own ports so the shared gateway, a test's own gateway and a developer's instance coexist.
  const [port, siloPort, siloGatewayPort] = await freePorts(3)
  const baseUrl = `http://127.0.0.1:${port}`
  const logFile = opts.logFile ?? join(makeTempDir('orleansvault-gwlog-'), 'gateway.log')
  const service = launch(gatewayCommand(), {
    ASPNETCORE_ENVIRONMENT: 'Development',
    ASPNETCORE_URLS: baseUrl,
    Vault__DataDirectory: dataDir,
    Vault__Silo__SiloPort: String(siloPort),
    Vault__Silo__GatewayPort: String(siloGatewayPort),
    ...env
  }, logFile, opts)

  const deadline = Date.now() + readyTimeoutMs
  let lastProblem = 'no answer yet'
  for (;;) {
    if (service.exited()) {
      const exited = service.exited()
      await service.stop()
      throw new Error(`gateway exited before it was ready (code ${exited.code}, signal ${exited.signal}${exited.err ? `, ${exited.err.message}` : ''}); log ${logFile}:\n${tail(logFile)}`)
    }
    if (Date.now() > deadline) {
      await service.stop()
      throw new Error(`gateway not ready within ${readyTimeoutMs} ms (${lastProblem}); log ${logFile}:\n${tail(logFile)}`)
    }
    try {
      const res = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      if (res.status === 200) break
      lastProblem = `GET /health/ready answered ${res.status}`
    } catch (e) {
      lastProblem = `GET /health/ready failed: ${e.cause?.code ?? e.message}`
    }
    await delay(200)
  }

  return { baseUrl, port, dataDir, logFile, pid: service.pid, stop: service.stop, killNow: service.killNow }
}

/**
 * Runs a server process (`dotnet run …`) in its own process group with its output in `logFile`.
 * @returns {{pid: number, stop: (signal?: string, graceMs?: number) => Promise<number|null>, killNow: () => void, exited: () => object|null}}
 *   stop signals the whole group (SIGKILL after the grace period); killNow is the synchronous last resort.
 */
export function launch ({ command, args, cwd }, env, logFile, opts = {}) {
  const log = createWriteStream(logFile, { flags: 'a' })
  const child = spawn(command, args, {
    cwd,
    // Own process group: `dotnet run` starts the app as a grandchild; we signal the group.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DOTNET_NOLOGO: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1', ...env }
  })
  child.stdout.pipe(log, { end: false })
  child.stderr.pipe(log, { end: false })

  log.on('error', () => {})
  let exited = null
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => { exited = { code, signal }; resolve(code) })
    child.on('error', (err) => { exited = { code: null, signal: null, err }; resolve(null) })
  })
  const closePromise = new Promise((resolve) => child.on('close', resolve))

  let stopping = null
  const stop = (signal = 'SIGTERM', graceMs = 20_000) => {
    if (stopping) return stopping
    stopping = (async () => {
      const pgid = child.pid
      if (pgid && groupAlive(pgid)) {
        try { process.kill(-pgid, signal) } catch {}
        const deadline = Date.now() + graceMs
        while (groupAlive(pgid) && Date.now() < deadline) await delay(100)
        if (groupAlive(pgid)) {
          try { process.kill(-pgid, 'SIGKILL') } catch {}
          while (groupAlive(pgid)) await delay(50)
        }
      }
      await exitPromise
      await Promise.race([closePromise, delay(2000)])
      child.stdout.unpipe(log)
      child.stderr.unpipe(log)
      await new Promise((resolve) => log.end(resolve))
      running.delete(handle)
      return exited?.code ?? null
    })()
    return stopping
  }
  /** Last resort for process 'exit' handlers: synchronous SIGKILL of the group. */
  const killNow = () => {
    if (child.pid && groupAlive(child.pid)) {
      try { process.kill(-child.pid, 'SIGKILL') } catch {}
    }
  }

  const handle = { pid: child.pid, stop, killNow }
  if (opts.guardSignals !== false) {
    installGuards()
    running.add(handle)
  }
  opts.onSpawn?.(handle)
  return { pid: child.pid, stop, killNow, exited: () => exited }
}

/**
 * The process ids of the OrleansVault applications (gateway, silo, proxy) in the process group that `launch` started:
 * `dotnet run` is the group's leader and the application its child, and it is the application whose memory and CPU a
 * benchmark must read. Linux only (/proc).
 * @returns {number[]}
 */
export function appPids (groupPid) {
  const pids = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === groupPid) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // Fields after the command name (which may hold spaces) start after the last ')': state, ppid, pgrp.
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
      if (pgrp !== groupPid) continue
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      if (cmdline.some((arg) => /OrleansVault\.(Gateway|Silo|Proxy)(\.dll)?$/.test(arg))) pids.push(Number(entry))
    } catch {} // a process that ended while we looked
  }
  return pids
}

/** Waits until `file` contains `text` (a server's ready line), or throws after `timeoutMs`. */
export async function waitForLog (file, text, timeoutMs, isExited = () => null) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (existsSync(file) && readFileSync(file, 'utf8').includes(text)) return
    if (isExited()) throw new Error(`process exited before "${text}"; log ${file}:\n${tail(file)}`)
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms; log ${file}:\n${tail(file)}`)
    await delay(200)
  }
}

/** Remove a temp directory, ignoring errors. */
export function removeDir (dir) {
  try { rmSync(dir, { recursive: true, force: true }) } catch {}
  // Embedded mode generates its master key beside the data directory, never inside it.
  try { rmSync(dir.replace(/\/+$/, '') + '.master.key', { force: true }) } catch {}
}
