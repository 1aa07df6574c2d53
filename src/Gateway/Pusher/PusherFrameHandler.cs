using System.Text;
using Microsoft.Extensions.Options;
using OrleansVault.Channels;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Limits;
using OrleansVault.Gateway.Pusher.Protocol;

namespace OrleansVault.Gateway.Pusher;

/// <summary>
/// What a Pusher socket's frames do: ping, subscribe/unsubscribe (with Pusher's channel authorization), sign-in and
/// client events. Errors follow WIRE.md 2: a channel's error is a <c>pusher:subscription_error</c> naming it, others a
/// <c>pusher:error</c>; the connection stays open and consistent.
/// </summary>
public sealed class PusherFrameHandler(
    ChannelFeeds feeds,
    ChannelReferences channels,
    IOptions<PusherSocketOptions> options,
    ILogger<PusherFrameHandler> logger)
{
    public async Task HandleAsync(PusherConnection connection, ReadOnlyMemory<byte> utf8)
    {
        var frame = PusherFrames.Parse(utf8.Span);
        if (frame is null)
        {
            connection.Send(PusherFrames.Error(null, "Malformed frame: expected a JSON object with a string \"event\""));
            return;
        }

        try
        {
            switch (frame.Event)
            {
                case "pusher:ping":
                    connection.Send(PusherFrames.Pong());
                    break;
                case "pusher:pong":
                    break;
                case "pusher:subscribe":
                    await SubscribeAsync(connection, frame);
                    break;
                case "pusher:unsubscribe":
                    await UnsubscribeAsync(connection, frame);
                    break;
                case "pusher:signin":
                    await SignInAsync(connection, frame);
                    break;
                case var name when name.StartsWith("client-", StringComparison.Ordinal):
                    await ClientEventAsync(connection, frame);
                    break;
                default:
                    connection.Send(PusherFrames.Error(null, "Unsupported event"));
                    break;
            }
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The cluster did not answer: say so, keep the socket; the client may retry.
            GatewayLog.ClusterUnavailable(logger, error.GetType().Name);
            connection.Send(frame.Channel is { } channel && frame.Event == "pusher:subscribe"
                ? PusherFrames.SubscriptionError(channel, "ServiceUnavailable", "The service could not complete the request; retry", 503)
                : PusherFrames.Error(null, "The service could not complete the request; retry"));
        }
    }

    /// <summary>Leaves every channel of a closed socket.</summary>
    public async Task DisconnectAsync(PusherConnection connection)
    {
        foreach (var (_, feed) in connection.Subscriptions)
        {
            await feed.RemoveAsync(connection);
        }

        connection.Subscriptions.Clear();
    }

    private async Task SubscribeAsync(PusherConnection connection, PusherIncomingFrame frame)
    {
        var data = PusherFrames.DataObject(frame);
        var channel = data is { } d ? PusherFrames.StringProperty(d, "channel") : null;
        if (channel is null)
        {
            connection.Send(PusherFrames.Error(null, "pusher:subscribe needs data.channel"));
            return;
        }

        if (!PusherChannelName.IsValid(channel))
        {
            connection.Send(PusherFrames.SubscriptionError(
                channel, "InvalidChannel", $"Channel names are 1-{PusherChannelName.MaxLength} of A-Z a-z 0-9 _ - = @ , . ;", 400));
            return;
        }

        if (connection.Subscriptions.ContainsKey(channel))
        {
            if (PusherChannelName.KindOf(channel) == PusherChannelKind.User && connection.Subscriptions[channel] is { } userFeed)
            {
                // pusher-js subscribes its user channel after sign-in: the socket is on it already, now it listens.
                userFeed.Activate(connection);
                connection.Send(PusherFrames.SubscriptionSucceeded(channel, null));
                return;
            }

            connection.Send(PusherFrames.Error(null, $"Existing subscription to channel {channel}"));
            return;
        }

        if (PusherChannelName.KindOf(channel) == PusherChannelKind.User)
        {
            // Only the signed-in user's own channel, and that one is set up by the sign-in.
            connection.Send(PusherFrames.SubscriptionError(channel, "AuthError", "Sign in as this user to subscribe to its channel", 401));
            return;
        }

        if (connection.Subscriptions.Count >= options.Value.MaxChannelsPerConnection)
        {
            connection.Send(PusherFrames.SubscriptionError(channel, "LimitReached", $"A connection may subscribe to at most {options.Value.MaxChannelsPerConnection} channels", 403));
            return;
        }

        var kind = PusherChannelName.KindOf(channel);
        ChannelMember? member = null;
        if (PusherChannelName.NeedsAuthorization(kind))
        {
            var auth = PusherFrames.StringProperty(data!.Value, "auth");
            var channelData = PusherFrames.StringProperty(data.Value, "channel_data");
            if (kind == PusherChannelKind.Presence)
            {
                if (channelData is null && connection.UserId is { } signedIn)
                {
                    // WIRE.md 2: a presence subscription without channel_data uses the signed-in user.
                    member = new ChannelMember(signedIn, null);
                }
                else if (channelData is null)
                {
                    connection.Send(PusherFrames.SubscriptionError(channel, "AuthError", "Presence channels need channel_data (or a signed-in user)", 401));
                    return;
                }
                else
                {
                    member = PusherUserData.ParseChannelData(channelData, options.Value.MaxUserInfoBytes, out var problem);
                    if (member is null)
                    {
                        connection.Send(PusherFrames.SubscriptionError(channel, "AuthError", $"Invalid channel_data: {problem}", 400));
                        return;
                    }
                }
            }

            var toSign = PusherSignatures.ChannelAuthString(connection.SocketId, channel, kind == PusherChannelKind.Presence ? channelData : null);
            if (!PusherSignatures.VerifyAuth(auth, connection.App.Key, connection.App.Secret, toSign))
            {
                connection.Send(PusherFrames.SubscriptionError(channel, "AuthError", $"Invalid signature for {connection.SocketId}:{channel}", 401));
                return;
            }
        }

        var (feed, result) = await feeds.SubscribeAsync(connection.App.AppId, channel, connection, new ChannelSubscription(connection.SocketId, member));
        if (feed is null)
        {
            connection.Send(PusherFrames.SubscriptionError(channel, "LimitReached", result.Refusal ?? "Subscription refused", 403));
            return;
        }

        if (!connection.Subscriptions.TryAdd(channel, feed))
        {
            // A second subscribe raced this one: keep the first.
            await feed.RemoveAsync(connection);
            return;
        }

        if (kind is PusherChannelKind.Private or PusherChannelKind.Presence or PusherChannelKind.PrivateEncrypted)
        {
            connection.Authorized = true;
        }

        var first = new List<byte[]>
        {
            PusherFrames.SubscriptionSucceeded(
                channel,
                result.Members is { } members ? [.. members] : null),
        };
        if (PusherChannelName.IsCache(channel))
        {
            first.Add(result.Cached is { } cached
                ? cached.DataIsJson ? PusherFrames.RawEvent(cached.Name, channel, cached.Data) : PusherFrames.Event(cached.Name, channel, cached.Data)
                : PusherFrames.CacheMiss(channel));
        }

        connection.Release(channel, first);
    }

    private async Task UnsubscribeAsync(PusherConnection connection, PusherIncomingFrame frame)
    {
        var channel = PusherFrames.DataObject(frame) is { } data ? PusherFrames.StringProperty(data, "channel") : null;
        if (channel is null)
        {
            connection.Send(PusherFrames.Error(null, "pusher:unsubscribe needs data.channel"));
            return;
        }

        // The user channel stays: it belongs to the sign-in, not to the subscription. A repeated unsubscribe does nothing.
        if (PusherChannelName.KindOf(channel) != PusherChannelKind.User && connection.Subscriptions.TryRemove(channel, out var feed))
        {
            await feed.RemoveAsync(connection);
        }
    }

    private async Task SignInAsync(PusherConnection connection, PusherIncomingFrame frame)
    {
        var data = PusherFrames.DataObject(frame);
        var auth = data is { } d ? PusherFrames.StringProperty(d, "auth") : null;
        var userData = data is { } d2 ? PusherFrames.StringProperty(d2, "user_data") : null;
        if (auth is null || userData is null)
        {
            connection.Send(PusherFrames.Error(4009, "pusher:signin needs data.auth and data.user_data"));
            return;
        }

        if (connection.UserId is not null)
        {
            connection.Send(PusherFrames.Error(null, "This connection is already signed in"));
            return;
        }

        if (!PusherSignatures.VerifyAuth(auth, connection.App.Key, connection.App.Secret, PusherSignatures.SignInString(connection.SocketId, userData)))
        {
            connection.Send(PusherFrames.Error(4009, "Invalid signature for the sign-in"));
            return;
        }

        var userId = PusherUserData.ParseSignInUserId(userData, out var problem);
        if (userId is null)
        {
            connection.Send(PusherFrames.Error(4009, $"Invalid user_data: {problem}"));
            return;
        }

        // The socket joins its user's channel at once (terminate_connections reaches it); events flow once pusher-js subscribes.
        var channel = PusherChannelName.UserChannel(userId);
        var (feed, _) = await feeds.SubscribeAsync(connection.App.AppId, channel, connection, new ChannelSubscription(connection.SocketId, null, Passive: true));
        connection.UserId = userId;
        connection.Authorized = true;
        if (feed is not null && connection.Subscriptions.TryAdd(channel, feed))
        {
            connection.Release(channel, [PusherFrames.SignInSuccess(userData)]);
        }
        else
        {
            connection.Send(PusherFrames.SignInSuccess(userData));
        }
    }

    private async Task ClientEventAsync(PusherConnection connection, PusherIncomingFrame frame)
    {
        var channel = frame.Channel;
        var settings = options.Value;
        if (!connection.App.ClientEvents)
        {
            connection.Send(PusherFrames.Error(null, "To send client events, you must enable this feature in the Settings page of your dashboard."));
            return;
        }

        if (channel is null || !connection.Subscriptions.TryGetValue(channel, out var feed))
        {
            connection.Send(PusherFrames.Error(null, "Client event rejected - you must be subscribed to the channel"));
            return;
        }

        var kind = PusherChannelName.KindOf(channel);
        if (kind == PusherChannelKind.PrivateEncrypted)
        {
            connection.Send(PusherFrames.Error(null, "Client event rejected - client events are not supported on encrypted channels"));
            return;
        }

        if (kind is not (PusherChannelKind.Private or PusherChannelKind.Presence))
        {
            connection.Send(PusherFrames.Error(null, "Client event rejected - only supported on private and presence channels"));
            return;
        }

        if (frame.Event.Length > settings.MaxEventNameLength)
        {
            connection.Send(PusherFrames.Error(null, $"Client event rejected - event names are at most {settings.MaxEventNameLength} characters"));
            return;
        }

        var dataJson = frame.DataJson ?? "null";
        if (Encoding.UTF8.GetByteCount(dataJson) > settings.MaxEventBytes)
        {
            connection.Send(PusherFrames.Error(null, $"Client event rejected - data larger than {settings.MaxEventBytes} bytes"));
            return;
        }

        connection.ClientEventRate ??= new RateBucket(settings.ClientEventsPerSecond, settings.ClientEventsPerSecond, connection.Time);
        if (!connection.ClientEventRate.TryTake())
        {
            connection.Send(PusherFrames.Error(4301, "Client event rejected due to rate limit"));
            return;
        }

        await channels.Get(feed.GrainKey).Publish(
            new ChannelPublish(frame.Event, dataJson, DataIsJson: true, ExcludedSocketId: connection.SocketId, UserId: null, FromClient: true));
    }
}
