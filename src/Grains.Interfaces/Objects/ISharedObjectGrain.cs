namespace OrleansVault.Objects;

/// <summary>One shared object: its items, presence, connections and event history. Key: <see cref="ObjectAddress.GrainKey"/>.</summary>
[Alias("ov.ISharedObjectGrain")]
public interface ISharedObjectGrain : IGrainWithStringKey
{
    [Alias("GetItem")]
    Task<ItemView?> GetItem(string key);

    [Alias("GetItems")]
    Task<IReadOnlyDictionary<string, ItemView>> GetItems(IReadOnlyList<string> keys);

    [Alias("GetAll")]
    Task<IReadOnlyDictionary<string, ItemView>> GetAll(string? prefix);

    [Alias("GetKeys")]
    Task<IReadOnlyList<string>> GetKeys(string? prefix);

    /// <summary>Sets one item; null when <c>ifAbsent</c> found an existing item (nothing written).</summary>
    [Alias("SetItem")]
    Task<ItemView?> SetItem(SetItemCommand command);

    [Alias("SetItems")]
    Task<IReadOnlyDictionary<string, ItemView>> SetItems(IReadOnlyList<SetItemCommand> commands);

    [Alias("Apply")]
    Task<ItemView> Apply(AtomicCommand command);

    /// <summary>Removes the named keys; one removeItem event per name, existing or not.</summary>
    [Alias("RemoveItems")]
    Task RemoveItems(IReadOnlyList<string> keys);

    /// <summary>Removes every item; one removeItem event per existing key.</summary>
    [Alias("Clear")]
    Task Clear();

    [Alias("SendMessage")]
    Task SendMessage(MessageCommand command);

    [Alias("GetPresence")]
    Task<IReadOnlyList<PresenceEntry>> GetPresence();

    /// <summary>
    /// A socket opened. <paramref name="owner"/> names who may resume it later (the API key, or the user a token was minted for):
    /// connection ids are public (presence shows them to everyone), so they alone never prove who resumes.
    /// </summary>
    /// <remarks><paramref name="feed"/> is the gateway feed relaying the socket: if that gateway dies (its feed lease lapses)
    /// the connection leaves presence and is detached, so no member outlives its gateway by more than the lease.</remarks>
    [Alias("Attach")]
    Task<AttachResult> Attach(string connectionId, string owner, IObjectFeedObserver? feed = null);

    /// <summary>Joins presence; <paramref name="verifiedUserId"/> is set only when the gateway verified the user's identity (WIRE 1.7).</summary>
    [Alias("Join")]
    Task Join(string connectionId, string dataJson, int? keyVersion, string? verifiedUserId = null);

    [Alias("Leave")]
    Task Leave(string connectionId);

    /// <summary>A socket closed: leave presence and keep its cursor for a while so it can resume.</summary>
    [Alias("Detach")]
    /// <remarks>With <paramref name="feed"/>, only a connection still attached through that gateway feed is detached
    /// (one taken over through another gateway stays).</remarks>
    Task Detach(string connectionId, long lastDeliveredSequence, IObjectFeedObserver? feed = null);

    /// <summary>
    /// Moves the detached connection <paramref name="oldConnectionId"/>, if <paramref name="owner"/> owns it, onto the live
    /// connection <paramref name="newConnectionId"/> and returns the events after its cursor, up to <paramref name="upToSequence"/>.
    /// </summary>
    [Alias("Resume")]
    Task<ResumeResult> Resume(string oldConnectionId, string newConnectionId, string owner, long upToSequence);

    /// <summary>
    /// Registers or renews a gateway's feed: it receives every batch published from now on until it unsubscribes or
    /// stops renewing within the lease. Returns the numbering so far, so the feed can repair a gap from history.
    /// </summary>
    /// <remarks><paramref name="deliveredUpTo"/>: the sequence every socket of this gateway has been sent (the cursor of its
    /// connections if the gateway dies before they close). <paramref name="hub"/>: the gateway's receiver of batched
    /// pushes; when given, the object's batches for this feed travel through it (with other objects' batches for the same
    /// gateway), otherwise each batch is a call to <paramref name="feed"/>.</remarks>
    [Alias("Subscribe")]
    Task<FeedPosition> Subscribe(IObjectFeedObserver feed, long deliveredUpTo = 0, IFeedHubObserver? hub = null);

    /// <summary>
    /// Re-registers the connections of a feed this object did not know (<see cref="FeedPosition.WasSubscribed"/> false):
    /// attaches them and restores their presence. Presence joins are announced only when this object had dropped the feed
    /// for a lapsed lease (everyone was told they left); after a reactivation the other clients still list them.
    /// </summary>
    [Alias("RestoreFeed")]
    Task RestoreFeed(IObjectFeedObserver feed, IReadOnlyList<ConnectionRestore> connections);

    [Alias("Unsubscribe")]
    Task Unsubscribe(IObjectFeedObserver feed);

    [Alias("GetEventsAfter")]
    Task<IReadOnlyList<ObjectEvent>?> GetEventsAfter(long sequence);

    /// <summary>
    /// The events after <paramref name="sequence"/> of <paramref name="epoch"/>; null when the object is in another epoch
    /// (its numbering started again) or its history no longer covers them.
    /// </summary>
    [Alias("GetEventsInEpochAfter")]
    Task<IReadOnlyList<ObjectEvent>?> GetEventsInEpochAfter(long epoch, long sequence);

    [Alias("GetEncryptionSettings")]
    Task<EncryptionSettingsInfo> GetEncryptionSettings(int saltLength);

    [Alias("RotateEncryption")]
    Task<EncryptionSettingsInfo> RotateEncryption(int saltLength);
}
