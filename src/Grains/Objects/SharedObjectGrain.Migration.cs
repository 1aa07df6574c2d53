using OrleansVault.Grains.Placement;
using OrleansVault.Objects;

namespace OrleansVault.Grains.Objects;

/// <summary>
/// Moving to the owner silo. Objects are placed on their owner (<see cref="OwnerSilo"/>) when they activate, and
/// gateways send their calls there; an object that stays active while the silos change (a silo joined, or it was placed
/// while the silos still disagreed about who is in) would otherwise keep its calls forwarded through the owner for as
/// long as it lives, which for an object with subscribers is forever. Its housekeeping notices and asks Orleans to move
/// it once idle: the deactivation seals the state (history and epoch carry over, so clients resume without refetching)
/// and the object's live part, which is not stored, travels with it (the gateways' feeds with their leases and hubs,
/// connections, presence).
/// </summary>
public sealed partial class SharedObjectGrain : IGrainMigrationParticipant
{
    private const string LiveStateKey = "ov.object.live";
    private long _placeCheckedAt;

    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        dehydrationContext.TryAddValue(LiveStateKey, new LiveObjectState(
            [.. _feeds.Select(f => new LiveFeed(f.Key, f.Value.Hub, f.Value.ExpiresAt, f.Value.DeliveredUpTo))],
            [.. _lapsedFeeds.Select(f => new LapsedFeed(f.Key, f.Value))],
            [.. _connections.Select(c => new LiveConnection(
                c.Key, c.Value.Attached, c.Value.Owner, c.Value.Feed, c.Value.AttachedAtSequence, c.Value.DetachedAt, c.Value.LastSequence, c.Value.DetachedByLapse))],
            [.. _presence.Values]));
    }

    /// <summary>
    /// An object without subscribers has no housekeeping, but steady writes or reads keep it from being collected too:
    /// its calls check its place, at most once per <c>Vault:Objects:PurgeInterval</c>.
    /// </summary>
    private void CheckPlaceWhileUsed()
    {
        if (_housekeeping is not null || _membership is null)
        {
            return;
        }

        var now = Now;
        if (now - _placeCheckedAt < (long)_options.PurgeInterval.TotalMilliseconds)
        {
            return;
        }

        _placeCheckedAt = now;
        OwnerMove.RequestIfMisplaced(this, _membership, _logger);
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (!rehydrationContext.TryGetValue<LiveObjectState>(LiveStateKey, out var live) || live is null)
        {
            return;
        }

        foreach (var feed in live.Feeds)
        {
            _feeds[feed.Feed] = new FeedLease { FeedId = feed.Feed.GetGrainId(), Hub = feed.Hub, ExpiresAt = feed.ExpiresAt, DeliveredUpTo = feed.DeliveredUpTo };
        }

        foreach (var lapsed in live.Lapsed)
        {
            _lapsedFeeds[lapsed.Feed] = lapsed.LapsedAt;
        }

        foreach (var c in live.Connections)
        {
            _connections[c.ConnectionId] = new ConnectionRecord
            {
                Attached = c.Attached,
                Owner = c.Owner,
                Feed = c.Feed,
                AttachedAtSequence = c.AttachedAtSequence,
                DetachedAt = c.DetachedAt,
                LastSequence = c.LastSequence,
                DetachedByLapse = c.DetachedByLapse,
            };
        }

        foreach (var entry in live.Presence)
        {
            _presence[entry.ConnectionId] = entry;
        }
    }
}

/// <summary>What of a shared object lives only in memory, carried to its next activation when it moves silo.</summary>
[GenerateSerializer]
[Alias("ov.LiveObjectState")]
internal sealed record LiveObjectState(
    [property: Id(0)] List<LiveFeed> Feeds,
    [property: Id(1)] List<LapsedFeed> Lapsed,
    [property: Id(2)] List<LiveConnection> Connections,
    [property: Id(3)] List<PresenceEntry> Presence);

[GenerateSerializer]
[Alias("ov.LiveFeed")]
internal sealed record LiveFeed(
    [property: Id(0)] IObjectFeedObserver Feed,
    [property: Id(1)] IFeedHubObserver? Hub,
    [property: Id(2)] long ExpiresAt,
    [property: Id(3)] long DeliveredUpTo);

[GenerateSerializer]
[Alias("ov.LapsedFeed")]
internal sealed record LapsedFeed([property: Id(0)] IObjectFeedObserver Feed, [property: Id(1)] long LapsedAt);

[GenerateSerializer]
[Alias("ov.LiveConnection")]
internal sealed record LiveConnection(
    [property: Id(0)] string ConnectionId,
    [property: Id(1)] bool Attached,
    [property: Id(2)] string Owner,
    [property: Id(3)] IObjectFeedObserver? Feed,
    [property: Id(4)] long AttachedAtSequence,
    [property: Id(5)] long DetachedAt,
    [property: Id(6)] long LastSequence,
    [property: Id(7)] bool DetachedByLapse);
