using System.Buffers;
using System.IO.Pipelines;

namespace OrleansVault.Baselines.Http;

/// <summary>Reads a whole request body, refusing bodies larger than <see cref="MaxPayloadBytes"/>.</summary>
internal static class BoundedRequestBody
{
    /// <summary>The largest payload either baseline accepts, over HTTP or from a client.</summary>
    public const int MaxPayloadBytes = 1024 * 1024;

    /// <summary>
    /// Returns the body turned into a value by <paramref name="materialize"/>, or null when it is too large.
    /// The body is materialized straight from the pipe's buffers, so it is copied exactly once.
    /// </summary>
    public static async Task<T?> ReadAsync<T>(
        HttpRequest request, Func<ReadOnlySequence<byte>, T> materialize, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength > MaxPayloadBytes)
        {
            return null;
        }

        PipeReader reader = request.BodyReader;
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length > MaxPayloadBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                T value = materialize(buffer);
                reader.AdvanceTo(buffer.End);
                return value;
            }

            // Consume nothing so the next read returns the whole body so far.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
