using System.Security.Cryptography;
using System.Text;

namespace OrleansVault.Gateway.Auth;

/// <summary>
/// API secrets are high-entropy, so a keyed hash (HMAC-SHA256 under the cluster pepper) is enough and cheap
/// enough for Basic auth on every request; comparison is constant-time.
/// </summary>
public static class SecretHasher
{
    public static byte[] Hash(byte[] pepper, string secret) => HMACSHA256.HashData(pepper, Encoding.UTF8.GetBytes(secret));

    public static bool Matches(byte[] pepper, string secret, byte[] expectedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(pepper, secret), expectedHash);

    /// <summary>A new random secret: 32 bytes, base64url.</summary>
    public static string NewSecret() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string NewId(int bytes) => Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant();
}
