// Cluster mode with real processes: PostgreSQL, 2 standalone silos and 2 gateways (Orleans clients) on loopback.
// Clients on different gateways see each other's changes (Vaultrice SDK and pusher-js), presence is counted once
// across gateways, a killed gateway's members leave within the feed lease, a killed silo costs no stored data.
import { readFileSync } from 'node:fs'
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { cluster } from '../lib/cluster.mjs'
import { clusterApp } from '../lib/cluster-clients.mjs'
import { client as pusherClient, collect, server as pusherServer, subscribed, unique, waitFor } from '../lib/pusher.mjs'
import { assertExactlyOnceInOrder, startProbe } from '../lib/probe.mjs'

const { creds, env, basic, appOn, setItem, getItem, openSocket, presenceAcross, steadyWrites } = clusterApp('cluster')
const c = await cluster('cluster', { onCleanup: after, env })

test('two silos and two gateways start on PostgreSQL after the migration', { timeout: 240_000 }, async (t) => {
  t.after(() => { if (t.passed === false) c.markFailed() })
  assert.match(c.migrateOutput, /applied 001_orleans_clustering.sql/)
  await Promise.all([c.startSilo(), c.startSilo()])
  await Promise.all([c.startGateway(), c.startGateway()])
  // A silo logs that it is ready as it joins; its row turns Active (3) in the membership table moments later.
  const active = () => c.pg.query(c.database.match(/Database=([^;]+)/)[1], `SELECT count(*) FROM orleansmembershiptable WHERE status = 3 AND deploymentid = '${c.env.Vault__Silo__ClusterId}'`).trim()
  await waitFor(() => active() === '2', 30_000, 'two active silos in the membership table')
  assert.equal(active(), '2')
  // Every silo sees both, and every gateway has a direct route (its own Orleans client) to each silo.
  await c.waitForView(30_000)
  const routes = (g) => new Set([...readFileSync(g.logFile, 'utf8').matchAll(/Direct routing: connected to silo (\S+)/g)].map((m) => m[1])).size
  await waitFor(() => c.gateways.every((g) => routes(g) === 2), 30_000, 'direct routes from both gateways to both silos')
})

test('a write through one gateway is read and pushed through the other', { timeout: 60_000 }, async () => {
  const [one, two] = c.gateways
  const object = unique('shared')
  // A raw Vaultrice socket on gateway two (auth before upgrade, WIRE.md 1.6).
  const { ws, frames } = await openSocket(two, object)
  assert.equal(await setItem(one, object, 'greeting', { hello: 'cluster' }), 200)
  await waitFor(() => frames.some((f) => f.event === 'setItem' && f.payload?.prop === 'greeting'), 20_000, 'the setItem event on gateway two')
  assert.deepEqual(await getItem(two, object, 'greeting'), { hello: 'cluster' })
  ws.close()
})

test('pusher presence across gateways: members seen on both, one user counted once, REST from either', { timeout: 60_000 }, async () => {
  const [one, two] = c.gateways
  await presenceAcross(one, two)
})

test('a gateway killed with SIGKILL leaves no ghost members: they leave within the feed lease', { timeout: 90_000 }, async () => {
  const [one] = c.gateways
  const extra = await c.startGateway()
  const name = unique('presence-ghost')
  const watcher = pusherClient(appOn(one), { presence: { user_id: 'watcher' } })
  const channel = await subscribed(watcher, name)
  const removed = collect(channel, 'pusher:member_removed')
  const doomed = pusherClient(appOn(extra), { presence: { user_id: 'doomed' } })
  await subscribed(doomed, name)
  await waitFor(() => channel.members.count === 2, 20_000, 'both members')
  doomed.connection.bind('state_change', () => {}) // its reconnects go nowhere: the gateway is gone
  await extra.stop('SIGKILL')
  c.gateways.splice(c.gateways.indexOf(extra), 1)
  doomed.disconnect()
  await waitFor(() => removed.some((r) => r.data.id === 'doomed'), 30_000, 'member_removed after the lease lapsed')
  const users = await (await pusherServer(appOn(one)).get({ path: `/channels/${name}/users` })).json()
  assert.deepEqual(users.users.map((u) => u.id), ['watcher'])
  watcher.disconnect()
})

