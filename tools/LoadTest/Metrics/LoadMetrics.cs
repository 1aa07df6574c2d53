using System.Collections.Concurrent;
using HdrHistogram;

namespace OrleansVault.LoadTest.Metrics;

/// <summary>What a run counts, safe to update from every socket loop at once.</summary>
public sealed class LoadMetrics
{
    private const long HighestMicros = 120_000_000;
    private long _deliveries;
    private long _publishes;
    private long _acked;
    private long _connects;
    private long _requests;
    private long _firstPublishTicks = long.MaxValue;
    private long _lastDeliveryTicks;

    public LongConcurrentHistogram Latency { get; } = new(1, HighestMicros, 3);

    public LongConcurrentHistogram RequestLatency { get; } = new(1, HighestMicros, 3);

    /// <summary>From sending a write to its acknowledgment (for OrleansVault: stored durably).</summary>
    public LongConcurrentHistogram WriteLatency { get; } = new(1, HighestMicros, 3);

    public LongConcurrentHistogram ConnectLatency { get; } = new(1, HighestMicros, 3);

    public ConcurrentDictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

    public long Deliveries => Interlocked.Read(ref _deliveries);

    public long Publishes => Interlocked.Read(ref _publishes);

    public long Acked => Interlocked.Read(ref _acked);

    public long Connects => Interlocked.Read(ref _connects);

    public long Requests => Interlocked.Read(ref _requests);

    public long FirstPublishTicks => Interlocked.Read(ref _firstPublishTicks);

    public long LastDeliveryTicks => Interlocked.Read(ref _lastDeliveryTicks);

    public long ErrorCount => Errors.Values.Sum();

    /// <summary>A subscriber received an event stamped at <paramref name="sentTicks"/> (UTC ticks).</summary>
    public void Delivered(long sentTicks)
    {
        var now = DateTime.UtcNow.Ticks;
        Interlocked.Increment(ref _deliveries);
        Latency.RecordValue(Math.Clamp((now - sentTicks) / 10, 1, HighestMicros));
        Max(ref _lastDeliveryTicks, now);
    }

    public long Published(long stampTicks)
    {
        Min(ref _firstPublishTicks, stampTicks);
        return Interlocked.Increment(ref _publishes);
    }

    public void Acknowledged(TimeSpan took)
    {
        Interlocked.Increment(ref _acked);
        WriteLatency.RecordValue(Math.Clamp((long)took.TotalMicroseconds, 1, HighestMicros));
    }

    public void Connected(TimeSpan took)
    {
        Interlocked.Increment(ref _connects);
        ConnectLatency.RecordValue(Math.Clamp((long)took.TotalMicroseconds, 1, HighestMicros));
    }

    public void Requested(TimeSpan took)
    {
        Interlocked.Increment(ref _requests);
        RequestLatency.RecordValue(Math.Clamp((long)took.TotalMicroseconds, 1, HighestMicros));
    }

    public void Error(string kind) => Errors.AddOrUpdate(kind, 1, (_, n) => n + 1);

    /// <summary>Forgets everything counted so far (after a warm-up).</summary>
    public void Reset()
    {
        Interlocked.Exchange(ref _deliveries, 0);
        Interlocked.Exchange(ref _publishes, 0);
        Interlocked.Exchange(ref _acked, 0);
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _firstPublishTicks, long.MaxValue);
        Interlocked.Exchange(ref _lastDeliveryTicks, 0);
        Latency.Reset();
        RequestLatency.Reset();
        WriteLatency.Reset();
        Errors.Clear();
    }

    /// <summary>Adds another worker's counts (multi-process runs).</summary>
    public void Merge(WorkerCounts other)
    {
        Interlocked.Add(ref _deliveries, other.Deliveries);
        Interlocked.Add(ref _publishes, other.Publishes);
        Interlocked.Add(ref _acked, other.Acked);
        Interlocked.Add(ref _connects, other.Connects);
        Interlocked.Add(ref _requests, other.Requests);
        if (other.FirstPublishTicks != long.MaxValue)
        {
            Min(ref _firstPublishTicks, other.FirstPublishTicks);
        }

        Max(ref _lastDeliveryTicks, other.LastDeliveryTicks);
        Add(Latency, other.Latency);
        Add(RequestLatency, other.RequestLatency);
        Add(ConnectLatency, other.ConnectLatency);
        Add(WriteLatency, other.WriteLatency);
        foreach (var (kind, count) in other.Errors)
        {
            Errors.AddOrUpdate(kind, count, (_, n) => n + count);
        }
    }

    public WorkerCounts Snapshot() => new(
        Deliveries, Publishes, Acked, Connects, Requests, FirstPublishTicks, LastDeliveryTicks,
        Values(Latency), Values(RequestLatency), Values(ConnectLatency), Values(WriteLatency), new Dictionary<string, long>(Errors));

    private static long[][] Values(HistogramBase histogram) =>
        [.. histogram.RecordedValues().Select(v => new[] { v.ValueIteratedTo, v.CountAtValueIteratedTo })];

    private static void Add(HistogramBase histogram, long[][] values)
    {
        foreach (var pair in values)
        {
            histogram.RecordValueWithCount(pair[0], pair[1]);
        }
    }

    private static void Max(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static void Min(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

/// <summary>A worker process's counts, sent to the coordinator as JSON (histograms as value/count pairs, so merging is exact).</summary>
public sealed record WorkerCounts(
    long Deliveries,
    long Publishes,
    long Acked,
    long Connects,
    long Requests,
    long FirstPublishTicks,
    long LastDeliveryTicks,
    long[][] Latency,
    long[][] RequestLatency,
    long[][] ConnectLatency,
    long[][] WriteLatency,
    Dictionary<string, long> Errors);
