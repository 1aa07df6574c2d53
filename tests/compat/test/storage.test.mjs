// Key-value storage through the unmodified SDK: items, batches, prefixes, removal, TTL,
// conditional writes, unknown objects.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { describeError, rejection, store, uid, waitFor } from '../lib/sdk.mjs'

const HOUR = 3_600_000

function assertFreshItem (item, value, { ttl = HOUR, before, after = Date.now() } = {}) {
  assert.ok(item, 'item expected')
  assert.deepEqual(item.value, value)
  for (const f of ['createdAt', 'updatedAt', 'expiresAt']) {
    assert.equal(typeof item[f], 'number', `${f} should be a number: ${JSON.stringify(item)}`)
  }
  assert.ok(item.updatedAt >= before - 1000 && item.updatedAt <= after + 1000, `updatedAt should be ms now: ${item.updatedAt} not in [${before}, ${after}]`)
  assert.ok(Math.abs(item.expiresAt - item.updatedAt - ttl) <= 1000, `expiresAt should be updatedAt + ${ttl}: ${JSON.stringify(item)}`)
  assert.equal(item.keyVersion, undefined, 'keyVersion must be absent on plain items')
}

test('setItem returns the item with ms timestamps and the default 1 h ttl; getItem reads it back', async () => {
  const nls = store()
  const before = Date.now()
  const set = await nls.setItem('name', 'Ada')
  assertFreshItem(set, 'Ada', { before })
  assert.equal(set.createdAt, set.updatedAt, 'a first write has createdAt == updatedAt')
  const got = await nls.getItem('name')
  assertFreshItem(got, 'Ada', { before })
  assert.equal(got.createdAt, set.createdAt)
  assert.equal(got.updatedAt, set.updatedAt)
  assert.equal(got.expiresAt, set.expiresAt)
})

test('JSON values of every shape round-trip', async () => {
  const nls = store()
  const values = {
    str: 'text with ünïcødé ✓ and "quotes"',
    int: 42,
    neg: -7.25,
    big: 9007199254740991,
    yes: true,
    arr: [1, 'two', { three: 3 }, [4], null],
    obj: { a: 1, nested: { b: [true, false], c: null }, empty: {} }
  }
  for (const [k, v] of Object.entries(values)) await nls.setItem(k, v)
  for (const [k, v] of Object.entries(values)) {
    const got = await nls.getItem(k)
    assert.deepEqual(got?.value, v, `value of ${k}`)
  }
})

test('an overwrite keeps createdAt, moves updatedAt and expiresAt, replaces the value', async () => {
  const nls = store()
  const first = await nls.setItem('k', 'one')
  await waitFor(() => Date.now() > first.updatedAt + 2, 1000, 'the clock to move')
  const second = await nls.setItem('k', 'two', { ttl: 120_000 })
  assert.equal(second.value, 'two')
  assert.equal(second.createdAt, first.createdAt, 'overwrite must keep createdAt')
  assert.ok(second.updatedAt > first.updatedAt, `updatedAt must move: ${first.updatedAt} -> ${second.updatedAt}`)
  assert.ok(Math.abs(second.expiresAt - second.updatedAt - 120_000) <= 1000, `expiresAt should follow the new ttl: ${JSON.stringify(second)}`)
  assert.equal((await nls.getItem('k'))?.value, 'two')
})

test('keys with dots, colons, dashes, underscores and non-ASCII letters work', async () => {
  const nls = store()
  const keys = ['user:42.name', 'a-b_c', 'ключ', 'x'.repeat(200)]
  for (const k of keys) await nls.setItem(k, `v:${k}`)
  for (const k of keys) assert.equal((await nls.getItem(k))?.value, `v:${k}`, `key ${k}`)
  const all = await nls.getAllKeys()
  assert.deepEqual([...all].sort(), [...keys].sort())
})

