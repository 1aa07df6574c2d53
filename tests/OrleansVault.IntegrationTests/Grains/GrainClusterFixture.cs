using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using OrleansVault.Channels;
using OrleansVault.Grains.Channels;
using OrleansVault.Grains.Objects;
using OrleansVault.Hosting;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Grains;

/// <summary>An in-process Orleans test cluster running the grains with memory storage (behind a storage that can be told to fail).</summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public static readonly TimeSpan PurgeInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Object feeds' lease. Tests renew the feeds that must stay while they wait, but a single call on a cold test host can
    /// take longer than half a second (with 500 ms, a class run alone sometimes lost its live feed before the first renewal).
    /// </summary>
    public static readonly TimeSpan FeedLease = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Channel feeds' lease. Most channel tests subscribe and never renew, so the lease must outlast their calls on a cold,
    /// loaded test host (with 500 ms, a sweep sometimes dropped a feed mid-test); the lapse test renews its live feed.
    /// </summary>
    public static readonly TimeSpan ChannelFeedLease = TimeSpan.FromSeconds(2);

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage("inner");
            silo.AddVaultPlacement();
            silo.Services.AddKeyedSingleton<IGrainStorage>(SharedObjectOptions.StorageName, (sp, _) => new FlakyStorage(sp.GetRequiredKeyedService<IGrainStorage>("inner"), sp.GetRequiredService<Orleans.Serialization.Serializer>()));
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<FeedPushes>();
            silo.Services.AddSingleton<IChannelWebhooks>(RecordedWebhooks.Instance);
            silo.Services.Configure<ChannelOptions>(o =>
            {
                o.FeedLease = ChannelFeedLease;
                o.AppCacheTtl = TimeSpan.Zero;
            });
            silo.Services.Configure<SharedObjectOptions>(o =>
            {
                o.HistoryLength = 50;
                // Long enough for a test to notice a lapse and resume on a cold host (with 400 ms, the gateway-death test
                // sometimes polled past it); the test of the window's end polls until it has passed.
                o.ResumeWindow = TimeSpan.FromSeconds(2);
                o.PurgeInterval = PurgeInterval;
                o.FeedLease = FeedLease;
            });
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class GrainClusterCollection : ICollectionFixture<GrainClusterFixture>
{
    public const string Name = "grain-cluster";
}

/// <summary>Grain storage that fails writes for grains whose key is listed, to test what a failed write leaves behind.</summary>
public sealed class FlakyStorage(IGrainStorage inner, Orleans.Serialization.Serializer serializer) : IGrainStorage
{
    public static System.Collections.Concurrent.ConcurrentDictionary<string, bool> FailingKeys { get; } = new();

    public static System.Collections.Concurrent.ConcurrentDictionary<string, int> Writes { get; } = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

    /// <summary>Writes of these grains wait until their gate opens (to hold a write in flight while more calls arrive).</summary>
    public static System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new();

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = grainId.Key.ToString()!;
        if (FailingKeys.ContainsKey(key))
        {
            throw new IOException("injected write failure");
        }

        Writes.AddOrUpdate(key, 1, (_, n) => n + 1);

        // Like the real storages (which serialize before their first await), the state is captured when the write
        // starts: the grain keeps changing it while the write is in flight. The gate only delays the completion.
        var captured = new GrainState<T>(serializer.Deserialize<T>(serializer.SerializeToArray(grainState.State))) { ETag = grainState.ETag, RecordExists = grainState.RecordExists };
        var write = inner.WriteStateAsync(stateName, grainId, captured);
        if (Gates.TryGetValue(key, out var gate))
        {
            await gate.Task;
        }

        await write;
        grainState.ETag = captured.ETag;
        grainState.RecordExists = captured.RecordExists;
        if (FailingKeys.ContainsKey(key + "#after"))
        {
            throw new IOException("injected write failure after the write started");
        }
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
}

/// <summary>Where the test cluster's channels hand their webhook events: kept in memory for the tests to inspect.</summary>
public sealed class RecordedWebhooks : IChannelWebhooks
{
    public static RecordedWebhooks Instance { get; } = new();

    public System.Collections.Concurrent.ConcurrentQueue<(string AppId, WebhookEvent Event)> Events { get; } = new();

    public Task EnqueueAsync(PusherApp app, WebhookEvent e)
    {
        Events.Enqueue((app.AppId, e));
        return Task.CompletedTask;
    }
}
