namespace OrleansVault.Baselines.PlainWebSockets;

/// <summary>The sockets subscribed to one topic.</summary>
internal sealed class Topic(string name)
{
    private readonly Lock _lock = new();
    private readonly HashSet<TopicSubscriber> _members = [];

    // Rebuilt lazily by the first broadcast after a change: joins during a ramp-up cost O(1)
    // instead of copying the array each time, and steady-state broadcasts read it lock-free.
    private TopicSubscriber[]? _snapshot;
    private bool _closed;

    public string Name { get; } = name;

    /// <summary>Adds a member; false when the topic has already emptied and been closed.</summary>
    public bool TryAdd(TopicSubscriber subscriber)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            _members.Add(subscriber);
            _snapshot = null;
            return true;
        }
    }

    /// <summary>Removes a member; true when that left the topic empty, which closes it for good.</summary>
    public bool RemoveAndCloseIfEmpty(TopicSubscriber subscriber)
    {
        lock (_lock)
        {
            if (!_members.Remove(subscriber))
            {
                return false;
            }

            _snapshot = null;
            _closed = _members.Count == 0;
            return _closed;
        }
    }

    /// <summary>The current members; the array is shared and must not be modified.</summary>
    public TopicSubscriber[] Members()
    {
        TopicSubscriber[]? snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null)
        {
            return snapshot;
        }

        lock (_lock)
        {
            snapshot = _snapshot ?? [.. _members];
            Volatile.Write(ref _snapshot, snapshot);
            return snapshot;
        }
    }
}
