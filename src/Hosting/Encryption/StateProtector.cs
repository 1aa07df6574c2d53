using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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

    // Ready AES-GCM contexts per data key: building one (an OpenSSL cipher context and its key schedule) cost more than
    // sealing a small state. Weakly keyed, so a key the store forgets takes its contexts with it.
    private readonly ConditionalWeakTable<DataKey, CipherPool> _ciphers = new();

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
        var ciphers = CiphersOf(key);
        var aes = ciphers.Rent();
        try
        {
            aes.Encrypt(
                nonce,
                plaintext.Span,
                output.AsSpan(HeaderSize + NonceSize, plaintext.Length),
                output.AsSpan(HeaderSize + NonceSize + plaintext.Length, TagSize),
                associated);
            ciphers.Return(aes);
        }
        catch
        {
            aes.Dispose();
            throw;
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
        var ciphers = CiphersOf(key);
        var aes = ciphers.Rent();
        try
        {
            aes.Decrypt(
                stored.AsSpan(HeaderSize, NonceSize),
                stored.AsSpan(HeaderSize + NonceSize, length),
                stored.AsSpan(HeaderSize + NonceSize + length, TagSize),
                plaintext,
                associated);
            ciphers.Return(aes);
        }
        catch (AuthenticationTagMismatchException)
        {
            aes.Dispose();
            throw new CryptographicException($"The stored state of {grainId} failed authentication: it was altered or copied from another grain.");
        }
        catch
        {
            aes.Dispose();
            throw;
        }
        finally
        {
            ReturnRented(rented);
        }

        return plaintext;
    }

    private CipherPool CiphersOf(DataKey key) => _ciphers.GetValue(key, static k => new CipherPool(k.Key, TagSize));

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

/// <summary>
/// Idle <see cref="AesGcm"/> contexts of one key. A context serves one caller at a time (it is not thread-safe): a
/// caller rents one, or builds one when none is idle, and returns it; at most <see cref="MaxIdle"/> stay idle.
/// </summary>
internal sealed class CipherPool(byte[] key, int tagSize)
{
    private static readonly int MaxIdle = Math.Max(4, Environment.ProcessorCount * 2);
    private readonly ConcurrentQueue<AesGcm> _idle = new();
    private int _idleCount;

    public AesGcm Rent()
    {
        if (_idle.TryDequeue(out var aes))
        {
            Interlocked.Decrement(ref _idleCount);
            return aes;
        }

        return new AesGcm(key, tagSize);
    }

    public void Return(AesGcm aes)
    {
        if (Interlocked.Increment(ref _idleCount) > MaxIdle)
        {
            Interlocked.Decrement(ref _idleCount);
            aes.Dispose();
            return;
        }

        _idle.Enqueue(aes);
    }
}
