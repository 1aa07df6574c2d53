using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansVault.Errors;
using OrleansVault.Objects;
using OrleansVault.Projects;

namespace OrleansVault.Grains.Objects;

/// <summary>
/// A shared object: items with TTLs, atomic operations, presence and a bounded event history.
/// Every change is persisted before it is acknowledged, then pushed to the feeds of the gateways that relay the object.
/// Reentrant, for group commit: calls run one at a time between awaits, and every change is applied synchronously, so
/// they interleave only while waiting for storage (see <c>WriteLoopAsync</c>).
/// </summary>
[Orleans.Concurrency.Reentrant]
[OrleansVault.Grains.Placement.OwnerSiloPlacementAttribute]
public sealed partial class SharedObjectGrain : Grain, ISharedObjectGrain
{
    private readonly IPersistentState<SharedObjectState> _state;
    private readonly SharedObjectOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SharedObjectGrain> _logger;
    private readonly FeedPushes _pushes;
    private readonly IClusterMembershipService? _membership;
    private ClassPolicy _policy = ClassPolicy.Default("_undefined_");
    private bool _sealedInStorage;

    public SharedObjectGrain(
        [PersistentState("object", SharedObjectOptions.StorageName)] IPersistentState<SharedObjectState> state,
        IOptions<SharedObjectOptions> options,
        TimeProvider time,
        ILogger<SharedObjectGrain> logger,
        FeedPushes pushes,
        IClusterMembershipService? membership = null)
    {
        _state = state;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _pushes = pushes;
        _membership = membership;
    }

    private SharedObjectState State => _state.State;

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var address = ObjectAddress.Parse(this.GetPrimaryKeyString());
        _policy = await GrainFactory.GetGrain<IProjectGrain>(address.ProjectId).GetClassPolicy(address.Class);
        if (State.Epoch == 0 || (_state.RecordExists && !State.Sealed))
        {
            // New, or the last activation ended without sealing: numbers after the stored sequence may have been seen.
            State.Epoch = NewEpoch();
            _epochStart = State.Sequence;
        }
        else
        {
            _history.AddRange(State.History);
            _epochStart = _history.Count > 0 ? _history[0].Sequence - 1 : State.Sequence;
        }

        // From here on the history lives in memory; only the sealing write stores it again.
        State.History = [];

        _sealedInStorage = _state.RecordExists && State.Sealed;
        State.Sealed = false;

        PurgeExpired();
        _historyBytes = _history.Sum(SizeOf);
        _published = State.Sequence;

        // Moved here from another silo with its subscribers (see SharedObjectGrain.Migration.cs): they keep their leases.
        if (_feeds.Count > 0 || _connections.Count > 0)
        {
            EnsureHousekeeping();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Nothing to seal: the write failed, the object never stored anything, or storage is sealed already
        // (nothing was written or numbered since, so a read-only visit costs no write).
        if (_writing)
        {
            // Calls awaiting a write keep the activation busy, so this is defensive: let the last round finish first.
            try
            {
                await DurableAsync().WaitAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // It failed (the activation diverged) or deactivation is cut short: nothing is sealed below then.
            }
        }

        if (_diverged || _sealedInStorage || (!_state.RecordExists && State.Sequence == 0) || _writing)
        {
            return;
        }

        State.Sealed = true;
        State.History = _history;
        try
        {
            await _state.WriteStateAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Unsealed, the next activation starts a new epoch: resumes fail safe (clients refetch), nothing is lost.
            LogSealFailed(_logger, exception);
        }
    }

    public async Task<ItemView?> GetItem(string key)
    {
        await ReadableAsync();
        return LiveItem(key, Now);
    }

    public async Task<IReadOnlyDictionary<string, ItemView>> GetItems(IReadOnlyList<string> keys)
    {
        await ReadableAsync();
        var now = Now;
        var result = new Dictionary<string, ItemView>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (LiveItem(key, now) is { } item)
            {
                result[key] = item;
            }
        }

