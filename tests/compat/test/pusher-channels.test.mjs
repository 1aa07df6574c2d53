// Pusher channels with the unmodified pusher-js client and pusher server SDK against the shared gateway:
// every channel type, presence, client events, cache channels, sign-in and user events.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { client, collect, connected, raw, server, sharedApp, socketIdOf, subscribed, unique, waitFor } from '../lib/pusher.mjs'

const app = sharedApp()
const sdk = server(app)

test('a public channel receives events triggered through the REST API', async () => {
  const name = unique('news')
  const pusher = client(app)
  const channel = await subscribed(pusher, name)
  const seen = collect(channel, 'headline')
  await sdk.trigger(name, 'headline', { title: 'hello', n: 1 })
  await waitFor(() => seen.length === 1, 5000, 'the event')
  assert.deepEqual(seen[0].data, { title: 'hello', n: 1 })
})

test('an event goes to several channels at once, and socket_id excludes its sender', async () => {
  const [a, b] = [unique('multi-a'), unique('multi-b')]
  const one = client(app)
  const two = client(app)
  const [oneA, twoA, twoB] = [await subscribed(one, a), await subscribed(two, a), await subscribed(two, b)]
  const [seenOneA, seenTwoA, seenTwoB] = [collect(oneA, 'e'), collect(twoA, 'e'), collect(twoB, 'e')]
  await sdk.trigger([a, b], 'e', 'first')
  await waitFor(() => seenOneA.length === 1 && seenTwoA.length === 1 && seenTwoB.length === 1, 5000, 'fan-out to both channels')
  await sdk.trigger(a, 'e', 'second', { socket_id: one.connection.socket_id })
  await sdk.trigger(a, 'e', 'third')
  await waitFor(() => seenTwoA.length === 3, 5000, 'the later events')
  await waitFor(() => seenOneA.length === 2, 5000, 'the third event on the excluded socket')
  assert.deepEqual(seenOneA.map((s) => s.data), ['first', 'third'])
})

test('a private channel needs a valid authorization', async () => {
  const name = unique('private-room')
  const good = client(app)
  const channel = await subscribed(good, name)
  const seen = collect(channel, 'secret')
  const bad = client(app, { authorizer: (socketId, channelName) => ({ auth: `${app.key}:${'0'.repeat(64)}` }) })
  const refused = await subscribed(bad, name).then(() => null, (e) => e)
  assert.ok(refused, 'a forged authorization must be refused')
  assert.equal(refused.data.type, 'AuthError')
  assert.equal(refused.data.status, 401)
  // The refused socket stays connected and usable.
  await subscribed(bad, unique('public-after-refusal'))
  await sdk.trigger(name, 'secret', { ok: true })
  await waitFor(() => seen.length === 1, 5000, 'the private event')
})

test('an authorization for another socket is refused', async () => {
  const name = unique('private-stolen')
  const victim = client(app)
  await connected(victim)
  const stolen = sdk.authorizeChannel(victim.connection.socket_id, name)
  const thief = client(app, { authorizer: () => stolen })
  const refused = await subscribed(thief, name).then(() => null, (e) => e)
  assert.equal(refused?.data?.type, 'AuthError')
})

test('presence counts each user once and tells members who comes and goes', async () => {
  const name = unique('presence-room')
  const alice = client(app, { presence: { user_id: 'alice', user_info: { name: 'Alice' } } })
  const aliceChannel = await subscribed(alice, name)
  assert.equal(aliceChannel.members.count, 1)
  const added = collect(aliceChannel, 'pusher:member_added')
  const removed = collect(aliceChannel, 'pusher:member_removed')

  const bob1 = client(app, { presence: { user_id: 'bob', user_info: { name: 'Bob' } } })
  const bobChannel = await subscribed(bob1, name)
  assert.equal(bobChannel.members.count, 2)
  assert.equal(bobChannel.members.get('alice').info.name, 'Alice')
  assert.equal(bobChannel.members.me.id, 'bob')
  await waitFor(() => added.length === 1, 5000, 'member_added for bob')
  assert.equal(added[0].data.id, 'bob')
  assert.equal(added[0].data.info.name, 'Bob')

  // A second socket of the same user: no member_added, still two users.
  const bob2 = client(app, { presence: { user_id: 'bob', user_info: { name: 'Bob' } } })
  await subscribed(bob2, name)
  const users = await (await sdk.get({ path: `/channels/${name}/users` })).json()
  assert.deepEqual(users.users.map((u) => u.id).sort(), ['alice', 'bob'])
  const info = await (await sdk.get({ path: `/channels/${name}`, params: { info: 'user_count,subscription_count' } })).json()
  assert.deepEqual(info, { occupied: true, user_count: 2, subscription_count: 3 })

  // One of bob's sockets leaves: bob stays. The last leaves: member_removed.
  bob1.disconnect()
  await waitFor(async () => (await (await sdk.get({ path: `/channels/${name}`, params: { info: 'subscription_count' } })).json()).subscription_count === 2, 5000, 'the first socket to leave')
  assert.equal(removed.length, 0)
  bob2.disconnect()
  await waitFor(() => removed.length === 1, 5000, 'member_removed for bob')
  assert.equal(removed[0].data.id, 'bob')
  assert.equal(aliceChannel.members.count, 1)
  assert.equal(added.length, 1)
})

