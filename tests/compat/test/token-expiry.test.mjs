// Token expiry with the shortest lifetime the SDK accepts (150 s, WIRE 1.4): the server closes the socket with
// 4001 when its token expires; the SDK has refreshed its token over HTTP meanwhile, reconnects with it and resumes,
// and the listener misses no event. Runs its own gateway (own port, own lifetime) beside the other test files.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ownGateway } from '../lib/own-gateway.mjs'
import { NonLocalStorage, setBasePath, uid, waitFor } from '../lib/sdk.mjs'

const own = ownGateway('expiry')
const creds = own.creds

test('an SDK listener carries on across its token\'s expiry without losing an event', { timeout: 280_000 }, async () => {
  try {
    const gateway = await own.start({ Vault__Auth__TokenLifetime: '00:02:30' })
    setBasePath(gateway.baseUrl)
    const id = uid('expiry')
    const listener = new NonLocalStorage(creds, { id, logLevel: 'error' })
    const writer = new NonLocalStorage(creds, { id, logLevel: 'error' })
    const seen = []
    let connects = 0
    let disconnects = 0
    listener.on('connect', () => { connects++ })
    listener.on('disconnect', () => { disconnects++ })
    listener.on('setItem', (e) => { if (e.prop === 'n') seen.push(e.value) })
    await listener.connect()
    await waitFor(() => listener.connectionId, 10_000, 'the listener to connect')

    // Past the 150 s lifetime of the socket's first token, one write a second.
    const started = Date.now()
    let n = 0
    while (Date.now() - started < 165_000) {
      await writer.setItem('n', ++n)
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }

    await waitFor(() => seen.length >= n && seen[seen.length - 1] === n, 20_000, `all ${n} events on the listener (have ${seen.length})`)
    const expected = Array.from({ length: n }, (_, i) => i + 1)
    assert.deepEqual(seen.filter((v, i) => seen.indexOf(v) === i), expected, 'every value once, in order')
    assert.ok(disconnects >= 1, `the socket should have been closed at its token's expiry (disconnects: ${disconnects})`)
    assert.ok(connects >= 1, `the SDK should have reconnected (connects: ${connects})`)
  } catch (e) {
    own.markFailed()
    throw e
  }
})
