// The collaborative to-do demo: one shared object holds the list (an item per to-do), its socket brings every
// change and presence event live. Everything a user typed is put on the page with textContent, never as HTML.
'use strict'

;(function () {
  const PLAIN_CLASS = 'demo-todos'
  // The encrypted list lives in a class of its own, so plaintext and ciphertext items never share an object.
  const SEALED_CLASS = 'demo-todos-e2ee'
  const ITEM_PREFIX = 'todo-'
  const ITEM_TTL_MS = 7 * 24 * 60 * 60 * 1000
  const CONNECT_TIMEOUT_MS = 10000

  const $ = (id) => document.getElementById(id)
  const params = new URLSearchParams(window.location.search)
  const listId = /^[A-Za-z0-9_.:-]{1,100}$/.test(params.get('list') || '') ? params.get('list') : 'shared'

  /** What the page shows; replaced whenever the mode (plain or end-to-end encrypted) changes. */
  let session = null
  let sessionNumber = 0

  function showProblem (text) {
    const el = $('problem')
    el.textContent = text
    el.hidden = !text
  }

  function setStatus (text) {
    $('status').textContent = text
  }

  function describe (error) {
    if (!error) return 'unknown error'
    if (typeof error === 'string') return error
    if (error.name === 'OperationError') return 'could not decrypt: is the passphrase the same as everyone else\'s?'
    return error.message || (error.cause && error.cause.code) || String(error)
  }

  function randomId () {
    const bytes = new Uint8Array(12)
    window.crypto.getRandomValues(bytes)
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  }

  function storedName () {
    try { return window.localStorage.getItem('orleansvault-demo-name') } catch (e) { return null }
  }

  function rememberName (name) {
    try { window.localStorage.setItem('orleansvault-demo-name', name) } catch (e) { /* private mode: not remembered */ }
  }

  function currentName () {
    return $('name').value.trim().slice(0, 40) || 'Guest'
  }

  // --- tokens -------------------------------------------------------------------------------------------------
  // The gateway mints short-lived tokens for pages it served itself (POST /demo/token checks the Origin); the
  // page never sees an API secret.
  async function fetchToken () {
    const response = await window.fetch('token', { method: 'POST', headers: { Accept: 'application/json' } })
    if (!response.ok) {
      let message = `the token endpoint answered ${response.status}`
      try { message = (await response.json()).message || message } catch (e) { /* not JSON */ }
      throw new Error(message)
    }
    return response.json()
  }

  // The SDK's base URL is a static of its (unexported) base classes: point both at this gateway.
  function pointSdkHere () {
    const webSocketLayer = Object.getPrototypeOf(window.Vaultrice.NonLocalStorage)
    webSocketLayer.basePath = window.location.origin
    Object.getPrototypeOf(webSocketLayer).basePath = window.location.origin
  }

  // --- rendering ----------------------------------------------------------------------------------------------
  function render () {
    const s = session
    const list = $('todos')
    list.replaceChildren()
    const entries = s ? [...s.items.entries()].sort((a, b) => (a[1].createdAt - b[1].createdAt) || (a[0] < b[0] ? -1 : 1)) : []
    for (const [key, todo] of entries) list.append(todoElement(key, todo))
    $('empty').hidden = entries.length > 0

    const people = $('people')
    people.replaceChildren()
    if (s) {
      for (const [connectionId, person] of s.people) people.append(personElement(connectionId, person, connectionId === s.nls.connectionId))
    }
  }

  function todoElement (key, todo) {
    const li = document.createElement('li')
    li.className = 'todo' + (todo.done ? ' done' : '')
    li.dataset.key = key

    const label = document.createElement('label')
    const box = document.createElement('input')
    box.type = 'checkbox'
    box.className = 'tick'
    box.checked = todo.done
    box.addEventListener('change', () => act(() => saveTodo(key, { ...todo, done: box.checked })))
    const text = document.createElement('span')
    text.className = 'text'
    text.textContent = todo.text
    label.append(box, text)

    const by = document.createElement('span')
    by.className = 'by'
    by.textContent = todo.by ? `added by ${todo.by}` : ''

    const remove = document.createElement('button')
    remove.type = 'button'
    remove.className = 'remove'
    remove.textContent = '✕'
    remove.setAttribute('aria-label', 'Remove')
    remove.addEventListener('click', () => act(() => removeTodo(key)))

    li.append(label, by, remove)
    return li
  }

  function personElement (connectionId, person, isMe) {
    const li = document.createElement('li')
    li.className = 'person' + (isMe ? ' me' : '')
    li.dataset.connectionId = connectionId
    const avatar = document.createElement('span')
    avatar.className = 'avatar'
    avatar.textContent = initials(person.name)
    avatar.style.backgroundColor = colourOf(connectionId) // CSSOM, which the page's CSP allows
    avatar.setAttribute('aria-hidden', 'true')
    const name = document.createElement('span')
    name.className = 'person-name'
    name.textContent = person.name
    li.append(avatar, name)
    if (isMe) {
      const you = document.createElement('span')
      you.className = 'you'
      you.textContent = '(you)'
      li.append(you)
    }
    return li
  }

  function initials (name) {
    const parts = String(name).trim().split(/\s+/).filter(Boolean)
    return (parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] || '?').slice(0, 2)).toUpperCase()
  }

  function colourOf (text) {
    let hash = 0
    for (const ch of text) hash = (hash * 31 + ch.codePointAt(0)) >>> 0
    return `hsl(${hash % 360} 55% 45%)`
  }

  // --- state --------------------------------------------------------------------------------------------------
  /** Reads a stored to-do; anything else (another app's item, a tampered value) is shown as unreadable. */
  function todoFrom (value, item) {
    const ok = value && typeof value === 'object' && typeof value.text === 'string'
    return {
      text: ok ? value.text : '(unreadable item)',
      done: ok && value.done === true,
      by: ok && typeof value.by === 'string' ? value.by : '',
      createdAt: item.createdAt || 0,
      updatedAt: item.updatedAt || 0
    }
  }

  function applyItem (s, key, item) {
    if (!key.startsWith(ITEM_PREFIX)) return
    const known = s.items.get(key)
    if (known && known.updatedAt > (item.updatedAt || 0)) return // an older copy arriving late
    s.items.set(key, todoFrom(item.value, item))
    s.removed.delete(key)
    render()
  }

  function forgetItem (s, key) {
    s.items.delete(key)
    s.removed.add(key)
    render()
  }

  function addPerson (s, connection) {
    if (s.left.has(connection.connectionId)) return
    const data = connection.data && typeof connection.data === 'object' ? connection.data : {}
    const name = typeof data.name === 'string' && data.name.trim() ? data.name.trim().slice(0, 40) : 'Someone'
    s.people.set(connection.connectionId, { name, joinedAt: connection.joinedAt || 0 })
    render()
  }

  /**
   * Reads the whole list (on start and after a reconnect), keeping what events said meanwhile: a newer event wins
   * over an older snapshot, and a removal seen as an event stays removed. With the wrong passphrase this is where
   * decryption fails, before the page joins presence with a name nobody else could read.
   */
  async function refreshItems (s) {
    const all = (await s.nls.getAllItems()) || {}
    if (s !== session) return
    for (const [key, item] of Object.entries(all)) {
      if (!s.removed.has(key)) applyItem(s, key, item)
    }
    render()
  }

  /** Reads who is here. One entry nobody can decrypt (another passphrase) fails the whole answer: say so, go on. */
  async function refreshPeople (s) {
    try {
      const present = await s.nls.getJoinedConnections()
      if (s !== session) return
      for (const connection of present) addPerson(s, connection)
      render()
    } catch (e) {
      if (s === session) showProblem(`Could not read who is here (someone may use another passphrase): ${describe(e)}`)
    }
  }

  // --- actions ------------------------------------------------------------------------------------------------
  async function act (action) {
    try {
      showProblem('')
      await action()
    } catch (e) {
      showProblem(`That did not work: ${describe(e)}`)
      render()
    }
  }

  async function saveTodo (key, todo) {
    const s = session
    const value = { text: todo.text, done: todo.done, by: todo.by || '' }
    const stored = await s.nls.setItem(key, value, { ttl: ITEM_TTL_MS })
    // The answer carries ciphertext when encrypted: keep the plaintext we sent, with the server's times.
    if (stored && s === session) applyItem(s, key, { value, createdAt: stored.createdAt, updatedAt: stored.updatedAt })
  }

  async function removeTodo (key) {
    const s = session
    await s.nls.removeItem(key)
    if (s === session) forgetItem(s, key)
  }

  // --- sessions -----------------------------------------------------------------------------------------------
  async function open (sealed) {
    const number = ++sessionNumber
    const previous = session
    session = null
    document.body.dataset.state = 'connecting'
    document.body.dataset.mode = sealed ? 'sealed' : 'plain'
    render()
    if (previous) await previous.nls.disconnect().catch(() => {})
    showProblem('')
    setStatus('Connecting…')

    const passphrase = $('passphrase').value
    if (sealed && !(window.isSecureContext && window.crypto && window.crypto.subtle)) {
      throw new Error('end-to-end encryption needs a secure page (https, or http://localhost)')
    }

    const first = await fetchToken()
    if (number !== sessionNumber) return
    const options = { id: listId, class: sealed ? SEALED_CLASS : PLAIN_CLASS, ttl: ITEM_TTL_MS, logLevel: 'error' }
    if (sealed) options.passphrase = passphrase
    const nls = new window.Vaultrice.NonLocalStorage({
      projectId: first.projectId,
      accessToken: first.accessToken,
      getAccessToken: async () => (await fetchToken()).accessToken
    }, options)
    const s = { nls, sealed, items: new Map(), removed: new Set(), people: new Map(), left: new Set() }
    session = s
    if (sealed) await nls.getEncryptionSettings()

    let opened
    const isOpen = new Promise((resolve) => { opened = resolve })
    let connectedOnce = false
    nls.on('connect', () => {
      if (s !== session) return
      setStatus(statusText(s))
      if (!connectedOnce) {
        connectedOnce = true
        opened()
      } else {
        // The SDK re-joins by itself after a reconnect; what changed meanwhile is read again.
        refreshItems(s).then(() => refreshPeople(s)).catch((e) => showProblem(`Could not read the list again: ${describe(e)}`))
      }
    })
    nls.on('disconnect', () => { if (s === session) setStatus('Connection lost; reconnecting…') })
    nls.on('error', (e) => { if (s === session) showProblem(`Problem: ${describe(e)}`) })
    nls.on('setItem', (item) => { if (s === session) applyItem(s, item.prop, item) })
    nls.on('removeItem', (item) => { if (s === session) forgetItem(s, item.prop) })
    nls.on('presence:join', (connection) => { if (s === session) addPerson(s, connection) })
    nls.on('presence:leave', (connection) => {
      if (s !== session) return
      s.left.add(connection.connectionId)
      s.people.delete(connection.connectionId)
      render()
    })

    await withTimeout(isOpen, 'the WebSocket did not open')
    // Events flow once the server's `connected` has named this socket; the page also marks "(you)" by that id.
    await withTimeout(until(() => nls.connectionId), 'the server did not confirm the connection')
    await refreshItems(s)
    if (s !== session) return
    await nls.join({ name: currentName() })
    await refreshPeople(s)
    if (s !== session) return
    setStatus(statusText(s))
    document.body.dataset.state = 'ready'
  }

  function statusText (s) {
    return s.sealed
      ? `Connected to the end-to-end encrypted list "${listId}".`
      : `Connected to the list "${listId}" (not end-to-end encrypted).`
  }

  function until (condition) {
    return new Promise((resolve) => {
      const check = () => (condition() ? resolve() : window.setTimeout(check, 20))
      check()
    })
  }

  function withTimeout (promise, what) {
    let timer
    const timeout = new Promise((resolve, reject) => {
      timer = window.setTimeout(() => reject(new Error(`${what} within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS)
    })
    return Promise.race([promise, timeout]).finally(() => window.clearTimeout(timer))
  }

  async function switchMode () {
    const wantSealed = $('e2ee').checked
    if (wantSealed && !$('passphrase').value) {
      $('e2ee').checked = false
      showProblem('Enter a passphrase first, then turn on end-to-end encryption.')
      return
    }
    try {
      await open(wantSealed)
    } catch (e) {
      document.body.dataset.state = 'failed'
      setStatus('Not connected.')
      showProblem(`Could not open the list: ${describe(e)}`)
    }
  }

  // --- start --------------------------------------------------------------------------------------------------
  function start () {
    $('list-name').textContent = `"${listId}"`
    $('name').value = (params.get('name') || storedName() || `Guest ${Math.floor(1000 + Math.random() * 9000)}`).slice(0, 40)

    $('name-form').addEventListener('submit', (event) => {
      event.preventDefault()
      rememberName(currentName())
      if (session) act(() => session.nls.join({ name: currentName() }))
    })
    $('add-form').addEventListener('submit', (event) => {
      event.preventDefault()
      const text = $('new-text').value.trim()
      if (!text || !session) return
      $('new-text').value = ''
      act(() => saveTodo(ITEM_PREFIX + randomId(), { text, done: false, by: currentName() }))
    })
    $('e2ee').addEventListener('change', switchMode)
    $('passphrase').addEventListener('change', () => { if ($('e2ee').checked) switchMode() })
    $('e2ee-form').addEventListener('submit', (event) => {
      event.preventDefault()
      $('e2ee').checked = true
      switchMode()
    })

    if (typeof window.Vaultrice === 'undefined' || !window.Vaultrice.NonLocalStorage) {
      document.body.dataset.state = 'no-sdk'
      setStatus('Not connected.')
      showProblem('The Vaultrice SDK bundle (vendor/vaultrice-sdk.js) is missing. Build the gateway with npm installed, ' +
        'or run `npm ci` in src/Gateway/Demo, then reload.')
      return
    }
    pointSdkHere()
    switchMode()
  }

  start()
})()
