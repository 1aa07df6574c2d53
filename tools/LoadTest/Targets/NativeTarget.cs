using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using OrleansVault.Client;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;
using OrleansVault.Protocol;

namespace OrleansVault.LoadTest.Targets;

/// <summary>
/// OrleansVault's native door through the client library (OrleansVault.Client): one <see cref="VaultClient"/> per
/// subscriber, each on its own WebSocket from <see cref="ClientNetwork"/> (spread over source addresses); writes and
/// requests through a pool of publisher clients.
/// </summary>
public sealed class NativeTarget(LoadOptions options, ClientNetwork network) : ILoadTarget
{
    private readonly ConcurrentDictionary<string, Task<SharedObject>> _published = new(StringComparer.Ordinal);
    private readonly List<VaultClient> _publishers = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string _token = "";

    public string Name => "orleansvault-native";

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _token = await ClientNetwork.MintTokenAsync(network.Http, network.BaseFor(0), options.ProjectId, options.ApiKey, options.ApiSecret, cancellationToken);

        // Writers: a few connections, as a backend would use, spread over the gateways.
        for (var i = 0; i < Math.Clamp(options.InFlight / 8, 1, 8); i++)
        {
            _publishers.Add(await ConnectAsync(i, cancellationToken));
        }
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var client = await ConnectAsync(index, cancellationToken);
        try
        {
            var shared = await client.OpenAsync(options.ClassName, topic, cancellationToken: cancellationToken);
            shared.EventReceived += (_, e) =>
            {
                if (e.Kind is EventKind.SetItem or EventKind.Message && e.ValueJson is { } json && Payload.TryRead(json, out var ticks))
                {
                    metrics.Delivered(ticks);
                }
            };
            client.Reconnecting += _ => metrics.Error("native connection lost");
            metrics.Connected(Stopwatch.GetElapsedTime(started));
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public async Task PublishAsync(string topic, string payload, CancellationToken cancellationToken)
    {
        var shared = await _published.GetOrAdd(topic, t => OpenForWritesAsync(t, cancellationToken));
        using var value = JsonDocument.Parse(payload);
        if (options.Publish == "message")
        {
            await shared.SendMessageAsync(value.RootElement, cancellationToken: cancellationToken);
        }
        else
        {
            await shared.SetAsync("k", value.RootElement, cancellationToken: cancellationToken);
        }
    }

    public async Task RequestAsync(int index, CancellationToken cancellationToken)
    {
        var shared = await _published.GetOrAdd("http-" + (index % Math.Max(1, options.Objects)), t => OpenForWritesAsync(t, cancellationToken));
        using var value = JsonDocument.Parse(Payload.Create(DateTime.UtcNow.Ticks, options.PayloadBytes));
        var key = "k" + (index % 16);
        await shared.SetAsync(key, value.RootElement, cancellationToken: cancellationToken);
        await shared.GetAsync<JsonElement>(key, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var publisher in _publishers)
        {
            await publisher.DisposeAsync();
        }

        _gate.Dispose();
    }

    private async Task<SharedObject> OpenForWritesAsync(string topic, CancellationToken cancellationToken)
    {
        var publisher = _publishers[(int)((uint)topic.GetHashCode(StringComparison.Ordinal) % (uint)_publishers.Count)];
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await publisher.OpenAsync(options.ClassName, topic, cancellationToken: cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task<VaultClient> ConnectAsync(int index, CancellationToken cancellationToken) =>
        VaultClient.ConnectAsync(
            new VaultClientOptions
            {
                BaseUrl = network.BaseFor(index),
                ProjectId = options.ProjectId,
                AccessTokenProvider = _ => Task.FromResult(_token),
                Protocol = options.HubProtocol == "messagepack" ? VaultProtocol.MessagePack : VaultProtocol.Json,
                WebSocketFactory = async (uri, ct) => await network.ConnectWebSocketAsync(uri, ct),
            },
            cancellationToken);
}
