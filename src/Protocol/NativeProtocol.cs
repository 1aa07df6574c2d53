namespace OrleansVault.Protocol;

/// <summary>Names of the native door: its path and its hub methods, so the gateway and clients cannot drift apart.</summary>
public static class NativeProtocol
{
    /// <summary>The hub's path on a gateway.</summary>
    public const string HubPath = "/hubs/vault";

    /// <summary>The query parameter naming the project a connection belongs to.</summary>
    public const string ProjectParameter = "project";

    /// <summary>Hub method names.</summary>
    public static class Methods
    {
#pragma warning disable CS1591 // Each constant is the hub method of the same name (docs/protocol.md lists them).
        public const string Open = "Open";
        public const string Close = "Close";
        public const string Subscribe = "Subscribe";
        public const string Get = "Get";
        public const string GetMany = "GetMany";
        public const string GetAll = "GetAll";
        public const string GetKeys = "GetKeys";
        public const string Set = "Set";
        public const string SetMany = "SetMany";
        public const string Remove = "Remove";
        public const string RemoveMany = "RemoveMany";
        public const string Clear = "Clear";
        public const string Apply = "Apply";
        public const string SendMessage = "SendMessage";
        public const string Join = "Join";
        public const string Leave = "Leave";
        public const string GetMembers = "GetMembers";
        public const string GetEncryption = "GetEncryption";
        public const string RotateEncryption = "RotateEncryption";
#pragma warning restore CS1591
    }

    /// <summary>
    /// Splits a hub error message <c>"{code}: {message}"</c> into its stable code and text; a message without a code
    /// (SignalR's own errors) gets <paramref name="fallbackCode"/>.
    /// </summary>
    public static (string Code, string Message) ParseError(string? error, string fallbackCode)
    {
        if (string.IsNullOrEmpty(error))
        {
            return (fallbackCode, "The server reported an error.");
        }

        // HubException text arrives as "An unexpected error occurred invoking 'X' on the server. HubException: code: text".
        var marker = error.LastIndexOf("HubException: ", StringComparison.Ordinal);
        var text = marker >= 0 ? error[(marker + "HubException: ".Length)..] : error;
        var colon = text.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && IsCode(text.AsSpan(0, colon)))
        {
            return (text[..colon], text[(colon + 2)..]);
        }

        return (fallbackCode, text);
    }

    /// <summary>Formats an error the way <see cref="ParseError"/> reads it.</summary>
    public static string FormatError(string code, string message) => code + ": " + message;

    // Codes look like "area.what.why": letters and dots only.
    private static bool IsCode(ReadOnlySpan<char> text)
    {
        if (text.IndexOf('.') <= 0)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetter(c) || c == '.'))
            {
                return false;
            }
        }

        return true;
    }
}
