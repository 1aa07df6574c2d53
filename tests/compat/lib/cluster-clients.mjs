// What the cluster tests are to a cluster: a project and a Pusher app that every node bootstraps, item writes and reads
// over the Vaultrice HTTP API, and raw Vaultrice sockets, aimed at any of its gateways.
import WebSocket from 'ws'
import { bootstrapEnv, randomSecret } from './gateway.mjs'
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
  return {
    creds,
    pusherApp,
    env,
    basic,
    /** The Pusher app as the pusher helpers take it, through `gateway`. */
    appOn: (gateway) => ({ ...pusherApp, baseUrl: gateway.baseUrl }),
    /** Writes an item of class `notes`; resolves with the HTTP status. */
    async setItem (gateway, object, key, value) {
      const res = await fetch(itemUrl(gateway, object, key), {
        method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ value })
      })
      await res.arrayBuffer()
      return res.status
    },
    /** Reads an item: its value, or the HTTP status when it is not 200. */
    async getItem (gateway, object, key) {
      const res = await fetch(itemUrl(gateway, object, key), { headers: { authorization: basic } })
      if (res.status !== 200) {
        await res.arrayBuffer()
        return res.status
      }
      return (await res.json()).value
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
