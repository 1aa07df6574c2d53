namespace OrleansVault.Client;

/// <summary>An error the gateway reported, with its stable code (docs/protocol.md lists them), or a client-side failure.</summary>
public sealed class VaultClientException : Exception
{
    /// <summary>Creates an exception with a code.</summary>
    public VaultClientException(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>Creates an exception with the generic client error code.</summary>
    public VaultClientException()
        : this(ClientErrorCodes.Unexpected, "The request failed.")
    {
    }

    /// <summary>Creates an exception with the generic client error code.</summary>
    public VaultClientException(string message)
        : this(ClientErrorCodes.Unexpected, message)
    {
    }

    /// <summary>Creates an exception with the generic client error code.</summary>
    public VaultClientException(string message, Exception innerException)
        : this(ClientErrorCodes.Unexpected, message, innerException)
    {
    }

    /// <summary>The stable error code, e.g. <c>validationError.key.invalid</c>.</summary>
    public string Code { get; }

    /// <summary>Whether retrying later may succeed (the cluster was unavailable, or a rate limit).</summary>
    public bool IsTransient => Code is ClientErrorCodes.Unavailable or ClientErrorCodes.RequestRate or ClientErrorCodes.Disconnected;

    /// <summary>
    /// Whether the same request can never succeed as it is: authentication, authorization (an expired identity token, a
    /// revoked object-id signature), validation, not-found and encryption errors. Everything else may pass later.
    /// </summary>
    public bool IsPermanent =>
        ClientErrorCodes.PermanentKinds.Any(kind => Code.StartsWith(kind, StringComparison.Ordinal));
}

/// <summary>Error codes the client itself raises, and the server codes it treats specially.</summary>
public static class ClientErrorCodes
{
    /// <summary>An error without a code.</summary>
    public const string Unexpected = "clientError.unexpected";

    /// <summary>The connection is down (the client is reconnecting or was disposed).</summary>
    public const string Disconnected = "clientError.connection.down";

    /// <summary>An enumeration of <see cref="SharedObject.Events"/> fell <see cref="VaultClientOptions.EventBufferSize"/> events behind and was ended.</summary>
    public const string EventsOverflow = "clientError.events.overflow";

    /// <summary>Decryption failed: wrong passphrase, tampered data, or an unknown key version.</summary>
    public const string Decryption = "encryptionError.decrypt.failed";

    /// <summary>The cluster did not answer; retry.</summary>
    public const string Unavailable = "serviceError.unavailable.retry";

    /// <summary>Too many calls; retry in a moment.</summary>
    public const string RequestRate = "limitError.requests.retry";

    /// <summary>The kinds (code prefixes) of errors that retrying cannot fix (<see cref="VaultClientException.IsPermanent"/>).</summary>
    internal static readonly string[] PermanentKinds = ["authenticationError.", "authorizationError.", "validationError.", "notFoundError.", "encryptionError."];
}