test('shared-object presence: a member whose gateway is killed leaves within the feed lease', { timeout: 90_000 }, async () => {
  const [one] = c.gateways
  const extra = await c.startGateway()
  const object = unique('presence-object')
  const watcher = await openSocket(one, object)
  const doomed = await openSocket(extra, object)
  doomed.ws.send(JSON.stringify({ event: 'presence:join', payload: { name: 'doomed' } }))
  await waitFor(() => watcher.frames.some((f) => f.event === 'presence:join'), 20_000, 'the join seen through the other gateway')
  await extra.stop('SIGKILL')
  c.gateways.splice(c.gateways.indexOf(extra), 1)
  await waitFor(() => watcher.frames.some((f) => f.event === 'presence:leave'), 30_000, 'presence:leave after the feed lease lapsed')
  const presence = await (await fetch(`${one.baseUrl}/project/${creds.projectId}/presence-list/notes/${object}`, { headers: { authorization: basic } })).json()
  assert.deepEqual(presence, [])
  watcher.ws.close()
})

test('behind the proxy, pusher-js clients whose gateway dies reconnect to another and keep receiving', { timeout: 120_000 }, async () => {
  const spare = await c.startGateway()
  const proxy = await c.startProxy([c.gateways[0], spare])
  const app = appOn(proxy)
  const name = unique('behind-proxy')
  const clients = [0, 1, 2, 3].map(() => pusherClient(app))
  const seen = await Promise.all(clients.map(async (p) => collect(await subscribed(p, name), 'tick')))
  await pusherServer(app).trigger(name, 'tick', { n: 1 })
  await waitFor(() => seen.every((s) => s.length === 1), 20_000, 'every client through the proxy')
  // Round-robin spread the four sockets over both gateways: killing one drops some of them.
  await spare.stop('SIGKILL')
  c.gateways.splice(c.gateways.indexOf(spare), 1)
  await waitFor(async () => {
    await pusherServer(app).trigger(name, 'tick', { n: 2 })
    return seen.every((s) => s.some((e) => e.data.n === 2))
  }, 60_000, 'every client, reconnected, receiving again')
  for (const p of clients) p.disconnect()
})

test('a Vaultrice connection whose gateway dies resumes through another gateway without a gap', { timeout: 90_000 }, async () => {
  const [one] = c.gateways
  const doomedGateway = await c.startGateway()
  const object = unique('resume-across')
  const props = (frames) => frames.filter((f) => f.event === 'setItem').map((f) => f.payload.prop)
  const first = await openSocket(doomedGateway, object)
  for (let i = 0; i < 5; i++) assert.equal(await setItem(one, object, `k${i}`, i), 200)
  await waitFor(() => props(first.frames).length === 5, 20_000, 'the first five events')
  await doomedGateway.stop('SIGKILL')
  c.gateways.splice(c.gateways.indexOf(doomedGateway), 1)
  for (let i = 5; i < 10; i++) assert.equal(await setItem(one, object, `k${i}`, i), 200)

  const second = await openSocket(one, object)
  second.ws.send(JSON.stringify({ event: 'resume', connectionId: first.id }))
  await waitFor(() => second.frames.some((f) => f.event === 'resume:ack'), 20_000, 'resume:ack through the other gateway')
  await waitFor(() => ['k5', 'k6', 'k7', 'k8', 'k9'].every((k) => props(second.frames).includes(k)), 20_000, 'the events missed while no gateway held the connection')
  const seen = new Set([...props(first.frames), ...props(second.frames)])
  assert.deepEqual([...seen].sort(), Array.from({ length: 10 }, (_, i) => `k${i}`).sort(), 'no gap')
  second.ws.close()
})

test('native clients whose gateway dies resume by sequence through the proxy: no gap, no duplicate', { timeout: 120_000 }, async () => {
  const [one] = c.gateways
  const doomed = await c.startGateway()
  const proxy = await c.startProxy([doomed, one])
  const object = unique('native-resume')
  const keys = (p) => p.events.filter((e) => e.kind === 'SetItem').map((e) => e.key)
  // Tokens come from `one`, so only the hub connections go through the proxy: round-robin puts two on each gateway.
  const probes = []
  for (let i = 0; i < 4; i++) {
    probes.push(await startProbe({ url: proxy.baseUrl, tokenUrl: one.baseUrl, creds, cls: 'notes', object, protocol: i % 2 ? 'messagepack' : 'json', onCleanup: after }))
  }
  for (let i = 0; i < 5; i++) assert.equal(await setItem(one, object, `k${i}`, i), 200)
  await waitFor(() => probes.every((p) => keys(p).length === 5), 20_000, 'the first five events at every probe')

  await doomed.stop('SIGKILL')
  c.gateways.splice(c.gateways.indexOf(doomed), 1)
  for (let i = 5; i < 25; i++) assert.equal(await setItem(one, object, `k${i}`, i), 200)
  await waitFor(() => probes.every((p) => keys(p).length >= 25), 60_000, 'every write at every probe')
  assert.ok(probes.filter((p) => p.reconnects > 0).length >= 2, 'the probes on the killed gateway reconnected')
  for (const p of probes) {
    assert.deepEqual(keys(p), Array.from({ length: 25 }, (_, i) => `k${i}`), 'every event once, in order')
    assertExactlyOnceInOrder(assert, p.events)
    p.stop()
  }
})

