// End-to-end encryption with the unmodified SDK and a passphrase (WIRE 1.5): two clients round-trip values,
// messages and presence data; after a key rotation old and new values stay readable; the server only ever
// holds ciphertext (read back raw by a client without the passphrase).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cfg, connected, describeError, recorder, rejection, store, uid, waitFor } from '../lib/sdk.mjs'
import { basic, http } from '../lib/http.mjs'

const passphrase = 'correct horse battery staple'

/** What the server stores, read over plain HTTP without a passphrase. */
async function rawItem (id, key) {
  const res = await http(cfg.baseUrl, 'GET', `/project/${cfg.projectId}/cache/_undefined_/${id}/${key}`, { headers: { Authorization: basic(cfg.apiKey, cfg.apiSecret) } })
  assert.equal(res.status, 200, `raw read of ${key}: ${res.status}`)
  return res.json
}

async function pair () {
  const id = uid('e2ee')
  const a = store({ id, passphrase })
  const b = store({ id, passphrase })
  await a.getEncryptionSettings()
  await b.getEncryptionSettings()
  return { id, a, b }
}

test('values written with a passphrase are read back by another client and stored as ciphertext', async () => {
  const { id, a, b } = await pair()
  await a.setItem('secret', { pin: 'tiger-plain-1234' })
  assert.deepEqual((await b.getItem('secret'))?.value, { pin: 'tiger-plain-1234' })

  const raw = await rawItem(id, 'secret')
  assert.equal(typeof raw?.value, 'string', `the server holds an opaque string: ${JSON.stringify(raw)}`)
  assert.ok(!raw.value.includes('tiger-plain'), 'the stored value must not contain the plaintext')
  assert.equal(raw.keyVersion, 0)
})

test('messages and presence data are encrypted on the wire and decrypted by the other client', async () => {
  const { a, b } = await pair()
  const messages = recorder(b, 'message')
  const joins = recorder(b, 'presence:join')
  await connected(a)
  await connected(b)
  await a.send({ text: 'whisper-plain' })
  await waitFor(() => messages.find((m) => m?.text === 'whisper-plain'), 5000, 'the decrypted socket message')
  await a.send({ text: 'http-whisper-plain' }, { transport: 'http' })
  await waitFor(() => messages.find((m) => m?.text === 'http-whisper-plain'), 5000, 'the decrypted HTTP message')
  await a.join({ name: 'alice-plain' })
  const join = await waitFor(() => joins.find((j) => j?.data?.name === 'alice-plain'), 5000, 'the decrypted presence data')
  assert.equal(join.data.name, 'alice-plain')
})

test('after a key rotation new values use the new version and old ones stay readable for both clients', async () => {
  const { id, a, b } = await pair()
  await a.setItem('before', 'old-value-plain')
  const rotated = await a.rotateEncryption()
  assert.equal(rotated.encryptionSettings.keyVersion, 1)
  assert.equal(rotated.previousEncryptionSettings.length, 1)
  await a.setItem('after', 'new-value-plain')

  // b still holds version 0 settings: reading a version-1 value makes it fetch the new settings.
  assert.equal((await b.getItem('after'))?.value, 'new-value-plain')
  assert.equal((await b.getItem('before'))?.value, 'old-value-plain')
  await b.setItem('fromB', 'b-after-rotation')
  assert.equal((await a.getItem('fromB'))?.value, 'b-after-rotation')

  assert.equal((await rawItem(id, 'after'))?.keyVersion, 1)
  for (const key of ['before', 'after', 'fromB']) {
    const item = await rawItem(id, key)
    assert.ok(!String(item?.value).includes('plain') && !String(item?.value).includes('b-after'), `${key} is stored as ciphertext`)
  }
})

test('a class that requires end-to-end encryption takes encrypted writes only and refuses atomic operations', async () => {
  const id = uid('sealed')
  const a = store({ id, class: 'sealed', passphrase })
  const b = store({ id, class: 'sealed', passphrase })
  await a.getEncryptionSettings()
  await b.getEncryptionSettings()
  await a.setItem('k', { sealed: true })
  assert.deepEqual((await b.getItem('k'))?.value, { sealed: true })
  const messages = recorder(b, 'message')
  await connected(b)
  await a.send({ text: 'sealed-message' }, { transport: 'http' })
  await waitFor(() => messages.find((m) => m?.text === 'sealed-message'), 5000, 'the encrypted message')

  // Atomic operations travel in plaintext even with a passphrase: refused here.
  const atomic = await rejection(a.incrementItem('counter', 1), 'incrementItem in an E2EE class')
  assert.equal(atomic?.cause?.code, 'encryptionError.atomic.refused', describeError(atomic))

  // A client without the passphrase cannot write plaintext into the class.
  const plain = store({ id, class: 'sealed' })
  const refused = await rejection(plain.setItem('plain', 'visible'), 'plaintext setItem in an E2EE class')
  assert.equal(refused?.cause?.code, 'encryptionError.required', describeError(refused))
})
