using Microsoft.Extensions.Options;
using OrleansVault.Channels;
using OrleansVault.Grains.Objects;

namespace OrleansVault.Grains.Channels;

/// <summary>
/// One Pusher channel: its sockets grouped by the gateway feed that relays them, presence members counted once per
/// user, a cache channel's last event. Events are numbered and pushed one-way to every feed. A feed that stops
/// renewing (its gateway died) loses its sockets and members when its lease lapses, so presence never keeps ghosts.
/// </summary>
[OrleansVault.Grains.Placement.OwnerSiloPlacementAttribute]
public sealed partial class ChannelGrain : Grain, IChannelGrain
{
    private readonly IPersistentState<ChannelState> _state;
    private readonly ChannelOptions _options;
    private readonly TimeProvider _time;
    private readonly IChannelWebhooks _webhooks;
    private readonly Microsoft.Extensions.Logging.ILogger<ChannelGrain> _logger;
    private readonly Dictionary<string, SocketEntry> _sockets = new(StringComparer.Ordinal);
    private readonly Dictionary<IChannelFeedObserver, FeedEntry> _feeds = [];

    // Feeds dropped for a lapsed lease (their members were announced as gone), until they restore or long after.
    private readonly Dictionary<IChannelFeedObserver, long> _lapsedFeeds = [];
    private readonly Dictionary<string, MemberEntry> _members = new(StringComparer.Ordinal);
    private string _appId = "";
    private string _name = "";
    private bool _presence;
    private bool _cache;
    private bool _userChannel;
    private int _subscriptions;
    private long _sequence;
    private long _lastAnnounce;
    private PusherApp? _app;
    private long _appFetchedAt;
    private IGrainTimer? _sweeper;
    private IGrainTimer? _countTimer;
    private readonly IClusterMembershipService? _membership;

    public ChannelGrain(
        [PersistentState("pusherChannel", SharedObjectOptions.StorageName)] IPersistentState<ChannelState> state,
        IOptions<ChannelOptions> options,
        TimeProvider time,
        IChannelWebhooks webhooks,
        Microsoft.Extensions.Logging.ILogger<ChannelGrain> logger,
        IClusterMembershipService? membership = null)
    {
        _logger = logger;
        _membership = membership;
        _state = state;
        _options = options.Value;
        _time = time;
        _webhooks = webhooks;
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private bool Occupied => _subscriptions > 0;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        _appId = key[..slash];
        _name = key[(slash + 1)..];
        var kind = PusherChannelName.KindOf(_name);
        _presence = kind == PusherChannelKind.Presence;
        _userChannel = kind == PusherChannelKind.User;
        _cache = PusherChannelName.IsCache(_name);

        // Moved here from another silo with its subscribers (ChannelGrain.Migration.cs): their leases keep running.
        if (_sockets.Count > 0)
        {
            EnsureSweeper();
        }

        return Task.CompletedTask;
    }

    public async Task<ChannelSubscribeResult> Subscribe(IChannelFeedObserver feed, ChannelSubscription subscription)
    {
        var app = await AppAsync();
        if (_presence && subscription.Member is { } member && !_members.ContainsKey(member.UserId)
            && _members.Count >= app.MaxPresenceMembers)
        {
            return new ChannelSubscribeResult($"Presence channel is full ({app.MaxPresenceMembers} members).", null, null, _subscriptions);
        }

        RenewLease(feed);
        if (!_sockets.ContainsKey(subscription.SocketId))
        {
            await AddAsync(feed, subscription, announceMember: true);
        }

        var cached = await CachedAsync();
        if (_cache && cached is null && !subscription.Passive)
        {
            await WebhookAsync(WebhookEvent.CacheMiss(_name));
        }

        return new ChannelSubscribeResult(null, _presence ? Members() : null, cached, _subscriptions);
    }

    public async Task Unsubscribe(string socketId)
    {
        if (_sockets.Remove(socketId, out var entry))
        {
            await RemovedAsync(socketId, entry);
        }
    }

    public Task<bool> RenewFeed(IChannelFeedObserver feed)
    {
        var known = _feeds.ContainsKey(feed);
        if (known)
        {
            RenewLease(feed);
            if (Occupied && !_userChannel && Now - _lastAnnounce >= _options.IndexRefresh.TotalMilliseconds)
            {
                Announce(true);
            }
        }

        return Task.FromResult(known);
    }

