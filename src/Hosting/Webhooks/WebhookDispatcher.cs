using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVault.Channels;
using OrleansVault.Grains.Channels;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace OrleansVault.Hosting.Webhooks;

/// <summary>
/// Delivers the outbox: groups due events per app and URL into <c>{time_ms, events}</c> requests signed with the app's
/// secret (<c>X-Pusher-Key</c>, <c>X-Pusher-Signature</c>), retries a few times at once (Polly: exponential backoff with
/// jitter, per-attempt timeout), and otherwise puts the events back with a growing delay, so an unreachable endpoint
/// gets them once it is back, across restarts. Failures are logged and counted (meter <c>OrleansVault.Webhooks</c>).
/// </summary>
public sealed partial class WebhookDispatcher : BackgroundService
{
    public const string HttpClientName = "OrleansVault.Webhooks";

    private static readonly Meter Meter = new("OrleansVault.Webhooks");
    private static readonly Counter<long> Delivered = Meter.CreateCounter<long>("orleansvault.webhooks.delivered", "{event}");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("orleansvault.webhooks.failed", "{request}");
    private static readonly Counter<long> Dropped = Meter.CreateCounter<long>("orleansvault.webhooks.dropped", "{event}");

    private readonly WebhookOutbox _outbox;
    private readonly IGrainFactory _grains;
    private readonly IHttpClientFactory _http;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly SemaphoreSlim _signal = new(0, 1);

    public WebhookDispatcher(
        WebhookOutbox outbox,
        IGrainFactory grains,
        IHttpClientFactory http,
        IOptions<WebhookOptions> options,
        TimeProvider time,
        ILogger<WebhookDispatcher> logger)
    {
        _outbox = outbox;
        _grains = grains;
        _http = http;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _outbox.Enqueued += Wake;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, _options.ImmediateRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryDelay,
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>(),
            })
            .AddTimeout(_options.RequestTimeout)
            .Build();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(_options.PollInterval, stoppingToken);
                if (_options.BatchDelay > TimeSpan.Zero)
                {
                    await Task.Delay(_options.BatchDelay, _time, stoppingToken);
                }

                while (await DeliverDueAsync(stoppingToken))
                {
                    // A full page was due: there may be more.
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // Storage or cluster not reachable right now (start-up, shutdown): the next poll tries again.
                LogPassFailed(_logger, error.GetType().Name);
            }
        }
    }

    /// <summary>Sends one page of due deliveries; true when the page was full.</summary>
    private async Task<bool> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var page = 16 * _options.MaxEventsPerRequest;
        // Claimed for as long as one request with all its immediate retries may take, and some.
        var claimFor = (_options.RequestTimeout * (_options.ImmediateRetries + 1)) + TimeSpan.FromSeconds(5);
        var due = await _outbox.ClaimDueAsync(page, claimFor);
        if (due.Count == 0)
        {
            return false;
        }

        try
        {
            await DeliverAsync(due, cancellationToken);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // Stopping mid-page, or the cluster did not answer (a silo shutting down): hand the claimed events back so
            // the next pass, or the next start, delivers them at once instead of after the claim lapses.
            await _outbox.ReleaseAsync(due.Select(d => d.Id));
            throw;
        }

        return due.Count == page;
    }

    private async Task DeliverAsync(IReadOnlyList<WebhookDelivery> due, CancellationToken cancellationToken)
    {
        var apps = _grains.GetGrain<IPusherAppsGrain>(IPusherAppsGrain.Key);
        foreach (var group in due.GroupBy(d => (d.AppId, d.Url)))
        {
            var app = await apps.GetById(group.Key.AppId);
            if (app is null || !app.Webhooks.Any(w => w.Url == group.Key.Url))
            {
                // The app or this target was removed: nobody wants these any more.
                Dropped.Add(group.Count());
                await _outbox.DeleteAsync(group.Select(d => d.Id));
                continue;
            }

            foreach (var chunk in group.Chunk(_options.MaxEventsPerRequest))
            {
                await SendAsync(app, group.Key.Url, chunk, cancellationToken);
            }
        }
    }

    private async Task SendAsync(PusherApp app, string url, WebhookDelivery[] chunk, CancellationToken cancellationToken)
    {
        var body = Body(_time.GetUtcNow().ToUnixTimeMilliseconds(), chunk.Select(d => d.Event));
        try
        {
            await _pipeline.ExecuteAsync(
                async token =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };

                    // Exactly application/json: the pusher SDK's webhook validation compares the header as a whole (WIRE.md 2).
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    request.Headers.Add("X-Pusher-Key", app.Key);
                    request.Headers.Add("X-Pusher-Signature", Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(app.Secret, body)));
                    using var response = await _http.CreateClient(HttpClientName).SendAsync(request, token);
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new HttpRequestException($"status {(int)response.StatusCode}", null, response.StatusCode);
                    }
                },
                cancellationToken);
            await _outbox.DeleteAsync(chunk.Select(d => d.Id));
            Delivered.Add(chunk.Length);
        }
        catch (Exception error) when (error is HttpRequestException or TimeoutRejectedException)
        {
            Failed.Add(1);
            var attempts = chunk.Max(d => d.Attempts) + 1;
            var host = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Authority : "?";
            if (attempts >= _options.MaxAttempts)
            {
                LogDropped(_logger, app.AppId, host, chunk.Length, attempts);
                Dropped.Add(chunk.Length);
                await _outbox.DeleteAsync(chunk.Select(d => d.Id));
                return;
            }

            var delay = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.Backoff.TotalMilliseconds * Math.Pow(2, attempts - 1));
            LogDeliveryFailed(_logger, app.AppId, host, chunk.Length, attempts, (long)delay, error.Message);
            await _outbox.PostponeAsync(chunk.Select(d => d.Id), _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)delay);
        }
    }

    /// <summary>The request body: <c>{"time_ms":…, "events":[…]}</c> with each event in Pusher's webhook shape.</summary>
    public static byte[] Body(long timeMs, IEnumerable<WebhookEvent> events)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("time_ms", timeMs);
            writer.WriteStartArray("events");
            foreach (var e in events)
            {
                writer.WriteStartObject();
                writer.WriteString("name", e.Name);
                writer.WriteString("channel", e.Channel);
                if (e.Event is not null)
                {
                    writer.WriteString("event", e.Event);
                }

                if (e.Data is not null)
                {
                    // Pusher sends client event data as a string, whatever JSON the client sent.
                    writer.WriteString("data", e.Data);
                }

                if (e.SocketId is not null)
                {
                    writer.WriteString("socket_id", e.SocketId);
                }

                if (e.UserId is not null)
                {
                    writer.WriteString("user_id", e.UserId);
                }

                if (e.SubscriptionCount is { } count)
                {
                    writer.WriteNumber("subscription_count", count);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void Wake()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Webhook delivery for app {AppId} to {Host} failed ({Count} events, attempt {Attempt}); retrying in {DelayMs} ms: {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string appId, string host, int count, int attempt, long delayMs, string reason);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Webhook events for app {AppId} to {Host} dropped after {Attempts} failed attempts ({Count} events)")]
    private static partial void LogDropped(ILogger logger, string appId, string host, int count, int attempts);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Webhook dispatch pass failed ({ErrorType}); trying again at the next poll")]
    private static partial void LogPassFailed(ILogger logger, string errorType);
}
