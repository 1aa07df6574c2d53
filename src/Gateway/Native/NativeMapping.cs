using OrleansVault.Objects;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>Turns grain results into the native door's wire types.</summary>
public static class NativeMapping
{
    public static ItemData ToItem(ItemView item) => new(item.ValueJson, item.CreatedAt, item.UpdatedAt, item.ExpiresAt, item.KeyVersion);

    public static Dictionary<string, ItemData> ToItems(IReadOnlyDictionary<string, ItemView> items) =>
        items.ToDictionary(p => p.Key, p => ToItem(p.Value), StringComparer.Ordinal);

    public static MemberData ToMember(PresenceEntry entry) => new(entry.ConnectionId, entry.JoinedAt, entry.DataJson, entry.KeyVersion, entry.VerifiedUserId);

    public static EncryptionData ToEncryption(EncryptionSettingsInfo info) =>
        new(ToKey(info.Current), [.. info.Previous.Select(ToKey)]);

    public static ObjectEventData ToEvent(long epoch, ObjectEvent e) => new(
        epoch,
        e.Sequence,
        e.Kind switch
        {
            ObjectEventKind.SetItem => EventKind.SetItem,
            ObjectEventKind.RemoveItem => EventKind.RemoveItem,
            ObjectEventKind.Message => EventKind.Message,
            ObjectEventKind.PresenceJoin => EventKind.PresenceJoin,
            _ => EventKind.PresenceLeave,
        },
        e.Key,
        e.Item is { } item ? ToItem(item) : null,
        e.PayloadJson,
        e.KeyVersion,
        e.ConnectionId,
        e.JoinedAt,
        e.VerifiedUserId);

    /// <summary>Tells a subscriber to read the state again; events after <paramref name="sequence"/> follow.</summary>
    public static ObjectEventData Refetch(long epoch, long sequence) => new(epoch, sequence, EventKind.Refetch);

    private static EncryptionKeyData ToKey(EncryptionSettings settings) => new(settings.Salt, settings.KeyVersion, settings.CreatedAt);
}
