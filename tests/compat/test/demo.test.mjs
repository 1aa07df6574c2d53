// The /demo/ page in a real browser: Debian's chromium driven by playwright-core, two browser contexts (two users)
// on one list. The page runs the unmodified @vaultrice/sdk bundle the gateway serves from its pinned npm package.
// This file starts gateways of its own: one with Vault:Demo:Enabled=true for the page, one with it false.
// Screenshots go to tests/compat/test-output/ (git-ignored).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { waitForLog } from '../lib/gateway.mjs'
import { ownGateway } from '../lib/own-gateway.mjs'
import { basic, http, jwtPayload } from '../lib/http.mjs'
import { uid } from '../lib/sdk.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const outputDir = join(here, '..', 'test-output')
const CHROMIUM = process.env.VAULT_CHROMIUM ?? '/usr/bin/chromium'
const PINNED_SDK = join(here, '..', 'node_modules', '@vaultrice', 'sdk', 'dist', 'umd', 'index.js')
const WAIT_MS = 10_000

const on = ownGateway('demo')
const off = ownGateway('demo-off')
let browser
let offStarted // the disabled gateway starts beside the rest; only the last test needs it

before(async () => {
  // Missing chromium is a failure, never a skip: .ci/run installs it.
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium), as .ci/run does`)
  mkdirSync(outputDir, { recursive: true })
  offStarted = off.start({ Vault__Demo__Enabled: 'false' })
  offStarted.catch(() => {}) // awaited (and reported) by the test that uses it
  ;[browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }), // root in CI: no user namespaces
    on.start({ Vault__Demo__Enabled: 'true' })
  ])
}, { timeout: 120_000 }) // node's runner reports this hook's time as part of the first test's (not its timeout)

after(async () => {
  await browser?.close()
})

/** A test that keeps the gateways' logs and takes screenshots of its pages when it fails. */
function scenario (name, fn) {
  test(name, { timeout: 30_000 }, async () => {
    const pages = []
    const contexts = []
    const open = async (path) => {
      const context = await browser.newContext()
      contexts.push(context)
      const page = await context.newPage()
      page.errors = []
      page.on('pageerror', (e) => page.errors.push(e.message))
      pages.push(page)
      await page.goto(`${on.gateway.baseUrl}${path}`)
      return page
    }
    const shoot = async (label) => {
      for (const [i, page] of pages.entries()) {
        if (!page.isClosed()) await page.screenshot({ path: join(outputDir, `${label}-${i + 1}.png`), fullPage: true })
      }
    }
    try {
      await fn({ open, shoot })
    } catch (e) {
      on.markFailed()
      off.markFailed()
      await shoot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => {})
      throw e
    } finally {
      await Promise.allSettled(contexts.map((c) => c.close()))
    }
  })
}

/** Waits (with a deadline) until the page has connected in the given mode. */
async function ready (page, mode = 'plain') {
  try {
    await page.waitForSelector(`body[data-state="ready"][data-mode="${mode}"]`, { timeout: WAIT_MS })
  } catch (e) {
    const problem = await page.textContent('#problem').catch(() => '?')
    throw new Error(`page not ready in ${mode} mode: ${problem || '(no problem shown)'}; page errors: ${page.errors.join('; ') || 'none'}`)
  }
}

/** Waits until the list's texts are exactly `texts` (in order). */
async function waitForTodos (page, texts, what) {
  try {
    await page.waitForFunction((want) => {
      const got = [...document.querySelectorAll('#todos li.todo .text')].map((e) => e.textContent)
      return JSON.stringify(got) === JSON.stringify(want)
    }, texts, { timeout: WAIT_MS })
  } catch {
    assert.deepEqual(await page.locator('#todos li.todo .text').allTextContents(), texts, what)
  }
}

/** Waits until the presence list shows exactly `names` (any order). */
async function waitForPeople (page, names, what) {
  const want = [...names].sort()
  try {
    await page.waitForFunction((want) => {
      const got = [...document.querySelectorAll('#people .person-name')].map((e) => e.textContent).sort()
      return JSON.stringify(got) === JSON.stringify(want)
    }, want, { timeout: WAIT_MS })
  } catch {
    assert.deepEqual((await page.locator('#people .person-name').allTextContents()).sort(), want, what)
  }
}

async function add (page, text) {
  await page.fill('#new-text', text)
  await page.click('#add')
}

const todo = (page, text) => page.locator('#todos li.todo', { hasText: text })

scenario('two browsers share one list live: adds, ticks, removals and presence both ways', async ({ open, shoot }) => {
  const list = uid('live')
  const alice = await open(`/?list=${list}&name=Alice`) // through the / redirect, which keeps the query
  const bob = await open(`/demo/?list=${list}&name=Bob`)
  await Promise.all([ready(alice), ready(bob)])
  assert.equal(new URL(alice.url()).pathname, '/demo/')

  await waitForPeople(alice, ['Alice', 'Bob'], 'Alice sees herself and Bob')
  await waitForPeople(bob, ['Alice', 'Bob'], 'Bob sees Alice and himself')
  assert.equal(await alice.locator('#people .person.me .person-name').textContent(), 'Alice', 'the page marks its own entry')

  await add(alice, 'Buy milk')
  await waitForTodos(alice, ['Buy milk'], 'Alice sees her item')
  await add(alice, 'Walk the dog')
  await waitForTodos(bob, ['Buy milk', 'Walk the dog'], 'Bob sees both of Alice\'s items live')

  await todo(alice, 'Buy milk').locator('input.tick').check()
  await bob.waitForSelector('#todos li.todo.done:has-text("Buy milk") input.tick:checked', { timeout: WAIT_MS })
  assert.equal(await todo(bob, 'Walk the dog').locator('input.tick').isChecked(), false, 'only the ticked item is done')

  await todo(bob, 'Walk the dog').locator('button.remove').click()
  await waitForTodos(alice, ['Buy milk'], 'Alice sees Bob\'s removal')
  await todo(bob, 'Buy milk').locator('input.tick').uncheck()
  await alice.waitForSelector('#todos li.todo:not(.done):has-text("Buy milk") input.tick:not(:checked)', { timeout: WAIT_MS })
  await shoot('demo-live')

  // A user who closes the page leaves: the other sees it.
  await bob.close()
  await waitForPeople(alice, ['Alice'], 'Bob left')
  assert.deepEqual([...alice.errors], [], 'no script error on the page')
})

scenario('with end-to-end encryption the server holds only ciphertext and the other browser still reads the list', async ({ open, shoot }) => {
  const list = uid('sealed')
  const secretText = `Secret plan ${uid('x')}`
  const passphrase = 'correct horse battery staple'
  const alice = await open(`/demo/?list=${list}&name=Alice`)
  const bob = await open(`/demo/?list=${list}&name=Bob`)
  await Promise.all([ready(alice), ready(bob)])
  for (const page of [alice, bob]) {
    await page.fill('#passphrase', passphrase)
    await page.check('#e2ee')
  }
  await Promise.all([ready(alice, 'sealed'), ready(bob, 'sealed')])
  await waitForPeople(bob, ['Alice', 'Bob'], 'encrypted presence names decrypt on the other side')

  await add(alice, secretText)
  await waitForTodos(bob, [secretText], 'Bob decrypts Alice\'s item')
  await todo(bob, secretText).locator('input.tick').check()
  await alice.waitForSelector(`#todos li.todo.done:has-text("${secretText}")`, { timeout: WAIT_MS })
  await shoot('demo-e2ee')

  // The raw stored values, read over HTTP with the project's own key and secret: ciphertext only.
  const { baseUrl } = on.gateway
  const auth = { Authorization: basic(on.creds.apiKey, on.creds.apiSecret) }
  const raw = await http(baseUrl, 'GET', `/project/${on.creds.projectId}/cache/demo-todos-e2ee/${list}`, { headers: auth })
  assert.equal(raw.status, 200, raw.exchange)
  const items = Object.values(raw.json ?? {})
  assert.equal(items.length, 1, raw.exchange)
  assert.equal(typeof items[0].value, 'string', 'an encrypted value is an opaque string')
  assert.ok(Number.isInteger(items[0].keyVersion) && items[0].keyVersion >= 0, `stored with its key version: ${raw.exchange}`)
  assert.ok(!raw.text.includes('Secret plan') && !raw.text.includes('"done"'), `no plaintext in storage: ${raw.exchange}`)
  const sealedValue = JSON.parse(items[0].value) // the SDK's ciphertext envelope: {iv, data}, base64
  assert.ok(sealedValue.iv && sealedValue.data, raw.exchange)

  const presence = await http(baseUrl, 'GET', `/project/${on.creds.projectId}/presence-list/demo-todos-e2ee/${list}`, { headers: auth })
  assert.equal(presence.status, 200, presence.exchange)
  assert.equal(presence.json.length, 2, presence.exchange)
  assert.ok(!presence.text.includes('Alice') && !presence.text.includes('Bob'), `presence names are ciphertext: ${presence.exchange}`)

  const plain = await http(baseUrl, 'GET', `/project/${on.creds.projectId}/cache/demo-todos/${list}`, { headers: auth })
  assert.deepEqual(plain.json, {}, `the plaintext list of the same name stays apart: ${plain.exchange}`)

  // Another passphrase cannot read the list, says so, and does not join with a name nobody can read.
  const mallory = await open(`/demo/?list=${list}&name=Mallory`)
  await ready(mallory)
  await mallory.fill('#passphrase', 'not the passphrase')
  await mallory.check('#e2ee')
  await mallory.waitForSelector('body[data-state="failed"]', { timeout: WAIT_MS })
  assert.match(await mallory.textContent('#problem'), /decrypt/)
  assert.equal(await mallory.locator('#todos li.todo').count(), 0)
  await waitForPeople(alice, ['Alice', 'Bob'], 'the wrong passphrase did not join')
})

