// Must be imported before @vaultrice/sdk is used: Node 20 has no global WebSocket,
// and the SDK constructs `new WebSocket(url)` from the global.
import WebSocket from 'ws'

globalThis.WebSocket = WebSocket
