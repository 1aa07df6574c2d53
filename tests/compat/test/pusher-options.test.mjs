// App options on a gateway of its own: authorized connections, replay protection, client events off, activity
// timeouts, and presence beyond Pusher's 100 members.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { ownGateway } from '../lib/own-gateway.mjs'
import { client, connected, raw, server, socketIdOf, subscribed, unique, waitFor } from '../lib/pusher.mjs'
import { randomSecret } from '../lib/gateway.mjs'

const pusherApp = { appId: 'strict', key: 'strict-key', secret: randomSecret() }
const gw = ownGateway('pusher-options')
let app

test('start a gateway with a strict app', { timeout: 60_000 }, async () => {
  const gateway = await gw.start({
    Vault__Bootstrap__Pusher__AppId: pusherApp.appId,
    Vault__Bootstrap__Pusher__Key: pusherApp.key,
    Vault__Bootstrap__Pusher__Secret: pusherApp.secret,
    Vault__Bootstrap__Pusher__AuthorizedConnections: 'true',
    Vault__Bootstrap__Pusher__ReplayProtection: 'true',
    Vault__Bootstrap__Pusher__ClientEvents: 'false',
    Vault__Bootstrap__Pusher__MaxPresenceMembers: '150',
    Vault__Pusher__AuthorizationTimeout: '00:00:01.500',
    Vault__Pusher__ActivityTimeoutSeconds: '2',
    Vault__Pusher__PongTimeout: '00:00:01'
  })
  app = { ...pusherApp, baseUrl: gateway.baseUrl }
})

test('an unauthorized connection is closed with 4009; one that signed in or joined a private channel stays', { timeout: 30_000 }, async () => {
  const idle = await raw(app)
  await socketIdOf(idle)
  const signedIn = await raw(app)
  const sdk = server(app)
  signedIn.send({ event: 'pusher:signin', data: sdk.authenticateUser(await socketIdOf(signedIn), { id: 'kept' }) })
  await signedIn.next((f) => f.event === 'pusher:signin_success')
  const joined = await raw(app)
  const joinedId = await socketIdOf(joined)
  const name = unique('private-keep')
  joined.send({ event: 'pusher:subscribe', data: { channel: name, auth: sdk.authorizeChannel(joinedId, name).auth } })
  await joined.next((f) => f.event === 'pusher_internal:subscription_succeeded')

  const error = await idle.next((f) => f.event === 'pusher:error', 10_000)
  assert.equal(error.data.code, 4009)
  assert.equal((await idle.closed).code, 4009)
  // The authorized ones outlive the timeout: still answering pings well after it.
  await new Promise((resolve) => setTimeout(resolve, 2000))
  for (const socket of [signedIn, joined]) {
    socket.send({ event: 'pusher:ping', data: {} })
    await socket.next((f) => f.event === 'pusher:pong')
  }
})

test('a silent client is pinged after the activity timeout and closed with 4201 without a pong', { timeout: 30_000 }, async () => {
  const socket = await raw(app, { autoPong: false })
  const sdk = server(app)
  socket.send({ event: 'pusher:signin', data: sdk.authenticateUser(await socketIdOf(socket), { id: 'silent' }) })
  await socket.next((f) => f.event === 'pusher:signin_success')
  await socket.next((f) => f.event === 'pusher:ping', 10_000)
  assert.equal((await socket.closed).code, 4201)
})

test('pusher-js keeps its connection through activity timeouts by answering pings', { timeout: 30_000 }, async () => {
  const pusher = client(app, { user: { id: 'chatty' } })
  pusher.signin()
  await connected(pusher)
  const states = []
  pusher.connection.bind('state_change', (s) => states.push(s.current))
  await new Promise((resolve) => setTimeout(resolve, 6000))
  assert.equal(pusher.connection.state, 'connected')
  assert.deepEqual(states, [])
})

test('client events are refused when the app does not enable them', async () => {
  const socket = await raw(app)
  const id = await socketIdOf(socket)
  const name = unique('private-quiet')
  socket.send({ event: 'pusher:subscribe', data: { channel: name, auth: server(app).authorizeChannel(id, name).auth } })
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded')
  socket.send({ event: 'client-x', channel: name, data: {} })
  assert.match((await socket.next((f) => f.event === 'pusher:error')).data.message, /enable this feature/)
})

test('with replay protection an identical signed request is refused the second time', async () => {
  const body = JSON.stringify({ name: 'e', data: 'x', channels: ['replayed'] })
  const query = { auth_key: app.key, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0', body_md5: createHash('md5').update(body).digest('hex') }
  const sorted = Object.keys(query).sort().map((k) => `${k}=${query[k]}`).join('&')
  const path = `/apps/${app.appId}/events`
  const signature = createHmac('sha256', app.secret).update(`POST\n${path}\n${sorted}`).digest('hex')
  const send = () => fetch(`${app.baseUrl}${path}?${sorted}&auth_signature=${signature}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  assert.equal((await send()).status, 200)
  const replay = await send()
  assert.equal(replay.status, 401)
  assert.match(await replay.text(), /Replayed/)
  // The same signature in upper-case hex is the same signature.
  const shouted = await fetch(`${app.baseUrl}${path}?${sorted}&auth_signature=${signature.toUpperCase()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  assert.equal(shouted.status, 401)
})

test('a presence channel holds more than 100 members, up to the configured cap', { timeout: 120_000 }, async () => {
  const name = unique('presence-crowd')
  const sdk = server(app)
  const sockets = []
  for (let i = 0; i < 151; i++) {
    const socket = await raw(app)
    const id = await socketIdOf(socket)
    const auth = sdk.authorizeChannel(id, name, { user_id: `member-${i}` })
    socket.send({ event: 'pusher:subscribe', data: { channel: name, ...auth } })
    sockets.push(socket)
  }
  for (let i = 0; i < 150; i++) await sockets[i].next((f) => f.event === 'pusher_internal:subscription_succeeded')
  const full = await sockets[150].next((f) => f.event === 'pusher:subscription_error')
  assert.equal(full.data.type, 'LimitReached')
  const info = await (await sdk.get({ path: `/channels/${name}`, params: { info: 'user_count' } })).json()
  assert.equal(info.user_count, 150)
  await waitFor(async () => {
    const users = await (await sdk.get({ path: `/channels/${name}/users` })).json()
    return users.users.length === 150
  }, 5000, '150 users listed')
  for (const s of sockets) s.close()
})
