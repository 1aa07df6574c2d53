// Smoke test of the load-test tool (tools/LoadTest): it must finish with zero errors and a
// well-formed report, against the shared gateway (`run`) and with its own gateway and the plain
// baselines (`bench --size smoke`). Sizes are tiny: this proves the tool works, it times nothing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeTempDir, removeDir, REPO_ROOT } from '../lib/gateway.mjs'
import { cfg } from '../lib/sdk.mjs'

const bin = (project, name) => join(REPO_ROOT, project, 'bin', 'Debug', 'net10.0', `${name}.dll`)
const tool = bin('tools/LoadTest', 'OrleansVault.LoadTest')

function runTool (args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn('dotnet', [tool, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { out += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`load tool timed out:\n${out}`)) }, timeoutMs)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }) })
  })
}

function assertWellFormed (result) {
  for (const field of ['scenario', 'target', 'parameters', 'durationSeconds', 'connections', 'deliveries', 'deliveriesPerSecond',
    'latencyP50Ms', 'latencyP90Ms', 'latencyP99Ms', 'latencyMaxMs', 'writeAckP50Ms', 'writeAckP99Ms', 'requestsPerSecond', 'errors', 'errorCount']) {
    assert.ok(field in result, `report field ${field} missing: ${JSON.stringify(result)}`)
  }
  assert.equal(result.errorCount, 0, `errors: ${JSON.stringify(result.errors)}`)
}

test('run: a short broadcast against the gateway delivers every write to every subscriber', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(tool), `${tool} is not built`)
  const dir = makeTempDir('orleansvault-loadtool-')
  try {
    const json = join(dir, 'report.json')
    const csv = join(dir, 'report.csv')
    const { code, out } = await runTool(['run', '--url', cfg.baseUrl, '--project', cfg.projectId, '--key', cfg.apiKey, '--secret', cfg.apiSecret,
      '--scenario', 'broadcast', '--subscribers', '10', '--rate', '20', '--duration', '2', '--json', json, '--csv', csv, '--no-live',
      // Two processes (a cluster passes every silo and gateway): the report sums their memory and CPU.
      '--server-pid', `${process.pid},${process.ppid}`], 100_000)
    assert.equal(code, 0, out)
    const [result] = JSON.parse(readFileSync(json, 'utf8')).results
    assertWellFormed(result)
    assert.equal(result.connections, 10)
    assert.ok(result.writesAcknowledged > 0, out)
    assert.equal(result.deliveries, result.writesAcknowledged * 10)
    assert.equal(result.expectedDeliveries, result.deliveries)
    assert.ok(result.latencyP99Ms > 0 && result.latencyP99Ms >= result.latencyP50Ms)
    // Every write's acknowledgment is timed too (for OrleansVault: until it is stored).
    assert.ok(result.writeAckP50Ms > 0 && result.writeAckP99Ms >= result.writeAckP50Ms, JSON.stringify(result))
    assert.match(readFileSync(csv, 'utf8').split('\n')[0], /^scenario,target,connections,/)
    assert.ok(result.serverRssBeforeMb > 0 && typeof result.serverCoresUsed === 'number', JSON.stringify(result))
  } finally {
    removeDir(dir)
  }
})

test('run: refuses a non-loopback target', { timeout: 60_000 }, async () => {
  const { code, out } = await runTool(['run', '--url', 'http://192.0.2.1:5000', '--project', 'p', '--key', 'k', '--secret', 's', '--no-live'], 50_000)
  assert.equal(code, 2)
  assert.match(out, /not a loopback address/)
})

test('run: refuses a malformed --server-pid', { timeout: 60_000 }, async () => {
  const { code, out } = await runTool(['run', '--url', cfg.baseUrl, '--project', 'p', '--key', 'k', '--secret', 's', '--server-pid', '12,abc', '--no-live'], 50_000)
  assert.equal(code, 2)
  assert.match(out, /--server-pid: 'abc' is not a process id/)
})

