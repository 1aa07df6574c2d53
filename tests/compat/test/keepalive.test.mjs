// A socket whose peer stops answering protocol pings is dropped by the server within
// KeepAliveInterval + KeepAliveTimeout, and its presence entry leaves. Real Kestrel is needed
// (the in-process test server has no ping frames), so this file starts its own gateway with
// short keep-alive settings, and speaks the WebSocket handshake over a raw TCP socket that
// never answers a ping.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import WebSocket from 'ws'
import { bootstrapEnv, makeTempDir, randomSecret, removeDir, start } from '../lib/gateway.mjs'
import { basic } from '../lib/http.mjs'
import { waitFor } from '../lib/sdk.mjs'

const creds = { projectId: 'keepalive-project', apiKey: 'keepalive-key', apiSecret: randomSecret() }
const dataDir = makeTempDir('orleansvault-keepalive-')
let gateway

after(async () => {
  await gateway?.stop()
  removeDir(dataDir)
})

test('a peer that never answers pings is dropped and leaves presence', { timeout: 120_000 }, async () => {
  gateway = await start(dataDir, {
    ...bootstrapEnv(creds),
    Vault__WebSockets__KeepAliveInterval: '00:00:01',
    Vault__WebSockets__KeepAliveTimeout: '00:00:01'
  })
  const { hostname, port } = new URL(gateway.baseUrl)
  const auth = encodeURIComponent(basic(creds.apiKey, creds.apiSecret))
  const path = `/project/${creds.projectId}/ws/c/keepalive?auth=${auth}`

  // A well-behaved observer (the ws package answers pings by itself).
  const observer = new WebSocket(`ws://${hostname}:${port}${path}`)
  const leaves = []
  observer.on('message', (data) => {
    const frame = JSON.parse(data.toString())
    if (frame.event === 'presence:leave') leaves.push(frame)
  })
  await new Promise((resolve, reject) => { observer.once('open', resolve); observer.once('error', reject) })

  // The silent peer: handshake by hand, join presence, then never read or answer again.
  const raw = net.connect({ host: hostname, port: Number(port) })
  await new Promise((resolve) => raw.once('connect', resolve))
  raw.write([
    `GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', '', ''
  ].join('\r\n'))
  let received = Buffer.alloc(0)
  raw.on('data', (chunk) => { received = Buffer.concat([received, chunk]) })
  await waitFor(() => received.toString('latin1').includes('"connected"'), 10_000, 'the raw socket to be connected')
  assert.match(received.toString('latin1'), /^HTTP\/1\.1 101/)
  raw.write(maskedTextFrame(JSON.stringify({ event: 'presence:join', payload: { who: 'silent' } })))

  let closed = false
  raw.on('close', () => { closed = true })
  raw.on('error', () => { closed = true })
  await waitFor(() => closed, 20_000, 'the server to drop the silent peer')
  const leave = await waitFor(() => leaves.find((l) => l.payload?.who === 'silent'), 10_000, 'the silent peer to leave presence')
  assert.equal(leave.event, 'presence:leave')
  observer.close()
})

/** A client-to-server text frame (clients must mask). */
function maskedTextFrame (text) {
  const payload = Buffer.from(text)
  assert.ok(payload.length < 126)
  const mask = randomBytes(4)
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked])
}
