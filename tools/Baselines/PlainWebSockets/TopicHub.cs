using System.Collections.Concurrent;
using OrleansVault.Baselines.Diagnostics;

namespace OrleansVault.Baselines.PlainWebSockets;

/// <summary>Topic registry and broadcaster for the plain WebSocket baseline.</summary>
internal sealed partial class TopicHub(ConnectionCounters counters, ILogger<TopicHub> logger)
{
    private readonly ConcurrentDictionary<string, Topic> _topics = new(StringComparer.Ordinal);

    public Topic Join(string name, TopicSubscriber subscriber)
    {
        while (true)
        {
            if (!_topics.TryGetValue(name, out Topic? topic))
            {
                topic = new Topic(name);
                if (!_topics.TryAdd(name, topic))
                {
                    continue;
                }

                counters.TopicCreated();
            }

            // A topic that emptied between the lookup and now is closed; retry against its successor.
            if (topic.TryAdd(subscriber))
            {
                return topic;
            }
        }
    }

    public void Leave(Topic topic, TopicSubscriber subscriber)
    {
        if (topic.RemoveAndCloseIfEmpty(subscriber)
            && _topics.TryRemove(new KeyValuePair<string, Topic>(topic.Name, topic)))
        {
            counters.TopicRemoved();
        }
    }

    /// <summary>Queues the same payload for every member of the topic except <paramref name="sender"/>.</summary>
    public void Broadcast(string name, ReadOnlyMemory<byte> payload, TopicSubscriber? sender)
    {
        if (!_topics.TryGetValue(name, out Topic? topic))
        {
            return;
        }

        foreach (TopicSubscriber member in topic.Members())
        {
            if (member != sender && !member.TryEnqueue(payload) && member.Abort())
            {
                Log.SlowSocketAborted(logger, name, TopicSubscriber.MaxQueuedFrames);
            }
        }
    }
}
