// Origin allow-lists as the SDK meets them (Vaultrice SF1): minting for a browser origin from a backend with
// retrieveAccessToken(..., {origin}), the SDK's own hint when the origin is missing, and a refusal for an origin off
// the list. Runs its own gateway whose bootstrap key is restricted to one origin pattern.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ownGateway } from '../lib/own-gateway.mjs'
import { describeError, rejection, retrieveAccessToken, setBasePath } from '../lib/sdk.mjs'
import { http, jwtPayload } from '../lib/http.mjs'

const own = ownGateway('origins')
const creds = own.creds

test('tokens are minted only for listed origins, and carry the origin they were minted for', { timeout: 120_000 }, async () => {
  try {
    const gateway = await own.start({ Vault__Bootstrap__AllowedOrigins: 'https://app.example.com, https://*.example.org' })
    setBasePath(gateway.baseUrl)

    const missing = await rejection(retrieveAccessToken(creds.projectId, creds.apiKey, creds.apiSecret), 'minting without an origin')
    assert.equal(missing?.cause?.code, 'authorizationError.origin.server.notFound', describeError(missing))
    assert.match(missing.message, /pass the browser-origin/, 'the SDK recognises the code and explains it')

    const token = await retrieveAccessToken(creds.projectId, creds.apiKey, creds.apiSecret, { origin: 'https://app.example.com' })
    assert.equal(jwtPayload(token).origin, 'https://app.example.com')
    const sub = await retrieveAccessToken(creds.projectId, creds.apiKey, creds.apiSecret, { origin: 'https://eu.example.org' })
    assert.equal(jwtPayload(sub).origin, 'https://eu.example.org')

    const evil = await rejection(retrieveAccessToken(creds.projectId, creds.apiKey, creds.apiSecret, { origin: 'https://evil.example.net' }), 'minting for an unlisted origin')
    assert.equal(evil?.cause?.code, 'authorizationError.origin.notAllowed', describeError(evil))

    // The token works from its own origin and nowhere else.
    const path = `/project/${creds.projectId}/cache/_undefined_/origin-object/k`
    const fromOwnOrigin = await http(gateway.baseUrl, 'GET', path, { headers: { Authorization: `Bearer ${token}`, Origin: 'https://app.example.com' } })
    assert.equal(fromOwnOrigin.status, 404, fromOwnOrigin.exchange)
    const other = await http(gateway.baseUrl, 'GET', path, { headers: { Authorization: `Bearer ${token}`, Origin: 'https://eu.example.org' } })
    assert.equal(other.status, 403, other.exchange)
    assert.ok(!String(other.headers.get('access-control-allow-origin') ?? '').includes('evil'), 'origins are never reflected blindly')
  } catch (e) {
    own.markFailed()
    throw e
  }
})
