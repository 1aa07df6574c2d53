using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace OrleansVault.Hosting.Encryption;

/// <summary>
/// Encrypts each stored grain state with AES-256-GCM under its scope's current data key. The associated data is the
/// header plus the state name and grain id, so a row copied onto another grain (another object, class or project)
/// or altered in any byte fails to decrypt. Layout: format (1 byte) · data key version (4, big-endian) · nonce (12) ·
/// ciphertext · tag (16).
/// </summary>
public sealed class StateProtector(DataKeyStore keys)
{
    /// <summary>The scope of the cluster's own secrets (the token key ring); '~' cannot occur in a project id.</summary>
    public const string ClusterScope = "~cluster";

    private const byte Format = 1;
    private const int HeaderSize = 5;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public DataKeyStore Keys => keys;

    /// <summary>
    /// Which data key protects a state: grains keyed "project" or "project/…" belong to that project; the key ring
    /// (state "keyring") to the cluster.
    /// </summary>
    /// <summary>Data-key scopes of Pusher apps are <c>pusher.{appId}</c> (project ids cannot contain a dot).</summary>
    public const string PusherScopePrefix = "pusher.";

    public static string ScopeOf(string stateName, string grainId)
    {
        if (stateName is "keyring" or "pusherApps")
        {
            return ClusterScope;
        }

        var typeEnd = grainId.IndexOf('/', StringComparison.Ordinal);
        var key = typeEnd < 0 ? grainId : grainId[(typeEnd + 1)..];
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? key : key[..slash];

        // Pusher apps have their own data keys, apart from any project that happens to share the name.
        return stateName.StartsWith("pusher", StringComparison.Ordinal) ? PusherScopePrefix + first : first;
    }

    /// <summary>The data key version a stored payload was written under, or null when it is not in this format.</summary>
    public static int? VersionOf(ReadOnlySpan<byte> stored) =>
        stored.Length >= HeaderSize + NonceSize + TagSize && stored[0] == Format
            ? BinaryPrimitives.ReadInt32BigEndian(stored[1..HeaderSize])
            : null;

    public async ValueTask<byte[]> ProtectAsync(string stateName, string grainId, ReadOnlyMemory<byte> plaintext)
    {
        var key = await keys.GetCurrentAsync(ScopeOf(stateName, grainId));
        var output = new byte[HeaderSize + NonceSize + plaintext.Length + TagSize];
        output[0] = Format;
        BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(1, 4), key.Version);
        var nonce = output.AsSpan(HeaderSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var associated = AssociatedData(output.AsSpan(0, HeaderSize), stateName, grainId, out var rented);
        try
        {
            using var aes = new AesGcm(key.Key, TagSize);
            aes.Encrypt(
                nonce,
                plaintext.Span,
                output.AsSpan(HeaderSize + NonceSize, plaintext.Length),
                output.AsSpan(HeaderSize + NonceSize + plaintext.Length, TagSize),
                associated);
        }
        finally
        {
            ReturnRented(rented);
        }

        return output;
    }

    /// <summary>Decrypts a stored payload; throws <see cref="CryptographicException"/> if it was altered or belongs elsewhere.</summary>
    public async ValueTask<byte[]> UnprotectAsync(string stateName, string grainId, byte[] stored)
    {
        var version = VersionOf(stored) ?? throw new CryptographicException($"The stored state of {grainId} is not in the encrypted format.");
        var key = await keys.GetAsync(ScopeOf(stateName, grainId), version);
        var length = stored.Length - HeaderSize - NonceSize - TagSize;
        var plaintext = new byte[length];
        var associated = AssociatedData(stored.AsSpan(0, HeaderSize), stateName, grainId, out var rented);
        using var aes = new AesGcm(key.Key, TagSize);
        try
        {
            aes.Decrypt(
                stored.AsSpan(HeaderSize, NonceSize),
                stored.AsSpan(HeaderSize + NonceSize, length),
                stored.AsSpan(HeaderSize + NonceSize + length, TagSize),
                plaintext,
                associated);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new CryptographicException($"The stored state of {grainId} failed authentication: it was altered or copied from another grain.");
        }
        finally
        {
            ReturnRented(rented);
        }

        return plaintext;
    }

    private const string ContextPrefix = "ov/state/";

    /// <summary>
    /// The associated data that binds a payload to its place: the header, then UTF-8 "ov/state/{stateName}/{grainId}".
    /// Written into a pooled buffer (one per write otherwise); <paramref name="rented"/> goes back with <see cref="ReturnRented"/>.
    /// </summary>
    private static ReadOnlySpan<byte> AssociatedData(ReadOnlySpan<byte> header, string stateName, string grainId, out byte[] rented)
    {
        var size = header.Length + Encoding.UTF8.GetMaxByteCount(ContextPrefix.Length + stateName.Length + 1 + grainId.Length);
        rented = System.Buffers.ArrayPool<byte>.Shared.Rent(size);
        var span = rented.AsSpan();
        header.CopyTo(span);
        var length = header.Length;
        length += Encoding.UTF8.GetBytes(ContextPrefix, span[length..]);
        length += Encoding.UTF8.GetBytes(stateName, span[length..]);
        span[length++] = (byte)'/';
        length += Encoding.UTF8.GetBytes(grainId, span[length..]);
        return span[..length];
    }

    private static void ReturnRented(byte[] rented) => System.Buffers.ArrayPool<byte>.Shared.Return(rented);
}
