#!/usr/bin/env node
// Compatibility suite harness: starts the (already built) gateway on a free loopback
// port with a fresh data directory, runs `node --test` over test/*.test.mjs against it,
// stops the gateway, and exits with node --test's exit code.
//
//   dotnet build OrleansVault.sln && node tests/compat/run.mjs [name-filter ...]
//   (or `npm test` inside tests/compat)
//
// Environment: COMPAT_CONCURRENCY (test files at once, default 4),
// COMPAT_KEEP=1 keeps the temp directory (data + gateway log) even on success.
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bootstrapEnv, gatewayCommand, makeTempDir, randomSecret, removeDir, REPO_ROOT, start } from './lib/gateway.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const testDir = join(here, 'test')

if (!existsSync(join(here, 'node_modules', '@vaultrice', 'sdk')) || !existsSync(join(here, 'node_modules', 'ws'))) {
  console.error('compat: dependencies missing: run `npm ci` in tests/compat first')
  process.exit(2)
}

const filters = process.argv.slice(2)
const files = readdirSync(testDir)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => join(testDir, f))
if (files.length === 0) {
  console.error(`compat: no test files match ${filters.join(', ')}`)
  process.exit(2)
}

const workDir = makeTempDir('orleansvault-compat-')
const dataDir = join(workDir, 'data')
const logFile = join(workDir, 'gateway.log')
mkdirSync(dataDir)
const creds = { projectId: 'compat-project', apiKey: 'compat-key', apiSecret: randomSecret() }
// The Pusher app of the shared gateway (test/pusher-*.test.mjs).
const pusherApp = { appId: '4242', key: 'compat-pusher-key', secret: randomSecret() }

let gateway // {stop, killNow} once spawned
let testRun // child process of node --test
let exiting = false

async function shutdown (code, why) {
  if (exiting) return
  exiting = true
  if (why) console.error(`compat: ${why}`)
  if (testRun && testRun.exitCode === null) {
    // The whole group: test-file processes kill the gateways they started themselves.
    try { process.kill(-testRun.pid, 'SIGTERM') } catch {}
  }
  if (gateway) await gateway.stop()
  if (code === 0 && !process.env.COMPAT_KEEP) removeDir(workDir)
  else console.error(`compat: data directory and gateway log kept in ${workDir}`)
  process.exit(code)
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { shutdown(130, `interrupted by ${sig}`) })
}
process.on('exit', () => {
  if (testRun && testRun.exitCode === null) { try { process.kill(-testRun.pid, 'SIGKILL') } catch {} }
  gateway?.killNow()
})

function lastNumber (text, label) {
  const re = new RegExp(`^# ${label} (\\d+)\\s*$`, 'gm')
  let m
  let n
  while ((m = re.exec(text)) !== null) n = Number(m[1])
  return n
}

// A class that requires object-ID signatures, verified with this public key (version 1).
const idSignatureKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const signedClassEnv = {
  Vault__Bootstrap__Classes__signed__RequireIdSignature: 'true',
  Vault__Bootstrap__Classes__signed__IdSignatureKeys__0__Version: '1',
  Vault__Bootstrap__Classes__signed__IdSignatureKeys__0__PublicKey: idSignatureKey.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  // A class that requires end-to-end encryption (test/e2ee.test.mjs).
  Vault__Bootstrap__Classes__sealed__RequireEndToEndEncryption: 'true',
  Vault__Bootstrap__Pusher__AppId: pusherApp.appId,
  Vault__Bootstrap__Pusher__Key: pusherApp.key,
  Vault__Bootstrap__Pusher__Secret: pusherApp.secret,
  Vault__Bootstrap__Pusher__SubscriptionCount: 'true',
  Vault__Channels__SubscriptionCountInterval: '00:00:00.100'
}

function secretsInLog () {
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
  const masterKeyFile = `${dataDir.replace(/\/+$/, '')}.master.key`
  const found = []
  if (log.includes(creds.apiSecret)) found.push('the API secret')
  if (log.includes(pusherApp.secret)) found.push('the Pusher app secret')
  if (/eyJhbGciOiJFUzI1NiIs|eyJhbGciOiJ/.test(log)) found.push('a JWT')
  if (existsSync(masterKeyFile) && log.includes(readFileSync(masterKeyFile, 'utf8').trim())) found.push('the master key')
  return found
}

