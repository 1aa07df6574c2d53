// A native-door subscriber in its own process: the load tool's `probe` command, which uses the OrleansVault.Client
// library (automatic reconnect, resume by sequence). It reports each event it receives as a line on stdout.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from './gateway.mjs'

const configuration = process.env.VAULT_BUILD_CONFIGURATION || 'Debug'
const toolDll = join(REPO_ROOT, 'tools', 'LoadTest', 'bin', configuration, 'net10.0', 'OrleansVault.LoadTest.dll')

/**
 * Starts a probe on `object` of `cls` through `url` (minting its token at `tokenUrl`); resolves once it is subscribed.
 * `events` fills with `{kind, seq, epoch, key}`; `reconnects` counts RECONNECTED lines.
 */
export async function startProbe ({ url, tokenUrl = url, creds, cls, object, protocol = 'json', onCleanup }) {
  const child = spawn('dotnet', [toolDll, 'probe', '--url', url, '--token-url', tokenUrl, '--project', creds.projectId, '--key', creds.apiKey,
    '--secret', creds.apiSecret, '--class', cls, '--id', object, '--hub-protocol', protocol], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  const probe = { events: [], reconnects: 0, lines: [], states: [], refetched: [], exited: false }
  let buffered = ''
  const onLine = (line) => {
    probe.lines.push(line)
    if (line.startsWith('EVENT ')) probe.events.push(JSON.parse(line.slice(6)))
    else if (line === 'RECONNECTED') probe.reconnects++
    else if (line.startsWith('STATE ')) probe.states.push(JSON.parse(line.slice(6)))
    else if (line.startsWith('REFETCHED ')) probe.refetched.push(...JSON.parse(line.slice(10)))
    else if (line.startsWith('READY ')) probe.ready = true
  }
  child.stdout.on('data', (d) => {
    buffered += d
    let at
    while ((at = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, at).trim())
      buffered = buffered.slice(at + 1)
    }
  })
  child.stderr.on('data', (d) => probe.lines.push('stderr: ' + d))
  child.on('exit', () => { probe.exited = true })
  probe.stop = () => { if (!probe.exited) child.kill('SIGKILL') }
  onCleanup?.(probe.stop)
  /** Asks for the object's items and resolves with them. */
  probe.state = async () => {
    const before = probe.states.length
    child.stdin.write('STATE\n')
    const deadline = Date.now() + 30_000
    while (probe.states.length === before) {
      if (Date.now() > deadline || probe.exited) throw new Error('probe did not report its state:\n' + probe.lines.slice(-20).join('\n'))
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return probe.states[probe.states.length - 1]
  }
  const deadline = Date.now() + 60_000
  while (!probe.ready) {
    if (Date.now() > deadline || probe.exited) throw new Error('probe did not start:\n' + probe.lines.join('\n'))
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return probe
}

/** Checks a probe's events: every sequence once, in order, each one more than the last (a refetch restarts the count). */
export function assertExactlyOnceInOrder (assert, events) {
  for (let i = 1; i < events.length; i++) {
    const [prev, next] = [events[i - 1], events[i]]
    if (next.kind === 'Refetch' || next.epoch !== prev.epoch) continue
    assert.equal(next.seq, prev.seq + 1, `gap or duplicate between #${prev.seq} and #${next.seq}`)
  }
}
