using System.Diagnostics;
using System.Text;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Targets;

/// <summary>OrleansVault's Vaultrice door: token from key + secret, sockets on <c>ws/{class}/{id}</c>, writes over HTTP (WIRE.md 1.1, 1.6).</summary>
public sealed class VaultriceTarget(LoadOptions options, ClientNetwork network) : ILoadTarget
{
    private static readonly byte[] ConnectedMarker = "\"connected\""u8.ToArray();
    private string _bearer = "";

    public string Name => "orleansvault";

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _bearer = "Bearer " + await ClientNetwork.MintTokenAsync(network.Http, network.BaseFor(0), options.ProjectId, options.ApiKey, options.ApiSecret, cancellationToken);
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken)
    {
        var uri = network.WebSocketUri(index, $"/project/{options.ProjectId}/ws/{options.ClassName}/{topic}?auth={Uri.EscapeDataString(_bearer)}");
        var started = Stopwatch.GetTimestamp();
        var socket = await network.ConnectWebSocketAsync(uri, cancellationToken);
        var subscriber = new SocketSubscriber(socket, metrics, ConnectedMarker);
        await subscriber.Ready.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        metrics.Connected(Stopwatch.GetElapsedTime(started));
        return subscriber;
    }

    public async Task PublishAsync(string topic, string payload, CancellationToken cancellationToken)
    {
        var path = options.Publish == "message"
            ? $"/project/{options.ProjectId}/message/{options.ClassName}/{topic}"
            : $"/project/{options.ProjectId}/cache/{options.ClassName}/{topic}/k";
        var body = options.Publish == "message" ? payload : "{\"value\":" + payload + "}";
        await SendAsync(HttpMethod.Post, path, body, cancellationToken);
    }

    public async Task RequestAsync(int index, CancellationToken cancellationToken)
    {
        var path = $"/project/{options.ProjectId}/cache/{options.ClassName}/http-{index % Math.Max(1, options.Objects)}/k{index % 16}";
        await SendAsync(HttpMethod.Post, path, "{\"value\":" + Payload.Create(DateTime.UtcNow.Ticks, options.PayloadBytes) + "}", cancellationToken);
        await SendAsync(HttpMethod.Get, path, null, cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task SendAsync(HttpMethod method, string path, string? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(network.NextBase(), path));
        request.Headers.TryAddWithoutValidation("Authorization", _bearer);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await network.Http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}", null, response.StatusCode);
        }
    }
}
