using OrleansVault.Grains.Placement;
using OrleansVault.Objects;

namespace OrleansVault.Grains.Objects;

public sealed partial class SharedObjectGrain
{
    private readonly Dictionary<string, ConnectionRecord> _connections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PresenceEntry> _presence = new(StringComparer.Ordinal);
    private IGrainTimer? _housekeeping;

    public Task<IReadOnlyList<PresenceEntry>> GetPresence()
    {
        CheckPlaceWhileUsed();
        IReadOnlyList<PresenceEntry> entries = [.. _presence.Values.OrderBy(e => e.JoinedAt)];
        return Task.FromResult(entries);
    }

    public Task<AttachResult> Attach(string connectionId, string owner, IObjectFeedObserver? feed = null)
    {
        _connections[connectionId] = new ConnectionRecord { Attached = true, Owner = owner, Feed = feed, AttachedAtSequence = _published };
        EnsureHousekeeping();
        return Task.FromResult(new AttachResult(State.Epoch, _published));
    }

    public async Task Join(string connectionId, string dataJson, int? keyVersion, string? verifiedUserId = null)
    {
        CheckSize(dataJson);
        CheckKeyVersion(keyVersion);
        var entry = new PresenceEntry(connectionId, Now, dataJson, keyVersion, verifiedUserId);
        _presence[connectionId] = entry;
        await PublishAsync([new ObjectEvent(0, ObjectEventKind.PresenceJoin, null, null, dataJson, keyVersion, connectionId, entry.JoinedAt, null, verifiedUserId)]);
    }

    public async Task Leave(string connectionId)
    {
        if (_presence.Remove(connectionId, out var entry))
        {
            await PublishAsync([new ObjectEvent(0, ObjectEventKind.PresenceLeave, null, null, entry.DataJson, entry.KeyVersion, connectionId, entry.JoinedAt, null, entry.VerifiedUserId)]);
        }
    }

    public async Task Detach(string connectionId, long lastDeliveredSequence, IObjectFeedObserver? feed = null)
    {
        if (feed is not null && _connections.TryGetValue(connectionId, out var current) && current.Feed is { } owner && !owner.Equals(feed))
        {
            // Another gateway took this connection over (a resume after this gateway lost the client): not ours to end.
            return;
        }

        // Marked before leaving presence: a feed restore that interleaves at the leave's await must see it closed.
        if (_connections.TryGetValue(connectionId, out var record))
        {
            MarkDetached(record, lastDeliveredSequence, lapsed: false);
        }

        await Leave(connectionId);
    }

    private void MarkDetached(ConnectionRecord record, long lastDeliveredSequence, bool lapsed)
    {
        record.Attached = false;
        record.DetachedAt = Now;
        record.LastSequence = lastDeliveredSequence;
        record.DetachedByLapse = lapsed;
        EnsureHousekeeping();
    }

    public async Task<ResumeResult> Resume(string oldConnectionId, string newConnectionId, string owner, long upToSequence)
    {
        if (oldConnectionId != newConnectionId
            && _connections.TryGetValue(oldConnectionId, out var attached)
            && attached.Attached
            && string.Equals(attached.Owner, owner, StringComparison.Ordinal)
            && attached.Feed is { } oldFeed
            && _connections.TryGetValue(newConnectionId, out var fresh)
            && fresh.Feed is { } newFeed
            && !oldFeed.Equals(newFeed))
        {
            // The old connection is still attached through another gateway (which most likely died before its lease
            // lapsed): its owner takes it over. It resumes from what that gateway last reported as delivered, so a
            // few events may come twice (WIRE 1.6 allows that on this door), none goes missing. Only when history
            // still covers that: otherwise the old connection is left alone and the resume is refused.
            var delivered = _feeds.TryGetValue(oldFeed, out var lease) ? lease.DeliveredUpTo : 0;
            var cursor = Math.Max(attached.AttachedAtSequence, delivered);
            if (EventsAfter(cursor, upToSequence) is null)
            {
                return ResumeResult.Refused;
            }

            await Detach(oldConnectionId, cursor, oldFeed);
        }

        return ResumeDetached(oldConnectionId, newConnectionId, owner, upToSequence);
    }

    private ResumeResult ResumeDetached(string oldConnectionId, string newConnectionId, string owner, long upToSequence)
    {
        if (oldConnectionId == newConnectionId
            || !_connections.TryGetValue(oldConnectionId, out var record)
            || record.Attached
            || !string.Equals(record.Owner, owner, StringComparison.Ordinal)
            || record.DetachedAt + (long)_options.ResumeWindow.TotalMilliseconds < Now
            || EventsAfter(record.LastSequence, upToSequence) is not { } missed)
        {
            return ResumeResult.Refused;
        }

        // The new socket becomes the old connection: its own attach record goes away, its gateway feed stays.
        if (_connections.Remove(newConnectionId, out var fresh))
        {
            record.Feed = fresh.Feed;
        }

        record.Attached = true;
        record.DetachedByLapse = false;
        IReadOnlyList<ObjectEvent> deliverable = [.. missed.Where(e => e.ExcludedConnectionId != oldConnectionId)];
        return new ResumeResult(true, deliverable, oldConnectionId);
    }

    private void EnsureHousekeeping()
    {
        _housekeeping ??= this.RegisterGrainTimer(
            HousekeepingAsync,
            new GrainTimerCreationOptions(_options.PurgeInterval, _options.PurgeInterval) { KeepAlive = true });
    }

    /// <summary>Drops resume records past their window and expired items; and feeds whose lease lapsed; stops (and lets the grain idle) once nobody is connected.</summary>
    private async Task HousekeepingAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        var window = (long)_options.ResumeWindow.TotalMilliseconds;
        foreach (var stale in _connections.Where(p => !p.Value.Attached && p.Value.DetachedAt + window < now).Select(p => p.Key).ToList())
        {
            _connections.Remove(stale);
        }

        await ExpireFeedsAsync(now);
        if (PurgeExpired() && !_diverged)
        {
            await PersistAsync();
        }

        if (_connections.Count == 0 && _feeds.Count == 0)
        {
            _housekeeping?.Dispose();
            _housekeeping = null;
            return;
        }

        // An object with subscribers never idles long enough to be collected: if the silos changed under it, it moves.
        OwnerMove.RequestIfMisplaced(this, _membership, _logger);
    }

    private sealed class ConnectionRecord
    {
        public bool Attached { get; set; }

        public required string Owner { get; init; }

        /// <summary>The gateway feed the socket is relayed by: when its lease lapses, the connection is detached.</summary>
        public IObjectFeedObserver? Feed { get; set; }

        /// <summary>The sequence when the socket attached: it has seen nothing before it through this connection.</summary>
        public long AttachedAtSequence { get; init; }

        public long DetachedAt { get; set; }

        public long LastSequence { get; set; }

        /// <summary>Detached because its feed's lease lapsed (not by its gateway): a restore of that feed may bring it back.</summary>
        public bool DetachedByLapse { get; set; }
    }
}