scenario('user text is shown literally and never runs: <script> and <img onerror> items and names', async ({ open, shoot }) => {
  const list = uid('xss')
  const imgItem = '<img src=x onerror="window.__xss = \'item\'">'
  const scriptItem = '<script>window.__xss = \'script\'</script>'
  const evilName = '<img src=x onerror=window.__xss=3>' // within the page's 40 characters
  const alice = await open(`/demo/?list=${list}&name=Alice`)
  const bob = await open(`/demo/?list=${list}&name=${encodeURIComponent(evilName)}`)
  await Promise.all([ready(alice), ready(bob)])

  await add(alice, imgItem)
  await add(alice, scriptItem)
  await waitForTodos(bob, [imgItem, scriptItem], 'the other browser shows the markup as text')
  await waitForTodos(alice, [imgItem, scriptItem], 'the writer shows the markup as text')
  await waitForPeople(alice, ['Alice', evilName], 'a name with markup is shown as text')

  for (const page of [alice, bob]) {
    assert.equal(await page.locator('#todos img, #todos script, #people img').count(), 0, 'no element was made from user text')
    // With no element made from user text nothing can run; the flag shows no other path ran it either.
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected handler or script ran')
  }
  await shoot('demo-xss')
})

scenario('the token endpoint serves only the gateway\'s own origin, and only when the demo is enabled', async ({ open }) => {
  const { baseUrl } = on.gateway
  const post = (url, origin) => fetch(`${url}/demo/token`, { method: 'POST', headers: origin ? { Origin: origin } : {} })

  const foreign = await post(baseUrl, 'https://evil.example')
  assert.equal(foreign.status, 403)
  assert.equal((await foreign.json()).cause?.code, 'authorizationError.origin.notAllowed')
  const otherPort = new URL(baseUrl)
  otherPort.port = String(Number(otherPort.port) + 1)
  assert.equal((await post(baseUrl, otherPort.origin)).status, 403, 'same host, another port is another origin')
  assert.equal((await post(baseUrl, baseUrl.replace('http:', 'https:'))).status, 403, 'another scheme is another origin')
  assert.equal((await post(baseUrl, 'null')).status, 403, 'an opaque origin is refused')
  assert.equal((await post(baseUrl)).status, 403, 'no Origin is refused')

  const own = await post(baseUrl, baseUrl)
  assert.equal(own.status, 200)
  assert.equal(own.headers.get('cache-control'), 'no-store')
  const { projectId, accessToken } = await own.json()
  assert.equal(projectId, on.creds.projectId, 'the bootstrap project')
  const claims = jwtPayload(accessToken)
  assert.equal(claims.origin, baseUrl, 'the token is bound to the page\'s origin')
  assert.equal(claims.sub, on.creds.apiKey)
  const withToken = (origin) => http(baseUrl, 'GET', `/project/${projectId}/cache-keys/demo-todos/${uid('t')}`, {
    headers: { Authorization: `Bearer ${accessToken}`, Origin: origin }
  })
  assert.equal((await withToken(baseUrl)).status, 200, 'the token works from its origin')
  assert.equal((await withToken('https://evil.example')).status, 403, 'and from no other')

  // From the page itself the browser sets the Origin.
  const page = await open('/demo/?list=token-check&name=Tess')
  await ready(page)
  assert.equal(await page.evaluate(() => fetch('/demo/token', { method: 'POST' }).then((r) => r.status)), 200)

  const root = await fetch(`${baseUrl}/`, { redirect: 'manual' })
  assert.equal(root.status, 302)
  assert.equal(root.headers.get('location'), '/demo/')

  // The SDK bundle is the pinned npm package's browser build, served by the gateway (the page loads no other script).
  const bundle = await fetch(`${baseUrl}/demo/vendor/vaultrice-sdk.js`)
  assert.equal(bundle.status, 200)
  assert.match(bundle.headers.get('content-type'), /^text\/javascript/)
  assert.equal(await bundle.text(), readFileSync(PINNED_SDK, 'utf8'), 'the same file as @vaultrice/sdk 1.0.0 in tests/compat')
  const csp = (await fetch(`${baseUrl}/demo/`)).headers.get('content-security-policy')
  assert.match(csp, /script-src 'self'/)

  // Printed once the host has started, which may be just after /health/ready first answered 200.
  await waitForLog(on.gateway.logFile, `open ${baseUrl}/demo/`, WAIT_MS)
  assert.ok(!/eyJhbGciOiJ/.test(readFileSync(on.gateway.logFile, 'utf8')), 'no token in the log')

  const disabled = await offStarted
  assert.equal((await post(disabled.baseUrl, disabled.baseUrl)).status, 404, 'no token endpoint when the demo is off')
  assert.equal((await fetch(`${disabled.baseUrl}/demo/`)).status, 404)
  assert.equal((await fetch(`${disabled.baseUrl}/`, { redirect: 'manual' })).status, 404, 'no redirect either')
  assert.ok(!readFileSync(disabled.logFile, 'utf8').includes('/demo/'), 'and no demo URL in its log')
})
