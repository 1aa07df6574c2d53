// The HTTP wire (WIRE 1.1-1.4) spoken with fetch, no SDK: what the SDK would hide
// (falsy values, absent keyVersion, empty bodies) and the error contract.
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { basic, bearer, http, jwtPayload } from '../lib/http.mjs'
import { cfg, uid, waitFor } from '../lib/sdk.mjs'

const C = '_undefined_' // the SDK's default class
let auth // Authorization header with a bearer token
let base // `/project/{projectId}`

const call = (method, path, opts = {}) => http(cfg.baseUrl, method, `${base}${path}`, { ...opts, headers: { Authorization: auth, ...opts.headers } })

function assertStatus (res, expected) {
  const ok = Array.isArray(expected) ? expected.includes(res.status) : typeof expected === 'function' ? expected(res.status) : res.status === expected
  assert.ok(ok, `unexpected status ${res.status}, wanted ${Array.isArray(expected) ? expected.join('|') : typeof expected === 'function' ? expected.toString() : expected}\n${res.exchange}`)
}

function assertErrorBody (res, status, code) {
  assertStatus(res, status)
  assert.ok(res.contentType.startsWith('application/json'), `error content-type should be application/json\n${res.exchange}`)
  assert.equal(typeof res.json?.message, 'string', `error body needs a string message\n${res.exchange}`)
  assert.equal(typeof res.json?.cause?.code, 'string', `error body needs cause.code\n${res.exchange}`)
  assert.match(res.json.cause.code, /^[a-z][A-Za-z]*Error\.[\w-]+\.[\w-]+/, `code should read <area>Error.<what>.<why>\n${res.exchange}`)
  if (code) assert.equal(res.json.cause.code, code, res.exchange)
}

const is2xx = (s) => s >= 200 && s < 300
const is4xx = (s) => s >= 400 && s < 500

before(async () => {
  base = `/project/${cfg.projectId}`
  const res = await http(cfg.baseUrl, 'GET', `${base}/auth/token`, { headers: { Authorization: basic(cfg.apiKey, cfg.apiSecret) } })
  assertStatus(res, 200)
  auth = bearer(res.text)
})

test('auth/token answers 200 text/plain with a JWT', async () => {
  const res = await http(cfg.baseUrl, 'GET', `${base}/auth/token`, { headers: { Authorization: basic(cfg.apiKey, cfg.apiSecret) } })
  assertStatus(res, 200)
  assert.ok(res.contentType.startsWith('text/plain'), `content-type should be text/plain\n${res.exchange}`)
  const p = jwtPayload(res.text)
  assert.ok(p.exp > Date.now() + 120_000, `exp must be ms, over 2 min ahead: ${p.exp}`)
})

test('falsy values 0, false, "" and null round-trip exactly', async () => {
  const id = uid()
  const values = { zero: 0, no: false, empty: '', nothing: null }
  for (const [k, v] of Object.entries(values)) {
    const res = await call('POST', `/cache/${C}/${id}/${k}`, { body: { value: v } })
    assertStatus(res, 200)
    assert.ok(Object.hasOwn(res.json ?? {}, 'value'), `write answer must contain value\n${res.exchange}`)
    assert.strictEqual(res.json.value, v, `write answer value for ${k}\n${res.exchange}`)
    const got = await call('GET', `/cache/${C}/${id}/${k}`)
    assertStatus(got, 200)
    assert.ok(Object.hasOwn(got.json ?? {}, 'value'), got.exchange)
    assert.strictEqual(got.json.value, v, `read value for ${k}\n${got.exchange}`)
  }
  const all = await call('GET', `/cache/${C}/${id}`)
  assertStatus(all, 200)
  for (const [k, v] of Object.entries(values)) assert.strictEqual(all.json?.[k]?.value, v, `map value for ${k}\n${all.exchange}`)
  const q = await call('POST', `/cache-query/${C}/${id}`, { body: Object.keys(values) })
  assertStatus(q, 200)
  for (const [k, v] of Object.entries(values)) assert.strictEqual(q.json?.[k]?.value, v, `query value for ${k}\n${q.exchange}`)
  const many = await call('POST', `/cache/${C}/${uid()}`, { body: { z: { value: 0 }, f: { value: false }, e: { value: '' }, n: { value: null } } })
  assertStatus(many, 200)
  assert.deepEqual(Object.fromEntries(Object.entries(many.json ?? {}).map(([k, it]) => [k, it.value])), { z: 0, f: false, e: '', n: null }, many.exchange)
})

