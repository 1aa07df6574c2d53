using OrleansVault.LoadTest.Metrics;

namespace OrleansVault.LoadTest.Targets;

/// <summary>One front door spoken exactly as its clients speak it.</summary>
public interface ILoadTarget : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Whatever the door needs once (a token).</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>Opens one subscriber of <paramref name="topic"/>; completes once it will receive events, which it records in <paramref name="metrics"/>.</summary>
    Task<IAsyncDisposable> SubscribeAsync(string topic, int index, LoadMetrics metrics, CancellationToken cancellationToken);

    /// <summary>One write that every subscriber of <paramref name="topic"/> receives; completes when the server acknowledged it.</summary>
    Task PublishAsync(string topic, string payload, CancellationToken cancellationToken);

    /// <summary>One request/response round trip (the http scenario).</summary>
    Task RequestAsync(int index, CancellationToken cancellationToken);
}
