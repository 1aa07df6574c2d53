using Orleans.Concurrency;
using Orleans.Runtime;

namespace OrleansVault.Objects;

/// <summary>What happened to a shared object.</summary>
public enum ObjectEventKind
{
    SetItem = 0,
    RemoveItem = 1,
    Message = 2,
    PresenceJoin = 3,
    PresenceLeave = 4,
}

/// <summary>
/// One event of a shared object with its sequence number. Protocol adapters render it for their door;
/// <see cref="ExcludedConnectionId"/> names the one connection that must not receive it (a socket message's sender).
/// </summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.ObjectEvent")]
public sealed record ObjectEvent(
    [property: Id(0)] long Sequence,
    [property: Id(1)] ObjectEventKind Kind,
    [property: Id(2)] string? Key,
    [property: Id(3)] ItemView? Item,
    [property: Id(4)] string? PayloadJson,
    [property: Id(5)] int? KeyVersion,
    [property: Id(6)] string? ConnectionId,
    [property: Id(7)] long JoinedAt,
    [property: Id(8)] string? ExcludedConnectionId,
    [property: Id(9)] string? VerifiedUserId = null);

/// <summary>
/// The events of one grain operation, pushed as one batch so a clear of many keys costs one call per feed.
/// <see cref="Events"/> is a fresh array nobody changes once pushed ([Immutable]: shared, not copied, in one process).
/// </summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.ObjectEventBatch")]
public sealed record ObjectEventBatch(
    [property: Id(0)] long Epoch,
    [property: Id(1)] IReadOnlyList<ObjectEvent> Events);

/// <summary>A gateway's feed of one object: the object pushes every batch of events it publishes to it, one-way.</summary>
[Alias("ov.IObjectFeedObserver")]
public interface IObjectFeedObserver : IGrainObserver
{
    [OneWay]
    [Alias("OnEvents")]
    Task OnEvents(ObjectEventBatch batch);
}

/// <summary>
/// A gateway's receiver of pushes from a silo. The silo sends every batch its objects publish to this gateway's feeds
/// while a send is pending in one message, so a busy silo sends one message per gateway at a time, not one per object.
/// </summary>
[Alias("ov.IFeedHubObserver")]
public interface IFeedHubObserver : IGrainObserver
{
    [OneWay]
    [Alias("OnPushes")]
    Task OnPushes(IReadOnlyList<FeedPush> pushes);
}

/// <summary>One object's batch of events for one feed (named by the feed's observer id) of the receiving gateway.</summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.FeedPush")]
public sealed record FeedPush(
    [property: Id(0)] GrainId Feed,
    [property: Id(1)] ObjectEventBatch Batch);

/// <summary>
/// Where an object's event numbering stands when a feed subscribes. <see cref="WasSubscribed"/> says whether the object
/// already had this feed: when it did not (it reactivated since), pushes may be missing and the feed repairs from history.
/// <see cref="EpochStart"/> is the sequence the current epoch numbers after, so a feed that finds a new epoch knows where
/// its events begin.
/// </summary>
[GenerateSerializer]
[Immutable]
[Alias("ov.FeedPosition")]
public sealed record FeedPosition(
    [property: Id(0)] long Epoch,
    [property: Id(1)] long Sequence,
    [property: Id(2)] bool WasSubscribed,
    [property: Id(3)] long EpochStart = 0);