test('bench --size smoke: our gateway and both baselines, with ratios', { timeout: 240_000 }, async () => {
  const dir = makeTempDir('orleansvault-bench-')
  try {
    const { code, out } = await runTool(['bench', '--size', 'smoke', '--scenarios', 'broadcast,hold,http,pusher,capacity,native', '--out', dir, '--no-live',
      '--gateway-dll', bin('src/Gateway', 'OrleansVault.Gateway'), '--baselines-dll', bin('tools/Baselines', 'OrleansVault.Baselines')], 230_000)
    assert.equal(code, 0, out)
    const report = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))
    assert.equal(report.results.length, 3 + 3 + 3 + 2 + 1 + 2)
    report.results.forEach(assertWellFormed)
    assert.deepEqual(report.results.map((r) => r.target).slice(0, 3).sort(), ['orleansvault', 'plain-signalr', 'plain-websocket'])
    assert.deepEqual(report.benchmarks.map((b) => b.benchmark), ['broadcast', 'hold', 'http', 'pusher', 'capacity', 'native'])
    const broadcast = report.benchmarks[0]
    assert.ok(typeof broadcast.ratio === 'number' && broadcast.ratio > 0, JSON.stringify(broadcast))
    assert.ok(report.results.filter((r) => r.scenario === 'hold').every((r) => r.memoryPerConnectionKb !== null))
    // The Pusher door against the plain WebSocket server: every event to every subscriber, with a ratio.
    const pusher = report.results.find((r) => r.scenario === 'pusher' && r.target === 'orleansvault-pusher')
    assert.ok(pusher && pusher.deliveries > 0 && pusher.deliveries === pusher.expectedDeliveries, JSON.stringify(pusher))
    assert.ok(typeof report.benchmarks[3].ratio === 'number' && report.benchmarks[3].ratio > 0, JSON.stringify(report.benchmarks[3]))
    assert.equal(report.benchmarks[4].met, true, JSON.stringify(report.benchmarks[4]))
    // The native door through OrleansVault.Client against the plain SignalR hub.
    const native = report.results.find((r) => r.scenario === 'native' && r.target === 'orleansvault-native')
    assert.ok(native && native.deliveries > 0 && native.deliveries === native.expectedDeliveries, JSON.stringify(native))
    assert.ok(typeof report.benchmarks[5].ratio === 'number' && report.benchmarks[5].ratio > 0, JSON.stringify(report.benchmarks[5]))
    assert.match(readFileSync(join(dir, 'summary.md'), 'utf8'), /^\| benchmark \(smoke\) \|/)
  } finally {
    removeDir(dir)
  }
})

test('bench --runs 2: each benchmark twice on fresh servers, each side reported by its best run', { timeout: 180_000 }, async () => {
  const dir = makeTempDir('orleansvault-bench-')
  try {
    const { code, out } = await runTool(['bench', '--size', 'smoke', '--scenarios', 'hold', '--runs', '2', '--out', dir, '--no-live',
      '--gateway-dll', bin('src/Gateway', 'OrleansVault.Gateway'), '--baselines-dll', bin('tools/Baselines', 'OrleansVault.Baselines')], 170_000)
    assert.equal(code, 0, out)
    const report = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))
    assert.equal(report.results.length, 2 * 3)
    report.results.forEach(assertWellFormed)
    assert.equal(report.benchmarks.length, 1)
    // Memory per connection: lower is better, so the row carries the smaller of our two runs.
    const ours = report.results.filter((r) => r.target === 'orleansvault').map((r) => r.memoryPerConnectionKb)
    assert.equal(ours.length, 2)
    assert.equal(report.benchmarks[0].value, Math.min(...ours))
  } finally {
    removeDir(dir)
  }
})

test('bench: refuses --runs outside 1..20', { timeout: 60_000 }, async () => {
  const { code, out } = await runTool(['bench', '--runs', '0', '--no-live'], 50_000)
  assert.equal(code, 2)
  assert.match(out, /--runs is between 1 and 20/)
})
