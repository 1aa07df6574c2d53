using Microsoft.Extensions.Logging;
using OrleansVault.Errors;
using OrleansVault.Objects;
using OrleansVault.Projects;

namespace OrleansVault.Grains.Objects;

public sealed partial class SharedObjectGrain
{
    /// <summary>
    /// The newest events, oldest first. Kept in memory and stored only by the sealing write: an unsealed state starts a
    /// new epoch with an empty history anyway, so storing history with every write would only make writes expensive.
    /// </summary>
    private readonly List<ObjectEvent> _history = [];
    private readonly Dictionary<IObjectFeedObserver, FeedLease> _feeds = [];

    // Feeds dropped for a lapsed lease (their connections left presence, announced), until they restore or long after.
    private readonly Dictionary<IObjectFeedObserver, long> _lapsedFeeds = [];
    private long _historyBytes;
    private long _epochStart;
    private bool _registered;
    private bool _diverged;

    // Group commit inside the object (the grain is reentrant): a change is applied and numbered at once, then waits for
    // the next storage write that starts after it; one write covers every change waiting for it, and only then are its
    // events pushed and the callers answered. _published is the last event pushed, so never ahead of storage. This relies
    // on the storage capturing the state when WriteStateAsync is called (ours serialize before their first await).
    private readonly List<ObjectEvent> _unpublished = [];
    private TaskCompletionSource? _nextWrite;
    private TaskCompletionSource? _currentWrite;
    private bool _writing;
    private bool _dirty;
    private long _published;

    public Task<IReadOnlyList<ObjectEvent>?> GetEventsAfter(long sequence)
    {
        return Task.FromResult(EventsAfter(sequence, _published));
    }

    public Task<IReadOnlyList<ObjectEvent>?> GetEventsInEpochAfter(long epoch, long sequence) =>
        Task.FromResult(epoch == State.Epoch ? EventsAfter(sequence, _published) : null);

    public async Task SendMessage(MessageCommand command)
    {
        CheckSize(command.PayloadJson);
        CheckKeyVersion(command.KeyVersion);
        await PublishAsync([new ObjectEvent(0, ObjectEventKind.Message, null, null, command.PayloadJson, command.KeyVersion, null, 0, command.ExcludedConnectionId)]);
    }

    private static ObjectEvent SetEvent(string key, ItemView item) =>
        new(0, ObjectEventKind.SetItem, key, item, null, item.KeyVersion, null, 0, null);

    private static ObjectEvent RemoveEvent(string key) =>
        new(0, ObjectEventKind.RemoveItem, key, null, null, null, null, 0, null);

    /// <summary>The events after <paramref name="after"/> up to <paramref name="upTo"/>, or null when history no longer covers them.</summary>
    private IReadOnlyList<ObjectEvent>? EventsAfter(long after, long upTo)
    {
        // Events still waiting for their storage write are not handed out: nobody sees a change before it is durable.
        upTo = Math.Min(upTo, _published);
        var history = _history;
        var oldest = history.Count == 0 ? State.Sequence + 1 : history[0].Sequence;
        if (after + 1 < oldest || after > _published)
        {
            return null;
        }

        return [.. history.Where(e => e.Sequence > after && e.Sequence <= upTo)];
    }

    /// <summary>Numbers the events and completes once a storage write holding them finished and they were pushed.</summary>
    private Task CommitAsync(IReadOnlyList<ObjectEvent> events)
    {
        CheckPlaceWhileUsed();
        PurgeExpired();
        _unpublished.AddRange(Number(events));
        return PersistAsync();
    }

    /// <summary>Numbers and publishes events that change no stored data (messages, presence).</summary>
    private Task PublishAsync(IReadOnlyList<ObjectEvent> events)
    {
        if (!_writing && _unpublished.Count == 0 && !_sealedInStorage)
        {
            // Nothing waits for storage: push at once.
            var numbered = Number(events);
            Push(numbered);
            return Task.CompletedTask;
        }

        // Behind changes still being written (or a sealed storage row to unseal first): pushed in order after them.
        _unpublished.AddRange(Number(events));
        return WaitForWriteAsync();
    }

    /// <summary>Completes once a storage write that started after the current in-memory change finished.</summary>
    private Task PersistAsync()
    {
        _dirty = true;
        return WaitForWriteAsync();
    }

    private Task WaitForWriteAsync()
    {
        if (_diverged)
        {
            throw new VaultException(VaultErrorKind.Unavailable, ErrorCodes.Unavailable, "The object is reloading after a storage failure; retry.");
        }

        _nextWrite ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = _nextWrite.Task;
        if (!_writing)
        {
            _writing = true;
            _ = WriteLoopAsync();
        }

        return waiting;
    }

