// Shared helpers for the compatibility tests: configuration from the harness,
// the SDK's static base path, SDK instances with random object ids, waiting with deadlines.
import './setup.mjs' // sets globalThis.WebSocket before the SDK is evaluated
import { randomUUID } from 'node:crypto'
import { after } from 'node:test'
import { NonLocalStorage, createSyncObject, retrieveAccessToken } from '@vaultrice/sdk'

export { NonLocalStorage, createSyncObject, retrieveAccessToken }

function required (name) {
  const v = process.env[name]
  if (!v) throw new Error(`${name} is not set: run the suite through tests/compat/run.mjs`)
  return v
}

export const cfg = {
  get baseUrl () { return required('VAULT_BASE') },
  get projectId () { return required('VAULT_PROJECT') },
  get apiKey () { return required('VAULT_KEY') },
  get apiSecret () { return required('VAULT_SECRET') }
}

export function credentials () {
  return { projectId: cfg.projectId, apiKey: cfg.apiKey, apiSecret: cfg.apiSecret }
}

/**
 * Point the SDK at a gateway. `basePath` is a static on the (unexported) Base class and
 * WebSocketFunctions reads its own static: set both, found through the prototype chain of
 * the exported NonLocalStorage. One URL per process (node --test runs each file alone).
 */
export function setBasePath (url) {
  const WebSocketFunctions = Object.getPrototypeOf(NonLocalStorage)
  const Base = Object.getPrototypeOf(WebSocketFunctions)
  if (!Object.prototype.hasOwnProperty.call(Base, 'basePath')) {
    throw new Error('@vaultrice/sdk layout changed: Base.basePath not found')
  }
  Base.basePath = url
  WebSocketFunctions.basePath = url
}

if (process.env.VAULT_BASE) setBasePath(process.env.VAULT_BASE)

/** A fresh object id (allowed: [A-Za-z0-9_.:-]{1,128}). */
export function uid (prefix = 'compat') {
  return `${prefix}-${randomUUID()}`
}

const instances = new Set()

/**
 * A NonLocalStorage on the given (or a fresh random) object id, authenticated with
 * apiKey/apiSecret exactly as an application would be. Disconnected after the file.
 */
export function store (idOrOptions = {}, creds = credentials()) {
  const options = typeof idOrOptions === 'string' ? { id: idOrOptions } : { ...idOrOptions }
  options.id ??= uid()
  options.logLevel ??= 'error'
  const nls = new NonLocalStorage(creds, options)
  instances.add(nls)
  return nls
}

export function track (closeable) {
  instances.add(closeable)
  return closeable
}

export async function disconnectAll () {
  const all = [...instances]
  instances.clear()
  await Promise.allSettled(all.map((i) => i.disconnect?.()))
}

after(disconnectAll)

export const sleepTick = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Poll `fn` until it returns a truthy value (or a promise of one) and return that value;
 * fail after `timeoutMs` with `what` (a string, or a function giving one at that moment) in the message. Never a
 * fixed sleep.
 */
export async function waitFor (fn, timeoutMs = 5000, what = 'condition') {
  const deadline = Date.now() + timeoutMs
  let lastError
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
      lastError = undefined
    } catch (e) {
      lastError = e
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${lastError ? `: ${lastError.message ?? lastError}` : ''}`)
    }
    await sleepTick(25)
  }
}

/** The SDK keeps the server-assigned connection id in a (TypeScript-)private field. */
export function connectionIdOf (nls) {
  return nls.connectionId
}

/**
 * Open the instance's socket and wait until the server has said `connected` (the server
 * registers the socket for fan-out before it sends that, WIRE 1.6).
 */
export async function connected (nls, timeoutMs = 10_000) {
  await nls.connect()
  return waitFor(() => nls.connectionId, timeoutMs, `'connected' event for object ${nls.id}`)
}

/** The instance's raw `ws` socket (SDK-private symbol 'vaultrice/ws'). */
export function socketOf (nls) {
  const sym = Object.getOwnPropertySymbols(nls).find((s) => s.description === 'vaultrice/ws')
  return sym ? nls[sym] : undefined
}

/** Register an SDK event handler that records everything it receives. */
export function recorder (nls, event, name) {
  const got = []
  const handler = (x) => got.push(x)
  if (name === undefined) nls.on(event, handler)
  else nls.on(event, name, handler)
  return got
}

/** Describe an SDK rejection (the SDK throws the server's JSON error body as is). */
export function describeError (e) {
  if (e instanceof Error) return `${e.name}: ${e.message}`
  try { return JSON.stringify(e) } catch { return String(e) }
}

/** Await a promise that must reject; return the rejection value. */
export async function rejection (promise, what = 'operation') {
  try {
    const v = await promise
    throw Object.assign(new Error(`${what} should have been rejected, resolved with ${JSON.stringify(v)}`), { notRejected: true })
  } catch (e) {
    if (e?.notRejected) throw e
    return e
  }
}