test('plain items carry value and ms times, and no keyVersion anywhere', async () => {
  const id = uid()
  const t0 = Date.now()
  const set = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 'v' } })
  assertStatus(set, 200)
  assert.ok(set.contentType.startsWith('application/json'), set.exchange)
  const item = set.json
  assert.deepEqual(Object.keys(item).sort(), ['createdAt', 'expiresAt', 'updatedAt', 'value'], `item fields\n${set.exchange}`)
  assert.ok(item.createdAt >= t0 - 1000 && item.createdAt <= Date.now() + 1000, `createdAt in ms\n${set.exchange}`)
  assert.ok(Math.abs(item.expiresAt - item.updatedAt - 3_600_000) <= 1000, `default ttl 3,600,000 ms\n${set.exchange}`)
  const reads = [
    ['GET', `/cache/${C}/${id}/k`, undefined, (j) => j],
    ['GET', `/cache/${C}/${id}`, undefined, (j) => j.k],
    ['POST', `/cache-query/${C}/${id}`, ['k'], (j) => j.k],
    ['POST', `/cache/${C}/${id}/n/increment`, { value: 1 }, (j) => j],
    ['POST', `/cache/${C}/${id}`, { m: { value: 1 } }, (j) => j.m]
  ]
  for (const [method, path, body, pick] of reads) {
    const res = await call(method, path, { body })
    assertStatus(res, 200)
    const it = pick(res.json ?? {})
    assert.ok(it && Object.hasOwn(it, 'value'), `an item expected\n${res.exchange}`)
    assert.ok(!Object.hasOwn(it, 'keyVersion'), `keyVersion must be absent, not ${JSON.stringify(it.keyVersion)}\n${res.exchange}`)
  }
})

test('a missing item is 404 with no body; an expired one too', async () => {
  const id = uid()
  const res = await call('GET', `/cache/${C}/${id}/missing`)
  assertStatus(res, 404)
  assert.equal(res.text, '', `404 must have no body\n${res.exchange}`)
  const set = await call('POST', `/cache/${C}/${id}/brief`, { body: { value: 1, ttl: 300 } })
  assertStatus(set, 200)
  let got
  await waitFor(async () => (got = await call('GET', `/cache/${C}/${id}/brief`)).status === 404, 10_000, 'the item to expire')
  assertStatus(got, 404)
  assert.equal(got.text, '', `404 must have no body\n${got.exchange}`)
})

test('an unknown object reads as {}, [] and {} ', async () => {
  const id = uid()
  const all = await call('GET', `/cache/${C}/${id}`)
  assertStatus(all, 200)
  assert.deepEqual(all.json, {}, all.exchange)
  const pre = await call('GET', `/cache/${C}/${id}?prefix=a`)
  assertStatus(pre, 200)
  assert.deepEqual(pre.json, {}, pre.exchange)
  const keys = await call('GET', `/cache-keys/${C}/${id}`)
  assertStatus(keys, 200)
  assert.deepEqual(keys.json, [], keys.exchange)
  const q = await call('POST', `/cache-query/${C}/${id}`, { body: ['a', 'b'] })
  assertStatus(q, 200)
  assert.deepEqual(q.json, {}, q.exchange)
  const presence = await call('GET', `/presence-list/${C}/${id}`)
  assertStatus(presence, 200)
  assert.deepEqual(presence.json, [], presence.exchange)
})

test('Basic key:secret works on every endpoint, not only auth/token', async () => {
  const id = uid()
  const headers = { Authorization: basic(cfg.apiKey, cfg.apiSecret) }
  const set = await call('POST', `/cache/${C}/${id}/k`, { headers, body: { value: 'basic' } })
  assertStatus(set, 200)
  const get = await call('GET', `/cache/${C}/${id}/k`, { headers })
  assertStatus(get, 200)
  assert.equal(get.json?.value, 'basic', get.exchange)
})