test('objects are isolated by id and by class; any valid class works undeclared', async () => {
  const id = uid()
  const dflt = store({ id })
  const custom = store({ id, class: 'compat_Class-1' })
  const otherId = store()
  await dflt.setItem('k', 'default-class')
  await custom.setItem('k', 'custom-class')
  assert.equal((await dflt.getItem('k'))?.value, 'default-class')
  assert.equal((await custom.getItem('k'))?.value, 'custom-class')
  assert.equal(await otherId.getItem('k'), undefined)
})

test('setItems stores many and returns each with its value; getItems returns only the found ones', async () => {
  const nls = store()
  const before = Date.now()
  const res = await nls.setItems({ a: { value: 1 }, b: { value: { x: 'y' } }, c: { value: 'short', ttl: 60_000 } })
  assert.deepEqual(Object.keys(res).sort(), ['a', 'b', 'c'])
  assert.equal(res.a.value, 1)
  assert.deepEqual(res.b.value, { x: 'y' })
  assertFreshItem(res.c, 'short', { ttl: 60_000, before })
  assertFreshItem(res.a, 1, { before })
  const got = await nls.getItems(['a', 'c', 'missing'])
  assert.deepEqual(Object.keys(got).sort(), ['a', 'c'], `missing names must be left out: ${JSON.stringify(got)}`)
  assert.equal(got.a.value, 1)
  assert.equal(got.c.value, 'short')
  assert.equal(got.a.createdAt, res.a.createdAt)
})

test('getItems of names that do not exist gives nothing', async () => {
  const nls = store()
  await nls.setItem('present', 'p')
  assert.equal(await nls.getItems(['nope', 'neither']), undefined)
})

test('getAllItems returns everything, or only the keys with a prefix', async () => {
  const nls = store()
  await nls.setItems({
    'user:1': { value: 'u1' },
    'user:2': { value: 'u2' },
    'room:1': { value: 'r1' },
    user: { value: 'bare' }
  })
  const all = await nls.getAllItems()
  assert.deepEqual(Object.keys(all).sort(), ['room:1', 'user', 'user:1', 'user:2'])
  assert.equal(all['room:1'].value, 'r1')
  assert.equal(typeof all['room:1'].expiresAt, 'number')
  const users = await nls.getAllItems({ prefix: 'user:' })
  assert.deepEqual(Object.keys(users).sort(), ['user:1', 'user:2'])
  assert.equal(users['user:2'].value, 'u2')
  assert.equal(await nls.getAllItems({ prefix: 'nothing-' }), undefined)
})

test('getAllKeys lists keys, with and without a prefix', async () => {
  const nls = store()
  await nls.setItems({ 'p.a': { value: 1 }, 'p.b': { value: 2 }, q: { value: 3 } })
  assert.deepEqual([...(await nls.getAllKeys())].sort(), ['p.a', 'p.b', 'q'])
  assert.deepEqual([...(await nls.getAllKeys({ prefix: 'p.' }))].sort(), ['p.a', 'p.b'])
  assert.deepEqual(await nls.getAllKeys({ prefix: 'zzz' }), [])
})

test('removeItem deletes one key and tolerates a missing one', async () => {
  const nls = store()
  await nls.setItems({ a: { value: 1 }, b: { value: 2 } })
  await nls.removeItem('a')
  assert.equal(await nls.getItem('a'), undefined)
  assert.equal((await nls.getItem('b'))?.value, 2)
  await nls.removeItem('never-existed')
  assert.deepEqual(await nls.getAllKeys(), ['b'])
})

test('removeItems deletes the named keys only', async () => {
  const nls = store()
  await nls.setItems({ a: { value: 1 }, b: { value: 2 }, c: { value: 3 } })
  await nls.removeItems(['a', 'c', 'ghost'])
  assert.deepEqual(await nls.getAllKeys(), ['b'])
  assert.equal(await nls.getItem('a'), undefined)
})

test('clear empties the object', async () => {
  const nls = store()
  await nls.setItems({ a: { value: 1 }, b: { value: 2 } })
  await nls.clear()
  assert.deepEqual(await nls.getAllKeys(), [])
  assert.equal(await nls.getAllItems(), undefined)
  await nls.clear() // clearing an empty object is fine
  await nls.setItem('again', 'works')
  assert.equal((await nls.getItem('again'))?.value, 'works')
})

