using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Scenarios;

/// <summary>What a scenario opens and drives, derived from the options; identical in every worker process.</summary>
public sealed record ScenarioPlan(
    IReadOnlyList<string> SubscriberTopics,
    IReadOnlyList<string> PublishTopics,
    int SubscribersPerPublishTopic,
    int RequestLoops,
    int ChurnLoops,
    bool Publishes)
{
    public static ScenarioPlan For(LoadOptions options, string runId)
    {
        switch (options.Scenario)
        {
            case "hold":
                return new([.. Enumerable.Range(0, options.Connections).Select(i => $"hold-{runId}-{i % Math.Max(1, options.Objects)}")], [], 0, 0, 0, false);
            case "broadcast":
                return new([.. Enumerable.Repeat($"bcast-{runId}", options.Subscribers)], [$"bcast-{runId}"], options.Subscribers, 0, 0, true);
            case "objects":
                var topics = Enumerable.Range(0, options.Objects).Select(k => $"obj-{runId}-{k}").ToList();
                return new([.. topics.SelectMany(t => Enumerable.Repeat(t, options.PerObject))], topics, options.PerObject, 0, 0, true);
            case "http":
                return new([], [], 0, options.Connections, 0, false);
            case "churn":
                return new([], [], 0, 0, options.Connections, false);
            case "mixed":
                // A broadcast object, many small objects, request/response and churn at once.
                var small = Enumerable.Range(0, options.Objects).Select(k => $"mix-{runId}-{k}").ToList();
                var broadcast = $"mixb-{runId}";
                var subscribers = Enumerable.Repeat(broadcast, options.Subscribers).Concat(small.SelectMany(t => Enumerable.Repeat(t, options.PerObject))).ToList();
                return new(subscribers, [broadcast, .. small], -1, Math.Max(1, options.Connections / 10), Math.Max(1, options.Connections / 10), true);
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Scenario, "unknown scenario");
        }
    }

    /// <summary>Deliveries the acknowledged writes owe the subscribers.</summary>
    public long ExpectedDeliveries(long acknowledgedWrites, LoadOptions options)
    {
        if (SubscribersPerPublishTopic >= 0)
        {
            return acknowledgedWrites * SubscribersPerPublishTopic;
        }

        // mixed: writes go round-robin over the broadcast object and the small ones.
        var perTopic = PublishTopics.Select((_, i) => i == 0 ? options.Subscribers : options.PerObject).ToList();
        return Enumerable.Range(0, (int)Math.Min(acknowledgedWrites, int.MaxValue)).Sum(i => (long)perTopic[i % perTopic.Count]);
    }
}
