namespace OrleansVault.Gateway.Native;

/// <summary>Log messages of the native door (event ids 3750-3759; the demo has 3700-3709). Never a token, secret or value.</summary>
public static partial class NativeLog
{
    [LoggerMessage(EventId = 3751, Level = LogLevel.Debug, Message = "Hub connection {ConnectionId} opened for key {KeyId} in project {ProjectId}")]
    public static partial void Connected(ILogger logger, string connectionId, string projectId, string keyId);

    [LoggerMessage(EventId = 3752, Level = LogLevel.Information, Message = "Hub connection {ConnectionId} dropped: {Code}")]
    public static partial void Disconnected(ILogger logger, string connectionId, string code);
}
