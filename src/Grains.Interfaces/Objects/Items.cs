using Orleans.Concurrency;

namespace OrleansVault.Objects;

// The records here are [Immutable]: nothing changes them after construction, so Orleans hands the same instance from
// a grain to a gateway in the same process instead of deep-copying it on every call and every event push.

/// <summary>One stored item as clients see it; <see cref="ValueJson"/> is the raw JSON value (or ciphertext string).</summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.ItemView")]
public sealed record ItemView(
    [property: Id(0)] string ValueJson,
    [property: Id(1)] long CreatedAt,
    [property: Id(2)] long UpdatedAt,
    [property: Id(3)] long ExpiresAt,
    [property: Id(4)] int? KeyVersion);

/// <summary>A request to set one item.</summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.SetItemCommand")]
public sealed record SetItemCommand(
    [property: Id(0)] string Key,
    [property: Id(1)] string ValueJson,
    [property: Id(2)] long? TtlMs,
    [property: Id(3)] bool IfAbsent,
    [property: Id(4)] long? ExpectedUpdatedAt,
    [property: Id(5)] int? KeyVersion);

/// <summary>The atomic operations of WIRE.md 1.3.</summary>
public enum AtomicOperation
{
    Increment = 0,
    Decrement = 1,
    Push = 2,
    Splice = 3,
    Merge = 4,
    SetIn = 5,
}

/// <summary>A request for one atomic operation; <see cref="ArgumentJson"/> is the request body.</summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.AtomicCommand")]
public sealed record AtomicCommand(
    [property: Id(0)] string Key,
    [property: Id(1)] AtomicOperation Operation,
    [property: Id(2)] string ArgumentJson,
    [property: Id(3)] long? TtlMs,
    [property: Id(4)] long? ExpectedUpdatedAt);

/// <summary>A message to everyone connected to an object; a socket sender is excluded from delivery.</summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.MessageCommand")]
public sealed record MessageCommand(
    [property: Id(0)] string PayloadJson,
    [property: Id(1)] int? KeyVersion,
    [property: Id(2)] string? ExcludedConnectionId);

/// <summary>One joined connection in an object's presence list.</summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.PresenceEntry")]
public sealed record PresenceEntry(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] long JoinedAt,
    [property: Id(2)] string DataJson,
    [property: Id(3)] int? KeyVersion,
    [property: Id(4)] string? VerifiedUserId = null);

/// <summary>The end-to-end encryption settings of an object (salt is standard base64).</summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.EncryptionSettings")]
public sealed record EncryptionSettings(
    [property: Id(0)] string Salt,
    [property: Id(1)] int KeyVersion,
    [property: Id(2)] long CreatedAt);

/// <summary>Current and previous encryption settings of an object.</summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.EncryptionSettingsInfo")]
public sealed record EncryptionSettingsInfo(
    [property: Id(0)] EncryptionSettings Current,
    [property: Id(1)] IReadOnlyList<EncryptionSettings> Previous);
