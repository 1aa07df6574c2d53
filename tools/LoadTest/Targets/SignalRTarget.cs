using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Targets;

/// <summary>The plain SignalR baseline (tools/Baselines): hub <c>/hub</c> groups, <c>POST /signalr/publish/{topic}</c>.</summary>
public sealed class SignalRTarget(LoadOptions options, ClientNetwork network) : ILoadTarget
{
    public string Name => "plain-signalr";

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(network.BaseFor(index), "/hub"), o =>
            {
                // One socket per client: negotiation would hold a second, pooled HTTP connection (FACTS.md).
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
                o.WebSocketFactory = async (context, ct) => await network.ConnectWebSocketAsync(context.Uri, ct);
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

    public Task PublishAsync(string topic, string payload, CancellationToken cancellationToken) =>
        PostAsync($"/signalr/publish/{topic}", payload, cancellationToken);

    public async Task RequestAsync(int index, CancellationToken cancellationToken)
    {
        await PostAsync($"/signalr/publish/http-{index % Math.Max(1, options.Objects)}", Payload.Create(DateTime.UtcNow.Ticks, options.PayloadBytes), cancellationToken);
        using var response = await network.Http.GetAsync(new Uri(network.BaseFor(index), "/health"), cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task PostAsync(string path, string body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body, Encoding.UTF8, "text/plain");
        using var response = await network.Http.PostAsync(new Uri(network.BaseFor(Environment.CurrentManagedThreadId), path), content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