test('bad credentials are 401 with {message, cause:{code}}', async () => {
  const wrongSecret = await http(cfg.baseUrl, 'GET', `${base}/auth/token`, { headers: { Authorization: basic(cfg.apiKey, 'not-the-secret') } })
  assertErrorBody(wrongSecret, 401)
  const unknownKey = await http(cfg.baseUrl, 'GET', `${base}/auth/token`, { headers: { Authorization: basic(`nokey-${uid()}`, 'x') } })
  assertErrorBody(unknownKey, 401)
  const id = uid()
  const garbage = await call('GET', `/cache/${C}/${id}/k`, { headers: { Authorization: 'Bearer not.a.jwt' } })
  assertErrorBody(garbage, 401)
  const [h, p] = auth.slice(7).split('.')
  const forged = await call('GET', `/cache/${C}/${id}/k`, { headers: { Authorization: `Bearer ${h}.${p}.${Buffer.from('forged').toString('base64url')}` } })
  assertErrorBody(forged, 401)
  const none = await http(cfg.baseUrl, 'GET', `${base}/cache/${C}/${id}/k`)
  assertErrorBody(none, 401)
  const badBasicWrite = await call('POST', `/cache/${C}/${id}/k`, { headers: { Authorization: basic(cfg.apiKey, 'wrong') }, body: { value: 1 } })
  assertErrorBody(badBasicWrite, 401)
  const after = await call('GET', `/cache/${C}/${id}/k`)
  assertStatus(after, 404)
})

test('malformed JSON is 400 and changes nothing', async () => {
  const id = uid()
  const first = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 'original' } })
  assertStatus(first, 200)
  for (const raw of ['{"value":', 'not json', '']) {
    const res = await call('POST', `/cache/${C}/${id}/k`, { rawBody: raw })
    assertErrorBody(res, 400)
  }
  const many = await call('POST', `/cache/${C}/${id}`, { rawBody: '{"a":{"value":1}' })
  assertErrorBody(many, 400)
  const del = await call('DELETE', `/cache/${C}/${id}`, { rawBody: '["k"' })
  assertErrorBody(del, 400)
  const got = await call('GET', `/cache/${C}/${id}/k`)
  assertStatus(got, 200)
  assert.equal(got.json.value, 'original', got.exchange)
  assert.equal(got.json.updatedAt, first.json.updatedAt, got.exchange)
  const keys = await call('GET', `/cache-keys/${C}/${id}`)
  assert.deepEqual(keys.json, ['k'], keys.exchange)
})

test('a ttl that is not a positive number is 400 and changes nothing', async () => {
  const id = uid()
  const first = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 'kept' } })
  assertStatus(first, 200)
  for (const ttl of [0, -5, 'soon', [1]]) {
    const res = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 'replaced', ttl } })
    assertErrorBody(res, 400)
  }
  const fresh = await call('POST', `/cache/${C}/${id}/other`, { body: { value: 1, ttl: -1 } })
  assertErrorBody(fresh, 400)
  const got = await call('GET', `/cache/${C}/${id}/k`)
  assert.equal(got.json?.value, 'kept', got.exchange)
  assert.equal(got.json?.updatedAt, first.json.updatedAt, got.exchange)
  assertStatus(await call('GET', `/cache/${C}/${id}/other`), 404)
})

test('an updatedAt mismatch is 409 conflictError.updatedAt.mismatch and changes nothing', async () => {
  const id = uid()
  const first = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 1 } })
  assertStatus(first, 200)
  const res = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 2, updatedAt: first.json.updatedAt - 1 } })
  assertErrorBody(res, 409, 'conflictError.updatedAt.mismatch')
  const op = await call('POST', `/cache/${C}/${id}/k/increment`, { body: { value: 1, updatedAt: first.json.updatedAt + 1 } })
  assertErrorBody(op, 409, 'conflictError.updatedAt.mismatch')
  const got = await call('GET', `/cache/${C}/${id}/k`)
  assert.equal(got.json?.value, 1, got.exchange)
  assert.equal(got.json?.updatedAt, first.json.updatedAt, got.exchange)
  const ok = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 3, updatedAt: first.json.updatedAt } })
  assertStatus(ok, 200)
  assert.equal(ok.json.value, 3, ok.exchange)
})

