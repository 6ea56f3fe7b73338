using CharacterGen.Nodes.Files;

namespace CharacterGen.Nodes.Tests.Files;

/// <summary>No client-supplied name may leave its root: traversal, absolute paths and links out are refused.</summary>
public sealed class SafePathTests
{
    private string _base = "", _root = "", _outside = "";

    [SetUp]
    public void MakeTree()
    {
        _base = Path.Combine(Path.GetTempPath(), "cg-safepath-" + Guid.NewGuid().ToString("N"));
        _root = Path.Combine(_base, "input");
        _outside = Path.Combine(_base, "secret");
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "key.txt"), "secret");
        File.WriteAllText(Path.Combine(_root, "sub", "ok.png"), "x");
        File.CreateSymbolicLink(Path.Combine(_root, "escape.png"), Path.Combine(_outside, "key.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "linkdir"), _outside);
        File.CreateSymbolicLink(Path.Combine(_root, "inner.png"), Path.Combine(_root, "sub", "ok.png"));
    }

    [TearDown]
    public void RemoveTree() => Directory.Delete(_base, recursive: true);

    [TestCase("sub/ok.png")]
    [TestCase("sub/../sub/ok.png")]
    [TestCase("new-file.png")]
    [TestCase("inner.png")]
    public void NamesInsideTheRootResolve(string name) =>
        Assert.That(SafePath.Resolve(_root, name), Does.StartWith(_root + Path.DirectorySeparatorChar));

    [TestCase("../secret/key.txt")]
    [TestCase("sub/../../secret/key.txt")]
    [TestCase("..")]
    [TestCase("/etc/passwd")]
    [TestCase("..\\secret\\key.txt")]
    [TestCase("~/x")]
    [TestCase("escape.png")]
    [TestCase("linkdir/key.txt")]
    [TestCase("linkdir/new.txt")]
    [TestCase("a\0b")]
    [TestCase("")]
    public void EscapesAreRefused(string name) =>
        Assert.Throws<PathEscapeException>(() => SafePath.Resolve(_root, name));
}
