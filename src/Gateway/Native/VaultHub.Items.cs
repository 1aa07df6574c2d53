using System.Text.Json;
using OrleansVault.Errors;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>The native door's item operations: reads, writes, removals and atomic operations on an open object.</summary>
public sealed partial class VaultHub
{
    public async Task<ItemData?> Get(string handle, string key)
    {
        var session = Session(handle);
        Names.EnsureKey(key);
        return await session.Grain.GetItem(key) is { } item ? NativeMapping.ToItem(item) : null;
    }

    public async Task<Dictionary<string, ItemData>> GetMany(string handle, string[] keys)
    {
        var session = Session(handle);
        EnsureKeys(keys);
        return NativeMapping.ToItems(await session.Grain.GetItems(keys));
    }

    public async Task<Dictionary<string, ItemData>> GetAll(string handle, string? prefix) =>
        NativeMapping.ToItems(await Session(handle).Grain.GetAll(string.IsNullOrEmpty(prefix) ? null : prefix));

    public async Task<IReadOnlyList<string>> GetKeys(string handle, string? prefix) =>
        await Session(handle).Grain.GetKeys(string.IsNullOrEmpty(prefix) ? null : prefix);

    /// <summary>Writes one item; null when <see cref="SetRequest.IfAbsent"/> found a live item (nothing was written).</summary>
    public async Task<ItemData?> Set(string handle, SetRequest request)
    {
        var session = Session(handle);
        var command = Command(request);
        return await session.Grain.SetItem(command) is { } item ? NativeMapping.ToItem(item) : null;
    }

    public async Task<Dictionary<string, ItemData>> SetMany(string handle, SetRequest[] requests)
    {
        var session = Session(handle);
        if (requests is null || requests.Length == 0 || requests.Length > limits.Value.MaxItemsPerRequest)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, $"Send 1 to {limits.Value.MaxItemsPerRequest} items.");
        }

        if (requests.Any(r => r is null || r.IfAbsent || r.IfUpdatedAt is not null))
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, "SetMany takes no IfAbsent or IfUpdatedAt conditions; use Set for a conditional write.");
        }

        return NativeMapping.ToItems(await session.Grain.SetItems([.. requests.Select(Command)]));
    }

    public async Task Remove(string handle, string key)
    {
        var session = Session(handle);
        Names.EnsureKey(key);
        await session.Grain.RemoveItems([key]);
    }

    public async Task RemoveMany(string handle, string[] keys)
    {
        var session = Session(handle);
        EnsureKeys(keys);
        await session.Grain.RemoveItems(keys);
    }

    public async Task Clear(string handle) => await Session(handle).Grain.Clear();

    /// <summary>Applies an atomic operation (increment, decrement, push, splice, merge, set-in) and returns the item after it.</summary>
    public async Task<ItemData> Apply(string handle, ApplyRequest request)
    {
        var session = Session(handle);
        if (request is null || !AtomicOperations.TryParseOperation(request.Operation ?? string.Empty, out var operation))
        {
            throw VaultException.Validation(ErrorCodes.OperationUnknown, "Unknown atomic operation; use increment, decrement, push, splice, merge or set-in.");
        }

        Names.EnsureKey(request.Key);
        using (var argument = ParseJson(request.ArgumentJson, "ArgumentJson"))
        {
            if (argument.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw VaultException.Validation(ErrorCodes.BodyMalformed, "ArgumentJson must be a JSON object, as the HTTP API's body.");
            }
        }

        EnsureTtl(request.TtlMs);

        var item = await session.Grain.Apply(new AtomicCommand(request.Key, operation, request.ArgumentJson, request.TtlMs, request.IfUpdatedAt));
        return NativeMapping.ToItem(item);
    }

    private void EnsureKeys(string[] keys)
    {
        if (keys is null || keys.Length > limits.Value.MaxItemsPerRequest)
        {
            throw VaultException.Validation(ErrorCodes.BodyMalformed, $"Send at most {limits.Value.MaxItemsPerRequest} item names.");
        }

        foreach (var key in keys)
        {
            Names.EnsureKey(key);
        }
    }

    private static void EnsureTtl(long? ttlMs)
    {
        if (ttlMs is <= 0)
        {
            throw VaultException.Validation(ErrorCodes.TtlInvalid, "TtlMs must be a positive number of milliseconds.");
        }
    }

    private static SetItemCommand Command(SetRequest request)
    {
        if (request is null)
        {
            throw VaultException.Validation(ErrorCodes.ValueMissing, "Send the item to write.");
        }

        Names.EnsureKey(request.Key);
        ParseJson(request.ValueJson, "ValueJson").Dispose();
        EnsureKeyVersion(request.KeyVersion);
        EnsureTtl(request.TtlMs);

        return new SetItemCommand(request.Key, request.ValueJson, request.TtlMs, request.IfAbsent, request.IfUpdatedAt, request.KeyVersion);
    }
}
