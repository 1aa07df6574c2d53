namespace OrleansVault.Baselines.PlainWebSockets;

internal sealed partial class TopicHub
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
            Message = "Aborted a WebSocket on topic {Topic}: its send queue of {Capacity} frames was full")]
        public static partial void SlowSocketAborted(ILogger logger, string topic, int capacity);
    }
}
