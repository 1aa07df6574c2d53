// Data survives a gateway restart (embedded mode, same data directory). This file starts
// its own gateway on its own port and data directory, so it runs in its own process: the
// SDK's base path is static and points at that gateway here, not at the shared one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ownGateway } from '../lib/own-gateway.mjs'
import { basic, http } from '../lib/http.mjs'
import { NonLocalStorage, setBasePath, uid } from '../lib/sdk.mjs'

const own = ownGateway('restart')
const creds = own.creds

const open = (id) => new NonLocalStorage(creds, { id, logLevel: 'error' })

test('items written before a graceful restart are read back after it', { timeout: 150_000 }, async () => {
  try {
    const id = uid()
    let gateway = await own.start({}, 'first.log')
    setBasePath(gateway.baseUrl)
    const first = open(id)
    const written = {
      text: await first.setItem('text', 'survives'),
      obj: await first.setItem('obj', { nested: [1, { two: 2 }] }),
      counter: await first.incrementItem('counter', 41),
      list: await first.push('list', 'first')
    }
    await first.setItem('zero', 0)
    await first.setItem('removed', 'gone soon')
    await first.removeItem('removed')
    assert.deepEqual((await first.getAllKeys()).sort(), ['counter', 'list', 'obj', 'text', 'zero'])

    const code = await gateway.stop('SIGTERM')
    assert.ok(code === 0 || code === null || code === 143, `gateway should stop cleanly on SIGTERM, exit code ${code} (log ${gateway.logFile})`)

    gateway = await own.start({}, 'second.log') // new port: point the SDK at it again
    setBasePath(gateway.baseUrl)
    const second = open(id)
    for (const [k, item] of Object.entries(written)) {
      const got = await second.getItem(k)
      assert.ok(got, `item ${k} lost across the restart`)
      assert.deepEqual(got.value, item.value, `value of ${k}`)
      assert.equal(got.createdAt, item.createdAt, `createdAt of ${k}`)
      assert.equal(got.updatedAt, item.updatedAt, `updatedAt of ${k}`)
      assert.equal(got.expiresAt, item.expiresAt, `expiresAt of ${k}`)
    }
    assert.deepEqual((await second.getAllKeys()).sort(), ['counter', 'list', 'obj', 'text', 'zero'], 'removed stays removed, the rest survives')
    // The SDK hides falsy values: check the 0 over raw HTTP.
    const zero = await http(gateway.baseUrl, 'GET', `/project/${creds.projectId}/cache/_undefined_/${id}/zero`, { headers: { Authorization: basic(creds.apiKey, creds.apiSecret) } })
    assert.equal(zero.status, 200, zero.exchange)
    assert.strictEqual(zero.json?.value, 0, zero.exchange)
    assert.equal((await second.incrementItem('counter')).value, 42, 'atomic ops continue from the persisted value')
    assert.deepEqual((await second.push('list', 'second')).value, ['first', 'second'])
  } catch (e) {
    own.markFailed()
    throw e
  }
})