    /// <summary>Writes while changes wait: each round stores everything applied so far, then pushes its events in order.</summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            while (_nextWrite is { } round)
            {
                _nextWrite = null;
                _currentWrite = round;
                ObjectEvent[] events = [.. _unpublished];
                _unpublished.Clear();
                try
                {
                    if (_dirty || _sealedInStorage)
                    {
                        _dirty = false;
                        await WriteAsync();
                    }
                }
                catch (Exception error)
                {
                    // Memory is ahead of storage now (WriteAsync dropped the activation): nothing of it is published.
                    _unpublished.Clear();
                    round.TrySetException(error);
                    _nextWrite?.TrySetException(error);
                    _nextWrite = null;
                    return;
                }

                Push(events);
                round.TrySetResult();
            }
        }
        finally
        {
            _currentWrite = null;
            _writing = false;
        }
    }

    /// <summary>Waits until everything applied so far is stored, so a read never returns a change that could still be lost.</summary>
    private Task DurableAsync() => (_nextWrite ?? _currentWrite)?.Task ?? Task.CompletedTask;

    /// <summary>A read waits for the writes before it to be stored; reads keep an object active too, so they check its place.</summary>
    private Task ReadableAsync()
    {
        CheckPlaceWhileUsed();
        return DurableAsync();
    }

    private ObjectEvent[] Number(IReadOnlyList<ObjectEvent> events)
    {
        var numbered = new ObjectEvent[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            numbered[i] = events[i] with { Sequence = ++State.Sequence };
        }

        var history = _history;
        history.AddRange(numbered);
        _historyBytes += numbered.Sum(SizeOf);
        var drop = 0;
        while (drop < history.Count - 1
            && (history.Count - drop > _options.HistoryLength || _historyBytes > _options.HistoryMaxBytes))
        {
            _historyBytes -= SizeOf(history[drop]);
            drop++;
        }

        history.RemoveRange(0, drop);
        return numbered;
    }

    /// <summary>
    /// Every write but the sealing one leaves storage unsealed (in memory <c>Sealed</c> is false).
    /// A failed write leaves memory ahead of storage: the activation is then dropped and never seals.
    /// </summary>
    private async Task WriteAsync(CancellationToken cancellationToken = default)
    {
        if (!_state.RecordExists && !_registered)
        {
            // The object's first stored state counts against the project's object limit.
            var project = GrainFactory.GetGrain<IProjectGrain>(ObjectAddress.Parse(this.GetPrimaryKeyString()).ProjectId);
            if (!await project.RegisterObject())
            {
                // The change is only in memory: drop this activation so it is forgotten.
                _diverged = true;
                DeactivateOnIdle();
                throw new VaultException(VaultErrorKind.Forbidden, ErrorCodes.ObjectLimit, "This project holds as many objects as it may (Vault:Objects:MaxObjectsPerProject).");
            }

            _registered = true;
        }

        try
        {
            await _state.WriteStateAsync(cancellationToken);
        }
        catch
        {
            _diverged = true;
            DeactivateOnIdle();
            throw;
        }

        _sealedInStorage = false;
    }

    /// <summary>Roughly what an event costs in the stored history.</summary>
    private static long SizeOf(ObjectEvent e) =>
        64 + (e.Key?.Length ?? 0) + (e.Item?.ValueJson.Length ?? 0) + (e.PayloadJson?.Length ?? 0);

    /// <summary>
    /// Pushes the batch to every gateway feed, one-way: a feed that misses it repairs the gap from history. A feed whose
    /// gateway named a hub gets it through the silo's queue for that hub (batched with other objects' pushes).
    /// </summary>
    private void Push(ObjectEvent[] events)
    {
        if (events.Length > 0)
        {
            _published = events[^1].Sequence;
        }

        if (_feeds.Count == 0 || events.Length == 0)
        {
            return;
        }

        var batch = new ObjectEventBatch(State.Epoch, events);
        foreach (var (feed, lease) in _feeds)
        {
            if (lease.Hub is { } hub)
            {
                _pushes.Push(hub, lease.FeedId, batch);
            }
            else
            {
                _ = feed.OnEvents(batch);
            }
        }
    }

    public Task<FeedPosition> Subscribe(IObjectFeedObserver feed, long deliveredUpTo = 0, IFeedHubObserver? hub = null)
    {
        var known = _feeds.TryGetValue(feed, out var lease);
        lease ??= _feeds[feed] = new FeedLease { FeedId = feed.GetGrainId() };
        if (hub is not null)
        {
            // A restore renews without naming the hub: the one named last stays.
            lease.Hub = hub;
        }

        lease.ExpiresAt = Now + (long)_options.FeedLease.TotalMilliseconds;
        lease.DeliveredUpTo = Math.Max(lease.DeliveredUpTo, deliveredUpTo);
        EnsureHousekeeping();
        return Task.FromResult(new FeedPosition(State.Epoch, _published, known, _epochStart));
    }

    public Task Unsubscribe(IObjectFeedObserver feed)
    {
        _feeds.Remove(feed);
        return Task.CompletedTask;
    }

    public async Task RestoreFeed(IObjectFeedObserver feed, IReadOnlyList<ConnectionRestore> connections)
    {
        await Subscribe(feed);
        var announce = _lapsedFeeds.Remove(feed);
        var joined = new List<ObjectEvent>();
        foreach (var connection in connections)
        {
            if (_connections.TryGetValue(connection.ConnectionId, out var record) && !IsRestorable(record, feed))
            {
                // Closed by its gateway (the restore's list was taken before that), or taken over through another gateway.
                continue;
            }

            _connections[connection.ConnectionId] = new ConnectionRecord { Attached = true, Owner = connection.Owner, Feed = feed, AttachedAtSequence = _published };
            if (connection.PresenceJson is { } data && !_presence.ContainsKey(connection.ConnectionId))
            {
                var entry = new PresenceEntry(connection.ConnectionId, Now, data, connection.PresenceKeyVersion, connection.VerifiedUserId);
                _presence[connection.ConnectionId] = entry;
                if (announce)
                {
                    joined.Add(new ObjectEvent(0, ObjectEventKind.PresenceJoin, null, null, data, entry.KeyVersion, entry.ConnectionId, entry.JoinedAt, null, entry.VerifiedUserId));
                }
            }
        }

        if (joined.Count > 0)
        {
            await PublishAsync(joined);
        }
    }

    /// <summary>
    /// Forgets feeds whose gateway stopped renewing them (it died or lost its connection to the cluster), and with each
    /// its connections: they leave presence and stay resumable from what their gateway last reported as delivered.
    /// </summary>
    private async Task ExpireFeedsAsync(long now)
    {
        foreach (var lapsed in _lapsedFeeds.Where(f => f.Value + (long)(10 * _options.FeedLease.TotalMilliseconds) < now).Select(f => f.Key).ToList())
        {
            _lapsedFeeds.Remove(lapsed);
        }

        foreach (var (feed, lease) in _feeds.Where(f => f.Value.ExpiresAt < now).ToList())
        {
            _feeds.Remove(feed);
            _lapsedFeeds[feed] = now;
            LogFeedExpired(_logger);
            foreach (var (connectionId, record) in _connections.Where(c => c.Value.Attached && feed.Equals(c.Value.Feed)).ToList())
            {
                // Reentrant: at the leave's await below, the feed may renew or restore; then its connections stay.
                if (_feeds.ContainsKey(feed) || !record.Attached || !feed.Equals(record.Feed))
                {
                    continue;
                }

                MarkDetached(record, Math.Max(record.AttachedAtSequence, lease.DeliveredUpTo), lapsed: true);
                await Leave(connectionId);
            }
        }
    }

    /// <summary>
    /// Whether a restore through <paramref name="feed"/> may re-register a connection the object knows: one still attached
    /// through that feed, or detached only because that feed's lease lapsed. Not one its gateway detached (it closed).
    /// </summary>
    private static bool IsRestorable(ConnectionRecord record, IObjectFeedObserver feed) =>
        record.Feed is { } current && current.Equals(feed) && (record.Attached || record.DetachedByLapse);

    /// <summary>
    /// A gateway feed's lease, the sequence its gateway last reported as delivered to all its sockets, and the hub its
    /// pushes go through (null: straight to the feed).
    /// </summary>
    private sealed class FeedLease
    {
        public required GrainId FeedId { get; init; }

        public IFeedHubObserver? Hub { get; set; }

        public long ExpiresAt { get; set; }

        public long DeliveredUpTo { get; set; }
    }

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "A gateway feed stopped renewing its subscription and was dropped")]
    private static partial void LogFeedExpired(ILogger logger);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Sealing the object's state on deactivation failed; its next activation starts a new epoch")]
    private static partial void LogSealFailed(ILogger logger, Exception exception);

}
