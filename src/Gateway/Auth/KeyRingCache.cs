using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OrleansVault.Gateway.Options;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Auth;

/// <summary>The key ring as a gateway uses it: ready-made signing keys and the pepper.</summary>
public sealed class KeyRingMaterial
{
    public required byte[] Pepper { get; init; }

    /// <summary>The key new tokens are signed with.</summary>
    public required ECDsaSecurityKey Current { get; init; }

    /// <summary>Every key a token may still be verified with.</summary>
    public required IReadOnlyList<ECDsaSecurityKey> Verification { get; init; }

    public required DateTimeOffset LoadedAt { get; init; }
}

/// <summary>Loads the cluster key ring from its grain and reloads it periodically so rotations reach every gateway.</summary>
public sealed class KeyRingCache(IGrainFactory grains, IOptions<AuthOptions> options, TimeProvider time)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private volatile KeyRingMaterial? _material;

    public async ValueTask<KeyRingMaterial> GetAsync()
    {
        var material = _material;
        if (material is not null && time.GetUtcNow() - material.LoadedAt < options.Value.KeyRingRefresh)
        {
            return material;
        }

        await _lock.WaitAsync();
        try
        {
            material = _material;
            if (material is not null && time.GetUtcNow() - material.LoadedAt < options.Value.KeyRingRefresh)
            {
                return material;
            }

            var snapshot = await grains.GetGrain<IKeyRingGrain>(IKeyRingGrain.KeyRingKey).GetKeyRing();
            _material = material = Build(snapshot);
            return material;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Forgets the cached ring so the next call reloads it (after a rotation on this gateway).</summary>
    public void Invalidate() => _material = null;

    private KeyRingMaterial Build(KeyRingSnapshot snapshot)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var keys = snapshot.SigningKeys
            .Where(k => k.RetiredAt is null || k.RetiredAt > now)
            .Select(k =>
            {
                var ecdsa = ECDsa.Create();
                ecdsa.ImportPkcs8PrivateKey(k.Pkcs8PrivateKey, out _);
                return (Record: k, Key: new ECDsaSecurityKey(ecdsa) { KeyId = k.KeyId });
            })
            .ToList();
        var current = keys.Last(k => k.Record.RetiredAt is null).Key;
        return new KeyRingMaterial
        {
            Pepper = snapshot.Pepper,
            Current = current,
            Verification = [.. keys.Select(k => k.Key)],
            LoadedAt = time.GetUtcNow(),
        };
    }
}
