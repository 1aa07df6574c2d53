using System.Diagnostics;
using System.Text;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Targets;

/// <summary>The plain Kestrel WebSocket baseline (tools/Baselines): <c>/ws/{topic}</c> and <c>POST /publish/{topic}</c>.</summary>
public sealed class PlainWebSocketTarget(LoadOptions options, ClientNetwork network) : ILoadTarget
{
    public string Name => "plain-websocket";

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var socket = await network.ConnectWebSocketAsync(network.WebSocketUri(index, $"/ws/{topic}"), cancellationToken);
        metrics.Connected(Stopwatch.GetElapsedTime(started));
        return new SocketSubscriber(socket, metrics, readyMarker: null);
    }

    public Task PublishAsync(string topic, string payload, CancellationToken cancellationToken) =>
        PostAsync($"/publish/{topic}", payload, cancellationToken);

    public async Task RequestAsync(int index, CancellationToken cancellationToken)
    {
        await PostAsync($"/publish/http-{index % Math.Max(1, options.Objects)}", Payload.Create(DateTime.UtcNow.Ticks, options.PayloadBytes), cancellationToken);
        using var response = await network.Http.GetAsync(new Uri(network.BaseFor(index), "/health"), cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task PostAsync(string path, string body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await network.Http.PostAsync(new Uri(network.BaseFor(Environment.CurrentManagedThreadId), path), content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
