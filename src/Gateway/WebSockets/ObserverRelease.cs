namespace OrleansVault.Gateway.WebSockets;

/// <summary>
/// Deletes a feed's grain-observer reference a little after the feed closed: one-way pushes the grain sent before it
/// processed the unsubscribe may still arrive, and should reach the (now empty) feed, not a deleted reference.
/// </summary>
public static class ObserverRelease
{
    /// <summary>How long a closed feed's reference stays registered.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    public static void Later<T>(IClusterClient client, T reference)
        where T : IGrainObserver =>
        _ = Task.Delay(Grace).ContinueWith(
            _ => client.DeleteObjectReference<T>(reference),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
}
