// Raw HTTP helpers (fetch, no SDK) that keep the whole exchange for failure messages.

/**
 * Send one request; returns {status, headers, contentType, text, json, exchange} where
 * `exchange` is a printable request/response transcript for assertion messages.
 */
export async function http (baseUrl, method, path, { headers = {}, body, rawBody, contentType } = {}) {
  const url = `${baseUrl}${path}`
  const h = { ...headers }
  let payload
  if (rawBody !== undefined) {
    payload = rawBody
    h['Content-Type'] = contentType ?? 'application/json'
  } else if (body !== undefined) {
    payload = typeof body === 'string' && contentType ? body : JSON.stringify(body)
    h['Content-Type'] = contentType ?? 'application/json'
  }
  const res = await fetch(url, { method, headers: h, body: payload })
  const text = await res.text()
  let json
  try { json = text.length ? JSON.parse(text) : undefined } catch { json = undefined }
  const shownHeaders = Object.entries(h)
    .map(([k, v]) => `${k}: ${/^authorization$/i.test(k) ? v.replace(/ .*/, ' …') : v}`)
    .join('\n  ')
  const exchange = `> ${method} ${path}\n  ${shownHeaders}${payload !== undefined ? `\n  ${String(payload).slice(0, 500)}` : ''}\n` +
    `< ${res.status} ${res.statusText} content-type=${res.headers.get('content-type') ?? '(none)'}\n  ${text.slice(0, 800) || '(empty body)'}`
  return { status: res.status, headers: res.headers, contentType: res.headers.get('content-type') ?? '', text, json, exchange }
}

export function basic (key, secret) {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`
}

export function bearer (token) {
  return `Bearer ${token}`
}

/** Decode a JWT payload without verifying it. */
export function jwtPayload (token) {
  const parts = token.split('.')
  if (parts.length !== 3) throw new Error(`not a JWT: ${token.slice(0, 40)}`)
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
}
