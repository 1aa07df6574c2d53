using System.Collections.Concurrent;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Grains;

/// <summary>A gateway feed stand-in that records every event an object pushes to it.</summary>
public sealed class RecordingObjectFeed : IObjectFeedObserver
{
    public ConcurrentQueue<ObjectEvent> Events { get; } = new();

    public Task OnEvents(ObjectEventBatch batch)
    {
        foreach (var e in batch.Events)
        {
            Events.Enqueue(e);
        }

        return Task.CompletedTask;
    }
}
