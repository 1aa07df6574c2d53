using System.Security.Cryptography;

namespace OrleansVault.Client.Encryption;

/// <summary>
/// PBKDF2 parameters, the counterpart of the SDK's <c>keyDerivationOptions</c>; the defaults are the SDK's
/// (100,000 iterations of HMAC-SHA-512, a 256-bit AES-GCM key). Change them only together with every JS client.
/// </summary>
public sealed record KeyDerivationOptions
{
    /// <summary>The SDK's defaults.</summary>
    public static KeyDerivationOptions Default { get; } = new();

    /// <summary>PBKDF2 iterations (the SDK's <c>iterations</c>).</summary>
    public int Iterations { get; init; } = 100_000;

    /// <summary>PBKDF2's HMAC hash (the SDK's <c>hash</c>): SHA-1, SHA-256, SHA-384 or SHA-512.</summary>
    public HashAlgorithmName Hash { get; init; } = HashAlgorithmName.SHA512;

    /// <summary>AES key length in bits (the SDK's <c>derivedKeyType.length</c>): 128, 192 or 256.</summary>
    public int KeySizeBits { get; init; } = 256;

    internal void Validate()
    {
        if (Iterations <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "PBKDF2 needs at least one iteration.");
        }

        if (Hash != HashAlgorithmName.SHA1 && Hash != HashAlgorithmName.SHA256 && Hash != HashAlgorithmName.SHA384 && Hash != HashAlgorithmName.SHA512)
        {
            throw new ArgumentOutOfRangeException(nameof(Hash), Hash, "WebCrypto's PBKDF2 takes SHA-1, SHA-256, SHA-384 or SHA-512.");
        }

        if (KeySizeBits is not (128 or 192 or 256))
        {
            throw new ArgumentOutOfRangeException(nameof(KeySizeBits), KeySizeBits, "AES keys are 128, 192 or 256 bits.");
        }
    }
}
