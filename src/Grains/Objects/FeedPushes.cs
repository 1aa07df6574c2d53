using System.Collections.Concurrent;
using Orleans.Runtime;
using OrleansVault.Objects;

namespace OrleansVault.Grains.Objects;

/// <summary>
/// The silo's outgoing pushes to gateways, one queue per gateway hub. An object hands its batch over and goes on; the
/// queue sends what has gathered as one message, and while that send is being made (or waits for a thread) the next
/// batches gather behind it. An idle silo sends each batch at once; a busy one sends one message per gateway at a time
/// instead of one per object, which is what a push costs between processes (serialization, a socket write and a
/// thread wake-up on both ends). Batches of one feed keep their order: one queue, one send at a time.
/// </summary>
public sealed class FeedPushes
{
    // Keyed by the hub reference (references to one observer are equal however often they were deserialized).
    private readonly ConcurrentDictionary<IFeedHubObserver, HubQueue> _queues = new();

    /// <summary>Hubs with a queue (a gateway that stopped has its queue dropped once it has been idle a while).</summary>
    public int Hubs => _queues.Count;

    public void Push(IFeedHubObserver hub, GrainId feed, ObjectEventBatch batch)
    {
        var push = new FeedPush(feed, batch);
        while (true)
        {
            var queue = _queues.GetOrAdd(hub, static h => new HubQueue(h));
            if (queue.TryAdd(push))
            {
                return;
            }

            // Dropped as idle between the lookup and the add: the next lookup makes a new queue.
            _queues.TryRemove(new KeyValuePair<IFeedHubObserver, HubQueue>(hub, queue));
        }
    }

    /// <summary>Drops the queues of hubs nothing was pushed to since the previous sweep (gateways that stopped or went quiet).</summary>
    public void DropIdle()
    {
        foreach (var (hub, queue) in _queues)
        {
            if (queue.TryRetireIfIdle())
            {
                _queues.TryRemove(new KeyValuePair<IFeedHubObserver, HubQueue>(hub, queue));
            }
        }
    }

    private sealed class HubQueue(IFeedHubObserver hub) : IThreadPoolWorkItem
    {
        private readonly Lock _lock = new();
        private List<FeedPush> _pending = [];
        private bool _sending;
        private bool _usedSinceSweep = true;
        private bool _retired;

        public bool TryAdd(FeedPush push)
        {
            lock (_lock)
            {
                if (_retired)
                {
                    return false;
                }

                _usedSinceSweep = true;
                _pending.Add(push);
                if (_sending)
                {
                    // The running send picks it up next.
                    return true;
                }

                _sending = true;
            }

            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            return true;
        }

        public bool TryRetireIfIdle()
        {
            lock (_lock)
            {
                if (_sending || _pending.Count > 0 || _usedSinceSweep)
                {
                    _usedSinceSweep = false;
                    return false;
                }

                _retired = true;
                return true;
            }
        }

        public void Execute()
        {
            List<FeedPush> batch;
            lock (_lock)
            {
                batch = _pending;
                _pending = [];
            }

            try
            {
                // One-way: a gateway that misses it repairs each feed's gap from the object's history.
                _ = hub.OnPushes(batch);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // Same as a lost message: the feeds repair from history at their next batch or renewal.
            }

            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _sending = false;
                    return;
                }
            }

            // More gathered during the send: another round, behind whatever else waits for a thread.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }
}