test('an item with a short ttl expires and disappears from every read', async () => {
  const nls = store()
  const set = await nls.setItem('ephemeral', 'soon gone', { ttl: 1500 })
  await nls.setItem('lasting', 'stays')
  assert.ok(Math.abs(set.expiresAt - set.updatedAt - 1500) <= 200, `expiresAt should be updatedAt + 1500: ${JSON.stringify(set)}`)
  assert.equal((await nls.getItem('ephemeral'))?.value, 'soon gone')
  await waitFor(async () => (await nls.getItem('ephemeral')) === undefined, 10_000, 'the item to expire')
  assert.ok(Date.now() >= set.expiresAt - 250, `item vanished ${set.expiresAt - Date.now()} ms before its expiresAt`)
  assert.deepEqual(await nls.getAllKeys(), ['lasting'])
  assert.deepEqual(Object.keys(await nls.getAllItems()), ['lasting'])
  assert.equal(await nls.getItems(['ephemeral']), undefined)
})

test('an instance-wide ttl option applies to its writes', async () => {
  const nls = store({ ttl: 90_000 })
  const set = await nls.setItem('k', 'v')
  assert.ok(Math.abs(set.expiresAt - set.updatedAt - 90_000) <= 1000, JSON.stringify(set))
})

test('ifAbsent writes only when the key is absent', async () => {
  const nls = store()
  const created = await nls.setItem('once', 'first', { ifAbsent: true })
  assert.equal(created?.value, 'first', 'ifAbsent on an absent key creates it')
  const second = await nls.setItem('once', 'second', { ifAbsent: true })
  // WIRE 1.1: 2xx with an empty body, which the SDK hands back as undefined.
  assert.equal(second, undefined, `ifAbsent on an existing key should answer with an empty body, SDK got ${JSON.stringify(second)}`)
  const got = await nls.getItem('once')
  assert.equal(got?.value, 'first')
  assert.equal(got.updatedAt, created.updatedAt, 'the existing item must be untouched')
})

test('updatedAt makes a write conditional: a match writes, a mismatch is a 409 conflict', async () => {
  const nls = store()
  const first = await nls.setItem('doc', { rev: 1 })
  const second = await nls.setItem('doc', { rev: 2 }, { updatedAt: first.updatedAt })
  assert.deepEqual(second.value, { rev: 2 })

  const e = await rejection(nls.setItem('doc', { rev: 'stale' }, { updatedAt: second.updatedAt - 1 }), 'stale conditional write')
  assert.equal(e?.cause?.code, 'conflictError.updatedAt.mismatch', `wrong rejection: ${describeError(e)}`)
  const got = await nls.getItem('doc')
  assert.deepEqual(got.value, { rev: 2 }, 'a rejected write must change nothing')
  assert.equal(got.updatedAt, second.updatedAt)
})

test('updatedAt on an absent item is a conflict and creates nothing', async () => {
  const nls = store()
  const e = await rejection(nls.setItem('absent', 'v', { updatedAt: Date.now() }), 'conditional write on absent key')
  assert.equal(e?.cause?.code, 'conflictError.updatedAt.mismatch', `wrong rejection: ${describeError(e)}`)
  assert.equal(await nls.getItem('absent'), undefined)
})

test('reads of an unknown object return empty results, not errors', async () => {
  const nls = store()
  assert.equal(await nls.getItem('anything'), undefined)
  assert.equal(await nls.getItems(['a', 'b']), undefined)
  assert.equal(await nls.getAllItems(), undefined)
  assert.equal(await nls.getAllItems({ prefix: 'x' }), undefined)
  assert.deepEqual(await nls.getAllKeys(), [])
  assert.deepEqual(await nls.getJoinedConnections(), [])
  await nls.removeItem('anything')
  await nls.clear()
})