async function main () {
  console.log(`compat: starting gateway (${[gatewayCommand().command, ...gatewayCommand().args].join(' ')}) in ${REPO_ROOT}`)
  const t0 = Date.now()
  try {
    gateway = await start(dataDir, { ...bootstrapEnv(creds), ...signedClassEnv }, {
      logFile,
      readyTimeoutMs: 60_000,
      guardSignals: false, // shutdown() below stops it gracefully
      onSpawn: (g) => { gateway = g }
    })
  } catch (e) {
    console.error(`compat: ${e.message}`)
    console.log('compat: 0 passed, 0 failed')
    return shutdown(1)
  }
  console.log(`compat: gateway ready at ${gateway.baseUrl} after ${Date.now() - t0} ms (log ${logFile})`)

  const args = [
    '--test',
    '--test-reporter=tap',
    `--test-concurrency=${process.env.COMPAT_CONCURRENCY ?? 4}`,
    // Each file runs in its own process under this bound as well as each test: long files (restart,
    // load tool) set their own per-test timeouts below it. The cluster file (ten multi-process scenarios, about two
    // minutes on a quiet machine) took 260 s on a loaded one: the bound leaves room for that.
    '--test-timeout=600000',
    '--test-force-exit', // SDK instances keep token-refresh timers alive
    ...files
  ]
  let out = ''
  testRun = spawn(process.execPath, args, {
    cwd: here,
    detached: true, // own process group, signalled as a whole by shutdown()
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      VAULT_BASE: gateway.baseUrl,
      VAULT_PROJECT: creds.projectId,
      VAULT_KEY: creds.apiKey,
      VAULT_SECRET: creds.apiSecret,
      VAULT_DATA_DIR: dataDir,
      VAULT_PUSHER_APP_ID: pusherApp.appId,
      VAULT_PUSHER_KEY: pusherApp.key,
      VAULT_PUSHER_SECRET: pusherApp.secret,
      // The private key of the "signed" class's object-ID signatures (test/idsignature.test.mjs signs with it).
      VAULT_IDSIG_KEY: idSignatureKey.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      VAULT_REPO_ROOT: REPO_ROOT,
      // How tests that need a gateway of their own launch one (lib/gateway.mjs reads it).
      VAULT_GATEWAY_RESTART_CMD: JSON.stringify(gatewayCommand())
    }
  })
  testRun.stdout.on('data', (chunk) => {
    out += chunk
    process.stdout.write(chunk)
  })
  let code = await new Promise((resolve) => testRun.on('close', (c, signal) => resolve(c ?? (signal ? 1 : 0))))

  let passed = lastNumber(out, 'pass')
  // A cancelled test (timed out, or its file's process died) counts as failed.
  let failed = lastNumber(out, 'fail') === undefined ? undefined : lastNumber(out, 'fail') + (lastNumber(out, 'cancelled') ?? 0)

  // One more check over everything the shared gateway logged while every test ran against it:
  // no API secret, no token (an ES256 JWT starts with this header) and no master key may appear.
  const leaks = secretsInLog()
  if (leaks.length === 0) {
    console.log('ok - the gateway log holds no secret, token or master key')
    if (passed !== undefined) passed++
  } else {
    console.log(`not ok - the gateway log holds: ${leaks.join(', ')}`)
    if (failed !== undefined) failed++
    code = code || 1
  }
  if (passed === undefined || failed === undefined) console.error('compat: could not find the "# pass N" / "# fail N" summary')
  console.log(`compat: ${passed ?? 0} passed, ${failed ?? 0} failed`)
  if (code !== 0 && existsSync(logFile)) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n')
    console.error(`compat: last gateway log lines (${logFile}):\n${tail}`)
  }
  return shutdown(code)
}

main().catch((e) => shutdown(1, e?.stack ?? String(e)))
