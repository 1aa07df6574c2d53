using System.Threading.Channels;

namespace OrleansVault.Hosting.Persistence;

/// <summary>
/// One queued change to a stored grain state: an upsert carrying the ETag it expects (null for a new row) or, without
/// a payload, a delete. Its task says, once the change is durable, whether the ETag still matched.
/// </summary>
public sealed record PendingWrite(string StateName, string GrainId, byte[]? Payload, long? CurrentEtag)
{
    public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Group commit for grain storage: writes from any number of grains queue here, and each writer loop takes every write
/// waiting at that moment (up to a bound) and hands them to one commit. A database pays its round trip and its flush
/// once per commit instead of once per write, while each write still completes only after its commit is durable
/// (persist-before-acknowledge holds). A failed commit fails exactly the writes in it.
/// </summary>
/// <remarks>
/// One grain never has two writes queued at once (Orleans awaits a state write before the next), so several writer
/// loops cannot reorder the writes of one grain.
/// </remarks>
internal sealed class GroupCommitQueue : IAsyncDisposable, IDisposable
{
    private readonly Channel<PendingWrite> _writes;
    private readonly int _maxWritesPerCommit;
    private readonly int _writers;
    private readonly Func<IReadOnlyList<PendingWrite>, Task<bool[]>> _commit;
    private readonly Action<Exception, int> _failed;
    private readonly string _owner;
    private readonly Lazy<Task> _loops;

    /// <param name="owner">Named in the error a write queued after shut-down gets.</param>
    /// <param name="maxWritesPerCommit">The most writes one commit takes.</param>
    /// <param name="writers">How many commits may run at once.</param>
    /// <param name="commit">Stores a batch in one transaction; returns, per write, whether its ETag matched.</param>
    /// <param name="failed">Told of a commit that threw (the error and the batch size) before its writes fail.</param>
    public GroupCommitQueue(string owner, int maxWritesPerCommit, int writers, Func<IReadOnlyList<PendingWrite>, Task<bool[]>> commit, Action<Exception, int> failed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWritesPerCommit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(writers, 1);
        _owner = owner;
        _maxWritesPerCommit = maxWritesPerCommit;
        _writers = writers;
        _commit = commit;
        _failed = failed;
        _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = writers == 1 });
        _loops = new Lazy<Task>(() => Task.WhenAll(Enumerable.Range(0, _writers).Select(_ => Task.Run(RunWriterAsync))), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Queues a write; completes with true when it was stored, false when its ETag no longer matched.</summary>
    public Task<bool> SubmitAsync(PendingWrite write)
    {
        _ = _loops.Value;
        if (!_writes.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(_owner, "The storage is shutting down.");
        }

        return write.Done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        if (_loops.IsValueCreated)
        {
            await _loops.Value;
        }
    }

    /// <summary>Writes already queued are still committed: the writers drain the queue before they stop.</summary>
    public void Dispose() => _writes.Writer.TryComplete();

    private async Task RunWriterAsync()
    {
        var batch = new List<PendingWrite>(Math.Min(_maxWritesPerCommit, 1024));
        while (await _writes.Reader.WaitToReadAsync())
        {
            while (batch.Count < _maxWritesPerCommit && _writes.Reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (batch.Count == 0)
            {
                // Another writer took what woke this one.
                continue;
            }

            try
            {
                var applied = await _commit(batch);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(applied[i]);
                }
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // Nothing of this batch is stored: every write in it fails.
                _failed(error, batch.Count);
                foreach (var write in batch)
                {
                    write.Done.TrySetException(error);
                }
            }

            batch.Clear();
        }
    }
}
