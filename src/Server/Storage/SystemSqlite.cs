using System.Reflection;
using System.Runtime.InteropServices;

namespace CharacterGen.Server.Storage;

/// <summary>
/// Microsoft.Data.Sqlite over the system's SQLite (Debian's libsqlite3.so.0), not the e_sqlite3 copy the bundle ships:
/// Debian's libtorch links libsqlite3.so.0, and with both libraries in one process the bundled copy's calls can bind to
/// the system's symbols, which crashed the process inside a commit. One SQLite per process avoids that.
/// </summary>
public static class SystemSqlite
{
    private static readonly Lazy<bool> Initialized = new(() =>
    {
        var provider = typeof(SQLitePCL.SQLite3Provider_sqlite3).Assembly;
        NativeLibrary.SetDllImportResolver(provider, Resolve);
        SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());
        return true;
    });

    /// <summary>Selects the system SQLite once per process, before the first connection opens.</summary>
    public static void EnsureInitialized() => _ = Initialized.Value;

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != "sqlite3") return IntPtr.Zero;
        // The versioned name needs no -dev package; the plain one covers other distributions' layouts.
        foreach (string candidate in (string[])["libsqlite3.so.0", "libsqlite3.so", "sqlite3"])
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out IntPtr handle)) return handle;
        return IntPtr.Zero;
    }
}
