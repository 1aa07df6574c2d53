// Access tokens: minted from apiKey/apiSecret, used by the SDK, times in milliseconds.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cfg, credentials, describeError, NonLocalStorage, rejection, retrieveAccessToken, store, uid } from '../lib/sdk.mjs'
import { jwtPayload } from '../lib/http.mjs'

test('retrieveAccessToken returns a JWT whose exp/iat are milliseconds and leave over 2 minutes', async () => {
  const before = Date.now()
  const token = await retrieveAccessToken(cfg.projectId, cfg.apiKey, cfg.apiSecret)
  assert.equal(typeof token, 'string', `token should be a string, got ${typeof token}`)
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]*$/, 'token should be a compact JWT')
  const p = jwtPayload(token)
  assert.equal(typeof p.exp, 'number', `exp should be a number: ${JSON.stringify(p)}`)
  // The SDK refuses a token with less than 2 minutes left, reading exp as milliseconds.
  assert.ok(p.exp - before >= 150_000 - 5_000, `exp must be ms and at least ~150 s ahead: exp=${p.exp} now=${before}`)
  assert.ok(p.exp < before + 10 * 365 * 24 * 3600 * 1000, `exp is implausibly far ahead: ${p.exp}`)
  if (p.iat !== undefined) assert.ok(Math.abs(p.iat - before) < 5 * 60_000, `iat should be ms near now: iat=${p.iat} now=${before}`)
  if (p.nbf !== undefined) assert.ok(p.nbf <= Date.now() + 60_000 && p.nbf > before - 10 * 60_000, `nbf should be ms near now: ${p.nbf}`)
})

test('the static NonLocalStorage.retrieveAccessToken works the same way', async () => {
  const token = await NonLocalStorage.retrieveAccessToken(cfg.projectId, cfg.apiKey, cfg.apiSecret)
  assert.equal(jwtPayload(token).exp > Date.now() + 120_000, true)
})

test('a wrong secret is refused with an error body carrying cause.code', async () => {
  const e = await rejection(retrieveAccessToken(cfg.projectId, cfg.apiKey, `${cfg.apiSecret}x`), 'token with wrong secret')
  // The SDK throws the server's JSON body {message, cause:{code}} as is.
  assert.equal(typeof e?.message, 'string', `rejection should carry a message: ${describeError(e)}`)
  assert.equal(typeof e?.cause?.code, 'string', `rejection should carry cause.code: ${describeError(e)}`)
})

test('an unknown api key is refused', async () => {
  const e = await rejection(retrieveAccessToken(cfg.projectId, `nokey-${uid()}`, cfg.apiSecret), 'token with unknown key')
  assert.equal(typeof e?.cause?.code, 'string', `rejection should carry cause.code: ${describeError(e)}`)
})

test('an SDK instance built from apiKey/apiSecret acquires a token and stores data', async () => {
  const nls = store()
  const item = await nls.setItem('greeting', 'hello')
  assert.equal(item.value, 'hello')
  const got = await nls.getItem('greeting')
  assert.equal(got?.value, 'hello')
})

test('an SDK instance built from a pre-minted accessToken works without the secret', async () => {
  const token = await retrieveAccessToken(cfg.projectId, cfg.apiKey, cfg.apiSecret)
  const id = uid()
  const nls = store({ id }, { projectId: cfg.projectId, accessToken: token })
  await nls.setItem('k', { via: 'token' })
  const other = store({ id }, credentials())
  const got = await other.getItem('k')
  assert.deepEqual(got?.value, { via: 'token' })
})

test('an SDK instance with a wrong secret cannot write', async () => {
  const nls = store({}, { ...credentials(), apiSecret: `${cfg.apiSecret}-wrong` })
  await rejection(nls.setItem('k', 'v'), 'setItem with a wrong secret')
})
