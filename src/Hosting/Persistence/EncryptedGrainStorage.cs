using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansVault.Hosting.Encryption;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// Cluster-mode grain storage: serializes each state with the Orleans binary serializer, encrypts it with the same
/// envelope as embedded mode (<see cref="StateProtector"/>: per-scope data key, AAD bound to state name and grain id),
/// and hands only that ciphertext to the AdoNet provider on PostgreSQL. The provider sees a byte array per state and
/// a key of our own making, <c>ov:{grain id}</c>: never hex-looking (the provider reads hex string keys as numbers, so
/// "ABC" and "abc" would share a row) and carrying the grain type (the provider's key does not).
/// </summary>
public sealed class EncryptedGrainStorage(IGrainStorage inner, Serializer serializer, StateProtector protector) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var stored = new GrainState<StoredCiphertext>();
        await inner.ReadStateAsync(stateName, StorageId(grainId), stored);
        grainState.ETag = stored.ETag;
        if (stored.RecordExists && stored.State?.Data is { Length: > 0 } ciphertext)
        {
            grainState.State = serializer.Deserialize<T>(await protector.UnprotectAsync(stateName, grainId.ToString(), ciphertext));
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var ciphertext = await protector.ProtectAsync(stateName, grainId.ToString(), serializer.SerializeToArray(grainState.State));
        var stored = new GrainState<StoredCiphertext>(new StoredCiphertext { Data = ciphertext }) { ETag = grainState.ETag, RecordExists = grainState.RecordExists };
        await inner.WriteStateAsync(stateName, StorageId(grainId), stored);
        grainState.ETag = stored.ETag;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var stored = new GrainState<StoredCiphertext> { ETag = grainState.ETag, RecordExists = grainState.RecordExists };
        await inner.ClearStateAsync(stateName, StorageId(grainId), stored);
        grainState.ETag = stored.ETag;
        grainState.RecordExists = false;
        grainState.State = Activator.CreateInstance<T>();
    }

    private static GrainId StorageId(GrainId grainId) => GrainId.Create(grainId.Type, "ov:" + grainId);
}

/// <summary>What <see cref="EncryptedGrainStorage"/> gives the AdoNet provider to store: one encrypted envelope.</summary>
public sealed class StoredCiphertext
{
    public byte[] Data { get; set; } = [];
}

/// <summary>The AdoNet provider's serializer for <see cref="EncryptedGrainStorage"/>: the state is already bytes (ciphertext).</summary>
public sealed class CiphertextStorageSerializer : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input) =>
        input is StoredCiphertext stored ? BinaryData.FromBytes(stored.Data) : throw new InvalidOperationException("Only encrypted envelopes are stored through this provider.");

    public T? Deserialize<T>(BinaryData input) =>
        typeof(T) == typeof(StoredCiphertext)
            ? (T)(object)new StoredCiphertext { Data = input.ToArray() }
            : throw new InvalidOperationException("Only encrypted envelopes are stored through this provider.");
}
