using System.Text;
using OrleansVault.Errors;

namespace OrleansVault.Objects;

/// <summary>The naming rules of WIRE.md 1.2 for projects, classes, object ids and item keys.</summary>
public static class Names
{
    public const int MaxClassLength = 64;
    public const int MaxObjectIdLength = 128;
    public const int MaxKeyBytes = 256;
    public const int MaxProjectIdLength = 64;

    public static bool IsValidProjectId(string? value) => IsToken(value, MaxProjectIdLength, allowDotColon: false);

    public static bool IsValidClass(string? value) => IsToken(value, MaxClassLength, allowDotColon: false);

    public static bool IsValidObjectId(string? value) => IsToken(value, MaxObjectIdLength, allowDotColon: true);

    public static bool IsValidKey(string? value)
    {
        if (string.IsNullOrEmpty(value) || Encoding.UTF8.GetByteCount(value) > MaxKeyBytes)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is '/' or '?' or '#' or '%' || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    public static void EnsureKey(string? key)
    {
        if (!IsValidKey(key))
        {
            throw VaultException.Validation(ErrorCodes.KeyInvalid, "Item keys are 1-256 UTF-8 bytes without '/', '?', '#', '%' or control characters.");
        }
    }

    public static ObjectAddress Address(string projectId, string className, string objectId)
    {
        if (!IsValidProjectId(projectId))
        {
            throw VaultException.Validation(ErrorCodes.ProjectIdInvalid, "Project ids are 1-64 characters of A-Z, a-z, 0-9, '_' and '-'.");
        }

        if (!IsValidClass(className))
        {
            throw VaultException.Validation(ErrorCodes.ClassInvalid, "Class names are 1-64 characters of A-Z, a-z, 0-9, '_' and '-'.");
        }

        if (!IsValidObjectId(objectId))
        {
            throw VaultException.Validation(ErrorCodes.ObjectIdInvalid, "Object ids are 1-128 characters of A-Z, a-z, 0-9, '_', '.', ':' and '-'.");
        }

        return new ObjectAddress(projectId, className, objectId);
    }

    private static bool IsToken(string? value, int maxLength, bool allowDotColon)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-'
                || (allowDotColon && c is '.' or ':');
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}
