using System.Text;

namespace OrleansVault.Hosting;

/// <summary>Creates files only their owner may read (generated secrets and keys); an existing file is never overwritten.</summary>
public static class OwnerOnlyFile
{
    /// <remarks>Synchronous: these are a few hundred bytes written once, at start-up or by an admin command.</remarks>
    public static void CreateNew(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Set at creation, so there is no moment when others could open it.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(content));
    }
}
