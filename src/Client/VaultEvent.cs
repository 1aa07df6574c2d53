using System.Text.Json;
using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>One event of a shared object, decrypted when the object uses end-to-end encryption.</summary>
public sealed class VaultEvent
{
    private readonly JsonSerializerOptions _json;

    internal VaultEvent(ObjectEventData data, string? valueJson, JsonSerializerOptions json)
    {
        Data = data;
        ValueJson = valueJson;
        _json = json;
    }

    /// <summary>What happened.</summary>
    public EventKind Kind => Data.Kind;

    /// <summary>The object's event epoch (it changes when the server lost history).</summary>
    public long Epoch => Data.Epoch;

    /// <summary>The event's sequence number within its epoch.</summary>
    public long Sequence => Data.Sequence;

    /// <summary>The item's name (set and remove events).</summary>
    public string? Key => Data.Key;

    /// <summary>The connection that joined or left (presence events).</summary>
    public string? ConnectionId => Data.ConnectionId;

    /// <summary>The user id the gateway verified for a presence entry or message, if the class verifies identities.</summary>
    public string? VerifiedUserId => Data.VerifiedUserId;

    /// <summary>The item as stored (set events): times and key version. Its value may be ciphertext; use <see cref="ValueJson"/>.</summary>
    public ItemData? Item => Data.Item;

    /// <summary>The plaintext JSON of the item value, message or presence data (null for removes and leaves).</summary>
    public string? ValueJson { get; }

    /// <summary>The raw wire event.</summary>
    public ObjectEventData Data { get; }

    /// <summary>Reads <see cref="ValueJson"/> as <typeparamref name="T"/>.</summary>
    public T? ValueAs<T>() => ValueJson is null ? default : JsonSerializer.Deserialize<T>(ValueJson, _json);

    /// <inheritdoc/>
    public override string ToString() => $"{Kind} #{Sequence} {Key}";
}

/// <summary>An item read from a shared object.</summary>
/// <typeparam name="T">The value's type.</typeparam>
/// <param name="Value">The value (decrypted when the object uses end-to-end encryption).</param>
/// <param name="CreatedAt">When it was first written.</param>
/// <param name="UpdatedAt">When it was last written; pass <c>UpdatedAt.ToUnixTimeMilliseconds()</c> as <see cref="SetOptions.IfUpdatedAt"/> for a conditional write.</param>
/// <param name="ExpiresAt">When it expires.</param>
public sealed record VaultItem<T>(T Value, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset ExpiresAt);

/// <summary>Options of a write.</summary>
public sealed class SetOptions
{
    /// <summary>Time to live; null means the class default (one hour unless configured).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>Write only when no live item has this name.</summary>
    public bool IfAbsent { get; init; }

    /// <summary>Write only when the stored item was last updated at this time (Unix milliseconds).</summary>
    public long? IfUpdatedAt { get; init; }
}

/// <summary>One member of an object's presence list, with its data decrypted.</summary>
/// <param name="ConnectionId">The member's connection id on the object.</param>
/// <param name="JoinedAt">When it joined.</param>
/// <param name="DataJson">Its presence data as JSON.</param>
/// <param name="VerifiedUserId">The user id the gateway verified, for classes that verify identities.</param>
public sealed record VaultMember(string ConnectionId, DateTimeOffset JoinedAt, string DataJson, string? VerifiedUserId)
{
    /// <summary>Reads the presence data as <typeparamref name="T"/>.</summary>
    public T? DataAs<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(DataJson, options ?? JsonSerializerOptions.Web);
}
