// Presence (WIRE 1.6): join/leave events, the joined list, leave on disconnect.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connected, recorder, socketOf, store, uid, waitFor } from '../lib/sdk.mjs'

async function member (id, options = {}) {
  const nls = store({ id, ...options })
  const joins = recorder(nls, 'presence:join')
  const leaves = recorder(nls, 'presence:leave')
  const messages = recorder(nls, 'message')
  const connectionId = await connected(nls)
  return { nls, joins, leaves, messages, connectionId }
}

const ids = (list) => list.map((c) => c.connectionId).sort()

/** Wait until an HTTP message sent now has reached `m`: everything published before it has too. */
async function flush (m, sender) {
  const tag = uid('flush')
  await sender.send({ flush: tag }, { transport: 'http' })
  await waitFor(() => m.messages.some((x) => x.flush === tag), 5000, 'the flush message')
}

test('join reaches everyone, the joiner included; the list holds only joined connections', async () => {
  const id = uid()
  const [a, b, c] = await Promise.all([member(id), member(id), member(id)])
  const before = Date.now()
  await a.nls.join({ name: 'Ada' })
  for (const m of [a, b, c]) {
    const ev = await waitFor(() => m.joins.find((j) => j.connectionId === a.connectionId), 5000, 'presence:join')
    assert.deepEqual(ev.data, { name: 'Ada' })
    assert.equal(typeof ev.joinedAt, 'number')
    assert.ok(ev.joinedAt >= before - 1000 && ev.joinedAt <= Date.now() + 1000, `joinedAt should be ms now: ${ev.joinedAt}`)
  }
  let list = await c.nls.getJoinedConnections()
  assert.deepEqual(list.map((x) => ({ connectionId: x.connectionId, data: x.data })), [{ connectionId: a.connectionId, data: { name: 'Ada' } }])
  assert.equal(typeof list[0].joinedAt, 'number')

  await b.nls.join({ name: 'Bob' })
  await waitFor(() => c.joins.some((j) => j.connectionId === b.connectionId), 5000, "b's join")
  list = await c.nls.getJoinedConnections()
  assert.deepEqual(ids(list), [a.connectionId, b.connectionId].sort(), 'c never joined and must not be listed')
})

test('leave reaches everyone with the stored join data and removes the entry', async () => {
  const id = uid()
  const [a, b] = await Promise.all([member(id), member(id)])
  await a.nls.join({ name: 'Ada', role: 'host' })
  await waitFor(() => b.joins.length === 1, 5000, 'the join')
  await a.nls.leave()
  const ev = await waitFor(() => b.leaves.find((l) => l.connectionId === a.connectionId), 5000, 'presence:leave on the other')
  assert.deepEqual(ev.data, { name: 'Ada', role: 'host' }, 'a leave carries the stored join data')
  await waitFor(() => a.leaves.some((l) => l.connectionId === a.connectionId), 5000, 'presence:leave on the leaver')
  assert.deepEqual(await b.nls.getJoinedConnections(), [])
})

test('joining again replaces the entry instead of adding one', async () => {
  const id = uid()
  const [a, b] = await Promise.all([member(id), member(id)])
  await a.nls.join({ v: 1 })
  await a.nls.join({ v: 2 })
  await waitFor(() => b.joins.filter((j) => j.connectionId === a.connectionId).length === 2, 5000, 'both joins')
  const list = await b.nls.getJoinedConnections()
  assert.equal(list.length, 1, JSON.stringify(list))
  assert.deepEqual(list[0].data, { v: 2 })
})

test('disconnect() while joined leaves exactly once', async () => {
  const id = uid()
  const [a, b] = await Promise.all([member(id), member(id)])
  await a.nls.join({ name: 'Ada' })
  await waitFor(() => b.joins.length === 1, 5000, 'the join')
  await a.nls.disconnect() // the SDK sends presence:leave, then closes the socket
  await waitFor(() => b.leaves.some((l) => l.connectionId === a.connectionId), 5000, 'the leave')
  await waitFor(async () => (await b.nls.getJoinedConnections()).length === 0, 5000, 'an empty list')
  await flush(b, b.nls)
  assert.equal(b.leaves.filter((l) => l.connectionId === a.connectionId).length, 1, 'explicit leave + close must be one leave')
})

test('a socket that drops while joined leaves', async () => {
  const id = uid()
  const a = await member(id, { connectionSettings: { autoReconnect: false } })
  const b = await member(id)
  await a.nls.join({ name: 'dropper' })
  await waitFor(() => b.joins.length === 1, 5000, 'the join')
  socketOf(a.nls).terminate() // no close frame, no presence:leave from the client
  const ev = await waitFor(() => b.leaves.find((l) => l.connectionId === a.connectionId), 10_000, 'the leave of a dropped socket')
  assert.deepEqual(ev.data, { name: 'dropper' })
  assert.deepEqual(await b.nls.getJoinedConnections(), [])
  await flush(b, b.nls)
  assert.equal(b.leaves.length, 1)
})

test('a newcomer gets no replay of earlier joins but sees them in the list', async () => {
  const id = uid()
  const a = await member(id)
  await a.nls.join({ name: 'early' })
  await waitFor(() => a.joins.length === 1, 5000, 'the own join')
  const late = await member(id)
  await flush(late, a.nls)
  assert.deepEqual(late.joins, [], 'no replay of earlier joins')
  assert.deepEqual(ids(await late.nls.getJoinedConnections()), [a.connectionId])
})

test('presence of one object is invisible on another', async () => {
  const a = await member(uid())
  const b = await member(uid())
  await a.nls.join({ here: true })
  await waitFor(() => a.joins.length === 1, 5000, 'the own join')
  assert.deepEqual(await b.nls.getJoinedConnections(), [])
})
