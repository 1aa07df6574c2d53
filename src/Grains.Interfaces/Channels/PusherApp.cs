namespace OrleansVault.Channels;

/// <summary>A URL that receives an app's webhooks, and which kinds of event it wants (empty: all).</summary>
[GenerateSerializer]
[Alias("ov.PusherWebhookTarget")]
public sealed record PusherWebhookTarget(
    [property: Id(0)] string Url,
    [property: Id(1)] IReadOnlyList<string> Events)
{
    public bool Wants(string eventName) => Events.Count == 0 || Events.Contains(eventName);

    public bool Equals(PusherWebhookTarget? other) => other is not null && Url == other.Url && Events.SequenceEqual(other.Events);

    public override int GetHashCode() => Url.GetHashCode(StringComparison.Ordinal);
}

/// <summary>
/// A Pusher app: id (REST paths), key (socket URL, auth strings), secret (every signature), and its options.
/// The secret is needed to check HMACs, so it is kept (encrypted at rest with the rest of the state), never logged.
/// </summary>
[GenerateSerializer]
[Alias("ov.PusherApp")]
public sealed record PusherApp(
    [property: Id(0)] string AppId,
    [property: Id(1)] string Key,
    [property: Id(2)] byte[] Secret,
    [property: Id(3)] bool ClientEvents,
    [property: Id(4)] bool AuthorizedConnections,
    [property: Id(5)] bool ReplayProtection,
    [property: Id(6)] bool SubscriptionCount,
    [property: Id(7)] int MaxPresenceMembers,
    [property: Id(8)] bool Enabled,
    [property: Id(9)] IReadOnlyList<PusherWebhookTarget> Webhooks,
    [property: Id(10)] int? MaxConnections = null)
{
    /// <summary>Whether any webhook target wants events named <paramref name="eventName"/>.</summary>
    public bool WantsWebhook(string eventName) => Webhooks.Any(w => w.Wants(eventName));

    public bool Equals(PusherApp? other) =>
        other is not null && AppId == other.AppId && Key == other.Key && Secret.AsSpan().SequenceEqual(other.Secret)
        && ClientEvents == other.ClientEvents && AuthorizedConnections == other.AuthorizedConnections
        && ReplayProtection == other.ReplayProtection && SubscriptionCount == other.SubscriptionCount
        && MaxPresenceMembers == other.MaxPresenceMembers && Enabled == other.Enabled && MaxConnections == other.MaxConnections
        && Webhooks.SequenceEqual(other.Webhooks);

    public override int GetHashCode() => HashCode.Combine(AppId, Key);
}

/// <summary>The cluster's Pusher apps (one grain, key <see cref="Key"/>): every gateway looks apps up here by id or key.</summary>
[Alias("ov.IPusherAppsGrain")]
public interface IPusherAppsGrain : IGrainWithStringKey
{
    const string Key = "apps";

    [Alias("GetById")]
    Task<PusherApp?> GetById(string appId);

    [Alias("GetByKey")]
    Task<PusherApp?> GetByKey(string appKey);

    /// <summary>Creates or replaces an app; refuses a key already used by another app.</summary>
    [Alias("Upsert")]
    Task Upsert(PusherApp app);

    [Alias("List")]
    Task<IReadOnlyList<PusherApp>> List();
}

/// <summary>Signed REST requests already seen for one app (key: app id), for the opt-in replay protection.</summary>
[Alias("ov.IRestReplayGuardGrain")]
public interface IRestReplayGuardGrain : IGrainWithStringKey
{
    /// <summary>Records <paramref name="signature"/> until <paramref name="expiresAt"/> (Unix seconds); false when it was seen already.</summary>
    [Alias("TryUse")]
    Task<bool> TryUse(string signature, long expiresAt);
}
