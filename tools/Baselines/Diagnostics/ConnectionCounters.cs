using System.Text.Json.Serialization;

namespace OrleansVault.Baselines.Diagnostics;

/// <summary>Live counts reported by <c>GET /stats</c>, so the load-test tool can check its own bookkeeping.</summary>
internal sealed class ConnectionCounters
{
    private long _webSocketConnections;
    private long _topics;
    private long _signalrConnections;

    public void WebSocketOpened() => Interlocked.Increment(ref _webSocketConnections);

    public void WebSocketClosed() => Interlocked.Decrement(ref _webSocketConnections);

    public void TopicCreated() => Interlocked.Increment(ref _topics);

    public void TopicRemoved() => Interlocked.Decrement(ref _topics);

    public void SignalRConnected() => Interlocked.Increment(ref _signalrConnections);

    public void SignalRDisconnected() => Interlocked.Decrement(ref _signalrConnections);

    public ConnectionStats Snapshot() => new(
        Interlocked.Read(ref _webSocketConnections),
        Interlocked.Read(ref _topics),
        Interlocked.Read(ref _signalrConnections));
}

/// <summary>The <c>GET /stats</c> body; property names are pinned because the load-test tool parses them.</summary>
internal sealed record ConnectionStats(
    [property: JsonPropertyName("webSocketConnections")] long WebSocketConnections,
    [property: JsonPropertyName("topics")] long Topics,
    [property: JsonPropertyName("signalrConnections")] long SignalRConnections);
