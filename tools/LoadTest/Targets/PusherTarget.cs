using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Targets;

/// <summary>
/// OrleansVault's Pusher door, spoken as pusher-js and the pusher server SDK speak it: sockets on
/// <c>/app/{key}?protocol=7</c> subscribing to a public channel, events published with signed
/// <c>POST /apps/{id}/events</c>. <c>--project</c> is the app id, <c>--key</c> the app key, <c>--secret</c> the app secret.
/// </summary>
public sealed class PusherTarget(LoadOptions options, ClientNetwork network) : ILoadTarget
{
    private static readonly byte[] SubscribedMarker = "subscription_succeeded"u8.ToArray();

    public string Name => "orleansvault-pusher";

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var socket = await network.ConnectWebSocketAsync(network.WebSocketUri(index, $"/app/{options.ApiKey}?protocol=7&client=loadtest&version=1"), cancellationToken);
        var subscribe = JsonSerializer.SerializeToUtf8Bytes(new { @event = "pusher:subscribe", data = new { channel = topic } });
        await socket.SendAsync(subscribe, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var subscriber = new SocketSubscriber(socket, metrics, SubscribedMarker);
        await subscriber.Ready.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        metrics.Connected(Stopwatch.GetElapsedTime(started));
        return subscriber;
    }

    public Task PublishAsync(string topic, string payload, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/events", JsonSerializer.Serialize(new { name = "load", channels = new[] { topic }, data = payload }), cancellationToken);

    public async Task RequestAsync(int index, CancellationToken cancellationToken)
    {
        var channel = $"http-{index % Math.Max(1, options.Objects)}";
        var data = Payload.Create(DateTime.UtcNow.Ticks, options.PayloadBytes);
        await SendAsync(HttpMethod.Post, "/events", JsonSerializer.Serialize(new { name = "load", channel, data }), cancellationToken);
        await SendAsync(HttpMethod.Get, $"/channels/{channel}", null, cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task SendAsync(HttpMethod method, string subPath, string? body, CancellationToken cancellationToken)
    {
        var path = $"/apps/{options.ProjectId}{subPath}";
        var query = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["auth_key"] = options.ApiKey,
            ["auth_timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["auth_version"] = "1.0",
        };
        var bytes = body is null ? null : Encoding.UTF8.GetBytes(body);
        if (bytes is not null)
        {
#pragma warning disable CA5351 // The Pusher protocol's body_md5; the HMAC below is what signs the request.
            query["body_md5"] = Convert.ToHexStringLower(MD5.HashData(bytes));
#pragma warning restore CA5351
        }

        var sorted = string.Join('&', query.Select(p => $"{p.Key}={p.Value}"));
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.ApiSecret), Encoding.UTF8.GetBytes($"{method.Method}\n{path}\n{sorted}")));
        using var request = new HttpRequestMessage(method, new Uri(network.NextBase(), $"{path}?{sorted}&auth_signature={signature}"));
        if (bytes is not null)
        {
            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        using var response = await network.Http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}", null, response.StatusCode);
        }
    }
}
