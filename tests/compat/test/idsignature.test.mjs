// Object-ID signatures (Vaultrice SF2): the class "signed" requires them; the SDK passes idSignature
// (HTTP X-Id-Sig, socket query idSignature). The app's backend signs with node:crypto, as docs/protocol.md shows.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto'
import { connected, describeError, recorder, rejection, store, uid, waitFor } from '../lib/sdk.mjs'

const privateKey = createPrivateKey(process.env.VAULT_IDSIG_KEY)

/** What an app backend does: ECDSA P-256, SHA-256, IEEE P1363 (r||s), base64url. */
function signId (id, key = privateKey) {
  return sign('sha256', Buffer.from(id, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')
}

test('an SDK instance with a valid id signature reads, writes and gets events on a signed class', async () => {
  const id = uid('signed')
  const a = store({ id, class: 'signed', idSignature: signId(id), idSignatureKeyVersion: 1 })
  const b = store({ id, class: 'signed', idSignature: signId(id) }) // no version: the class's current key
  const seen = recorder(b, 'setItem')
  await connected(b)
  await a.setItem('k', { signed: true })
  assert.deepEqual((await b.getItem('k'))?.value, { signed: true })
  await waitFor(() => seen.find((e) => e.prop === 'k'), 5000, 'the setItem event on the signed socket')
})

test('without a signature, or with another key\'s, the SDK is refused with the id signature codes', async () => {
  const id = uid('signed')
  const unsigned = store({ id, class: 'signed' })
  const e1 = await rejection(unsigned.setItem('k', 1), 'setItem without idSignature')
  assert.equal(e1?.cause?.code, 'authorizationError.idSignature.missing', describeError(e1))

  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  const forged = store({ id, class: 'signed', idSignature: signId(id, stranger) })
  const e2 = await rejection(forged.setItem('k', 1), 'setItem with a forged idSignature')
  assert.equal(e2?.cause?.code, 'authorizationError.idSignature.invalid', describeError(e2))

  const reused = store({ id: `${id}-other`, class: 'signed', idSignature: signId(id) })
  const e3 = await rejection(reused.getItem('k'), 'a signature reused for another id')
  assert.equal(e3?.cause?.code, 'authorizationError.idSignature.invalid', describeError(e3))

  // Nothing reached the object.
  const reader = store({ id, class: 'signed', idSignature: signId(id) })
  assert.equal(await reader.getItem('k'), undefined)
})
