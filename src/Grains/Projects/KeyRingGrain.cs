using System.Security.Cryptography;
using OrleansVault.Projects;

namespace OrleansVault.Grains.Projects;

/// <summary>The persisted key ring.</summary>
[GenerateSerializer]
[Alias("ov.KeyRingState")]
public sealed class KeyRingState
{
    [Id(0)]
    public byte[] Pepper { get; set; } = [];

    [Id(1)]
    public List<SigningKeyRecord> SigningKeys { get; set; } = [];

    [Id(2)]
    public long Version { get; set; }
}

/// <summary>
/// The cluster-wide key ring: ES256 token signing keys and the pepper API secrets are hashed under.
/// Created on first use and persisted, so every gateway signs and verifies with the same keys.
/// </summary>
public sealed class KeyRingGrain(
    [PersistentState("keyring", "VaultStore")] IPersistentState<KeyRingState> state,
    TimeProvider time) : Grain, IKeyRingGrain
{
    public async Task<KeyRingSnapshot> GetKeyRing()
    {
        if (state.State.SigningKeys.Count == 0)
        {
            state.State.Pepper = RandomNumberGenerator.GetBytes(32);
            state.State.SigningKeys.Add(NewSigningKey());
            state.State.Version++;
            await state.WriteStateAsync();
        }

        return Snapshot();
    }

    public async Task<KeyRingSnapshot> RotateSigningKey(TimeSpan retiredKeyLifetime)
    {
        await GetKeyRing();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var keys = state.State.SigningKeys;
        keys.RemoveAll(k => k.RetiredAt is { } retired && retired < now);
        for (var i = 0; i < keys.Count; i++)
        {
            if (keys[i].RetiredAt is null)
            {
                keys[i] = keys[i] with { RetiredAt = now + (long)retiredKeyLifetime.TotalMilliseconds };
            }
        }

        keys.Add(NewSigningKey());
        state.State.Version++;
        await state.WriteStateAsync();
        return Snapshot();
    }

    private SigningKeyRecord NewSigningKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        return new SigningKeyRecord(keyId, key.ExportPkcs8PrivateKey(), time.GetUtcNow().ToUnixTimeMilliseconds(), null);
    }

    private KeyRingSnapshot Snapshot() => new(state.State.Pepper, [.. state.State.SigningKeys], state.State.Version);
}
