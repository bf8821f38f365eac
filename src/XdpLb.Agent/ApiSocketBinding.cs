namespace XdpLb.Agent;

/// <summary>
/// Puts the API's unix socket at its path with mode 0600 and the agent's owner (root) without a
/// moment where anyone else can connect: Kestrel binds it inside a fresh directory of mode 0700
/// next to the final path; only once it is 0600 is it renamed into place.
/// </summary>
/// <remarks>
/// Why not a umask around the bind: the umask is per process, and while Kestrel binds, the
/// dataplane's threads already run (they write the state files, create directories); a
/// narrower umask would leak into what they create, a wider one back into the socket. The
/// directory needs nothing process-wide. rename(2) also replaces a socket a killed agent left
/// in one atomic step, so a client never finds the path missing or pointing at a dead socket.
/// The directory's name is random, so nobody can have made it beforehand.
/// </remarks>
internal sealed class ApiSocketBinding
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlySocket = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string privateDirectory;

    private ApiSocketBinding(string socketPath, string privateDirectory)
    {
        SocketPath = socketPath;
        this.privateDirectory = privateDirectory;
        BindPath = Path.Combine(privateDirectory, Path.GetFileName(socketPath));
    }

    /// <summary>Where the socket goes in the end.</summary>
    public string SocketPath { get; }

    /// <summary>Where Kestrel binds it.</summary>
    public string BindPath { get; }

    public static ApiSocketBinding Prepare(string socketPath)
    {
        string parent = Path.GetDirectoryName(socketPath)!;
        Directory.CreateDirectory(parent);
        string directory = Path.Combine(parent, $".{Path.GetFileName(socketPath)}.{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}");
        Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        // mkdir applies the umask, which only narrows; the mode must be exactly the owner's.
        File.SetUnixFileMode(directory, OwnerOnlyDirectory);
        return new ApiSocketBinding(socketPath, directory);
    }

    /// <summary>After Kestrel has bound BindPath: 0600, then into place.</summary>
    public void Publish()
    {
        File.SetUnixFileMode(BindPath, OwnerOnlySocket);
        File.Move(BindPath, SocketPath, overwrite: true);
    }

    /// <summary>After Publish, and also when the bind failed: the directory is not left behind.</summary>
    public void RemovePrivateDirectory()
    {
        if (Directory.Exists(privateDirectory))
            Directory.Delete(privateDirectory, recursive: true);
    }
}
