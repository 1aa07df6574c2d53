using Microsoft.Extensions.Logging;

namespace OrleansVault.Client;

/// <summary>The client's log messages (never a token, secret or value).</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Connection to the gateway lost ({Reason}); reconnecting")]
    public static partial void Reconnecting(ILogger logger, string? reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Reconnected; restoring {Count} open objects")]
    public static partial void Reconnected(ILogger logger, int count);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Connection to the gateway closed ({Reason})")]
    public static partial void Closed(ILogger logger, string? reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Object {Handle}: restoring after a reconnect failed ({Code}); retrying")]
    public static partial void RestoreFailed(ILogger logger, string handle, string code);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Object {Handle}: its event stream ended ({Code}); resubscribing")]
    public static partial void StreamEnded(ILogger logger, string handle, string code);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "Object {Handle}: restoring after a reconnect failed for good ({Code}); the object is closed")]
    public static partial void RestoreAbandoned(ILogger logger, string handle, string code);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Object {Handle}: joining presence again failed for good ({Code}); its events go on without the presence entry")]
    public static partial void RejoinAbandoned(ILogger logger, string handle, string code);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Object {Handle}: an event handler threw {ErrorType}")]
    public static partial void HandlerFailed(ILogger logger, string handle, string errorType);
}
