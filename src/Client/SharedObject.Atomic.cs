using System.Text.Json;
using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>Atomic operations: applied inside the object, so concurrent writers never lose an update.</summary>
/// <remarks>They work on plaintext items only: an end-to-end encrypted object refuses them (the server cannot read values).</remarks>
public sealed partial class SharedObject
{
    /// <summary>Adds <paramref name="by"/> to a number (an absent item starts at 0) and returns the new value.</summary>
    public Task<VaultItem<double>> IncrementAsync(string key, double by = 1, SetOptions? options = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<double>(key, "increment", new { value = by }, options, cancellationToken);

    /// <summary>Subtracts <paramref name="by"/> from a number (an absent item starts at 0) and returns the new value.</summary>
    public Task<VaultItem<double>> DecrementAsync(string key, double by = 1, SetOptions? options = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<double>(key, "decrement", new { value = by }, options, cancellationToken);

    /// <summary>Appends <paramref name="element"/> to an array (an absent item becomes a one-element array).</summary>
    public Task<VaultItem<JsonElement>> PushAsync<T>(string key, T element, SetOptions? options = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<JsonElement>(key, "push", new { value = element }, options, cancellationToken);

    /// <summary>Changes an array like JavaScript's <c>Array.prototype.splice</c> (a negative start counts from the end).</summary>
    public Task<VaultItem<JsonElement>> SpliceAsync<T>(string key, int startIndex, int deleteCount, IEnumerable<T>? items = null, SetOptions? options = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<JsonElement>(key, "splice", new { startIndex, deleteCount, items = items?.ToArray() ?? [] }, options, cancellationToken);

    /// <summary>Shallow-merges <paramref name="fields"/> into an object (an absent item becomes the object).</summary>
    public Task<VaultItem<JsonElement>> MergeAsync<T>(string key, T fields, SetOptions? options = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<JsonElement>(key, "merge", new { value = fields }, options, cancellationToken);

    /// <summary>Sets the value at a dotted <paramref name="path"/> inside an object, creating objects on the way.</summary>
    public Task<VaultItem<JsonElement>> SetInAsync<T>(string key, string path, T value, SetOptions? options = null, CancellationToken cancellationToken = default) =>
        ApplyAsync<JsonElement>(key, "set-in", new { path, value }, options, cancellationToken);

    private async Task<VaultItem<TResult>> ApplyAsync<TResult>(string key, string operation, object argument, SetOptions? options, CancellationToken cancellationToken)
    {
        var request = new ApplyRequest(
            key,
            operation,
            JsonSerializer.Serialize(argument, _json),
            options?.Ttl is { } ttl ? (long)Math.Ceiling(ttl.TotalMilliseconds) : null,
            options?.IfUpdatedAt);
        var item = await Invoke<ItemData>(NativeProtocol.Methods.Apply, [_handle, request], cancellationToken);
        return new VaultItem<TResult>(JsonSerializer.Deserialize<TResult>(item.ValueJson, _json)!, Time(item.CreatedAt), Time(item.UpdatedAt), Time(item.ExpiresAt));
    }
}
