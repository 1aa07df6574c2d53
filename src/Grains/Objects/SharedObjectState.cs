using OrleansVault.Objects;

namespace OrleansVault.Grains.Objects;

/// <summary>The persisted state of a shared object.</summary>
[GenerateSerializer]
[Alias("ov.SharedObjectState")]
public sealed class SharedObjectState
{
    [Id(0)]
    public Dictionary<string, ItemView> Items { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Changes whenever history is lost, so a cursor from another epoch never resumes.</summary>
    [Id(1)]
    public long Epoch { get; set; }

    [Id(2)]
    public long Sequence { get; set; }

    /// <summary>The newest events, oldest first, bounded by <see cref="SharedObjectOptions.HistoryLength"/>; stored only by the sealing write (empty otherwise).</summary>
    [Id(3)]
    public List<ObjectEvent> History { get; set; } = [];

    /// <summary>End-to-end encryption settings, oldest first; the last one is current.</summary>
    [Id(4)]
    public List<EncryptionSettings> Encryption { get; set; } = [];

    /// <summary>
    /// True only when stored by a clean deactivation: then <see cref="Sequence"/> and <see cref="History"/> are complete.
    /// Messages and presence events are numbered without a write of their own, so after a crash the stored sequence may
    /// be behind what subscribers saw; an unsealed state therefore starts a new epoch.
    /// </summary>
    [Id(5)]
    public bool Sealed { get; set; }
}

/// <summary>Tuning of shared object grains, bound from <c>Vault:Objects</c>.</summary>
public sealed class SharedObjectOptions
{
    public const string Section = "Vault:Objects";

    /// <summary>How many events each object keeps for resume.</summary>
    public int HistoryLength { get; set; } = 256;

    /// <summary>How many bytes of values and payloads the history may hold; older events go first. It is held in memory while the object is active and stored when it deactivates.</summary>
    public int HistoryMaxBytes { get; set; } = 128 * 1024;

    /// <summary>How long a closed connection can be resumed.</summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often an active object purges expired items and stale connections.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most shared objects with stored state one project may have.</summary>
    public long MaxObjectsPerProject { get; set; } = 1_000_000;

    /// <summary>The most characters of keys and JSON values an object's live items may hold together.</summary>
    public long MaxObjectBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>How long a gateway feed stays subscribed without renewing; gateways renew well within it.</summary>
    public TimeSpan FeedLease { get; set; } = TimeSpan.FromMinutes(2);

    public const string StorageName = "VaultStore";
}