test('ifAbsent on an existing item answers 2xx with an empty body and keeps the item', async () => {
  const id = uid()
  const first = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 'first', ifAbsent: true } })
  assertStatus(first, 200)
  assert.equal(first.json?.value, 'first', first.exchange)
  const again = await call('POST', `/cache/${C}/${id}/k`, { body: { value: 'second', ifAbsent: true } })
  assertStatus(again, is2xx)
  assert.equal(again.text, '', `body must be empty\n${again.exchange}`)
  const got = await call('GET', `/cache/${C}/${id}/k`)
  assert.equal(got.json?.value, 'first', got.exchange)
})

test('an atomic op on the wrong type is a 4xx error body and changes nothing', async () => {
  const id = uid()
  const first = await call('POST', `/cache/${C}/${id}/s`, { body: { value: 'text' } })
  assertStatus(first, 200)
  const inc = await call('POST', `/cache/${C}/${id}/s/increment`, { body: { value: 1 } })
  assertErrorBody(inc, is4xx)
  const splice = await call('POST', `/cache/${C}/${id}/s/splice`, { body: { startIndex: 0, deleteCount: 1, items: [] } })
  assertErrorBody(splice, is4xx)
  const badStep = await call('POST', `/cache/${C}/${id}/n/increment`, { body: { value: 'one' } })
  assertErrorBody(badStep, is4xx)
  const got = await call('GET', `/cache/${C}/${id}/s`)
  assert.equal(got.json?.value, 'text', got.exchange)
  assert.equal(got.json?.updatedAt, first.json.updatedAt, got.exchange)
  assertStatus(await call('GET', `/cache/${C}/${id}/n`), 404)
})

test('invalid names are a 4xx error body, never a 5xx', async () => {
  const longClass = 'c'.repeat(65)
  const res1 = await call('GET', `/cache/${longClass}/${uid()}/k`)
  assertErrorBody(res1, is4xx)
  const res2 = await call('POST', `/cache/bad!class/${uid()}/k`, { body: { value: 1 } })
  assertErrorBody(res2, is4xx)
  const res3 = await call('POST', `/cache/${C}/${'i'.repeat(129)}/k`, { body: { value: 1 } })
  assertErrorBody(res3, is4xx)
  const res4 = await call('POST', `/cache/${C}/${uid()}/${'k'.repeat(257)}`, { body: { value: 1 } })
  assertErrorBody(res4, is4xx)
})

test('deletes answer 2xx: one key, named keys, and clear', async () => {
  const id = uid()
  assertStatus(await call('POST', `/cache/${C}/${id}`, { body: { a: { value: 1 }, b: { value: 2 }, c: { value: 3 } } }), 200)
  assertStatus(await call('DELETE', `/cache/${C}/${id}/a`), is2xx)
  assertStatus(await call('DELETE', `/cache/${C}/${id}`, { body: ['b', 'ghost'] }), is2xx)
  let keys = await call('GET', `/cache-keys/${C}/${id}`)
  assert.deepEqual(keys.json, ['c'], keys.exchange)
  assertStatus(await call('DELETE', `/cache/${C}/${id}`), is2xx)
  keys = await call('GET', `/cache-keys/${C}/${id}`)
  assert.deepEqual(keys.json, [], keys.exchange)
})

test('prefix filters on the map and the key list', async () => {
  const id = uid()
  assertStatus(await call('POST', `/cache/${C}/${id}`, { body: { 'a:1': { value: 1 }, 'a:2': { value: 2 }, b: { value: 3 } } }), 200)
  const map = await call('GET', `/cache/${C}/${id}?prefix=a:`)
  assert.deepEqual(Object.keys(map.json ?? {}).sort(), ['a:1', 'a:2'], map.exchange)
  const keys = await call('GET', `/cache-keys/${C}/${id}?prefix=b`)
  assert.deepEqual(keys.json, ['b'], keys.exchange)
})

test('an HTTP message is accepted as JSON and as text/plain', async () => {
  const id = uid()
  assertStatus(await call('POST', `/message/${C}/${id}`, { body: { hello: 'world' } }), is2xx)
  assertStatus(await call('POST', `/message/${C}/${id}`, { body: 'opaque-ciphertext', contentType: 'text/plain' }), is2xx)
})
