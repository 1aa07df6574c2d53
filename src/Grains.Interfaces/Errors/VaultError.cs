namespace OrleansVault.Errors;

/// <summary>The kind of a domain error; the gateway maps each kind to one HTTP status and close code.</summary>
public enum VaultErrorKind
{
    Validation = 0,
    Unauthenticated = 1,
    Forbidden = 2,
    NotFound = 3,
    Conflict = 4,
    TooLarge = 5,
    RateLimited = 6,
    Unavailable = 7,
}

/// <summary>A domain error with a stable code (<c>area.what.why</c>) that is safe to show to clients.</summary>
[GenerateSerializer]
[Alias("ov.VaultException")]
public sealed class VaultException : Exception
{
    public VaultException()
    {
        Code = ErrorCodes.Internal;
    }

    public VaultException(string message)
        : base(message)
    {
        Code = ErrorCodes.Internal;
    }

    public VaultException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = ErrorCodes.Internal;
    }

    public VaultException(VaultErrorKind kind, string code, string message)
        : base(message)
    {
        Kind = kind;
        Code = code;
    }

    [Id(0)]
    public VaultErrorKind Kind { get; init; }

    [Id(1)]
    public string Code { get; init; }

    public static VaultException Validation(string code, string message) => new(VaultErrorKind.Validation, code, message);

    public static VaultException Conflict(string code, string message) => new(VaultErrorKind.Conflict, code, message);

    public static VaultException TooLarge(string code, string message) => new(VaultErrorKind.TooLarge, code, message);
}
