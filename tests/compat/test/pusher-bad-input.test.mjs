// Bad input on the Pusher socket: each gets Pusher's error (WIRE.md 2), the connection stays consistent.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { raw, server, sharedApp, socketIdOf, unique } from '../lib/pusher.mjs'

const app = sharedApp()
const sdk = server(app)

async function stillAlive (socket) {
  socket.send({ event: 'pusher:ping', data: {} })
  await socket.next((f) => f.event === 'pusher:pong')
}

test('an unknown app key gets pusher:error 4001 and a 4001 close', async () => {
  const socket = await raw(app, { key: 'no-such-key' })
  const error = await socket.next((f) => f.event === 'pusher:error')
  assert.equal(error.data.code, 4001)
  assert.equal((await socket.closed).code, 4001)
})

for (const [query, code] of [['protocol=3', 4007], ['client=raw', 4008], ['protocol=seven', 4006]]) {
  test(`${query} is refused with ${code}`, async () => {
    const socket = await raw(app, { query })
    assert.equal((await socket.next((f) => f.event === 'pusher:error')).data.code, code)
    assert.equal((await socket.closed).code, code)
  })
}

test('connection_established carries a socket id of two integers and a non-zero activity timeout', async () => {
  const socket = await raw(app)
  const established = await socket.next((f) => f.event === 'pusher:connection_established')
  assert.equal(typeof established.data, 'string')
  const data = JSON.parse(established.data)
  assert.match(data.socket_id, /^\d+\.\d+$/)
  assert.ok(data.activity_timeout > 0)
})

test('malformed frames, unknown events and wrong data types get pusher:error and the socket stays open', async () => {
  const socket = await raw(app)
  await socketIdOf(socket)
  for (const frame of ['not json', '[1,2]', '{"data":{}}', '{"event":42}', '{"event":"pusher:subscribe","data":7}',
    '{"event":"pusher:subscribe","data":"\\"just a string\\""}', '{"event":"pusher:unknown","data":{}}', '{"event":"no-prefix","data":{}}']) {
    socket.send(frame)
    const error = await socket.next((f) => f.event === 'pusher:error')
    assert.ok(typeof error.data.message === 'string' && error.data.message.length > 0, `an error message for ${frame}`)
  }
  socket.ws.send(Buffer.from([1, 2, 3]), { binary: true })
  await socket.next((f) => f.event === 'pusher:error')
  await stillAlive(socket)
})

test('channel errors name the channel: bad names, bad auth, bad channel_data, foreign user channels', async () => {
  const socket = await raw(app)
  const socketId = await socketIdOf(socket)
  const cases = [
    [{ channel: 'bad name!' }, 'InvalidChannel'],
    [{ channel: 'x'.repeat(165) }, 'InvalidChannel'],
    [{ channel: unique('private-a'), auth: `${app.key}:${'f'.repeat(64)}` }, 'AuthError'],
    [{ channel: unique('private-b') }, 'AuthError'],
    [{ channel: unique('private-c'), auth: 'garbage' }, 'AuthError'],
    [{ channel: '#server-to-user-someone', auth: '' }, 'AuthError']
  ]
  for (const [data, type] of cases) {
    socket.send({ event: 'pusher:subscribe', data })
    const error = await socket.next((f) => f.event === 'pusher:subscription_error')
    assert.equal(error.channel, data.channel)
    assert.equal(error.data.type, type)
  }
  // channel_data that is not what was signed, or not a member at all.
  const presence = unique('presence-bad')
  const signedFor = sdk.authorizeChannel(socketId, presence, { user_id: 'u1' })
  socket.send({ event: 'pusher:subscribe', data: { channel: presence, auth: signedFor.auth, channel_data: '{"user_id":"u2"}' } })
  assert.equal((await socket.next((f) => f.event === 'pusher:subscription_error')).data.status, 401)
  const noId = sdk.authorizeChannel(socketId, presence, { user_info: {} })
  socket.send({ event: 'pusher:subscribe', data: { channel: presence, auth: noId.auth, channel_data: noId.channel_data } })
  assert.equal((await socket.next((f) => f.event === 'pusher:subscription_error')).channel, presence)
  await stillAlive(socket)
})

test('a repeated subscribe is an error, a repeated unsubscribe is silent', async () => {
  const socket = await raw(app)
  await socketIdOf(socket)
  const name = unique('twice')
  socket.send({ event: 'pusher:subscribe', data: { channel: name } })
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === name)
  socket.send({ event: 'pusher:subscribe', data: { channel: name } })
  assert.match((await socket.next((f) => f.event === 'pusher:error')).data.message, /Existing subscription/)
  socket.send({ event: 'pusher:unsubscribe', data: { channel: name } })
  socket.send({ event: 'pusher:unsubscribe', data: { channel: name } })
  await stillAlive(socket)
  assert.equal(socket.frames.filter((f) => f.event === 'pusher:error').length, 0)
})

test('a sign-in with a bad signature or bad user data is refused and the socket stays open', async () => {
  const socket = await raw(app)
  const socketId = await socketIdOf(socket)
  socket.send({ event: 'pusher:signin', data: { auth: `${app.key}:${'0'.repeat(64)}`, user_data: '{"id":"x"}' } })
  assert.equal((await socket.next((f) => f.event === 'pusher:error')).data.code, 4009)
  const noId = sdk.authenticateUser(socketId, { id: 'ok' })
  socket.send({ event: 'pusher:signin', data: { auth: noId.auth, user_data: '{"id":"ok"' } })
  await socket.next((f) => f.event === 'pusher:error')
  socket.send({ event: 'pusher:signin', data: noId })
  const success = await socket.next((f) => f.event === 'pusher:signin_success')
  assert.equal(JSON.parse(success.data.user_data).id, 'ok')
  await stillAlive(socket)
})

test('a frame over the size limit closes the socket with a 4300 code', async () => {
  const socket = await raw(app)
  await socketIdOf(socket)
  socket.send({ event: 'client-big', channel: 'x', data: 'y'.repeat(70 * 1024) })
  assert.equal((await socket.closed).code, 4300)
})

test('a client event over 10 KB is refused without closing the socket', async () => {
  const socket = await raw(app)
  const socketId = await socketIdOf(socket)
  const name = unique('private-size')
  socket.send({ event: 'pusher:subscribe', data: { channel: name, auth: sdk.authorizeChannel(socketId, name).auth } })
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded')
  socket.send({ event: 'client-big', channel: name, data: 'y'.repeat(11 * 1024) })
  assert.match((await socket.next((f) => f.event === 'pusher:error')).data.message, /larger than/)
  await stillAlive(socket)
})

test('a plain HTTP request to the socket path is a 400', async () => {
  const response = await fetch(`${app.baseUrl}/app/${app.key}?protocol=7`)
  assert.equal(response.status, 400)
  void WebSocket
})