test('client events reach the other members, never their sender, with user_id on presence channels', async () => {
  const name = unique('presence-chat')
  const alice = client(app, { presence: { user_id: 'alice-ce' } })
  const bob = client(app, { presence: { user_id: 'bob-ce' } })
  const [a, b] = [await subscribed(alice, name), await subscribed(bob, name)]
  const seenByBob = collect(b, 'client-typing')
  const seenByAlice = collect(a, 'client-typing')
  assert.equal(a.trigger('client-typing', { typing: true }), true)
  await waitFor(() => seenByBob.length === 1, 5000, 'the client event at bob')
  assert.deepEqual(seenByBob[0].data, { typing: true })
  assert.equal(seenByBob[0].metadata.user_id, 'alice-ce')
  // Alice's own event never comes back to her: send one from bob and check alice got only that.
  b.trigger('client-typing', { typing: false })
  await waitFor(() => seenByAlice.length === 1, 5000, 'bob\'s event at alice')
  assert.deepEqual(seenByAlice[0].data, { typing: false })
})

test('client events are refused on public channels, over the rate, and on encrypted channels', async () => {
  const socket = await raw(app)
  const socketId = await socketIdOf(socket)
  const publicName = unique('public-ce')
  socket.send({ event: 'pusher:subscribe', data: { channel: publicName } })
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === publicName)
  socket.send({ event: 'client-x', channel: publicName, data: {} })
  const refusal = await socket.next((f) => f.event === 'pusher:error')
  assert.match(refusal.data.message, /only supported on private and presence channels/)

  const encrypted = `private-encrypted-${unique('ce')}`
  const encryptingSdk = server(app, { encryptionMasterKeyBase64: Buffer.alloc(32, 1).toString('base64') })
  socket.send({ event: 'pusher:subscribe', data: { channel: encrypted, auth: encryptingSdk.authorizeChannel(socketId, encrypted).auth } })
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === encrypted)
  socket.send({ event: 'client-x', channel: encrypted, data: {} })
  assert.match((await socket.next((f) => f.event === 'pusher:error')).data.message, /not supported on encrypted channels/)

  const privateName = unique('private-rate')
  socket.send({ event: 'pusher:subscribe', data: { channel: privateName, auth: sdk.authorizeChannel(socketId, privateName).auth } })
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === privateName)
  for (let i = 0; i < 30; i++) socket.send({ event: 'client-burst', channel: privateName, data: { i } })
  const limited = await socket.next((f) => f.event === 'pusher:error' && f.data.code === 4301)
  assert.match(limited.data.message, /rate limit/)
  // Still connected: a ping is answered.
  socket.send({ event: 'pusher:ping', data: {} })
  await socket.next((f) => f.event === 'pusher:pong')
})

test('encrypted channels relay only ciphertext: pusher-js decrypts what the server SDK encrypted', async () => {
  const masterKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 7)).toString('base64')
  const encryptingSdk = server(app, { encryptionMasterKeyBase64: masterKey })
  const name = `private-encrypted-${unique('vault')}`
  const pusher = client(app, { sdk: encryptingSdk })
  const channel = await subscribed(pusher, name)
  const seen = collect(channel, 'note')

  // A raw subscriber sees exactly what the server relays.
  const socket = await raw(app)
  const socketId = await socketIdOf(socket)
  socket.send({ event: 'pusher:subscribe', data: { channel: name, auth: encryptingSdk.authorizeChannel(socketId, name).auth } })
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded')

  const plaintext = 'the launch code is 0000-PLAINTEXT-MARKER'
  await encryptingSdk.trigger(name, 'note', { text: plaintext })
  await waitFor(() => seen.length === 1, 5000, 'the decrypted event')
  assert.equal(seen[0].data.text, plaintext)
  const relayed = await socket.next((f) => f.event === 'note')
  assert.ok(!JSON.stringify(relayed).includes('PLAINTEXT-MARKER'), 'the server relayed plaintext')
  const envelope = JSON.parse(relayed.data)
  assert.ok(envelope.nonce && envelope.ciphertext, 'the relayed data is a {nonce, ciphertext} envelope')
})

test('cache channels give a new subscriber the last event, or a cache miss', async () => {
  const name = unique('cache-score')
  const first = client(app)
  const missChannel = first.subscribe(name)
  const misses = collect(missChannel, 'pusher:cache_miss')
  await waitFor(() => misses.length === 1, 5000, 'pusher:cache_miss on an empty cache channel')
  await sdk.trigger(name, 'score', { home: 1 })
  await sdk.trigger(name, 'score', { home: 2 })
  const later = client(app)
  const channel = later.subscribe(name)
  const seen = collect(channel, 'score')
  await waitFor(() => seen.length === 1, 5000, 'the cached event')
  assert.deepEqual(seen[0].data, { home: 2 })
})

test('a signed-in user gets events sent to them and is disconnected by terminate_connections', async () => {
  const userId = unique('user')
  const pusher = client(app, { user: { id: userId, name: 'Una' } })
  pusher.signin()
  await connected(pusher)
  const got = []
  pusher.user.bind('notice', (data) => got.push(data))
  await waitFor(async () => {
    await sdk.sendToUser(userId, 'notice', { n: got.length })
    return got.length > 0
  }, 10_000, 'a user event after sign-in')
  const errors = []
  pusher.connection.bind('error', (e) => errors.push(e))
  await sdk.terminateUserConnections(userId)
  await waitFor(() => ['disconnected', 'unavailable', 'failed'].includes(pusher.connection.state) || errors.length > 0, 10_000, 'the connection to be terminated')
})

test('subscription counts reach subscribers of a non-presence channel', async () => {
  const name = unique('counted')
  const one = client(app)
  const channel = await subscribed(one, name)
  const counts = collect(channel, 'pusher:subscription_count')
  const two = client(app)
  await subscribed(two, name)
  await waitFor(() => counts.some((c) => c.data.subscription_count === 2), 5000, 'subscription_count 2')
})
