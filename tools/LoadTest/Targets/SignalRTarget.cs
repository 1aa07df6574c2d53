using System.Diagnostics;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Targets;

/// <summary>The plain SignalR baseline (tools/Baselines): hub <c>/hub</c> groups, <c>POST /signalr/publish/{topic}</c>.</summary>
public sealed class SignalRTarget(LoadOptions options, ClientNetwork network)
    : BaselineTarget(options, network, "/signalr/publish", "text/plain")
{
    public override string Name => "plain-signalr";

    public override async Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Network.BaseFor(index), "/hub"), o =>
            {
                // One socket per client: negotiation would hold a second, pooled HTTP connection (FACTS.md).
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
                o.WebSocketFactory = async (context, ct) => await Network.ConnectWebSocketAsync(context.Uri, ct);
            })
            .Build();
        connection.On<string>("event", payload =>
        {
            if (Payload.TryRead(payload, out var ticks))
            {
                metrics.Delivered(ticks);
            }
        });
        connection.Closed += error =>
        {
            if (error is not null)
            {
                metrics.Error("signalr connection closed");
            }

            return Task.CompletedTask;
        };
        await connection.StartAsync(cancellationToken);
        await connection.InvokeAsync("Subscribe", topic, cancellationToken);
        metrics.Connected(Stopwatch.GetElapsedTime(started));
        return connection;
    }
}
