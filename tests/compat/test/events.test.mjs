// Real-time events between SDK instances on one object (WIRE 1.6): who receives what.
// Absence of an event is proven with a marker written afterwards: events of one object
// arrive in order, so once the marker is seen, an earlier event can no longer come.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connected, recorder, store, uid, waitFor } from '../lib/sdk.mjs'

async function pair () {
  const id = uid()
  const a = store({ id })
  const b = store({ id })
  const aSet = recorder(a, 'setItem')
  const bSet = recorder(b, 'setItem')
  const aRemove = recorder(a, 'removeItem')
  const bRemove = recorder(b, 'removeItem')
  const aMsg = recorder(a, 'message')
  const bMsg = recorder(b, 'message')
  await Promise.all([connected(a), connected(b)])
  return { id, a, b, aSet, bSet, aRemove, bRemove, aMsg, bMsg }
}

const props = (list) => list.map((e) => e.prop)

test('setItem events reach the other instance and the writer, with the item', async () => {
  const { a, aSet, bSet } = await pair()
  const item = await a.setItem('color', { hex: '#f00' })
  const got = await waitFor(() => bSet.find((e) => e.prop === 'color'), 5000, 'setItem on the other instance')
  assert.deepEqual(got.value, { hex: '#f00' })
  assert.equal(got.createdAt, item.createdAt)
  assert.equal(got.updatedAt, item.updatedAt)
  assert.equal(got.expiresAt, item.expiresAt)
  assert.equal(got.keyVersion, undefined)
  await waitFor(() => aSet.find((e) => e.prop === 'color'), 5000, 'setItem echoed to the writer')
})

test('removeItem events reach both instances', async () => {
  const { a, b, aRemove, bRemove } = await pair()
  await a.setItem('gone', 1)
  await b.removeItem('gone')
  await waitFor(() => aRemove.some((e) => e.prop === 'gone'), 5000, 'removeItem on the other instance')
  await waitFor(() => bRemove.some((e) => e.prop === 'gone'), 5000, 'removeItem on the remover')
})

test('a handler for one key only sees that key', async () => {
  const { a, b, bSet } = await pair()
  const only = recorder(b, 'setItem', 'watched')
  await a.setItem('other', 1)
  await a.setItem('watched', 2)
  await waitFor(() => props(bSet).includes('watched'), 5000, 'the watched key')
  await waitFor(() => only.length >= 1, 5000, 'the named handler')
  assert.deepEqual(props(only), ['watched'])
})

test('setItems emits one setItem per key; atomic ops emit setItem with the new value', async () => {
  const { a, bSet } = await pair()
  await a.setItems({ x: { value: 'X' }, y: { value: 'Y' } })
  await a.incrementItem('n', 3)
  await a.push('list', 'p')
  await a.merge('obj', { k: 1 })
  await a.setIn('deep', 'a.b', true)
  await a.splice('list', 0, 0, ['first'])
  const want = { x: 'X', y: 'Y', n: 3, obj: { k: 1 }, deep: { a: { b: true } } }
  await waitFor(() => Object.keys(want).every((k) => props(bSet).includes(k)) && bSet.filter((e) => e.prop === 'list').length >= 2, 5000, 'all setItem events')
  for (const [k, v] of Object.entries(want)) assert.deepEqual(bSet.find((e) => e.prop === k).value, v, `event value for ${k}`)
  assert.deepEqual(bSet.filter((e) => e.prop === 'list').map((e) => e.value), [['p'], ['first', 'p']])
})

test('removeItems emits one removeItem per named key, existing or not; clear one per existing key', async () => {
  const { a, bRemove } = await pair()
  await a.setItems({ k1: { value: 1 }, k2: { value: 2 }, k3: { value: 3 }, k4: { value: 4 } })
  await a.removeItems(['k1', 'never'])
  await waitFor(() => props(bRemove).includes('k1') && props(bRemove).includes('never'), 5000, 'removeItems events')
  await a.clear()
  await waitFor(() => ['k2', 'k3', 'k4'].every((k) => props(bRemove).includes(k)), 5000, 'clear events')
  assert.deepEqual(props(bRemove).sort(), ['k1', 'k2', 'k3', 'k4', 'never'])
})

test('ifAbsent on an existing item emits no event', async () => {
  const { a, bSet } = await pair()
  await a.setItem('k', 'first')
  await a.setItem('k', 'second', { ifAbsent: true })
  await a.setItem('marker', true)
  await waitFor(() => props(bSet).includes('marker'), 5000, 'the marker event')
  assert.deepEqual(bSet.filter((e) => e.prop === 'k').map((e) => e.value), ['first'])
})

test('send over the socket reaches the other instance but not the sender', async () => {
  const { a, aMsg, bMsg } = await pair()
  await a.send({ chat: 'hi', n: 1 })
  const got = await waitFor(() => bMsg.find((m) => m.chat === 'hi'), 5000, 'message on the other instance')
  assert.deepEqual(got, { chat: 'hi', n: 1 })
  // An HTTP message reaches the sender too; once it arrived, an echo of the socket one would have.
  await a.send({ marker: true }, { transport: 'http' })
  await waitFor(() => aMsg.some((m) => m.marker), 5000, 'the HTTP marker on the sender')
  assert.deepEqual(aMsg, [{ marker: true }], 'the sender must not receive its own socket message')
})

test('send over HTTP reaches every instance, the sender included', async () => {
  const { a, aMsg, bMsg } = await pair()
  await a.send({ via: 'http', list: [1, 2] }, { transport: 'http' })
  const onB = await waitFor(() => bMsg.find((m) => m.via === 'http'), 5000, 'HTTP message on the other instance')
  const onA = await waitFor(() => aMsg.find((m) => m.via === 'http'), 5000, 'HTTP message on the sender')
  assert.deepEqual(onB, { via: 'http', list: [1, 2] })
  assert.deepEqual(onA, { via: 'http', list: [1, 2] })
})

test('an instance on another object receives none of these events', async () => {
  const { a, bMsg, bRemove } = await pair()
  const outsider = store()
  const seenSet = recorder(outsider, 'setItem')
  const seenMsg = recorder(outsider, 'message')
  const seenRemove = recorder(outsider, 'removeItem')
  await connected(outsider)
  await a.setItem('k', 1)
  await a.removeItem('k')
  await a.send({ hello: 'http' }, { transport: 'http' })
  await a.send({ hello: 'ws' })
  // Only once the peer on a's object has everything, write the outsider's own marker.
  await waitFor(() => bRemove.length === 1 && bMsg.length === 2, 5000, "the peer's events")
  await outsider.setItem('own-marker', 1)
  await waitFor(() => props(seenSet).includes('own-marker'), 5000, "the outsider's own marker")
  assert.deepEqual(props(seenSet), ['own-marker'])
  assert.deepEqual(seenMsg, [])
  assert.deepEqual(seenRemove, [])
})

test('an instance that connects later sees later writes', async () => {
  const { a } = await pair()
  await a.setItem('before', 1)
  const late = store(a.id)
  const lateSet = recorder(late, 'setItem')
  await connected(late)
  await a.setItem('after', 2)
  await waitFor(() => props(lateSet).includes('after'), 5000, 'a write after connecting')
  assert.equal((await late.getItem('before'))?.value, 1)
})
