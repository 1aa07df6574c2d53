// The Pusher HTTP API through the pusher server SDK, and signed requests made by hand for what the SDK will not send
// (bad signatures, old timestamps, wrong body MD5, over-limit events).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { client, server, sharedApp, subscribed, unique, waitFor } from '../lib/pusher.mjs'

const app = sharedApp()
const sdk = server(app)

/** A request signed as the protocol says, with knobs to get each part wrong. */
async function signed (method, path, { body, params = {}, timestamp = Math.floor(Date.now() / 1000), md5, secret = app.secret, key = app.key, appId = app.appId } = {}) {
  const text = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body))
  const query = { auth_key: key, auth_timestamp: String(timestamp), auth_version: '1.0', ...params }
  if (text !== undefined) query.body_md5 = md5 ?? createHash('md5').update(text).digest('hex')
  const sorted = Object.keys(query).sort().map((k) => `${k}=${query[k]}`).join('&')
  const fullPath = `/apps/${appId}${path}`
  const signature = createHmac('sha256', secret).update(`${method}\n${fullPath}\n${sorted}`).digest('hex')
  const response = await fetch(`${app.baseUrl}${fullPath}?${sorted}&auth_signature=${signature}`, {
    method,
    headers: text === undefined ? {} : { 'content-type': 'application/json' },
    body: text
  })
  return { status: response.status, text: await response.text() }
}

test('trigger with info reports subscription and user counts per channel', async () => {
  const [pub, presence] = [unique('info-pub'), unique('presence-info')]
  const a = client(app, { presence: { user_id: 'info-a' } })
  await subscribed(a, pub)
  await subscribed(a, presence)
  const response = await sdk.trigger([pub, presence], 'e', 'x', { info: 'subscription_count,user_count' })
  const body = await response.json()
  assert.deepEqual(body.channels[pub], { subscription_count: 1 })
  assert.deepEqual(body.channels[presence], { user_count: 1, subscription_count: 1 })
  // Without info the answer is an empty object.
  assert.deepEqual(await (await sdk.trigger(pub, 'e', 'y')).json(), {})
})

test('batch events are delivered in order, with info per event', async () => {
  const name = unique('batch')
  const a = client(app)
  const channel = await subscribed(a, name)
  const seen = []
  channel.bind('n', (d) => seen.push(d))
  const response = await sdk.triggerBatch([
    { channel: name, name: 'n', data: '1', info: 'subscription_count' },
    { channel: name, name: 'n', data: '2' },
    { channel: name, name: 'n', data: '3' }
  ])
  const body = await response.json()
  assert.deepEqual(body.batch[0], { subscription_count: 1 })
  await waitFor(() => seen.length === 3, 5000, 'three batch events')
  assert.deepEqual(seen, [1, 2, 3])
})

test('channels can be listed by prefix, with user counts for presence channels', async () => {
  const prefix = unique('list')
  const presence = `presence-${prefix}`
  const a = client(app, { presence: { user_id: 'lister' } })
  await subscribed(a, `${prefix}-one`)
  await subscribed(a, `${prefix}-two`)
  await subscribed(a, presence)
  const listed = await (await sdk.get({ path: '/channels', params: { filter_by_prefix: prefix } })).json()
  assert.deepEqual(Object.keys(listed.channels).sort(), [`${prefix}-one`, `${prefix}-two`])
  const withUsers = await (await sdk.get({ path: '/channels', params: { filter_by_prefix: presence, info: 'user_count' } })).json()
  assert.deepEqual(withUsers.channels, { [presence]: { user_count: 1 } })
  const refused = await sdk.get({ path: '/channels', params: { info: 'user_count' } }).then(() => null, (e) => e)
  assert.equal(refused?.status, 400, 'user_count without a presence prefix is a 400')
})

test('channel info: unoccupied channels, and attributes that do not apply are refused', async () => {
  const name = unique('nobody')
  assert.deepEqual(await (await sdk.get({ path: `/channels/${name}`, params: { info: 'subscription_count' } })).json(), { occupied: false, subscription_count: 0 })
  assert.equal((await sdk.get({ path: `/channels/${name}`, params: { info: 'user_count' } }).then(() => null, (e) => e))?.status, 400)
  assert.equal((await sdk.get({ path: `/channels/${name}/users` }).then(() => null, (e) => e))?.status, 400)
  const channelsAfter = await (await sdk.get({ path: '/channels', params: { filter_by_prefix: name } })).json()
  assert.deepEqual(channelsAfter.channels, {})
})

