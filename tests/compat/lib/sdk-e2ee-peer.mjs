// The unmodified @vaultrice/sdk as the other side of a cross-SDK test: reads a JSON request on stdin
// {baseUrl, projectId, apiKey, apiSecret, id, passphrase, read: [keys], write: {key: value}}, reads and writes through
// a NonLocalStorage with that passphrase, and prints {read: {key: value}} as one JSON line.
import './setup.mjs'
import { NonLocalStorage } from '@vaultrice/sdk'

const input = JSON.parse(await new Promise((resolve) => {
  let text = ''
  process.stdin.on('data', (d) => { text += d })
  process.stdin.on('end', () => resolve(text))
}))

const WebSocketFunctions = Object.getPrototypeOf(NonLocalStorage)
const Base = Object.getPrototypeOf(WebSocketFunctions)
if (!Object.prototype.hasOwnProperty.call(Base, 'basePath')) throw new Error('@vaultrice/sdk layout changed: Base.basePath not found')
Base.basePath = input.baseUrl
WebSocketFunctions.basePath = input.baseUrl

const store = new NonLocalStorage({ projectId: input.projectId, apiKey: input.apiKey, apiSecret: input.apiSecret }, { id: input.id, passphrase: input.passphrase, logLevel: 'error' })
await store.getEncryptionSettings()
const read = {}
for (const key of input.read ?? []) read[key] = (await store.getItem(key))?.value ?? null
for (const [key, value] of Object.entries(input.write ?? {})) await store.setItem(key, value)
console.log(JSON.stringify({ read }))
process.exit(0)
