using System.Collections.Concurrent;
using System.Diagnostics;
using OrleansVault.LoadTest.Metrics;
using OrleansVault.LoadTest.Options;
using OrleansVault.LoadTest.Targets;

namespace OrleansVault.LoadTest.Scenarios;

/// <summary>
/// Runs one scenario's share in this process: open the subscribers (setup), then drive writes, requests and
/// churn for the duration (measure), then wait for deliveries still on their way (drain). Bounded in count and time.
/// </summary>
public sealed class ScenarioRunner(LoadOptions options, ScenarioPlan plan, ILoadTarget target, LoadMetrics metrics)
{
    private const int ConnectParallelism = 256;
    private readonly ConcurrentBag<IAsyncDisposable> _subscribers = [];

    public int Opened => _subscribers.Count;

    public async Task SetupAsync(CancellationToken cancellationToken)
    {
        await target.PrepareAsync(cancellationToken);
        var mine = plan.SubscriberTopics.Select((topic, index) => (topic, index))
            .Where(s => s.index % options.Workers == options.WorkerIndex)
            .ToList();
        using var gate = new SemaphoreSlim(ConnectParallelism);
        var started = Stopwatch.GetTimestamp();
        var tasks = new List<Task>(mine.Count);
        for (var i = 0; i < mine.Count; i++)
        {
            if (options.ConnectRate > 0)
            {
                var due = TimeSpan.FromSeconds((double)i / options.ConnectRate) - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken);
                }
            }

            await gate.WaitAsync(cancellationToken);
            var (topic, index) = mine[i];
            tasks.Add(OpenAsync(topic, index, gate, cancellationToken));
        }

        await Task.WhenAll(tasks);
    }

    /// <summary>Runs the load for the warm-up time, lets it settle, then forgets what it counted.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        if (options.Warmup <= TimeSpan.Zero)
        {
            return;
        }

        await MeasureAsync(options.Warmup, cancellationToken);
        await DrainAsync(expected: null, cancellationToken);
        metrics.Reset();
    }

    public Task MeasureAsync(CancellationToken cancellationToken) => MeasureAsync(options.Duration, cancellationToken);

    private async Task MeasureAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(duration);
        var work = new List<Task>();
        if (plan.Publishes && options.WorkerIndex == 0)
        {
            work.Add(PublishAsync(window.Token));
        }

        work.AddRange(Share(plan.RequestLoops).Select(i => LoopAsync(i, RequestOnceAsync, window.Token)));
        work.AddRange(Share(plan.ChurnLoops).Select(i => LoopAsync(i, ChurnOnceAsync, window.Token)));
        work.Add(Task.Delay(duration, cancellationToken));
        await Task.WhenAll(work);
    }

    /// <summary>Waits until the expected deliveries arrived, or deliveries stop for a second, or the drain time ends.</summary>
    public async Task DrainAsync(long? expected, CancellationToken cancellationToken)
    {
        if (!plan.Publishes)
        {
            return;
        }

        var until = Stopwatch.GetTimestamp() + (long)(options.Drain.TotalSeconds * Stopwatch.Frequency);
        var last = metrics.Deliveries;
        var quietSince = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() < until && !(expected is { } e && metrics.Deliveries >= e))
        {
            await Task.Delay(100, cancellationToken);
            var now = metrics.Deliveries;
            if (now != last)
            {
                last = now;
                quietSince = Stopwatch.GetTimestamp();
            }
            else if (expected is null && Stopwatch.GetElapsedTime(quietSince) > TimeSpan.FromSeconds(1))
            {
                return;
            }
        }
    }

    public async Task TeardownAsync()
    {
        foreach (var closed in _subscribers.OfType<SocketSubscriber>().Where(s => !s.Open))
        {
            metrics.Error("socket not open at the end");
        }

        await Parallel.ForEachAsync(_subscribers, new ParallelOptions { MaxDegreeOfParallelism = ConnectParallelism }, async (s, _) => await s.DisposeAsync());
        _subscribers.Clear();
    }

    private IEnumerable<int> Share(int loops) => Enumerable.Range(0, loops).Where(i => i % options.Workers == options.WorkerIndex);

    private async Task OpenAsync(string topic, int index, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        try
        {
            _subscribers.Add(await target.SubscribeAsync(topic, index, metrics, cancellationToken));
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            metrics.Error("connect failed: " + Describe(error));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Writes at the configured rate (or as fast as the in-flight cap allows), round-robin over the topics.</summary>
    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        using var inFlight = new SemaphoreSlim(options.InFlight);
        var started = Stopwatch.GetTimestamp();
        var pending = new List<Task>();
        long sent = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var due = options.Rate == 0 ? long.MaxValue : (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * options.Rate);
                while (sent < due && !cancellationToken.IsCancellationRequested)
                {
                    await inFlight.WaitAsync(cancellationToken);
                    var topic = plan.PublishTopics[(int)(sent % plan.PublishTopics.Count)];
                    sent++;
                    pending.Add(PublishOnceAsync(topic, inFlight));
                    if (pending.Count > 4096)
                    {
                        pending.RemoveAll(t => t.IsCompleted);
                    }
                }

                await Task.Delay(2, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The window ended.
        }

        await Task.WhenAll(pending);
    }

    private async Task PublishOnceAsync(string topic, SemaphoreSlim inFlight)
    {
        try
        {
            var ticks = DateTime.UtcNow.Ticks;
            metrics.Published(ticks);
            var started = Stopwatch.GetTimestamp();
            await target.PublishAsync(topic, Payload.Create(ticks, options.PayloadBytes), CancellationToken.None);
            metrics.Acknowledged(Stopwatch.GetElapsedTime(started));
        }
        catch (Exception error)
        {
            metrics.Error("write failed: " + Describe(error));
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task LoopAsync(int index, Func<int, Task> once, CancellationToken cancellationToken)
    {
        var round = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await once(index + (round++ * 7919));
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested)
            {
                metrics.Error(Describe(error));
            }
        }
    }

    private async Task RequestOnceAsync(int index)
    {
        var started = Stopwatch.GetTimestamp();
        await target.RequestAsync(index, CancellationToken.None);
        metrics.Requested(Stopwatch.GetElapsedTime(started));
    }

    private async Task ChurnOnceAsync(int index)
    {
        var subscriber = await target.SubscribeAsync($"churn-{index % Math.Max(1, options.Objects)}", index, metrics, CancellationToken.None);
        await subscriber.DisposeAsync();
    }

    private static string Describe(Exception error) => error switch
    {
        HttpRequestException { StatusCode: { } status } => $"HTTP {(int)status}",
        HttpRequestException => "HTTP connection",
        System.Net.WebSockets.WebSocketException => "WebSocket",
        TimeoutException or TaskCanceledException => "timeout",
        OrleansVault.Client.VaultClientException vault => vault.Code,
        _ => error.GetType().Name,
    };
}