test('channels leave the list once vacated', async () => {
  const name = unique('vacate')
  const a = client(app)
  await subscribed(a, name)
  await waitFor(async () => name in (await (await sdk.get({ path: '/channels', params: { filter_by_prefix: name } })).json()).channels, 5000, 'listed')
  a.unsubscribe(name)
  await waitFor(async () => !(name in (await (await sdk.get({ path: '/channels', params: { filter_by_prefix: name } })).json()).channels), 5000, 'unlisted')
})

test('limits: event data over 10 KB is 413, more than 100 channels or 10 batch events is 400', async () => {
  const big = await signed('POST', '/events', { body: { name: 'e', data: 'x'.repeat(10 * 1024 + 1), channels: ['a'] } })
  assert.equal(big.status, 413)
  assert.match(big.text, /exceeds the allowed maximum \(10240 bytes\)/)
  const channels = Array.from({ length: 101 }, (_, i) => `c${i}`)
  assert.equal((await signed('POST', '/events', { body: { name: 'e', data: 'x', channels } })).status, 400)
  const batch = Array.from({ length: 11 }, () => ({ channel: 'c', name: 'e', data: 'x' }))
  assert.equal((await signed('POST', '/batch_events', { body: { batch } })).status, 400)
  assert.equal((await signed('POST', '/events', { body: { name: 'e', data: 'x', channels: ['bad name'] } })).status, 400)
  assert.equal((await signed('POST', '/events', { body: { name: 'e', data: { not: 'a string' }, channels: ['c'] } })).status, 400)
  assert.equal((await signed('POST', '/events', { body: 'not json' })).status, 400)
  assert.equal((await signed('POST', '/events', { body: { name: 'e', data: 'x', channels: ['c'], socket_id: 'nope' } })).status, 400)
})

test('signatures: wrong secret, old or future timestamps, wrong body MD5 and unknown apps are refused', async () => {
  const body = { name: 'e', data: 'x', channels: ['sig-test'] }
  assert.equal((await signed('POST', '/events', { body })).status, 200)
  const wrong = await signed('POST', '/events', { body, secret: 'not-the-secret' })
  assert.equal(wrong.status, 401)
  assert.ok(!wrong.text.includes(app.secret))
  assert.equal((await signed('POST', '/events', { body, timestamp: Math.floor(Date.now() / 1000) - 601 })).status, 401)
  assert.equal((await signed('POST', '/events', { body, timestamp: Math.floor(Date.now() / 1000) + 601 })).status, 401)
  assert.equal((await signed('POST', '/events', { body, md5: '0'.repeat(32) })).status, 401)
  assert.equal((await signed('POST', '/events', { body, key: 'other-key' })).status, 401)
  assert.equal((await signed('POST', '/events', { body, appId: 'no-such-app' })).status, 404)
  const unsigned = await fetch(`${app.baseUrl}/apps/${app.appId}/channels`)
  assert.equal(unsigned.status, 401)
  // Replay protection is off by default: the SDK signs with 1-second timestamps, so identical calls share a signature.
  const now = Math.floor(Date.now() / 1000)
  assert.equal((await signed('GET', '/channels', { timestamp: now })).status, 200)
  assert.equal((await signed('GET', '/channels', { timestamp: now })).status, 200)
})

test('an event naming one bad channel among good ones is refused whole: nothing is published', async () => {
  const name = unique('all-or-nothing')
  const a = client(app)
  const channel = await subscribed(a, name)
  const seen = []
  channel.bind_global((event, data) => { if (!event.startsWith('pusher')) seen.push({ event, data }) })
  assert.equal((await signed('POST', '/events', { body: { name: 'partial', data: 'x', channels: [name, 'bad name!'] } })).status, 400)
  await sdk.trigger(name, 'marker', 'after')
  await waitFor(() => seen.some((s) => s.event === 'marker'), 5000, 'the marker event')
  assert.deepEqual(seen.map((s) => s.event), ['marker'])
})

