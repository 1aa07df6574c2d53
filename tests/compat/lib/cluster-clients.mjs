// What the cluster tests are to a cluster: a project and a Pusher app that every node bootstraps, item writes and reads
// over the Vaultrice HTTP API, and raw Vaultrice sockets, aimed at any of its gateways.
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { bootstrapEnv, randomSecret } from './gateway.mjs'
import { client as pusherClient, collect, server as pusherServer, subscribed, unique } from './pusher.mjs'
import { waitFor } from './sdk.mjs'

/** Fresh credentials named after `name`, with the environment that makes every node bootstrap them. */
export function clusterApp (name) {
  const creds = { projectId: `${name}-project`, apiKey: `${name}-key`, apiSecret: randomSecret() }
  const pusherApp = { appId: `${name}-app`, key: `${name}-pusher-key`, secret: randomSecret() }
  const env = {
    ...bootstrapEnv(creds),
    Vault__Bootstrap__Pusher__AppId: pusherApp.appId,
    Vault__Bootstrap__Pusher__Key: pusherApp.key,
    Vault__Bootstrap__Pusher__Secret: pusherApp.secret
  }
  const basic = 'Basic ' + Buffer.from(`${creds.apiKey}:${creds.apiSecret}`).toString('base64')
  const itemUrl = (gateway, object, key) => `${gateway.baseUrl}/project/${creds.projectId}/cache/notes/${object}/${key}`
  const appOn = (gateway) => ({ ...pusherApp, baseUrl: gateway.baseUrl })
  const setItem = async (gateway, object, key, value) => {
    const res = await fetch(itemUrl(gateway, object, key), {
      method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ value })
    })
    await res.arrayBuffer()
    return res.status
  }
  return {
    creds,
    pusherApp,
    env,
    basic,
    /** The Pusher app as the pusher helpers take it, through `gateway`. */
    appOn,
    /**
     * Pusher presence across two gateways: alice on `one`, bob on `two`, alice again on `two`; both gateways see both
     * members, the REST API through `one` counts two users and three subscriptions, and an event triggered through
     * `two` reaches clients of both.
     */
    async presenceAcross (one, two) {
      const name = unique('presence-across')
      const alice = pusherClient(appOn(one), { presence: { user_id: 'alice' } })
      const aliceChannel = await subscribed(alice, name)
      const added = collect(aliceChannel, 'pusher:member_added')
      const bob = pusherClient(appOn(two), { presence: { user_id: 'bob' } })
      const bobChannel = await subscribed(bob, name)
      assert.equal(bobChannel.members.count, 2)
      await waitFor(() => added.some((a) => a.data.id === 'bob'), 20_000, 'member_added through the first gateway')
      const alice2 = pusherClient(appOn(two), { presence: { user_id: 'alice' } })
      await subscribed(alice2, name)
      const info = await (await pusherServer(appOn(one)).get({ path: `/channels/${name}`, params: { info: 'user_count,subscription_count' } })).json()
      assert.deepEqual(info, { occupied: true, user_count: 2, subscription_count: 3 })
      const seenByAlice = collect(aliceChannel, 'news')
      const seenByBob = collect(bobChannel, 'news')
      await pusherServer(appOn(two)).trigger(name, 'news', { n: 1 })
      await waitFor(() => seenByAlice.length === 1 && seenByBob.length === 1, 20_000, 'a REST event through the second gateway at clients of both')
      for (const p of [alice, alice2, bob]) p.disconnect()
    },
    /** Writes an item of class `notes`; resolves with the HTTP status. */
    setItem,
    /** Reads an item: its value, or the HTTP status when it is not 200. */
    async getItem (gateway, object, key) {
      const res = await fetch(itemUrl(gateway, object, key), { headers: { authorization: basic } })
      if (res.status !== 200) {
        await res.arrayBuffer()
        return res.status
      }
      return (await res.json()).value
    },
    /**
     * Four writers writing items to `objects` in turn through `gateways` in turn until `stop()`: `acknowledged` holds
     * the writes answered 200 ({object, key, value}), `failed` the others with their status (or 'error').
     */
    steadyWrites (gateways, objects) {
      const load = { acknowledged: [], failed: [], running: true }
      const writers = Array.from({ length: 4 }, (_, w) => (async () => {
        for (let i = 0; load.running; i++) {
          const object = objects[(w + i) % objects.length]
          const key = `w${w}-${i}`
          let status
          try { status = await setItem(gateways[(w + i) % gateways.length], object, key, i) } catch { status = 'error' }
          if (status === 200) load.acknowledged.push({ object, key, value: i })
          else load.failed.push({ object, key, status })
        }
      })())
      load.stop = async () => {
        load.running = false
        await Promise.all(writers)
      }
      return load
    },
    /** A raw Vaultrice socket on `object` through `gateway` (auth before upgrade, WIRE.md 1.6), its frames and connection id. */
    async openSocket (gateway, object) {
      const token = await (await fetch(`${gateway.baseUrl}/project/${creds.projectId}/auth/token`, { headers: { authorization: basic } })).text()
      const ws = new WebSocket(`${gateway.baseUrl.replace('http', 'ws')}/project/${creds.projectId}/ws/notes/${object}?auth=${encodeURIComponent('Bearer ' + token)}`)
      const frames = []
      ws.on('message', (m) => frames.push(JSON.parse(m.toString())))
      ws.on('error', () => {})
      await waitFor(() => frames.some((f) => f.event === 'connected'), 20_000, 'connected')
      return { ws, frames, id: frames.find((f) => f.event === 'connected').connectionId }
    }
  }
}
