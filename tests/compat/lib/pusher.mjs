// Helpers for the Pusher tests: the real pusher-js client and pusher server SDK pointed at a loopback gateway
// (WIRE.md 2: always cluster, forceTLS:false, enabledTransports:['ws'] and loopback hosts, so nothing leaves
// the machine), a raw WebSocket speaking the protocol by hand, and waiting with deadlines.
import PusherClient from 'pusher-js'
import PusherServer from 'pusher'
import WebSocket from 'ws'
import { after } from 'node:test'
import { waitFor } from './sdk.mjs'

export { waitFor }

/** The shared gateway's Pusher app (run.mjs), or the one given. */
export function sharedApp () {
  for (const name of ['VAULT_BASE', 'VAULT_PUSHER_APP_ID', 'VAULT_PUSHER_KEY', 'VAULT_PUSHER_SECRET']) {
    if (!process.env[name]) throw new Error(`${name} is not set: run the suite through tests/compat/run.mjs`)
  }
  return {
    baseUrl: process.env.VAULT_BASE,
    appId: process.env.VAULT_PUSHER_APP_ID,
    key: process.env.VAULT_PUSHER_KEY,
    secret: process.env.VAULT_PUSHER_SECRET
  }
}

const clients = []
after(() => {
  for (const c of clients) { try { c.disconnect() } catch {} }
})

/** The server SDK for an app on a gateway; `extra` adds options such as encryptionMasterKeyBase64. */
export function server (app, extra = {}) {
  const { hostname, port } = new URL(app.baseUrl)
  return new PusherServer({ appId: app.appId, key: app.key, secret: app.secret, host: hostname, port, useTLS: false, ...extra })
}

/**
 * A pusher-js client whose channel authorization and user authentication are signed by the server SDK in-process
 * (customHandler: no auth HTTP server). `presence` gives the presence member, `user` the sign-in user data.
 */
export function client (app, { sdk = server(app), presence, user, authorizer } = {}) {
  const { hostname, port } = new URL(app.baseUrl)
  const pusher = new PusherClient(app.key, {
    cluster: 'local',
    wsHost: hostname,
    wsPort: Number(port),
    wssPort: Number(port),
    httpHost: hostname,
    forceTLS: false,
    enabledTransports: ['ws'],
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        try {
          if (authorizer) return callback(null, authorizer(socketId, channelName))
          const data = channelName.startsWith('presence-') ? presence : undefined
          callback(null, sdk.authorizeChannel(socketId, channelName, data))
        } catch (e) { callback(e, null) }
      }
    },
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        try { callback(null, sdk.authenticateUser(socketId, user)) } catch (e) { callback(e, null) }
      }
    }
  })
  clients.push(pusher)
  return pusher
}

/** Resolves once the client is connected. */
export function connected (pusher) {
  if (pusher.connection.state === 'connected') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected, state ${pusher.connection.state}`)), 15_000)
    pusher.connection.bind('connected', () => { clearTimeout(timer); resolve() })
  })
}

/** Subscribes and resolves with the channel after subscription_succeeded (rejects on subscription_error). */
export function subscribed (pusher, name) {
  const channel = pusher.subscribe(name)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no subscription_succeeded for ${name}`)), 15_000)
    channel.bind('pusher:subscription_succeeded', () => { clearTimeout(timer); resolve(channel) })
    channel.bind('pusher:subscription_error', (e) => { clearTimeout(timer); reject(Object.assign(new Error(`subscription_error for ${name}`), { data: e })) })
  })
}

/** Collects the events a channel receives under `event` (or every event with bind_global when omitted). */
export function collect (channel, event) {
  const seen = []
  if (event) channel.bind(event, (data, metadata) => seen.push({ data, metadata }))
  else channel.bind_global((name, data) => seen.push({ name, data }))
  return seen
}

/** A raw protocol socket (answering server pings unless autoPong is false): frames parsed, `next(pred)` waits for one, `closed` resolves with {code, reason}. */
export async function raw (app, { key = app.key, query = 'protocol=7&client=raw&version=1', autoPong = true } = {}) {
  const url = `${app.baseUrl.replace(/^http/, 'ws')}/app/${key}?${query}`
  const ws = new WebSocket(url)
  const frames = []
  const waiters = []
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  ws.on('message', (buf) => {
    const frame = JSON.parse(buf.toString())
    // Like pusher-js: a server ping is answered at once (unless the test plays a silent client).
    if (autoPong && frame.event === 'pusher:ping') { ws.send(JSON.stringify({ event: 'pusher:pong', data: {} })); return }
    frames.push(frame)
    for (const w of [...waiters]) {
      if (w.pred(frame)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(frame) }
    }
  })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const socket = {
    ws,
    frames,
    closed,
    send (frame) { ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)) },
    next (pred, timeoutMs = 10_000) {
      const found = frames.find(pred)
      if (found) { frames.splice(frames.indexOf(found), 1); return Promise.resolve(found) }
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (f) => { clearTimeout(timer); frames.splice(frames.indexOf(f), 1); resolve(f) } }
        const timer = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reject(new Error('no matching frame in time')) }, timeoutMs)
        waiters.push(w)
      })
    },
    close () { ws.close() }
  }
  after(() => { try { ws.terminate() } catch {} })
  return socket
}

/** The socket id from a raw socket's connection_established. */
export async function socketIdOf (socket) {
  const established = await socket.next((f) => f.event === 'pusher:connection_established')
  return JSON.parse(established.data).socket_id
}

/** Unique names per test run. */
export function unique (prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}
