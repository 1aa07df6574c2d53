// createSyncObject: a proxy kept in sync over the socket and persisted over HTTP.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSyncObject, credentials, store, track, uid, waitFor } from '../lib/sdk.mjs'

async function sync (id) {
  const doc = track(await createSyncObject(credentials(), { id, logLevel: 'error' }))
  // createSyncObject resolves on socket open; the server registers it just before 'connected'.
  await waitFor(() => doc.__getNonLocalStorage().connectionId, 5000, "the sync object's 'connected' event")
  return doc
}

test('a sync object loads existing items on creation', async () => {
  const id = uid()
  await store(id).setItems({ title: { value: 'Board' }, count: { value: 3 } })
  const doc = await sync(id)
  assert.equal(doc.isConnected, true)
  assert.equal(doc.title, 'Board')
  assert.equal(doc.count, 3)
  assert.deepEqual(Object.keys(doc).filter((k) => ['title', 'count'].includes(k)).sort(), ['count', 'title'])
})

test('a property set on one sync object appears on another and is persisted', async () => {
  const id = uid()
  const [one, two] = [await sync(id), await sync(id)]
  one.color = 'teal'
  one.shape = { sides: 6 }
  await waitFor(() => two.color === 'teal' && two.shape?.sides === 6, 5000, 'the properties on the other sync object')
  const reader = store(id)
  await waitFor(async () => (await reader.getItem('color'))?.value === 'teal', 5000, 'the persisted value')
  delete two.color
  await waitFor(() => one.color === undefined, 5000, 'the deletion on the first sync object')
  await waitFor(async () => (await reader.getItem('color')) === undefined, 5000, 'the deletion persisted')
})

test('a write through the plain SDK updates a sync object', async () => {
  const id = uid()
  const doc = await sync(id)
  await store(id).incrementItem('visits', 7)
  await waitFor(() => doc.visits === 7, 5000, 'the sync object to see the increment')
})

test('joinedConnections of a sync object follow joins', async () => {
  const id = uid()
  const [one, two] = [await sync(id), await sync(id)]
  await one.join({ user: 'u1' })
  await waitFor(() => two.joinedConnections.some((c) => c.data?.user === 'u1'), 5000, 'the join on the other sync object')
  await one.leave()
  await waitFor(() => two.joinedConnections.length === 0, 5000, 'the leave on the other sync object')
})
