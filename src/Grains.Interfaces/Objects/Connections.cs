namespace OrleansVault.Objects;

/// <summary>The answer to attaching a socket: the sequence number it starts after.</summary>
[GenerateSerializer]
[Alias("ov.AttachResult")]
public sealed record AttachResult(
    [property: Id(0)] long Epoch,
    [property: Id(1)] long Sequence);

/// <summary>The answer to a resume: the resumed connection's public id and the events it missed, or <see cref="Resumed"/> false.</summary>
[GenerateSerializer]
[Alias("ov.ResumeResult")]
public sealed record ResumeResult(
    [property: Id(0)] bool Resumed,
    [property: Id(1)] IReadOnlyList<ObjectEvent> Missed,
    [property: Id(2)] string? ConnectionId)
{
    public static ResumeResult Refused { get; } = new(false, [], null);
}

/// <summary>
/// One connection a gateway feed relays, as the gateway knows it: who owns it and, when it joined presence, its entry.
/// Sent when an object no longer knows the feed (it reactivated, or dropped the feed for a lapsed lease).
/// </summary>
[GenerateSerializer]
[Alias("ov.ConnectionRestore")]
public sealed record ConnectionRestore(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] string Owner,
    [property: Id(2)] string? PresenceJson,
    [property: Id(3)] int? PresenceKeyVersion,
    [property: Id(4)] string? VerifiedUserId);