    public async Task Restore(IChannelFeedObserver feed, IReadOnlyList<ChannelSubscription> subscriptions)
    {
        RenewLease(feed);

        // After a reactivation the other gateways' sockets still list these members: no member events. After this
        // channel dropped the feed for a lapsed lease it told everyone they left: now they are back.
        var announce = _lapsedFeeds.Remove(feed);
        foreach (var subscription in subscriptions)
        {
            if (!_sockets.ContainsKey(subscription.SocketId))
            {
                await AddAsync(feed, subscription, announceMember: announce);
            }
        }
    }

    public async Task<ChannelInfo> Publish(ChannelPublish publish)
    {
        string? senderUser = null;
        if (publish.FromClient && publish.ExcludedSocketId is { } sender && _sockets.TryGetValue(sender, out var entry))
        {
            senderUser = entry.Member?.UserId;
        }

        Push(new ChannelEvent(0, ChannelEventKind.Event, publish.Name, publish.Data, publish.DataIsJson, senderUser ?? publish.UserId, null, publish.ExcludedSocketId));
        if (_cache)
        {
            _state.State.Cached = new CachedChannelEvent(publish.Name, publish.Data, publish.DataIsJson, Now + (long)_options.CacheTtl.TotalMilliseconds);
            await _state.WriteStateAsync();
        }

        if (publish.FromClient)
        {
            await WebhookAsync(WebhookEvent.ClientEvent(_name, publish.Name, publish.Data, publish.DataIsJson, publish.ExcludedSocketId, senderUser));
        }

        return Info();
    }

    public Task<ChannelInfo> GetInfo() => Task.FromResult(Info());

    public Task<IReadOnlyList<string>> GetUserIds() => Task.FromResult<IReadOnlyList<string>>([.. _members.Keys]);

