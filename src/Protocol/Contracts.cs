namespace OrleansVault.Protocol;

/// <summary>Which object to open: class and id, plus the object-id signature its class may require.</summary>
/// <param name="Class">The object's class (1–64 of <c>A-Z a-z 0-9 _ -</c>).</param>
/// <param name="Id">The object's id.</param>
/// <param name="IdSignature">The backend's signature of the id, for classes that require one.</param>
/// <param name="IdSignatureKeyVersion">The version of the key that made <paramref name="IdSignature"/>; null means the class's current key.</param>
public sealed record ObjectRef(string Class, string Id, string? IdSignature = null, int? IdSignatureKeyVersion = null);

/// <summary>The answer to <c>Open</c>: the handle later calls name the object by, and where its event numbering stands.</summary>
/// <param name="Handle">The object's handle on this connection (<c>class/id</c>).</param>
/// <param name="ConnectionId">This connection's public id on the object (presence shows it).</param>
/// <param name="Epoch">The object's event epoch; it changes when history was lost.</param>
/// <param name="Sequence">The sequence number of the object's latest event.</param>
public sealed record OpenResult(string Handle, string ConnectionId, long Epoch, long Sequence);

/// <summary>One stored item.</summary>
/// <param name="ValueJson">The value as JSON text (for end-to-end encrypted items, a JSON string of ciphertext).</param>
/// <param name="CreatedAt">When the item was first written (Unix milliseconds).</param>
/// <param name="UpdatedAt">When it was last written (Unix milliseconds); pass it back as a write condition.</param>
/// <param name="ExpiresAt">When it expires (Unix milliseconds).</param>
/// <param name="KeyVersion">The end-to-end encryption key version, or null for plaintext.</param>
public sealed record ItemData(string ValueJson, long CreatedAt, long UpdatedAt, long ExpiresAt, int? KeyVersion);

/// <summary>A write of one item.</summary>
/// <param name="Key">The item's name.</param>
/// <param name="ValueJson">The value as JSON text.</param>
/// <param name="TtlMs">Time to live in milliseconds; null means the class default.</param>
/// <param name="IfAbsent">Write only when no live item has this name.</param>
/// <param name="IfUpdatedAt">Write only when the stored item's <c>UpdatedAt</c> equals this.</param>
/// <param name="KeyVersion">The end-to-end encryption key version of an encrypted value.</param>
public sealed record SetRequest(string Key, string ValueJson, long? TtlMs = null, bool IfAbsent = false, long? IfUpdatedAt = null, int? KeyVersion = null);

/// <summary>An atomic operation on one item, applied by the object (not possible on end-to-end encrypted classes).</summary>
/// <param name="Key">The item's name.</param>
/// <param name="Operation">One of <c>increment</c>, <c>decrement</c>, <c>push</c>, <c>splice</c>, <c>merge</c>, <c>set-in</c>.</param>
/// <param name="ArgumentJson">The operation's argument object as JSON, as in the HTTP API (e.g. <c>{"value":1}</c>).</param>
/// <param name="TtlMs">Time to live in milliseconds; null keeps the item's expiry rules.</param>
/// <param name="IfUpdatedAt">Apply only when the stored item's <c>UpdatedAt</c> equals this.</param>
public sealed record ApplyRequest(string Key, string Operation, string ArgumentJson, long? TtlMs = null, long? IfUpdatedAt = null);

/// <summary>Proof of the user's identity for classes that verify it (an identity JWT or a user-id signature).</summary>
public sealed record UserProof(string? IdentityToken = null, string? UserIdSignature = null);

/// <summary>One member of an object's presence list.</summary>
public sealed record MemberData(string ConnectionId, long JoinedAt, string DataJson, int? KeyVersion, string? VerifiedUserId);

/// <summary>One generation of an object's end-to-end encryption settings (salt is standard base64).</summary>
public sealed record EncryptionKeyData(string Salt, int KeyVersion, long CreatedAt);

/// <summary>An object's current end-to-end encryption settings and the previous ones (to read older values).</summary>
public sealed record EncryptionData(EncryptionKeyData Current, IReadOnlyList<EncryptionKeyData> Previous);

/// <summary>What an event says happened.</summary>
public enum EventKind
{
    /// <summary>An item was written; <see cref="ObjectEventData.Item"/> is its new state.</summary>
    SetItem = 0,

    /// <summary>An item was removed (or expired and was removed).</summary>
    RemoveItem = 1,

    /// <summary>A message sent to everyone on the object.</summary>
    Message = 2,

    /// <summary>A connection joined presence.</summary>
    PresenceJoin = 3,

    /// <summary>A connection left presence.</summary>
    PresenceLeave = 4,

    /// <summary>
    /// The server cannot replay what this subscriber missed (its history no longer covers it, or the object's epoch
    /// changed): read the state again; events after <see cref="ObjectEventData.Sequence"/> follow.
    /// </summary>
    Refetch = 5,
}

/// <summary>One event of a shared object on the native door, numbered within its epoch.</summary>
public sealed record ObjectEventData(
    long Epoch,
    long Sequence,
    EventKind Kind,
    string? Key = null,
    ItemData? Item = null,
    string? PayloadJson = null,
    int? KeyVersion = null,
    string? ConnectionId = null,
    long JoinedAt = 0,
    string? VerifiedUserId = null);