test('a silo killed with SIGKILL under a steady write load loses no acknowledged write; the cluster keeps serving', { timeout: 180_000 }, async () => {
  const gateways = c.gateways
  const objects = Array.from({ length: 8 }, () => unique('load'))
  // A native subscriber of one of the objects: across the kill it must end up with every acknowledged write, from
  // events (exactly once, in order) or, when the object lost unsealed history, from the refetch it was told to do.
  const probe = await startProbe({ url: gateways[0].baseUrl, creds, cls: 'notes', object: objects[0], onCleanup: after })
  // Presence that must survive the kill exactly: on each object one member per gateway (live sockets, so they must
  // stay, once each), and one Pusher presence channel with a user on each gateway.
  const members = []
  for (const object of objects) {
    for (const [g, gateway] of gateways.entries()) {
      const socket = await openSocket(gateway, object)
      socket.ws.send(JSON.stringify({ event: 'presence:join', payload: { name: `g${g}` } }))
      members.push({ object, socket })
    }
  }
  const presenceOf = async (object) => (await (await fetch(`${gateways[0].baseUrl}/project/${creds.projectId}/presence-list/notes/${object}`, { headers: { authorization: basic } })).json())
  const expected = (object) => members.filter((m) => m.object === object).map((m) => m.socket.id).sort()
  await waitFor(async () => (await Promise.all(objects.map(async (o) => JSON.stringify((await presenceOf(o)).map((p) => p.connectionId).sort()) === JSON.stringify(expected(o))))).every(Boolean), 20_000, 'every member joined')
  const channelName = unique('presence-silo')
  const pusherUsers = gateways.map((g, i) => pusherClient(appOn(g), { presence: { user_id: `user${i}` } }))
  await Promise.all(pusherUsers.map((p) => subscribed(p, channelName)))
  const { acknowledged, failed, stop } = steadyWrites(gateways, objects)
  await waitFor(() => acknowledged.length >= 40, 30_000, 'load before the kill')
  await c.silos[0].stop('SIGKILL')
  c.silos.shift()
  const atKill = acknowledged.length
  // The objects reactivate on the surviving silo once the dead one is declared dead; writes succeed again.
  await waitFor(() => acknowledged.length >= atKill + 40, 90_000, 'acknowledged writes after the kill')
  await stop()
  for (const { object, key, value } of acknowledged) {
    assert.equal(await getItem(gateways[0], object, key), value, `acknowledged write ${object}/${key} lost`)
  }
  // What was not acknowledged was reported to its caller as an error status (never a silent success).
  assert.ok(failed.every((f) => f.status !== 200))
  const watched = acknowledged.filter((a) => a.object === objects[0]).map((a) => a.key)
  const known = () => new Set([...probe.refetched, ...probe.events.filter((e) => e.kind === 'SetItem').map((e) => e.key)])
  await waitFor(() => watched.every((k) => known().has(k)), 60_000, 'every acknowledged write of the watched object at the native subscriber')
  assertExactlyOnceInOrder(assert, probe.events)
  probe.stop()

  // Objects and channels that lived on the dead silo reactivated knowing nobody: each gateway's feed renewal gave
  // them their live connections back. Every member is there once, none twice, none missing.
  await waitFor(async () => (await Promise.all(objects.map(async (o) => JSON.stringify((await presenceOf(o)).map((p) => p.connectionId).sort()) === JSON.stringify(expected(o))))).every(Boolean),
    30_000, 'exact shared-object presence after the silo kill')
  await waitFor(async () => {
    const users = await (await pusherServer(appOn(gateways[0])).get({ path: `/channels/${channelName}/users` })).json()
    return JSON.stringify(users.users.map((u) => u.id).sort()) === JSON.stringify(['user0', 'user1'])
  }, 30_000, 'exact Pusher presence after the silo kill')
  for (const m of members) m.socket.ws.close()
  for (const p of pusherUsers) p.disconnect()
})

test('the whole cluster restarts with every item still there', { timeout: 180_000 }, async () => {
  const object = unique('restart')
  assert.equal(await setItem(c.gateways[0], object, 'kept', { across: 'restart' }), 200)
  await Promise.all(c.gateways.map((g) => g.stop()))
  await Promise.all(c.silos.map((s) => s.stop()))
  c.gateways.length = 0
  c.silos.length = 0
  await c.startSilo()
  const gateway = await c.startGateway()
  await waitFor(async () => JSON.stringify(await getItem(gateway, object, 'kept')) === JSON.stringify({ across: 'restart' }), 60_000, 'the item after the restart')
})
