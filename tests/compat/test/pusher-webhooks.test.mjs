// Webhooks: POSTed as {time_ms, events} with X-Pusher-Key / X-Pusher-Signature, validated by the pusher SDK's own
// webhook check; delivery is durable: an endpoint that fails gets the events later, across a gateway restart.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ownGateway } from '../lib/own-gateway.mjs'
import { client, server, subscribed, unique, waitFor } from '../lib/pusher.mjs'
import { randomSecret } from '../lib/gateway.mjs'

const pusherApp = { appId: 'hooks', key: 'hooks-key', secret: randomSecret() }
const gw = ownGateway('pusher-webhooks')

// The receiver: answers `status`, keeps every request, and the events of the valid ones.
// `refused` keeps the events of the requests it answered with an error: what the gateway had stored and tried.
const receiver = { status: 200, requests: 0, invalid: 0, events: [], refused: [] }
const http = createServer((req, res) => {
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', () => {
    receiver.requests++
    if (receiver.status !== 200) {
      try { receiver.refused.push(...JSON.parse(body).events) } catch {}
      res.writeHead(receiver.status).end()
      return
    }
    const hook = server({ ...pusherApp, baseUrl: 'http://127.0.0.1:1' }).webhook({ headers: req.headers, rawBody: body })
    if (hook.isValid()) receiver.events.push(...hook.getEvents())
    else receiver.invalid++
    res.writeHead(200).end()
  })
})
await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve))
const hookUrl = `http://127.0.0.1:${http.address().port}/pusher/webhooks`

const env = {
  Vault__Bootstrap__Pusher__AppId: pusherApp.appId,
  Vault__Bootstrap__Pusher__Key: pusherApp.key,
  Vault__Bootstrap__Pusher__Secret: pusherApp.secret,
  Vault__Bootstrap__Pusher__SubscriptionCount: 'true',
  Vault__Bootstrap__Pusher__Webhooks__0__Url: hookUrl,
  Vault__Channels__SubscriptionCountInterval: '00:00:00.050',
  Vault__Webhooks__PollInterval: '00:00:00.200',
  Vault__Webhooks__BatchDelay: '00:00:00.020',
  Vault__Webhooks__RetryDelay: '00:00:00.020',
  Vault__Webhooks__Backoff: '00:00:00.200',
  Vault__Webhooks__MaxBackoff: '00:00:01',
  // Short requests, so a claim left by a stopped process lapses well within the test's wait.
  Vault__Webhooks__RequestTimeout: '00:00:02'
}

const appOn = (gateway) => ({ ...pusherApp, baseUrl: gateway.baseUrl })
const has = (pred) => receiver.events.some(pred)

test('channel, member, client-event, subscription-count and cache-miss webhooks arrive signed and valid', { timeout: 120_000 }, async (t) => {
  t.after(() => { if (receiver.invalid > 0) gw.markFailed() })
  const gateway = await gw.start(env)
  const app = appOn(gateway)
  const name = unique('presence-hooks')
  const alice = client(app, { presence: { user_id: 'alice' } })
  const bob = client(app, { presence: { user_id: 'bob' } })
  const a = await subscribed(alice, name)
  await subscribed(bob, name)
  a.trigger('client-wave', { hi: 1 })
  const counted = unique('counted-hooks')
  await subscribed(alice, counted)
  const cached = unique('cache-hooks')
  await subscribed(alice, cached).catch(() => {}) // a cache channel answers with cache_miss, not only succeeded
  await waitFor(() => has((e) => e.name === 'channel_occupied' && e.channel === name)
    && has((e) => e.name === 'member_added' && e.channel === name && e.user_id === 'bob')
    && has((e) => e.name === 'client_event' && e.channel === name && e.event === 'client-wave' && e.user_id === 'alice' && JSON.parse(e.data).hi === 1)
    && has((e) => e.name === 'subscription_count' && e.channel === counted && e.subscription_count === 1)
    && has((e) => e.name === 'cache_miss' && e.channel === cached), 15_000, 'occupied, member_added, client_event, subscription_count and cache_miss webhooks')
  bob.disconnect()
  alice.unsubscribe(name)
  await waitFor(() => has((e) => e.name === 'member_removed' && e.user_id === 'bob')
    && has((e) => e.name === 'channel_vacated' && e.channel === name), 15_000, 'member_removed and channel_vacated webhooks')
  const clientEvent = receiver.events.find((e) => e.name === 'client_event')
  assert.match(clientEvent.socket_id, /^\d+\.\d+$/)
  assert.equal(receiver.invalid, 0, 'every webhook passes the SDK validation')
})

test('webhooks for an endpoint that fails are delivered after it recovers, across a gateway restart', { timeout: 180_000 }, async (t) => {
  t.after(() => { if (t.passed === false) gw.markFailed() })
  let gateway = gw.gateway ?? await gw.start(env)
  receiver.status = 503
  const failedBefore = receiver.requests
  const name = unique('presence-durable')
  const channelName = name
  const marker = 'WEBHOOK-OUTBOX-PLAINTEXT-MARKER'
  const sender = client(appOn(gateway), { presence: { user_id: 'sender' } })
  const listener = client(appOn(gateway), { presence: { user_id: 'listener' } })
  const channel = await subscribed(sender, name)
  await subscribed(listener, name)
  channel.trigger('client-note', { marker })
  // Both events were stored (the gateway tried to deliver them) and refused, before the gateway stops.
  const tried = (name) => receiver.refused.some((e) => e.name === name && e.channel === channelName)
  await waitFor(() => receiver.requests >= failedBefore + 2 && tried('channel_occupied') && tried('client_event'), 15_000, 'failed delivery attempts of both events')
  assert.ok(!has((e) => e.channel === name))
  sender.disconnect()
  listener.disconnect()
  await gateway.stop()

  // While waiting in the outbox the client event's data is encrypted: no file of the data directory holds it.
  for (const file of readdirSync(gw.dataDir).filter((f) => statSync(join(gw.dataDir, f)).isFile())) {
    assert.ok(!readFileSync(join(gw.dataDir, file)).includes(marker), `${file} holds a webhook event in plaintext`)
  }

  receiver.status = 200
  gateway = await gw.start(env, 'gateway-restarted.log')
  await waitFor(() => has((e) => e.name === 'channel_occupied' && e.channel === name)
    && has((e) => e.name === 'client_event' && e.channel === name && JSON.parse(e.data).marker === marker), 30_000,
  () => `the stored webhooks after the restart (delivered for the channel: ${JSON.stringify(receiver.events.filter((e) => e.channel === name).map((e) => e.name))})`)
})

test.after(() => new Promise((resolve) => http.close(resolve)))
