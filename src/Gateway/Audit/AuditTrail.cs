using System.Threading.Channels;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Projects;

namespace OrleansVault.Gateway.Audit;

/// <summary>
/// The gateway's side of the audit log: records events without waiting (a refusal under attack must not cost a
/// storage write each) and hands them to each project's audit grain in batches. Bounded: past
/// <see cref="MaxPending"/> waiting events new ones are dropped and counted in the log.
/// </summary>
public sealed class AuditTrail(IGrainFactory grains, TimeProvider time, ILogger<AuditTrail> logger) : BackgroundService
{
    public const int MaxPending = 100_000;
    private readonly Channel<AuditEvent> _pending = Channel.CreateBounded<AuditEvent>(new BoundedChannelOptions(MaxPending)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    // Held while events taken from the queue are being written, so a flush also waits for a batch already in flight.
    private readonly SemaphoreSlim _writing = new(1, 1);
    private long _dropped;

    public void Record(string projectId, string? keyId, string action, string outcome, string? remoteAddress, string? detail = null)
    {
        var e = new AuditEvent(time.GetUtcNow().ToUnixTimeMilliseconds(), projectId, keyId, action, outcome, remoteAddress, detail);
        if (!_pending.Writer.TryWrite(e))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Writes everything recorded so far (tests and shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            var batch = new List<AuditEvent>();
            while (_pending.Reader.TryRead(out var e))
            {
                batch.Add(e);
            }

            await WriteAsync(batch, cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditEvent>();
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                await _writing.WaitAsync(stoppingToken);
                try
                {
                    while (batch.Count < 1000 && _pending.Reader.TryRead(out var e))
                    {
                        batch.Add(e);
                    }

                    await WriteAsync(batch, stoppingToken);
                    batch.Clear();
                }
                finally
                {
                    _writing.Release();
                }

                if (Interlocked.Exchange(ref _dropped, 0) is > 0 and var dropped)
                {
                    GatewayLog.AuditDropped(logger, dropped);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync flushes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    private async Task WriteAsync(List<AuditEvent> batch, CancellationToken cancellationToken)
    {
        foreach (var group in batch.GroupBy(e => e.ProjectId, StringComparer.Ordinal))
        {
            try
            {
                await grains.GetGrain<IAuditGrain>(group.Key).Append([.. group]).WaitAsync(cancellationToken);
            }
            catch (Exception error) when (error is not OperationCanceledException and not OutOfMemoryException)
            {
                GatewayLog.AuditWriteFailed(logger, group.Key, group.Count(), error.GetType().Name);
            }
        }
    }
}
