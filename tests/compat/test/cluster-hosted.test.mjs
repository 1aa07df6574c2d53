// Cluster mode with nodes that are each a gateway and a silo in one process (Vault:Cluster:HostSilo), on PostgreSQL,
// joined by a gateway that is an Orleans client (the other topology) in the same cluster. Clients on any gateway see
// each other's changes, presence is counted once across nodes, and a node killed with SIGKILL costs no acknowledged
// write: its objects come back on the surviving node, whose own clients keep being served.
import { readFileSync } from 'node:fs'
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { cluster } from '../lib/cluster.mjs'
import { clusterApp } from '../lib/cluster-clients.mjs'
import { unique, waitFor } from '../lib/pusher.mjs'

const { env, setItem, getItem, openSocket, presenceAcross, steadyWrites } = clusterApp('hosted')
const c = await cluster('hosted', { onCleanup: after, env })

const setItemEvents = (frames) => frames.filter((f) => f.event === 'setItem').map((f) => f.payload.prop)

test('two nodes that each host a gateway and a silo form one cluster, and a client gateway joins it', { timeout: 240_000 }, async (t) => {
  t.after(() => { if (t.passed === false) c.markFailed() })
  await Promise.all([c.startNode(), c.startNode()])
  // Each node's silo sees both silos: the cluster has two members, not two separate embedded nodes.
  await c.waitForView(60_000)
  const client = await c.startGateway()
  const routes = new Set([...readFileSync(client.logFile, 'utf8').matchAll(/Direct routing: connected to silo (\S+)/g)].map((m) => m[1]))
  assert.equal(routes.size, 2, 'the client gateway routes to the silos of both nodes')
  for (const node of c.silos) {
    assert.doesNotMatch(readFileSync(node.logFile, 'utf8'), /Direct routing/, 'a node calls through its own silo, not through clients')
  }
})

test('writes through any gateway are stored once and pushed to sockets on every gateway', { timeout: 90_000 }, async () => {
  const gateways = c.gateways
  // Enough objects that both nodes' silos own some (objects are placed on their owner silo).
  const objects = Array.from({ length: 12 }, () => unique('shared'))
  const sockets = []
  for (const object of objects) {
    for (const gateway of gateways) sockets.push({ object, ...(await openSocket(gateway, object)) })
  }
  for (const [i, object] of objects.entries()) {
    assert.equal(await setItem(gateways[i % gateways.length], object, 'greeting', { hello: i }), 200)
  }
  await waitFor(() => sockets.every((s) => setItemEvents(s.frames).includes('greeting')), 20_000, 'the setItem event on every socket')
  for (const s of sockets) assert.deepEqual(setItemEvents(s.frames), ['greeting'], 'each write pushed once')
  for (const [i, object] of objects.entries()) {
    for (const gateway of gateways) assert.deepEqual(await getItem(gateway, object, 'greeting'), { hello: i })
  }
  for (const s of sockets) s.ws.close()
})

test('pusher presence across nodes: one user counted once, events through either node reach both', { timeout: 60_000 }, async () => {
  const [one, two] = c.gateways
  await presenceAcross(one, two)
})

test('a node killed with SIGKILL under a steady write load loses no acknowledged write; the other node keeps serving', { timeout: 180_000 }, async () => {
  const [survivor, doomed] = c.silos
  const others = c.gateways.filter((g) => g !== doomed)
  const objects = Array.from({ length: 8 }, () => unique('hosted-load'))
  // A subscriber per object on the surviving node: events keep coming once the objects are back.
  const watchers = []
  for (const object of objects) watchers.push({ object, ...(await openSocket(survivor, object)) })
  const { acknowledged, failed, stop } = steadyWrites(others, objects)
  await waitFor(() => acknowledged.length >= 40, 30_000, 'load before the kill')
  await doomed.stop('SIGKILL')
  c.silos.splice(c.silos.indexOf(doomed), 1)
  c.gateways.splice(c.gateways.indexOf(doomed), 1)
  const atKill = acknowledged.length
  // The dead node's objects activate on the survivor once it is declared dead; writes succeed again on every object.
  await waitFor(() => objects.every((o) => acknowledged.slice(atKill).some((a) => a.object === o)), 90_000, 'acknowledged writes on every object after the kill')
  await stop()
  for (const { object, key, value } of acknowledged) {
    assert.equal(await getItem(survivor, object, key), value, `acknowledged write ${object}/${key} lost`)
  }
  assert.ok(failed.every((f) => f.status !== 200))
  // A last write to each object reaches its watcher on the survivor.
  for (const object of objects) assert.equal(await setItem(survivor, object, 'last', 1), 200)
  await waitFor(() => watchers.every((w) => setItemEvents(w.frames).includes('last')), 30_000, 'events after the kill on every watcher')
  for (const w of watchers) w.ws.close()
})
