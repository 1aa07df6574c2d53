// Atomic operations (WIRE 1.3) through the SDK: incrementItem, decrementItem, push,
// splice, merge, setIn; concurrency; wrong types change nothing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { describeError, rejection, store, uid } from '../lib/sdk.mjs'

test('incrementItem / decrementItem start an absent key at 0 and return the new item', async () => {
  const nls = store()
  const a = await nls.incrementItem('counter')
  assert.equal(a.value, 1, 'default step is 1 from 0')
  assert.equal(typeof a.expiresAt, 'number')
  assert.equal(a.keyVersion, undefined)
  assert.equal((await nls.incrementItem('counter', 5)).value, 6)
  assert.equal((await nls.decrementItem('counter', 2)).value, 4)
  assert.equal((await nls.incrementItem('counter', 0.5)).value, 4.5)
  assert.equal((await nls.getItem('counter'))?.value, 4.5)
  assert.equal((await nls.decrementItem('fresh')).value, -1, 'decrement of an absent key gives -1')
})

test('increment keeps createdAt and honours ttl and updatedAt', async () => {
  const nls = store()
  const first = await nls.incrementItem('c', 1, { ttl: 60_000 })
  assert.ok(Math.abs(first.expiresAt - first.updatedAt - 60_000) <= 1000, JSON.stringify(first))
  const second = await nls.incrementItem('c', 1, { updatedAt: first.updatedAt })
  assert.equal(second.value, 2)
  assert.equal(second.createdAt, first.createdAt)
  const e = await rejection(nls.incrementItem('c', 1, { updatedAt: second.updatedAt - 1 }), 'increment with stale updatedAt')
  assert.equal(e?.cause?.code, 'conflictError.updatedAt.mismatch', describeError(e))
  assert.equal((await nls.getItem('c'))?.value, 2)
})

test('many concurrent increments from several instances are all counted, each seeing a distinct value', async () => {
  const id = uid()
  const clients = Array.from({ length: 4 }, () => store({ id }))
  const perClient = 20
  const results = await Promise.all(clients.flatMap((c) => Array.from({ length: perClient }, () => c.incrementItem('hits'))))
  const total = clients.length * perClient
  assert.equal((await clients[0].getItem('hits'))?.value, total, 'lost updates')
  const seen = results.map((r) => r.value).sort((x, y) => x - y)
  assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i + 1), 'every increment must observe its own result')
})

test('push appends, creating the array when absent', async () => {
  const nls = store()
  assert.deepEqual((await nls.push('list', 'a')).value, ['a'])
  assert.deepEqual((await nls.push('list', { b: 2 })).value, ['a', { b: 2 }])
  assert.deepEqual((await nls.push('list', ['nested'])).value, ['a', { b: 2 }, ['nested']])
  assert.deepEqual((await nls.getItem('list'))?.value, ['a', { b: 2 }, ['nested']])
})

test('splice follows Array.prototype.splice, negative startIndex included', async () => {
  const nls = store()
  await nls.setItem('arr', ['a', 'b', 'c', 'd', 'e'])
  assert.deepEqual((await nls.splice('arr', 1, 2, ['x'])).value, ['a', 'x', 'd', 'e'])
  assert.deepEqual((await nls.splice('arr', -1, 1)).value, ['a', 'x', 'd'])
  assert.deepEqual((await nls.splice('arr', -2, 0, ['y', 'z'])).value, ['a', 'y', 'z', 'x', 'd'])
  assert.deepEqual((await nls.splice('arr', 10, 0, ['end'])).value, ['a', 'y', 'z', 'x', 'd', 'end'])
  assert.deepEqual((await nls.getItem('arr'))?.value, ['a', 'y', 'z', 'x', 'd', 'end'])
})

test('merge is shallow and creates the object when absent', async () => {
  const nls = store()
  assert.deepEqual((await nls.merge('obj', { a: 1, n: { x: 1 } })).value, { a: 1, n: { x: 1 } })
  assert.deepEqual((await nls.merge('obj', { b: 2 })).value, { a: 1, b: 2, n: { x: 1 } })
  assert.deepEqual((await nls.merge('obj', { n: { y: 2 }, a: null })).value, { a: null, b: 2, n: { y: 2 } })
  assert.deepEqual((await nls.getItem('obj'))?.value, { a: null, b: 2, n: { y: 2 } })
})

test('setIn sets a nested value by dotted or array path, creating intermediate objects', async () => {
  const nls = store()
  assert.deepEqual((await nls.setIn('cfg', 'a.b.c', 1)).value, { a: { b: { c: 1 } } })
  assert.deepEqual((await nls.setIn('cfg', ['a', 'd'], [true])).value, { a: { b: { c: 1 }, d: [true] } })
  assert.deepEqual((await nls.setIn('cfg', 'a.b.c', { deep: 'er' })).value, { a: { b: { c: { deep: 'er' } }, d: [true] } })
  await nls.setItem('existing', { keep: 'me' })
  assert.deepEqual((await nls.setIn('existing', 'x.y', 0)).value, { keep: 'me', x: { y: 0 } })
})

test('an atomic op on the wrong type is refused and changes nothing', async () => {
  const nls = store()
  const str = await nls.setItem('s', 'not a number')
  const num = await nls.setItem('n', 5)
  const e1 = await rejection(nls.incrementItem('s', 1), 'increment of a string')
  assert.equal(typeof e1?.cause?.code, 'string', `error body should carry cause.code: ${describeError(e1)}`)
  await rejection(nls.splice('n', 0, 1, []), 'splice of a number')
  await rejection(nls.push('n', 1), 'push onto a number')
  await rejection(nls.merge('n', { a: 1 }), 'merge into a number')
  const s = await nls.getItem('s')
  assert.equal(s.value, 'not a number')
  assert.equal(s.updatedAt, str.updatedAt)
  const n = await nls.getItem('n')
  assert.equal(n.value, 5)
  assert.equal(n.updatedAt, num.updatedAt)
})
