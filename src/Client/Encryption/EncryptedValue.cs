namespace OrleansVault.Client.Encryption;

/// <summary>
/// A ciphertext as the SDK stores and sends it, with the key version to label it with (<c>X-Enc-KV</c> on HTTP,
/// <c>keyVersion</c> on a socket frame). The ciphertext is sent as a JSON string value, never parsed by the server.
/// </summary>
public readonly record struct EncryptedValue(string Ciphertext, int KeyVersion);
