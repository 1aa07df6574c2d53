using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansVault.Channels;
using OrleansVault.Gateway.Hosting;
using OrleansVault.Gateway.Options;
using OrleansVault.Gateway.Pusher;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Gateway.WebSockets;
using OrleansVault.Grains.Placement;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Cluster;

/// <summary>
/// Cluster mode on a real PostgreSQL with two silos: a gateway's router sends each object's and channel's calls through
/// the client of the silo that owns it, objects and channels live on their owners (spread over both silos), when a silo
/// leaves its objects carry on through the other, and an object active away from its owner moves there.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DirectRoutingTests(PostgresServer postgres)
{
    [Fact]
    public async Task Objects_live_on_their_owner_silo_their_calls_go_straight_there_and_a_silo_that_leaves_hands_them_over()
    {
        var (database, clusterId, hosts) = await TwoSilosAsync();
        using var first = hosts[0];
        using var second = hosts[1];
        await Task.WhenAll(first.StartAsync(), second.StartAsync());

        await using var gateway = await GatewaySide.StartAsync(database, clusterId);
        var (main, router, objects) = (gateway.Main, gateway.Router, gateway.Objects);
        try
        {
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot() is { Silos.Count: 2, Direct.Count: 2 }), "routes to both silos", TimeSpan.FromSeconds(30));
            var silos = router.Snapshot().Silos;
            var keys = Enumerable.Range(0, 40).Select(i => new ObjectAddress("p", "c", $"routed-{i}").GrainKey).ToList();
            foreach (var key in keys)
            {
                Assert.NotNull(objects.Route(key).Direct);
                await objects.Get(key).SetItem(new SetItemCommand("k", $"\"{key}\"", null, false, null, null));
            }

            // Each object is active on the silo the owner function names, and both silos hold some.
            var placed = (await main.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
                .ToDictionary(s => s.GrainId, s => s.SiloAddress);
            var owners = keys.Select(key =>
            {
                var id = main.GetGrain<ISharedObjectGrain>(key).GetGrainId();
                Assert.True(placed.TryGetValue(id, out var at), $"{key} is not active");
                Assert.Equal(OwnerSilo.Of(id, silos), at);
                return at;
            }).ToList();
            Assert.Equal(2, owners.Distinct().Count());

            // Pusher channels are placed and routed the same way.
            var channels = new ChannelReferences(main, router);
            var channelKeys = Enumerable.Range(0, 40).Select(i => $"app/routed-{i}").ToList();
            foreach (var key in channelKeys)
            {
                Assert.NotNull(channels.Route(key).Direct);
                await channels.Get(key).GetInfo();
            }

            placed = (await main.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics()).ToDictionary(s => s.GrainId, s => s.SiloAddress);
            var channelOwners = channelKeys.Select(key =>
            {
                var id = main.GetGrain<OrleansVault.Channels.IChannelGrain>(key).GetGrainId();
                Assert.True(placed.TryGetValue(id, out var at), $"{key} is not active");
                Assert.Equal(OwnerSilo.Of(id, silos), at);
                return at;
            }).ToList();
            Assert.Equal(2, channelOwners.Distinct().Count());

            // A silo leaves: the routes drop it, and its objects come back on the other silo with their items.
            await second.StopAsync();
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot() is { Silos.Count: 1, Direct.Count: 1 }), "routes without the silo that left", TimeSpan.FromSeconds(30));
            foreach (var key in keys)
            {
                Assert.Equal($"\"{key}\"", (await objects.Get(key).GetItem("k"))?.ValueJson);
            }
        }
        finally
        {
            await gateway.DisposeAsync();
            await first.StopAsync();
        }
    }

    [Fact]
    public async Task When_a_silo_leaves_the_feeds_subscribe_again_at_once_and_their_objects_events_keep_coming()
    {
        var (database, clusterId, hosts) = await TwoSilosAsync();
        using var first = hosts[0];
        using var second = hosts[1];
        await Task.WhenAll(first.StartAsync(), second.StartAsync());

        await using var gateway = await GatewaySide.StartAsync(database, clusterId, ("Vault:Cluster:ResponseTimeout", "00:00:02"));
        var (main, router, objects, feeds) = (gateway.Main, gateway.Router, gateway.Objects, gateway.Feeds);
        try
        {
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot() is { Silos.Count: 2, Direct.Count: 2 }), "routes to both silos", TimeSpan.FromSeconds(30));
            var keys = Enumerable.Range(0, 24).Select(i => new ObjectAddress("p", "c", $"fed-{i}").GrainKey).ToList();
            var leaving = router.Snapshot().Silos.Max()!;
            Assert.Contains(keys, key => OwnerSilo.Of(main.GetGrain<ISharedObjectGrain>(key).GetGrainId(), router.Snapshot().Silos) == leaving);

            var received = keys.ToDictionary(key => key, _ => new Recorder());
            foreach (var key in keys)
            {
                await feeds.AddAsync(key, received[key]);
                await objects.Get(key).SetItem(new SetItemCommand("k", "\"before\"", null, false, null, null));
            }

            await Wait.UntilAsync(() => Task.FromResult(received.Values.All(r => r.Saw("before"))), "every feed relays its object's first write");

            // The silo that owns some of the objects leaves. Their next activation (on the other silo) knows no feed
            // until the feed subscribes again, which the route change makes happen now, not at the next periodic renewal.
            await HostOf(leaving, first, second).StopAsync();
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot() is { Silos.Count: 1, Direct.Count: 1 }), "routes without the silo that left", TimeSpan.FromSeconds(30));
            foreach (var key in keys)
            {
                // While a silo leaves, an object can be activated on the other before its old activation stored its
                // last state; that activation's first write then fails as stale, and the gateway's client makes the
                // call again (StaleWriteRetry).
                await objects.Get(key).SetItem(new SetItemCommand("k", "\"after\"", null, false, null, null));
            }

            await Wait.UntilAsync(
                () => Task.FromResult(received.Values.All(r => r.Saw("after"))),
                "every feed relays its object's write after the silo left",
                TimeSpan.FromSeconds(30));

            // The client of the silo that left is disposed once calls made through it had their response timeout.
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot().Retiring == 0), "the departed silo's client disposed", TimeSpan.FromSeconds(30));
        }
        finally
        {
            await gateway.DisposeAsync();
            await first.StopAsync();
            await second.StopAsync();
        }
    }

    [Fact]
    public async Task Objects_and_channels_active_away_from_their_owner_move_there_with_their_feeds_presence_and_epoch()
    {
        // Objects check their place every 300 ms, channels every 2.5 s (a quarter of their feed lease).
        var (database, clusterId, hosts) = await TwoSilosAsync(new Dictionary<string, string?>
        {
            ["Vault:Objects:PurgeInterval"] = "00:00:00.300",
            ["Vault:Channels:FeedLease"] = "00:00:10",
        });
        using var first = hosts[0];
        using var second = hosts[1];
        await first.StartAsync();
        await using var gateway = await GatewaySide.StartAsync(database, clusterId);
        var (main, router, objects, feeds) = (gateway.Main, gateway.Router, gateway.Objects, gateway.Feeds);
        try
        {
            // One silo: every object is active there, with a feed, a presence entry and an event.
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot() is { Silos.Count: 1, Direct.Count: 1 }), "a route to the first silo", TimeSpan.FromSeconds(30));
            var keys = Enumerable.Range(0, 24).Select(i => new ObjectAddress("p", "c", $"moving-{i}").GrainKey).ToList();
            var received = keys.ToDictionary(key => key, _ => new Recorder());
            foreach (var key in keys)
            {
                await feeds.AddAsync(key, received[key]);
                await objects.Get(key).Join($"who-{key}", "{\"name\":\"x\"}", null);
                await objects.Get(key).SetItem(new SetItemCommand("k", "\"before\"", null, false, null, null));
            }

            await Wait.UntilAsync(() => Task.FromResult(received.Values.All(r => r.Saw("before"))), "every feed relays its object's first write");
            var epochs = received.ToDictionary(r => r.Key, r => r.Value.Epochs.Single());

            // Objects nobody subscribes to but that are written all the time (so never collected).
            var busy = Enumerable.Range(0, 12).Select(i => new ObjectAddress("p", "c", $"busy-{i}").GrainKey).ToList();
            var written = 0;
            async Task WriteBusyAsync()
            {
                written++;
                foreach (var key in busy)
                {
                    await objects.Get(key).SetItem(new SetItemCommand("k", written.ToString(System.Globalization.CultureInfo.InvariantCulture), null, false, null, null));
                }
            }

            await WriteBusyAsync();

            // Objects written once and then only read, all the time (so never collected either).
            var read = Enumerable.Range(0, 12).Select(i => new ObjectAddress("p", "c", $"read-{i}").GrainKey).ToList();
            foreach (var key in read)
            {
                await objects.Get(key).SetItem(new SetItemCommand("k", $"\"{key}\"", null, false, null, null));
            }

            async Task ReadBusyAsync()
            {
                foreach (var key in read)
                {
                    Assert.Equal($"\"{key}\"", (await objects.Get(key).GetItem("k"))?.ValueJson);
                }
            }

            // Presence channels, each with one subscribed socket of a gateway feed (an observer on the main client).
            await main.GetGrain<IPusherAppsGrain>(IPusherAppsGrain.Key).Upsert(new PusherApp("app", "app-key", RandomNumberGenerator.GetBytes(32), false, false, false, false, 100, true, []));
            var channelKeys = Enumerable.Range(0, 24).Select(i => $"app/presence-moving-{i}").ToList();
            var channelEvents = new ChannelRecorder();
            var channelFeed = main.CreateObjectReference<IChannelFeedObserver>(channelEvents);
            foreach (var key in channelKeys)
            {
                await main.GetGrain<IChannelGrain>(key).Subscribe(channelFeed, new ChannelSubscription($"socket-{key}", new ChannelMember($"user-{key}", null)));
            }

            // A second silo joins and owns about half of them: they move there, carried, not restarted.
            await second.StartAsync();
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot() is { Silos.Count: 2, Direct.Count: 2 }), "routes to both silos", TimeSpan.FromSeconds(30));
            var silos = router.Snapshot().Silos;
            var owners = keys.Select(key => main.GetGrain<ISharedObjectGrain>(key).GetGrainId())
                .Concat(channelKeys.Select(key => main.GetGrain<IChannelGrain>(key).GetGrainId()))
                .Concat(busy.Select(key => main.GetGrain<ISharedObjectGrain>(key).GetGrainId()))
                .Concat(read.Select(key => main.GetGrain<ISharedObjectGrain>(key).GetGrainId()))
                .ToDictionary(id => id, id => OwnerSilo.Of(id, silos)!);
            var firstSilo = first.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
            var movers = keys.Where(key => !firstSilo.Equals(owners[main.GetGrain<ISharedObjectGrain>(key).GetGrainId()])).ToList();
            var movingChannels = channelKeys.Where(key => !firstSilo.Equals(owners[main.GetGrain<IChannelGrain>(key).GetGrainId()])).ToList();
            Assert.NotEmpty(movers);
            Assert.NotEmpty(movingChannels);
            Assert.Contains(busy, key => !firstSilo.Equals(owners[main.GetGrain<ISharedObjectGrain>(key).GetGrainId()]));
            Assert.Contains(read, key => !firstSilo.Equals(owners[main.GetGrain<ISharedObjectGrain>(key).GetGrainId()]));
            await Wait.UntilAsync(
                async () =>
                {
                    await WriteBusyAsync();
                    await ReadBusyAsync();
                    // While one moves, both its old and its new activation may be listed.
                    var placed = (await main.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics()).ToLookup(s => s.GrainId, s => s.SiloAddress);
                    return owners.All(owner => placed[owner.Key].SequenceEqual([owner.Value]));
                },
                "every object and channel active on its owner",
                TimeSpan.FromSeconds(30));

            // The moved objects still know the gateway's feed (its periodic renewal is an hour away), their presence, and
            // their epoch: the move sealed the history, so nobody has to refetch.
            foreach (var key in keys)
            {
                await objects.Get(key).SetItem(new SetItemCommand("k", "\"after\"", null, false, null, null));
            }

            await Wait.UntilAsync(() => Task.FromResult(received.Values.All(r => r.Saw("after"))), "every feed relays its object's write after the move");
            foreach (var key in movers)
            {
                Assert.Contains(await objects.Get(key).GetPresence(), entry => entry.ConnectionId == $"who-{key}");
                Assert.Equal([epochs[key]], received[key].Epochs);
            }

            foreach (var key in busy)
            {
                Assert.Equal(written.ToString(System.Globalization.CultureInfo.InvariantCulture), (await objects.Get(key).GetItem("k"))?.ValueJson);
            }

            // The moved channels still count their socket, list its member, and push to the gateway's feed.
            foreach (var key in movingChannels)
            {
                var channel = main.GetGrain<IChannelGrain>(key);
                Assert.Equal(new ChannelInfo(true, 1, 1), await channel.GetInfo());
                Assert.Equal([$"user-{key}"], await channel.GetUserIds());
                await channel.Publish(new ChannelPublish("moved", $"\"{key}\"", DataIsJson: true, ExcludedSocketId: null, UserId: null, FromClient: false));
            }

            await Wait.UntilAsync(() => Task.FromResult(movingChannels.All(key => channelEvents.Saw(key))), "every moved channel pushes to its feed");
            main.DeleteObjectReference<IChannelFeedObserver>(channelFeed);
        }
        finally
        {
            await gateway.DisposeAsync();
            await second.StopAsync();
            await first.StopAsync();
        }
    }

    /// <summary>A migrated database of the test server and two silo hosts (not started) of a new cluster on it.</summary>
    private async Task<(string Database, string ClusterId, IHost[] Hosts)> TwoSilosAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var database = await ClusterStorageTests.MigratedDatabaseAsync(postgres);
        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var clusterId = "c" + Guid.NewGuid().ToString("N")[..8];
        return (database, clusterId, [ClusterStorageTests.Silo(database, clusterId, masterKey, settings), ClusterStorageTests.Silo(database, clusterId, masterKey, settings)]);
    }

    private static IHost HostOf(SiloAddress silo, params IHost[] hosts) =>
        hosts.Single(host => host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress == silo);

    /// <summary>A feed subscriber that keeps the frames it was handed.</summary>
    private sealed class Recorder : IFeedSubscriber
    {
        private readonly ConcurrentQueue<string> _frames = new();
        private readonly ConcurrentDictionary<long, bool> _epochs = new();
        private long _lastSent;

        public long LastSent => Interlocked.Read(ref _lastSent);

        public ConnectionRestore? Registration => null;

        public void Deliver(FeedEvent e)
        {
            _frames.Enqueue(System.Text.Encoding.UTF8.GetString(e.VaultriceFrame));
            _epochs[e.Epoch] = true;
            Interlocked.Exchange(ref _lastSent, e.Event.Sequence);
        }

        public IReadOnlySet<long> Epochs => _epochs.Keys.ToHashSet();

        public bool Saw(string value) => _frames.Any(f => f.Contains(value, StringComparison.Ordinal));
    }

    /// <summary>A channel feed that keeps the data of the events it was pushed.</summary>
    private sealed class ChannelRecorder : IChannelFeedObserver
    {
        private readonly ConcurrentQueue<string> _data = new();

        public Task OnEvents(ChannelEventBatch batch)
        {
            foreach (var e in batch.Events)
            {
                _data.Enqueue(e.Data ?? "");
            }

            return Task.CompletedTask;
        }

        public bool Saw(string value) => _data.Any(d => d.Contains(value, StringComparison.Ordinal));
    }

    /// <summary>
    /// A gateway's side of direct routing, wired as the gateway wires it: the main client, the router (routes re-read
    /// every 200 ms), object references through it, and feeds renewed when the routes change. Their periodic renewal
    /// is an hour away, so only a route change makes them subscribe again.
    /// </summary>
    private sealed class GatewaySide : IAsyncDisposable
    {
        private readonly IHost _host;
        private readonly FeedRenewalService _renewal;
        private bool _disposed;

        private GatewaySide(IHost host, SiloRouter router, FeedRenewalService renewal, ObjectReferences objects, ObjectFeeds feeds)
        {
            _host = host;
            Router = router;
            _renewal = renewal;
            Objects = objects;
            Feeds = feeds;
        }

        public IClusterClient Main => _host.Services.GetRequiredService<IClusterClient>();

        public SiloRouter Router { get; }

        public ObjectReferences Objects { get; }

        public ObjectFeeds Feeds { get; }

        public static async Task<GatewaySide> StartAsync(string database, string clusterId, params (string Key, string Value)[] settings)
        {
            var configuration = ClusterStorageTests.GatewayConfiguration(database, clusterId, [("Vault:Cluster:RoutingRefresh", "00:00:00.200"), .. settings]);
            var host = ClusterStorageTests.GatewayClient(configuration);
            await host.StartAsync();
            var main = host.Services.GetRequiredService<IClusterClient>();
            var router = new SiloRouter(main, configuration, NullLoggerFactory.Instance);
            await router.StartAsync(CancellationToken.None);
            var sockets = Microsoft.Extensions.Options.Options.Create(new SocketOptions { FeedRenewInterval = TimeSpan.FromHours(1), FeedRenewTimeout = TimeSpan.FromSeconds(5) });
            var objects = new ObjectReferences(main, router);
            var feeds = new ObjectFeeds(main, objects, sockets, NullLogger<ObjectFeeds>.Instance);
            var renewal = new FeedRenewalService(feeds, new ChannelFeeds(main, new ChannelReferences(main, router), sockets, NullLogger<ChannelFeeds>.Instance), sockets, TimeProvider.System, router);
            await renewal.StartAsync(CancellationToken.None);
            return new GatewaySide(host, router, renewal, objects, feeds);
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _renewal.StopAsync(CancellationToken.None);
            _renewal.Dispose();
            await Router.StopAsync(CancellationToken.None);
            Router.Dispose();
            await _host.StopAsync();
            _host.Dispose();
        }
    }
}
