#!/usr/bin/env node
// End-to-end encryption through the unmodified @vaultrice/sdk, offline, for cross-implementation tests
// (tests/OrleansVault.UnitTests/Encryption/SdkCrossEncryptionTests.cs). Reads one JSON request on stdin:
//   { passphrase, objectId, settings: <the cache-encryption answer>, encrypt: [jsonText...],
//     decrypt: [{ ciphertext, keyVersion }...] }
// and prints { encrypted: [{ ciphertext, keyVersion }...], decrypted: [{ json } | { error }...] }.
// It drives a real NonLocalStorage instance the way setItem/getItem do: the SDK's own key derivation
// (passphrase, object id, salt), its handling of the server's settings (base64 salt, previous versions)
// and its choice of key by keyVersion. No network: a static access token and no socket.
import { NonLocalStorage } from '@vaultrice/sdk'

const request = JSON.parse(await new Promise((resolve, reject) => {
  let text = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (chunk) => { text += chunk })
  process.stdin.on('end', () => resolve(text))
  process.stdin.on('error', reject)
}))

const nls = new NonLocalStorage(
  { projectId: 'e2ee-vectors', accessToken: 'offline' },
  { id: request.objectId, passphrase: request.passphrase, logLevel: 'error' }
)
for (const name of ['prepareEncryptionSettings', 'handleEncryptionSettings', 'getEncryptionHandlerForKeyVersion']) {
  if (typeof nls[name] !== 'function') throw new Error(`@vaultrice/sdk layout changed: ${name} not found`)
}
// What getEncryptionSettings() does with the server's answer, without the request.
const infos = nls.prepareEncryptionSettings(request.settings)
await nls.handleEncryptionSettings(infos)

const encrypted = []
for (const json of request.encrypt ?? []) {
  // setItem: encryptionHandler.encrypt(JSON.stringify(value)), labelled with the current key version.
  encrypted.push({ ciphertext: await nls.encryptionHandler.encrypt(JSON.stringify(JSON.parse(json))), keyVersion: infos.encryptionSettings.keyVersion })
}

const decrypted = []
for (const { ciphertext, keyVersion } of request.decrypt ?? []) {
  // getItem: the handler for the item's keyVersion, then JSON.parse of the plaintext.
  try {
    const handler = await nls.getEncryptionHandlerForKeyVersion(keyVersion)
    const plaintext = await handler.decrypt(ciphertext)
    JSON.parse(plaintext)
    decrypted.push({ json: plaintext })
  } catch (e) {
    decrypted.push({ error: String(e?.message ?? e) })
  }
}

process.stdout.write(JSON.stringify({ encrypted, decrypted }))
