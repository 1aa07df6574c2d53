using System.Diagnostics;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Targets;

/// <summary>The plain Kestrel WebSocket baseline (tools/Baselines): <c>/ws/{topic}</c> and <c>POST /publish/{topic}</c>.</summary>
public sealed class PlainWebSocketTarget(LoadOptions options, ClientNetwork network)
    : BaselineTarget(options, network, "/publish", "application/json")
{
    public override string Name => "plain-websocket";

    public override async Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var socket = await Network.ConnectWebSocketAsync(Network.WebSocketUri(index, $"/ws/{topic}"), cancellationToken);
        metrics.Connected(Stopwatch.GetElapsedTime(started));
        return new SocketSubscriber(socket, metrics, readyMarker: null);
    }
}
