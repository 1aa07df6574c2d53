using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace OrleansVault.Client.Encryption;

/// <summary>
/// The SDK's ciphertext text, <c>{"iv":"&lt;base64&gt;","data":"&lt;base64&gt;"}</c>: the SDK's <c>encrypt</c> writes it
/// with <c>JSON.stringify</c> and <c>btoa</c>, its <c>decrypt</c> reads it with <c>JSON.parse</c> and <c>atob</c>.
/// </summary>
internal static class SdkCiphertext
{
    // Written by hand, not with System.Text.Json: its default encoder escapes '+' as \u002B, and the text should be
    // byte-for-byte what JSON.stringify makes of the same fields.
    public static string Format(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> data) =>
        $"{{\"iv\":\"{Convert.ToBase64String(iv)}\",\"data\":\"{Convert.ToBase64String(data)}\"}}";

    public static bool TryParse(string text, [NotNullWhen(true)] out byte[]? iv, [NotNullWhen(true)] out byte[]? data)
    {
        iv = null;
        data = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("iv", out var ivText) && ivText.ValueKind == JsonValueKind.String
                && root.TryGetProperty("data", out var dataText) && dataText.ValueKind == JsonValueKind.String
                && TryDecodeBase64(ivText.GetString()!, out iv)
                && TryDecodeBase64(dataText.GetString()!, out data);
        }
    }

    /// <summary>Standard base64 read as leniently as <c>atob</c>: ASCII whitespace is skipped and padding may be left off.</summary>
    public static bool TryDecodeBase64(string text, [NotNullWhen(true)] out byte[]? bytes)
    {
        var compact = string.Concat(text.Where(c => c is not (' ' or '\t' or '\n' or '\f' or '\r')));
        var padded = (compact.Length % 4) switch
        {
            2 => compact + "==",
            3 => compact + "=",
            _ => compact,
        };
        var buffer = new byte[padded.Length / 4 * 3];
        if (Convert.TryFromBase64String(padded, buffer, out var written))
        {
            bytes = buffer[..written];
            return true;
        }

        bytes = null;
        return false;
    }
}