    public Task Terminate()
    {
        Push(new ChannelEvent(0, ChannelEventKind.Terminate, null, null, false, null, null, null));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A channel that moves silo takes its subscribers along (ChannelGrain.Migration.cs): it is not vacated.
        if (Occupied && !_userChannel && reason.ReasonCode != DeactivationReasonCode.Migrating)
        {
            // Deactivated with subscribers (shutdown, rebalancing): the index learns again when the gateways restore.
            Announce(false);
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    private ChannelInfo Info() => new(Occupied, _subscriptions, _members.Count);

    private List<ChannelMember> Members() => [.. _members.Values.Select(m => m.Member)];

    private async Task AddAsync(IChannelFeedObserver feed, ChannelSubscription subscription, bool announceMember)
    {
        _sockets[subscription.SocketId] = new SocketEntry(feed, subscription.Member, subscription.Passive);
        _feeds[feed].Sockets++;
        EnsureSweeper();
        if (subscription.Passive)
        {
            return;
        }

        _subscriptions++;
        if (_subscriptions == 1)
        {
            Announce(true);
            await WebhookAsync(WebhookEvent.ChannelOccupied(_name));
        }

        if (_presence && subscription.Member is { } member)
        {
            if (_members.TryGetValue(member.UserId, out var existing))
            {
                existing.Sockets++;
            }
            else
            {
                _members[member.UserId] = new MemberEntry(member) { Sockets = 1 };
                if (announceMember)
                {
                    Push(new ChannelEvent(0, ChannelEventKind.MemberAdded, null, null, false, member.UserId, member.UserInfoJson, subscription.SocketId));
                    await WebhookAsync(WebhookEvent.MemberAdded(_name, member.UserId));
                }
            }
        }

        CountChanged();
    }

    private async Task RemovedAsync(string socketId, SocketEntry entry)
    {
        if (_feeds.TryGetValue(entry.Feed, out var feed) && --feed.Sockets == 0)
        {
            _feeds.Remove(entry.Feed);
        }

        if (entry.Passive)
        {
            return;
        }

        _subscriptions--;
        if (_presence && entry.Member is { } member && _members.TryGetValue(member.UserId, out var existing) && --existing.Sockets == 0)
        {
            _members.Remove(member.UserId);
            Push(new ChannelEvent(0, ChannelEventKind.MemberRemoved, null, null, false, member.UserId, null, socketId));
            await WebhookAsync(WebhookEvent.MemberRemoved(_name, member.UserId));
        }

        if (_subscriptions == 0)
        {
            Announce(false);
            await WebhookAsync(WebhookEvent.ChannelVacated(_name));
        }

        CountChanged();
    }

    private void RenewLease(IChannelFeedObserver feed)
    {
        var expires = Now + (long)_options.FeedLease.TotalMilliseconds;
        if (_feeds.TryGetValue(feed, out var entry))
        {
            entry.ExpiresAt = expires;
        }
        else
        {
            _feeds[feed] = new FeedEntry { ExpiresAt = expires };
        }
    }

    private void Push(ChannelEvent e)
    {
        var batch = new ChannelEventBatch([e with { Sequence = ++_sequence }]);
        foreach (var feed in _feeds.Keys)
        {
            feed.OnEvents(batch).Ignore();
        }
    }

    private void Announce(bool occupied)
    {
        if (_userChannel)
        {
            return;
        }

        _lastAnnounce = Now;
        GrainFactory.GetGrain<IChannelIndexGrain>(_appId).Announce(_name, occupied).Ignore();
    }

    private async Task<CachedChannelEvent?> CachedAsync()
    {
        if (!_cache)
        {
            return null;
        }

        if (_state.State.Cached is { } cached && cached.ExpiresAt <= Now)
        {
            _state.State.Cached = null;
            await _state.ClearStateAsync();
        }

        return _state.State.Cached;
    }

    private void EnsureSweeper()
    {
        var period = TimeSpan.FromTicks(Math.Max(_options.FeedLease.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks));
        _sweeper ??= this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    /// <summary>Drops the sockets of feeds whose lease lapsed (their gateway is gone); stops once nothing is subscribed.</summary>
    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        foreach (var lapsed in _lapsedFeeds.Where(f => f.Value + (long)(10 * _options.FeedLease.TotalMilliseconds) < now).Select(f => f.Key).ToList())
        {
            _lapsedFeeds.Remove(lapsed);
        }

        foreach (var (feed, _) in _feeds.Where(f => f.Value.ExpiresAt <= now).ToList())
        {
            _feeds.Remove(feed);
            _lapsedFeeds[feed] = now;
            foreach (var (socketId, entry) in _sockets.Where(s => s.Value.Feed.Equals(feed)).ToList())
            {
                _sockets.Remove(socketId);
                await RemovedAsync(socketId, entry);
            }
        }

        if (_sockets.Count == 0)
        {
            _sweeper?.Dispose();
            _sweeper = null;
            return;
        }

        // A channel with subscribers never idles long enough to be collected: if the silos changed under it, it moves.
        Placement.OwnerMove.RequestIfMisplaced(this, _membership, _logger);
    }

    private void CountChanged()
    {
        if (_presence || _userChannel || _countTimer is not null || _app is not { SubscriptionCount: true })
        {
            return;
        }

        _countTimer = this.RegisterGrainTimer(
            SendCountAsync,
            new GrainTimerCreationOptions(_options.SubscriptionCountInterval, Timeout.InfiniteTimeSpan));
    }

    private async Task SendCountAsync(CancellationToken cancellationToken)
    {
        _countTimer?.Dispose();
        _countTimer = null;
        Push(new ChannelEvent(0, ChannelEventKind.SubscriptionCount, null, null, false, null, null, null, _subscriptions));
        await WebhookAsync(WebhookEvent.SubscriptionCountChanged(_name, _subscriptions));
    }

    private async Task<PusherApp> AppAsync()
    {
        if (_app is null || Now - _appFetchedAt > _options.AppCacheTtl.TotalMilliseconds)
        {
            _app = await GrainFactory.GetGrain<IPusherAppsGrain>(IPusherAppsGrain.Key).GetById(_appId)
                ?? throw new InvalidOperationException("The channel's app does not exist.");
            _appFetchedAt = Now;
        }

        return _app;
    }

    private async Task WebhookAsync(WebhookEvent e)
    {
        try
        {
            var app = await AppAsync();
            if (app.WantsWebhook(e.Name))
            {
                await _webhooks.EnqueueAsync(app, e with { TimeMs = Now });
            }
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The outbox could not store it (database trouble): the channel's own state must not be left half-changed.
            LogWebhookLost(_logger, e.Name, error.GetType().Name);
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 2101, Level = Microsoft.Extensions.Logging.LogLevel.Error, Message = "A {WebhookEvent} webhook could not be stored and is lost ({ErrorType})")]
    private static partial void LogWebhookLost(Microsoft.Extensions.Logging.ILogger logger, string webhookEvent, string errorType);

    private sealed record SocketEntry(IChannelFeedObserver Feed, ChannelMember? Member, bool Passive);

    private sealed class FeedEntry
    {
        public long ExpiresAt { get; set; }

        public int Sockets { get; set; }
    }

    private sealed class MemberEntry(ChannelMember member)
    {
        public ChannelMember Member { get; } = member;

        public int Sockets { get; set; }
    }
}
