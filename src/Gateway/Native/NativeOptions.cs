namespace OrleansVault.Gateway.Native;

/// <summary>The native SignalR door (<c>Vault:Hub</c>).</summary>
public sealed class NativeOptions
{
    public const string Section = "Vault:Hub";

    /// <summary>Events waiting to be written to one connection (all its subscriptions) before it is disconnected as too slow.</summary>
    public int MaxQueuedEvents { get; set; } = 10_000;

    /// <summary>
    /// Hub calls one connection may make per second (0: unlimited); a key's own rate (admin API) replaces it. Higher than
    /// the Vaultrice door's frame rate, because every native write goes over the connection (there is no HTTP side).
    /// </summary>
    public double CallsPerSecond { get; set; } = 1_000;

    /// <summary>Calls a connection may save up for a burst.</summary>
    public double CallBurst { get; set; } = 2_000;

    /// <summary>
    /// Calls of one connection the hub runs at the same time (SignalR runs them one by one otherwise, so a backend writing
    /// through one connection would wait for each storage commit in turn). Await a call before the next when order matters.
    /// </summary>
    public int MaxParallelCallsPerConnection { get; set; } = 32;

    /// <summary>Objects one connection may hold open at once.</summary>
    public int MaxObjectsPerConnection { get; set; } = 1_000;

    /// <summary>How often the server pings an idle connection.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A connection that sends nothing (not even a ping) for this long is dropped; clients ping every 15 s.</summary>
    public TimeSpan ClientTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a dropped connection has to take its close message (after its backlog) before it is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether errors the door does not know (bugs) show their text to clients; never in production.</summary>
    public bool DetailedErrors { get; set; }
}
