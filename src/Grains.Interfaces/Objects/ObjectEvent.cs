namespace OrleansVault.Objects;

/// <summary>What happened to a shared object.</summary>
public enum ObjectEventKind
{
    SetItem = 0,
    RemoveItem = 1,
    Message = 2,
    PresenceJoin = 3,
    PresenceLeave = 4,
}

/// <summary>
/// One event of a shared object with its sequence number. Protocol adapters render it for their door;
/// <see cref="ExcludedConnectionId"/> names the one connection that must not receive it (a socket message's sender).
/// </summary>
[GenerateSerializer]
[Alias("ov.ObjectEvent")]
public sealed record ObjectEvent(
    [property: Id(0)] long Sequence,
    [property: Id(1)] ObjectEventKind Kind,
    [property: Id(2)] string? Key,
    [property: Id(3)] ItemView? Item,
    [property: Id(4)] string? PayloadJson,
    [property: Id(5)] int? KeyVersion,
    [property: Id(6)] string? ConnectionId,
    [property: Id(7)] long JoinedAt,
    [property: Id(8)] string? ExcludedConnectionId);

/// <summary>The events of one grain operation, published as one stream item so a clear of many keys costs one publish.</summary>
[GenerateSerializer]
[Alias("ov.ObjectEventBatch")]
public sealed record ObjectEventBatch(
    [property: Id(0)] long Epoch,
    [property: Id(1)] IReadOnlyList<ObjectEvent> Events);

/// <summary>Stream names shared by grains and gateways.</summary>
public static class VaultStreams
{
    public const string ProviderName = "VaultStreams";
    public const string ObjectNamespace = "vault-object";
}