        return result;
    }

    public async Task<IReadOnlyDictionary<string, ItemView>> GetAll(string? prefix)
    {
        await ReadableAsync();
        var now = Now;
        return State.Items
            .Where(p => p.Value.ExpiresAt > now && (prefix is null || p.Key.StartsWith(prefix, StringComparison.Ordinal)))
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
    }

    public async Task<IReadOnlyList<string>> GetKeys(string? prefix)
    {
        await ReadableAsync();
        var now = Now;
        return [.. State.Items
            .Where(p => p.Value.ExpiresAt > now && (prefix is null || p.Key.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(p => p.Key)];
    }

    public async Task<ItemView?> SetItem(SetItemCommand command)
    {
        var now = Now;
        Validate(command);
        var existing = LiveItem(command.Key, now);
        if (command.IfAbsent && existing is not null)
        {
            return null;
        }

        CheckUpdatedAt(existing, command.ExpectedUpdatedAt);
        CheckObjectSize([(command.Key, command.ValueJson)], now);
        var item = NewItem(existing, command.ValueJson, command.TtlMs, command.KeyVersion, now);
        State.Items[command.Key] = item;
        await CommitAsync([SetEvent(command.Key, item)]);
        return item;
    }

    public async Task<IReadOnlyDictionary<string, ItemView>> SetItems(IReadOnlyList<SetItemCommand> commands)
    {
        var now = Now;
        foreach (var command in commands)
        {
            Validate(command);
        }

        CheckObjectSize([.. commands.Select(c => (c.Key, c.ValueJson))], now);
        var result = new Dictionary<string, ItemView>(StringComparer.Ordinal);
        var events = new List<ObjectEvent>(commands.Count);
        foreach (var command in commands)
        {
            var item = NewItem(LiveItem(command.Key, now), command.ValueJson, command.TtlMs, command.KeyVersion, now);
            State.Items[command.Key] = item;
            result[command.Key] = item;
            events.Add(SetEvent(command.Key, item));
        }

        if (events.Count > 0)
        {
            await CommitAsync(events);
        }

        return result;
    }

    public async Task<ItemView> Apply(AtomicCommand command)
    {
        var now = Now;
        Names.EnsureKey(command.Key);
        ValidateTtl(command.TtlMs);
        if (_policy.RequireEndToEndEncryption)
        {
            // The SDK sends atomic operations in plaintext; a class that promises end-to-end encryption must not accept them.
            throw VaultException.Validation(ErrorCodes.AtomicInEncryptedClass, "This class requires end-to-end encryption; atomic operations would send values in plaintext and are refused.");
        }

        var existing = LiveItem(command.Key, now);
        if (existing?.KeyVersion is not null)
        {
            throw VaultException.Validation(ErrorCodes.EncryptedItem, "Atomic operations work on plaintext items only; this item is end-to-end encrypted.");
        }

        CheckUpdatedAt(existing, command.ExpectedUpdatedAt);
        var value = AtomicOperations.Apply(command.Operation, existing?.ValueJson, command.ArgumentJson);
        CheckSize(value);
        CheckObjectSize([(command.Key, value)], now);
        var item = NewItem(existing, value, command.TtlMs, keyVersion: null, now);
        State.Items[command.Key] = item;
        await CommitAsync([SetEvent(command.Key, item)]);
        return item;
    }

    public async Task RemoveItems(IReadOnlyList<string> keys)
    {
        foreach (var key in keys)
        {
            Names.EnsureKey(key);
        }

        if (keys.Count == 0)
        {
            return;
        }

        foreach (var key in keys)
        {
            State.Items.Remove(key);
        }

        await CommitAsync([.. keys.Select(RemoveEvent)]);
    }

    public async Task Clear()
    {
        var now = Now;
        var live = State.Items.Where(p => p.Value.ExpiresAt > now).Select(p => p.Key).ToList();
        var hadItems = State.Items.Count > 0;
        State.Items.Clear();
        if (live.Count > 0)
        {
            await CommitAsync([.. live.Select(RemoveEvent)]);
        }
        else if (hadItems)
        {
            await PersistAsync();
        }
    }

    public async Task<EncryptionSettingsInfo> GetEncryptionSettings(int saltLength)
    {
        if (State.Encryption.Count == 0)
        {
            State.Encryption.Add(NewEncryptionSettings(0, saltLength));
            await PersistAsync();
        }
        else
        {
            // Another call may have just created them: hand them out only once they are stored.
            await DurableAsync();
        }

        return EncryptionInfo();
    }

    public async Task<EncryptionSettingsInfo> RotateEncryption(int saltLength)
    {
        var next = State.Encryption.Count == 0 ? 0 : State.Encryption[^1].KeyVersion + 1;
        State.Encryption.Add(NewEncryptionSettings(next, saltLength));
        await PersistAsync();
        return EncryptionInfo();
    }

    private EncryptionSettingsInfo EncryptionInfo()
    {
        var current = State.Encryption[^1];
        return new EncryptionSettingsInfo(current, [.. State.Encryption.Take(State.Encryption.Count - 1).Reverse()]);
    }

    private EncryptionSettings NewEncryptionSettings(int keyVersion, int saltLength)
    {
        if (saltLength is < 8 or > 64)
        {
            throw VaultException.Validation(ErrorCodes.SaltLengthInvalid, "saltLength must be between 8 and 64 bytes.");
        }

        return new EncryptionSettings(Convert.ToBase64String(RandomNumberGenerator.GetBytes(saltLength)), keyVersion, Now);
    }

    /// <summary>Drops expired items from memory; storage follows with the next write. Expiry emits no event.</summary>
    private bool PurgeExpired()
    {
        var now = Now;
        var expired = State.Items.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList();
        foreach (var key in expired)
        {
            State.Items.Remove(key);
        }

        return expired.Count > 0;
    }

    private ItemView? LiveItem(string key, long now)
    {
        return State.Items.TryGetValue(key, out var item) && item.ExpiresAt > now ? item : null;
    }

    private ItemView NewItem(ItemView? existing, string valueJson, long? ttlMs, int? keyVersion, long now)
    {
        var updatedAt = existing is null ? now : Math.Max(now, existing.UpdatedAt + 1);
        var ttl = ttlMs ?? _policy.DefaultTtlMs;
        return new ItemView(valueJson, existing?.CreatedAt ?? updatedAt, updatedAt, updatedAt + ttl, keyVersion);
    }

    private void Validate(SetItemCommand command)
    {
        Names.EnsureKey(command.Key);
        ValidateTtl(command.TtlMs);
        CheckSize(command.ValueJson);
        CheckKeyVersion(command.KeyVersion);
    }

    private void CheckKeyVersion(int? keyVersion)
    {
        if (keyVersion is null && _policy.RequireEndToEndEncryption)
        {
            throw VaultException.Validation(ErrorCodes.EncryptionRequired, "This class requires end-to-end encryption: send values, messages and presence data encrypted, with their keyVersion.");
        }

        if (keyVersion is { } version && !State.Encryption.Any(e => e.KeyVersion == version))
        {
            throw VaultException.Validation(ErrorCodes.KeyVersionUnknown, "This object has no encryption settings with that key version.");
        }
    }

    private static void ValidateTtl(long? ttlMs)
    {
        if (ttlMs is <= 0)
        {
            throw VaultException.Validation(ErrorCodes.TtlInvalid, "ttl must be a positive number of milliseconds.");
        }
    }

    private void CheckSize(string valueJson)
    {
        if (Encoding.UTF8.GetByteCount(valueJson) > _policy.MaxValueBytes)
        {
            throw VaultException.TooLarge(ErrorCodes.ValueTooLarge, $"A value may be at most {_policy.MaxValueBytes} bytes.");
        }
    }

    /// <summary>Refuses a write that would make the object's live items (keys and JSON values, in characters) exceed the limit.</summary>
    private void CheckObjectSize(IReadOnlyList<(string Key, string ValueJson)> writes, long now)
    {
        var written = writes.Select(w => w.Key).ToHashSet(StringComparer.Ordinal);
        long total = writes.Sum(w => (long)w.Key.Length + w.ValueJson.Length);
        foreach (var (key, item) in State.Items)
        {
            if (item.ExpiresAt > now && !written.Contains(key))
            {
                total += key.Length + item.ValueJson.Length;
            }
        }

        if (total > _options.MaxObjectBytes)
        {
            throw VaultException.TooLarge(ErrorCodes.ObjectTooLarge, $"An object may hold at most {_options.MaxObjectBytes} characters of keys and values; this write would exceed that.");
        }
    }

    private static void CheckUpdatedAt(ItemView? existing, long? expected)
    {
        if (expected is { } value && (existing is null || existing.UpdatedAt != value))
        {
            throw VaultException.Conflict(ErrorCodes.UpdatedAtMismatch, "The item was changed since the given updatedAt.");
        }
    }

    private static long NewEpoch() => Math.Abs(BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) >> 12) + 1;
}
